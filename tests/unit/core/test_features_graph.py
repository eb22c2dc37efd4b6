"""Inductive graph features against a small graph worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest

from telewarden.core.features.graph import GRAPH_FEATURES, graph_features

# 1 -> 2, 2 -> 1 (mutual), 1 -> 3, 4 -> 1, 3 -> 4, a duplicate 1 -> 3 and a self-loop 5 -> 5.
EDGES = pl.LazyFrame({"src": [1, 2, 1, 4, 3, 1, 5], "dst": [2, 1, 3, 1, 4, 3, 5]})


def _row(known: pl.LazyFrame | None, node: int) -> dict[str, float | None]:
    out = graph_features(EDGES, known).filter(pl.col("node") == node).collect()
    assert out.height == 1
    return out.row(0, named=True)


def test_degrees_and_reciprocity_count_distinct_contacts() -> None:
    row = _row(None, 1)
    # contacts of 1: {2 (both ways), 3 (out), 4 (in)}; 1 of 3 contacts is mutual
    assert (row["degree"], row["out_degree"], row["in_degree"]) == (3.0, 2.0, 2.0)
    assert row["reciprocity"] == pytest.approx(1 / 3)
    assert row["known_contacts"] == 0.0
    assert row["fraud_contact_share"] is None


def test_fraud_share_uses_only_the_labels_handed_in() -> None:
    known = pl.LazyFrame({"node": [2, 3, 1], "label": [1, 0, 1]})
    row = _row(known, 1)
    # node 1's own label never counts: contacts 2 (fraud) and 3 (legit) are known, 4 is not
    assert (row["known_contacts"], row["fraud_contacts"]) == (2.0, 1.0)
    assert row["fraud_contact_share"] == 0.5


def test_hiding_a_label_changes_only_its_neighbours_features() -> None:
    full = pl.LazyFrame({"node": [1, 2, 3, 4], "label": [1, 1, 0, 0]})
    without_3 = full.filter(pl.col("node") != 3)
    # node 3's contacts are 1 and 4; node 2's contacts are only 1
    assert _row(full, 2) == _row(without_3, 2)
    assert _row(full, 1)["known_contacts"] == 3.0
    assert _row(without_3, 1)["known_contacts"] == 2.0


def test_self_loops_are_ignored_and_columns_are_complete() -> None:
    out = graph_features(EDGES).collect()
    assert out.columns == ["node", *GRAPH_FEATURES]
    assert 5 not in out["node"].to_list()
