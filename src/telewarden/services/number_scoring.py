"""Train the number scorer, score a features file and explain one number's score.

What belongs here: the ``numbers train``, ``numbers score`` and ``numbers explain`` use cases.
LightGBM and scikit-learn take seconds to import, so the scorer and the model-file adapter are
imported inside these functions: importing this module costs only Polars.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from telewarden.adapters.files.output import refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import check_quarantine_share
from telewarden.core.errors import NotFoundError
from telewarden.core.features.sichuan import KEY
from telewarden.services.number_inputs import (
    quarantine_path,
    read_edges,
    read_features,
    read_labels,
    write_frame,
)


@dataclass(frozen=True, slots=True)
class TrainReport:
    """A trained model written to ``output``."""

    output: Path
    numbers: int
    fraud: int
    features: int
    """Model features (55, plus the graph features when edges were given)."""
    threshold: float
    seconds: float


def train_scorer(
    features_path: Path,
    output: Path,
    *,
    labels: Path | None = None,
    edges: Path | None = None,
    rounds: int = 700,
    forest_trees: int = 300,
) -> TrainReport:
    """Train a calibrated scorer on a features file and its labels, and save it to ``output``."""
    from telewarden.adapters.number_model import save_model
    from telewarden.core.models.number_scorer import NumberScorer

    started = time.perf_counter()
    frame = read_features(features_path).frame
    y = read_labels(frame, labels).to_numpy()
    scorer = NumberScorer(num_boost_round=rounds, forest_rounds=forest_trees).fit(
        frame, y, read_edges(edges)
    )
    save_model(scorer, output)
    return TrainReport(
        output=output,
        numbers=frame.height,
        fraud=int(y.sum()),
        features=len(scorer.feature_names_),
        threshold=scorer.threshold_,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True, slots=True)
class ScoreReport:
    """Scores written to ``output``."""

    output: Path
    numbers: int
    flagged: int
    rows_read: int
    quarantined: int
    quarantine_path: Path | None
    seconds: float


def score_numbers(
    features_path: Path,
    output: Path,
    *,
    edges: Path | None = None,
    model: Path | None = None,
    encoding: str | None = None,
    max_quarantine_share: float | None = None,
) -> ScoreReport:
    """Score every readable row of a features file: key, score, flagged, reasons.

    The key column keeps the name the features file used (``phone_no_m`` or ``msisdn``);
    unreadable rows go to ``<output stem>.quarantine.csv``. An output that is an input is
    refused; a run that quarantines every row (or more than ``max_quarantine_share``) is
    InvalidInputError after writing.
    """
    from telewarden.adapters.number_model import load_model

    started = time.perf_counter()
    refuse_inputs_as_outputs([features_path, edges, model], [output, quarantine_path(output)])
    scorer = load_model(model)
    features = read_features(features_path, encoding)
    bad_path = quarantine_path(output) if features.quarantine.height else None
    if bad_path is not None:
        write_frame(features.quarantine, bad_path)
    out = scorer.score_many(features.frame, read_edges(edges))
    if features.key_column != KEY:
        out = out.rename({KEY: features.key_column})  # answer in the caller's own vocabulary
    write_frame(out, output)
    check_quarantine_share(
        features.rows_read, features.quarantine.height, max_quarantine_share, bad_path
    )
    return ScoreReport(
        output=output,
        numbers=out.height,
        flagged=int(out["flagged"].sum()),
        rows_read=features.rows_read,
        quarantined=features.quarantine.height,
        quarantine_path=bad_path,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True, slots=True)
class FeaturePush:
    """One feature's value and its push on the blended log-odds."""

    name: str
    value: float
    log_odds: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a number scored what it did."""

    number: str
    score: float
    flagged: bool
    threshold: float
    bias: float
    """The expected log-odds (the model's starting point)."""
    forest: float | None
    """The forest member's whole share, when the model has one."""
    pushes: tuple[FeaturePush, ...]
    """The strongest pushes, strongest (in absolute value) first."""


def explain_number(
    number: str,
    features_path: Path,
    *,
    edges: Path | None = None,
    model: Path | None = None,
    top: int = 10,
) -> Explanation:
    """A number's score and the ``top`` features that pushed it (TreeSHAP log-odds)."""
    from telewarden.adapters.number_model import load_model

    scorer = load_model(model)
    row = read_features(features_path).frame.filter(pl.col(KEY) == number)
    if row.height == 0:
        raise NotFoundError(f"{number} is not in {features_path}")
    edge_frame = read_edges(edges)
    scored = scorer.score_many(row, edge_frame).row(0, named=True)
    contrib = scorer.explain(row, edge_frame).row(0, named=True)
    values = scorer._matrix(row, edge_frame, scorer.known_)[0]
    ranked = sorted(enumerate(scorer.feature_names_), key=lambda item: -abs(contrib[item[1]]))
    return Explanation(
        number=number,
        score=float(scored["score"]),
        flagged=bool(scored["flagged"]),
        threshold=scorer.threshold_,
        bias=float(contrib["bias"]),
        forest=float(contrib["forest"]) if "forest" in contrib else None,
        pushes=tuple(
            FeaturePush(name, float(values[i]), float(contrib[name])) for i, name in ranked[:top]
        ),
    )
