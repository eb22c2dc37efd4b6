"""The conformance suites pass on every shipped detector and scorer, and catch broken ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import Any

import numpy as np
import polars as pl
import pytest

from telewarden.core.detectors import Alert, DetectorConfig, StreamDetector
from telewarden.core.features.sichuan import FEATURE_NAMES
from telewarden.testing import check_detector, check_scorer, contract_features

SHIPPED_RULES = {
    "sim_bank_imei",
    "sim_bank_cluster",
    "sim_bank_static",
    "new_card_burst",
    "wangiri",
    "robocall",
    "intl_surge",
}
"""Every rule of ``telewarden.core.detectors.streaming`` (its module docstring)."""


def _stream(subscribers: pl.DataFrame | None) -> StreamDetector:
    return StreamDetector(DetectorConfig(), subscribers)


def test_the_stream_detector_keeps_the_contract_with_every_rule_firing() -> None:
    report = check_detector(_stream)
    assert set(report.alerts_by_detector) == SHIPPED_RULES
    assert report.state_growth <= 1.25


class _Wrapped:
    """A stream detector with one part of the contract broken by ``alter``."""

    def __init__(self, subscribers: pl.DataFrame | None, alter: Any) -> None:
        self.inner = _stream(subscribers)
        self.alter = alter
        self.history: list[Any] = []

    def observe(self, *call: Any) -> list[Alert]:
        return self.alter(self, call, self.inner.observe(*call))


_COUNTER = itertools.count()


def _backdated(self: _Wrapped, call: Any, alerts: list[Alert]) -> list[Alert]:
    return [
        dataclasses.replace(a, flagged_at=a.flagged_at - dt.timedelta(seconds=1)) for a in alerts
    ]


def _ghost(self: _Wrapped, call: Any, alerts: list[Alert]) -> list[Alert]:
    return [dataclasses.replace(a, msisdn="+8619999999999") for a in alerts]


def _global_state(self: _Wrapped, call: Any, alerts: list[Alert]) -> list[Alert]:
    return [] if next(_COUNTER) < 300 else alerts  # the first detector built loses alerts


def _hoarder(self: _Wrapped, call: Any, alerts: list[Alert]) -> list[Alert]:
    self.history.append(call)
    return alerts


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (_backdated, "stamped"),
        (_ghost, "no call has shown"),
        (_global_state, "not deterministic"),
        (_hoarder, "state grows"),
    ],
    ids=["backdates", "flags an unseen number", "keeps state outside", "keeps every call"],
)
def test_check_detector_catches_a_broken_contract(alter: Any, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_detector(lambda subscribers: _Wrapped(subscribers, alter))


def test_the_shipped_scorer_keeps_the_contract() -> None:
    from telewarden.adapters.number_model import load_default_model

    # 24 rows: exact TreeSHAP over the shipped 700 + 300 trees costs about 0.1 s a row.
    report = check_scorer(load_default_model(), contract_features(rows=24))
    assert report.explanation_residual is not None and report.explanation_residual < 1e-6


@pytest.fixture(scope="module")
def small_scorer() -> Any:
    from telewarden.core.models.number_scorer import NumberScorer

    features = contract_features(rows=400, seed=1)
    signal = features[FEATURE_NAMES[0]].fill_null(0.0).to_numpy()
    y = (signal > np.median(signal)).astype(int)
    y[::7] = 1 - y[::7]  # some noise, so scores are not all 0 or 1
    scorer = NumberScorer(num_boost_round=30, forest_rounds=20, calibration_folds=3)
    return scorer.fit(features, y), features, y


def test_a_trained_scorer_is_calibrated_on_held_out_rows(small_scorer: Any) -> None:
    scorer, _, _ = small_scorer
    held_out = contract_features(rows=400, seed=2)
    signal = held_out[FEATURE_NAMES[0]].fill_null(0.0).to_numpy()
    y = (signal > np.median(signal)).astype(int)
    y[::7] = 1 - y[::7]
    report = check_scorer(scorer, held_out, list(y))
    assert 0 < report.flagged < report.rows


class _Skewed:
    """A scorer with one part of the contract broken."""

    def __init__(self, inner: Any, how: str) -> None:
        self.inner, self.how = inner, how
        self.key = inner.key

    def score_many(self, features: pl.DataFrame) -> pl.DataFrame:
        out = self.inner.score_many(features)
        if self.how == "doubles":
            return out.with_columns(pl.col("score") * 2)
        if self.how == "batch-relative":
            return out.with_columns(pl.col("score") / pl.col("score").max())
        return out

    def score_one(self, msisdn: str, features: Any) -> Any:
        return self.inner.score_one(msisdn, features)

    def explain(self, features: pl.DataFrame) -> pl.DataFrame:
        out = self.inner.explain(features)
        if self.how == "explains-wrongly":
            return out.with_columns(pl.col(FEATURE_NAMES[1]) * 3)
        return out


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("doubles", "outside"),
        ("batch-relative", "row-independent"),
        ("explains-wrongly", "add up"),
    ],
)
def test_check_scorer_catches_a_broken_contract(small_scorer: Any, how: str, message: str) -> None:
    scorer, _, _ = small_scorer
    with pytest.raises(AssertionError, match=message):
        check_scorer(_Skewed(scorer, how))
