"""BatchDetector: the per-call reference's alerts and checkpoints, from whole micro-batches."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from typing import Any

import polars as pl
import pytest

from telewarden.core.detectors import BatchDetector, DetectorConfig, StreamDetector
from telewarden.core.detectors.streaming import BATCH_COLUMNS
from telewarden.core.records import CALLS_SCHEMA, SUBSCRIBERS_SCHEMA

RULES = {
    "sim_bank_imei",
    "sim_bank_cluster",
    "sim_bank_static",
    "new_card_burst",
    "wangiri",
    "robocall",
    "intl_surge",
}
T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def _batch_frame(calls: pl.DataFrame) -> pl.DataFrame:
    """Calls in time order as ``observe_batch`` takes them (``t`` in POSIX seconds)."""
    ordered = calls.sort("start_at", "id") if "id" in calls.columns else calls
    epoch = (pl.col("start_at").dt.epoch("us") / 1_000_000).alias("t")
    return ordered.with_columns(epoch).select(BATCH_COLUMNS)


def _normal(state: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint as JSON data, its list-valued parts in one order (they are sets of keys)."""
    data = json.loads(json.dumps(state))
    data["imei"] = sorted(data["imei"], key=json.dumps)
    data["cell_starts"] = sorted(data["cell_starts"], key=json.dumps)
    return data


def _rows(alerts: list[Any]) -> list[tuple[Any, ...]]:
    return [a.as_row() for a in alerts]


@pytest.fixture(scope="module")
def tiny_day() -> tuple[pl.DataFrame, pl.DataFrame]:
    from telewarden.core.sim import Simulation, preset

    simulation = Simulation(preset("tiny", 11))
    calls = pl.concat([c.calls for c in simulation.chunks()]).select(list(CALLS_SCHEMA))
    return _batch_frame(calls), simulation.subscribers()


@pytest.fixture(scope="module")
def reference_day(
    tiny_day: tuple[pl.DataFrame, pl.DataFrame],
) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    calls, subscribers = tiny_day
    detector = StreamDetector(DetectorConfig(), subscribers)
    alerts = detector.observe_batch(calls)
    return _rows(alerts), _normal(detector.state())


def test_every_rule_fires_on_the_test_day(
    reference_day: tuple[list[tuple[Any, ...]], dict[str, Any]],
) -> None:
    # Otherwise the equivalence below could not fail on the rule that is missing.
    assert {row[1] for row in reference_day[0]} == RULES


@pytest.mark.parametrize("size", [97, 1_000, 5_000, 1_000_000])
def test_batches_of_any_size_give_the_reference_alerts_and_checkpoint(
    tiny_day: tuple[pl.DataFrame, pl.DataFrame],
    reference_day: tuple[list[tuple[Any, ...]], dict[str, Any]],
    size: int,
) -> None:
    calls, subscribers = tiny_day
    detector = BatchDetector(DetectorConfig(), subscribers)
    alerts = []
    for offset in range(0, calls.height, size):
        alerts += detector.observe_batch(calls.slice(offset, size))
    assert _rows(alerts) == reference_day[0]
    assert _normal(detector.state()) == reference_day[1]


def test_checkpoints_pass_between_the_reference_and_the_batch_detector(
    tiny_day: tuple[pl.DataFrame, pl.DataFrame],
    reference_day: tuple[list[tuple[Any, ...]], dict[str, Any]],
) -> None:
    calls, subscribers = tiny_day
    cut = calls.height // 2
    # reference first, batches after
    first = StreamDetector(DetectorConfig(), subscribers)
    alerts = first.observe_batch(calls.head(cut))
    second = BatchDetector(DetectorConfig(), subscribers)
    second.restore(json.loads(json.dumps(first.state())))
    for offset in range(cut, calls.height, 1_000):
        alerts += second.observe_batch(calls.slice(offset, 1_000))
    assert _rows(alerts) == reference_day[0]
    # batches first, the reference after
    first_batch = BatchDetector(DetectorConfig(), subscribers)
    alerts = first_batch.observe_batch(calls.head(cut))
    reference = StreamDetector(DetectorConfig(), subscribers)
    reference.restore(json.loads(json.dumps(first_batch.state())))
    alerts += reference.observe_batch(calls.slice(cut))
    assert _rows(alerts) == reference_day[0]
    assert _normal(reference.state()) == reference_day[1]


