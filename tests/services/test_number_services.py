"""The number use cases: one definition of a subscriber, shared by features and detection."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from telewarden.core.records import CALLS_SCHEMA, SUBSCRIBERS_SCHEMA
from telewarden.core.sim import Simulation, preset
from telewarden.services.detection import MIN_HISTORY_DAYS, detect_cards
from telewarden.services.number_features import compute_features, subscribers_of

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _calls(rows: list[tuple[str, str | None]]) -> pl.DataFrame:
    """Answered calls from ``caller`` (with ``imsi``) to one callee, a minute apart."""
    return pl.DataFrame(
        {
            "id": list(range(len(rows))),
            "caller": [caller for caller, _ in rows],
            "callee": ["+8613900000009"] * len(rows),
            "start_at": [T0 + dt.timedelta(minutes=i) for i in range(len(rows))],
            "imsi": [imsi for _, imsi in rows],
        }
    )


def test_a_caller_is_a_subscriber_when_seen_with_an_imsi() -> None:
    calls = _calls(
        [
            ("+8613800000001", "460000000000001"),
            ("+8613800000001", None),  # a later call without the SIM still counts the caller in
            ("+85291234567", None),  # an international caller: not ours
            ("95588", None),  # a short code: not ours
        ]
    )
    subs = subscribers_of(calls, None)
    assert subs["msisdn"].to_list() == ["+8613800000001"]
    assert subs.columns == list(SUBSCRIBERS_SCHEMA)


def test_a_subscribers_table_wins_over_the_calls() -> None:
    table = pl.DataFrame({"msisdn": ["+8613800000002"]})
    assert subscribers_of(_calls([("+8613800000001", "4600")]), table) is table


@pytest.fixture(scope="module")
def calls_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three hours of simulated calls with no subscribers table beside them."""
    folder = tmp_path_factory.mktemp("calls-only")
    simulation = Simulation(replace(preset("tiny", 5), subscribers=300, hours=3))
    calls = pl.concat([c.calls for c in simulation.chunks()])
    calls.select(list(CALLS_SCHEMA)).write_parquet(folder / "calls.parquet")
    return folder


def test_features_and_detect_score_the_same_subscribers(calls_only: Path, tmp_path: Path) -> None:
    calls = pl.read_parquet(calls_only / "calls.parquet")
    with_sim = set(calls.filter(pl.col("imsi").is_not_null())["caller"].to_list())
    without_sim = set(calls["caller"].to_list()) - with_sim
    assert with_sim and without_sim  # the traffic has both kinds of caller

    features = tmp_path / "features.parquet"
    compute_features(features, canonical={"calls": calls_only / "calls.parquet"})
    featured = set(pl.read_parquet(features)["phone_no_m"].to_list())
    detect_cards(calls_only, tmp_path / "detect")
    scored = set(pl.read_csv(tmp_path / "detect" / "scores.csv")["msisdn"].to_list())

    assert featured == scored
    assert featured <= with_sim
    scores = pl.read_csv(tmp_path / "detect" / "scores.csv")
    if scores["flag_withheld"].all():  # withheld flags are not explained
        assert scores["reasons"].fill_null("").eq("").all()
    assert not featured & without_sim


def test_the_default_history_needed_is_the_scorers() -> None:
    from telewarden.core.models.number_scorer import MIN_HISTORY_DAYS as SCORER_DAYS

    assert MIN_HISTORY_DAYS == SCORER_DAYS
