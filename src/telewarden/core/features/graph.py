"""Inductive contact-graph features: what a number's contacts tell about it.

What belongs here: features computable for any number, including one never seen in training,
from a contact edge list (``src``, ``dst``, optional ``weight``) and the labels known so far
(``node``, ``label``; 1 = fraud). No feature uses the number's own label, and only the labels
handed in count as known, so a cross-validation fold that passes its training labels only
cannot leak the test labels into the features.

Features per node (:data:`GRAPH_FEATURES`):

- ``degree``: distinct contacts, either direction; ``out_degree`` / ``in_degree`` by direction;
- ``reciprocity``: share of contacts linked both ways (a legitimate contact calls back; S4);
- ``known_contacts``, ``fraud_contacts``, ``fraud_contact_share``: contacts with a known label,
  those known as fraud, and their share (null when no contact is known).
"""

from __future__ import annotations

import polars as pl

GRAPH_FEATURES: tuple[str, ...] = (
    "degree",
    "out_degree",
    "in_degree",
    "reciprocity",
    "known_contacts",
    "fraud_contacts",
    "fraud_contact_share",
)
"""Graph feature columns, in output order."""


def graph_features(edges: pl.LazyFrame, known: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Per-node contact-graph features from an edge list and the labels known so far.

    Parameters
    ----------
    edges : polars.LazyFrame
        ``src`` and ``dst`` node ids (same dtype); duplicates and self-loops are ignored.
    known : polars.LazyFrame or None
        ``node`` and ``label`` (1 = fraud, 0 = legitimate) for numbers whose status is known;
        ``None`` means nothing is known.

    Returns
    -------
    polars.LazyFrame
        ``node`` and :data:`GRAPH_FEATURES` (Float64) for every node on an edge.

    Examples
    --------
    >>> import polars as pl
    >>> edges = pl.LazyFrame({"src": [1, 1, 2, 3], "dst": [2, 3, 1, 4]})
    >>> known = pl.LazyFrame({"node": [2, 3], "label": [1, 0]})
    >>> row = graph_features(edges, known).filter(pl.col("node") == 1).collect().row(0)
    >>> row
    (1, 2.0, 2.0, 1.0, 0.5, 2.0, 1.0, 0.5)
    """
    pairs = edges.select("src", "dst").filter(pl.col("src") != pl.col("dst")).unique()
    links = pl.concat(
        [
            pairs.select(pl.col("src").alias("node"), pl.col("dst").alias("other"), _out=1, _in=0),
            pairs.select(pl.col("dst").alias("node"), pl.col("src").alias("other"), _out=0, _in=1),
        ]
    )
    contacts = links.group_by("node", "other").agg(
        pl.col("_out").max().alias("_out"), pl.col("_in").max().alias("_in")
    )
    if known is None:
        labels = pl.LazyFrame(schema={"other": edges.collect_schema()["src"], "_label": pl.Float64})
    else:
        labels = known.select(
            pl.col("node").alias("other"), pl.col("label").cast(pl.Float64).alias("_label")
        ).unique("other", keep="last")
    per_node = (
        contacts.join(labels, on="other", how="left")
        .group_by("node")
        .agg(
            pl.len().alias("degree"),
            pl.col("_out").sum().alias("out_degree"),
            pl.col("_in").sum().alias("in_degree"),
            (pl.col("_out") * pl.col("_in")).sum().alias("_mutual"),
            pl.col("_label").is_not_null().sum().alias("known_contacts"),
            pl.col("_label").sum().alias("fraud_contacts"),
        )
    )
    return per_node.select(
        "node",
        pl.col("degree").cast(pl.Float64),
        pl.col("out_degree").cast(pl.Float64),
        pl.col("in_degree").cast(pl.Float64),
        (pl.col("_mutual") / pl.col("degree")).alias("reciprocity"),
        pl.col("known_contacts").cast(pl.Float64),
        pl.col("fraud_contacts").cast(pl.Float64),
        pl.when(pl.col("known_contacts") > 0)
        .then(pl.col("fraud_contacts") / pl.col("known_contacts"))
        .otherwise(None)
        .alias("fraud_contact_share"),
    )
