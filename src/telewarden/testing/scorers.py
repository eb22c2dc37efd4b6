"""``check_scorer``: the contract every number scorer keeps, checked on given feature rows.

The contract (what :class:`telewarden.core.models.NumberScorer` guarantees and the services
rely on):

- **shape**: ``score_many`` returns the key column (same keys, same order), ``score``,
  ``flagged`` and ``reasons``, one row per input row;
- **probabilities**: scores are finite and within [0, 1]; ``flagged`` is a boolean and, when
  the scorer has a ``threshold_``, exactly ``score >= threshold_``; a flagged row has reasons;
- **deterministic** and **row-independent**: scoring the same rows twice, or in two halves,
  gives the same scores (a batch job may split its input any way it likes);
- **one and many agree**: ``score_one`` gives the score ``score_many`` gives for that row;
- **explanations add up** (when the scorer has ``explain``): a row's contributions sum to its
  log-odds up to the final affine calibration map (Platt scaling), the same map for all rows:
  ``logit(score) = a * sum + b`` with ``a > 0``;
- **wrong schemas are refused** with ``InvalidInputError`` (a missing feature, a missing key,
  text where a number belongs), never a library's own exception;
- **calibrated** (when labels are given): the mean score is within ``calibration_tolerance``
  of the fraud share.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import FEATURE_NAMES, KEY

if TYPE_CHECKING:
    from telewarden.core.models.number_scorer import Scorer


@dataclass(frozen=True, slots=True)
class ScorerReport:
    """What the checked scorer did on the rows."""

    rows: int
    flagged: int
    mean_score: float
    explanation_residual: float | None
    """Largest gap between ``logit(score)`` and the affine map of the contributions' sum."""


def contract_features(rows: int = 64, seed: int = 0, key: str = KEY) -> pl.DataFrame:
    """Seeded feature rows: the key and the 55 features, some values missing.

    Values are drawn around the scale of the real features (counts, rates, ARPU), with one
    value in twenty missing, so a scorer meets the gaps real records have.
    """
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {key: [f"contract-{i:04d}" for i in range(rows)]}
    for name in FEATURE_NAMES:
        values = rng.lognormal(mean=1.0, sigma=1.5, size=rows)
        values[rng.random(rows) < 0.05] = np.nan
        columns[name] = values
    return pl.DataFrame(columns).fill_nan(None)


def _refuses(scorer: Scorer, frame: pl.DataFrame, what: str) -> None:
    try:
        scorer.score_many(frame)
    except InvalidInputError:
        return
    except Exception as exc:  # the contract names the one exception to raise
        raise AssertionError(
            f"{what}: raised {type(exc).__name__} ({exc}), not InvalidInputError"
        ) from exc
    raise AssertionError(f"{what}: scored anyway, expected InvalidInputError")


def check_scorer(
    scorer: Scorer,
    features: pl.DataFrame | None = None,
    labels: Sequence[int] | None = None,
    *,
    calibration_tolerance: float = 0.05,
) -> ScorerReport:
    """Check a fitted scorer plug-in against the contract in this module's docstring.

    Parameters
    ----------
    scorer : Scorer
        A fitted scorer (``score_one`` and ``score_many``; ``explain`` optional).
    features : polars.DataFrame, optional
        Rows to score: the scorer's key column and its features; default
        :func:`contract_features`.
    labels : sequence of int, optional
        Fraud labels of ``features``, for the calibration check.
    calibration_tolerance : float
        Largest allowed gap between the mean score and the fraud share.

    Returns
    -------
    ScorerReport

    Raises
    ------
    AssertionError
        Naming the broken part of the contract.
    """
    key = str(getattr(scorer, "key", KEY))
    frame = contract_features(key=key) if features is None else features
    out = scorer.score_many(frame)
    assert out.columns[:1] == [key] and {"score", "flagged", "reasons"} <= set(out.columns), (
        f"score_many returned columns {out.columns}"
    )
    assert out[key].to_list() == frame[key].to_list(), "score_many changed the rows or order"
    scores = out["score"].cast(pl.Float64).to_numpy()
    assert np.isfinite(scores).all(), "a score is missing or not finite"
    assert ((scores >= 0.0) & (scores <= 1.0)).all(), "a score is outside [0, 1]"
    assert out["flagged"].dtype == pl.Boolean, f"flagged is {out['flagged'].dtype}"
    flagged = out["flagged"].to_numpy()
    threshold = getattr(scorer, "threshold_", None)
    if threshold is not None:
        assert (flagged == (scores >= threshold)).all(), "flagged is not score >= threshold_"
    reasons = out["reasons"].to_list()
    assert all(r for r, f in zip(reasons, flagged, strict=True) if f), "a flag without reasons"

    assert scorer.score_many(frame).equals(out), "not deterministic: same rows, other scores"
    half = frame.height // 2
    halves = pl.concat([scorer.score_many(frame[:half]), scorer.score_many(frame[half:])])
    assert np.allclose(halves["score"].to_numpy(), scores, rtol=0, atol=1e-12), (
        "not row-independent: scoring in two halves changed scores"
    )
    first = frame.row(0, named=True)
    one = scorer.score_one(first[key], {n: first.get(n) for n in FEATURE_NAMES})
    assert math.isclose(one.score, scores[0], abs_tol=1e-9), (
        f"score_one gave {one.score}, score_many {scores[0]} for the same row"
    )
    assert one.flagged == bool(flagged[0]), "score_one and score_many flag differently"

    residual = None
    if hasattr(scorer, "explain"):
        contributions = scorer.explain(frame).drop(key)
        sums = contributions.sum_horizontal().to_numpy()
        clipped = np.clip(scores, 1e-12, 1 - 1e-12)
        logit = np.log(clipped / (1 - clipped))
        a, b = np.polyfit(sums, logit, 1) if np.ptp(sums) > 0 else (1.0, logit[0] - sums[0])
        residual = float(np.max(np.abs(a * sums + b - logit)))
        assert a > 0, "explanations run against the scores (a higher sum, a lower score)"
        assert residual < 1e-6, f"explanations do not add up to the log-odds ({residual:.3g})"

    _refuses(scorer, frame.drop(FEATURE_NAMES[3]), f"a frame without {FEATURE_NAMES[3]}")
    _refuses(scorer, frame.drop(key), f"a frame without the key column {key}")
    text = frame.with_columns(pl.lit("lots").alias(FEATURE_NAMES[0]))
    _refuses(scorer, text, f"text in {FEATURE_NAMES[0]}")

    if labels is not None:
        share = float(np.mean(np.asarray(labels, dtype=np.float64)))
        gap = abs(float(scores.mean()) - share)
        assert gap <= calibration_tolerance, (
            f"not calibrated: mean score {scores.mean():.3f}, fraud share {share:.3f}"
        )
    return ScorerReport(frame.height, int(flagged.sum()), float(scores.mean()), residual)