def test_the_batch_path_runs_rule_code_for_few_numbers(
    tiny_day: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    calls, subscribers = tiny_day
    detector = BatchDetector(DetectorConfig(), subscribers)
    for offset in range(0, calls.height, 2_000):
        detector.observe_batch(calls.slice(offset, 2_000))
    callers = calls.get_column("caller").n_unique()
    assert 0 < len(detector._numbers) < callers / 10


# -- random small streams --------------------------------------------------------------------

TIGHT = DetectorConfig(
    imei_max_sims=3,
    imei_window_s=600,
    cluster_min_cards=2,
    cluster_window_s=300,
    static_min_outbound=4,
    static_window_s=3_600,
    burst_min_outbound=3,
    burst_window_s=1_800,
    burst_min_located=2,
    young_card_age_s=7 * 86_400,
    new_card_age_s=2 * 86_400,
    wangiri_min_calls=2,
    wangiri_window_s=600,
    robocall_min_calls=3,
    robocall_window_s=3_600,
    surge_min_calls=3,
    surge_factor=1.5,
    surge_window_s=600,
    surge_baseline_s=3_600,
    surge_min_caller_calls=2,
)
"""Thresholds and windows small enough for a few hundred random calls to fire and expire."""


def _random_stream(seed: int) -> tuple[list[tuple[Any, ...]], pl.DataFrame]:
    rng = random.Random(seed)
    cards = [f"+86138{i:08d}" for i in range(10)]
    off_net = [f"+86139{i:08d}" for i in range(3)]
    international = ["+442071838750", "+442071838751", "+33142685300", "+33142685301", "+999123"]
    t = T0.timestamp()
    rows: list[tuple[Any, ...]] = []
    for _ in range(rng.randint(20, 400)):
        t += rng.choice([0.0, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0])
        kind = rng.random()
        imei = cell = imsi = None
        if kind < 0.6:
            caller = rng.choice(cards)
            imsi = f"imsi-{caller[-2:]}-{rng.randint(0, 1)}"
            imei = rng.choice(["imei-a", "imei-b", "imei-c", None])
            cell = rng.choice(["c1", "c2", None])
            ingress = "on_net"
        elif kind < 0.8:
            caller = rng.choice(off_net)
            ingress = rng.choice(["domestic", None])
        else:
            caller = rng.choice(international)
            ingress = "international"
        callee = rng.choice(cards + off_net)
        answered = rng.choice([True, False, False, None])
        ring_s = rng.choice([None, 0, 3, 5, 20])
        rows.append((caller, callee, t, ring_s, answered, ingress, cell, imei, imsi))
    subscribers = pl.DataFrame(
        {
            "msisdn": cards,
            "id_doc_hash": [rng.choice(["d1", "d2", None]) for _ in cards],
            "activated_at": [
                None if (age := rng.choice([0.5, 3.0, 10.0, 60.0, None])) is None
                else T0 - dt.timedelta(days=age)
                for _ in cards
            ],
            "city": [rng.choice(["x", "y", None]) for _ in cards],
        },
        schema_overrides={"activated_at": pl.Datetime("us", "UTC")},
    )  # fmt: skip
    subscribers = subscribers.with_columns(
        *(
            pl.lit(None, dtype).alias(name)
            for name, dtype in SUBSCRIBERS_SCHEMA.items()
            if name not in subscribers.columns
        )
    ).select(list(SUBSCRIBERS_SCHEMA))
    return rows, subscribers


def _frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    schema = {
        "caller": pl.String,
        "callee": pl.String,
        "t": pl.Float64,
        "ring_s": pl.Int32,
        "answered": pl.Boolean,
        "ingress": pl.String,
        "cell_id": pl.String,
        "imei": pl.String,
        "imsi": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _replay_both(seed: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], Any, Any]:
    """One random stream through the reference (call by call) and the batch detector.

    The batch detector gets batches of random sizes; now and then a batch in reverse (the
    call-by-call fallback), a batch through ``observe_epoch``, or a checkpoint round trip.
    """
    rng = random.Random(seed + 1_000)
    rows, subscribers = _random_stream(seed)
    reference = StreamDetector(TIGHT, subscribers)
    batched = BatchDetector(TIGHT, subscribers)
    expected: list[Any] = []
    got: list[Any] = []
    i = 0
    while i < len(rows):
        size = rng.choice([1, 2, 5, 17, 60, 500])
        chunk = rows[i : i + size]
        i += size
        mode = rng.random()
        if mode < 0.1:
            chunk = chunk[::-1]
        for row in chunk:
            expected += reference.observe_epoch(*row)
        if mode > 0.95:
            for row in chunk:
                got += batched.observe_epoch(*row)
        else:
            got += batched.observe_batch(_frame(chunk))
        if 0.85 < mode <= 0.95:
            restored = BatchDetector(TIGHT, subscribers)
            restored.restore(json.loads(json.dumps(batched.state())))
            batched = restored
    return _rows(expected), _rows(got), reference.state(), batched.state()


def test_random_streams_in_random_batches_give_the_reference_alerts_and_checkpoint() -> None:
    fired: Counter[str] = Counter()
    for seed in range(60):
        expected, got, reference_state, batched_state = _replay_both(seed)
        assert got == expected, f"seed {seed}"
        assert _normal(batched_state) == _normal(reference_state), f"seed {seed}"
        fired.update(row[1] for row in expected)
    # Otherwise the comparison could not fail on the rule that never fired.
    assert set(fired) == RULES, fired


def test_an_empty_batch_gives_nothing() -> None:
    detector = BatchDetector(DetectorConfig())
    assert detector.observe_batch(_frame([])) == []


def test_a_snapshot_resumes_the_batch_detector_exactly(
    tiny_day: tuple[pl.DataFrame, pl.DataFrame],
    reference_day: tuple[list[tuple[Any, ...]], dict[str, Any]],
) -> None:
    import pickle

    calls, subscribers = tiny_day
    cut = calls.height // 2
    first = BatchDetector(DetectorConfig(), subscribers)
    alerts = []
    for offset in range(0, cut, 1_000):
        alerts += first.observe_batch(calls.slice(offset, min(1_000, cut - offset)))
    snapshot = pickle.loads(pickle.dumps(first.snapshot()))
    assert not {"_doc", "_activated", "_city"} & set(snapshot["fields"]), "configuration left out"
    second = BatchDetector(DetectorConfig(), subscribers)
    second.restore(snapshot)
    for offset in range(cut, calls.height, 1_000):
        alerts += second.observe_batch(calls.slice(offset, 1_000))
    assert _rows(alerts) == reference_day[0]
    assert _normal(second.state()) == reference_day[1]
    other = BatchDetector(DetectorConfig(imei_max_sims=9), subscribers)
    with pytest.raises(ValueError, match="another detector configuration"):
        other.restore(snapshot)
