"""Rule detectors: each rule fires on its pattern, stays quiet on the legitimate look-alike."""

from __future__ import annotations

import datetime as dt
import statistics

import polars as pl
import pytest

from telewarden.core.detectors import Alert, DetectorConfig, StreamDetector, detect_stream
from telewarden.core.detectors.evaluation import evaluate_detection
from telewarden.core.records import CALLS_SCHEMA, SUBSCRIBERS_SCHEMA

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def _subscribers(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    """(msisdn, id_doc_hash, age in days) rows as a subscribers table."""
    frame = pl.DataFrame(
        {
            "msisdn": [r[0] for r in rows],
            "id_doc_hash": [r[1] for r in rows],
            "activated_at": [T0 - dt.timedelta(days=r[2]) for r in rows],
        }
    )
    return frame.with_columns(
        *(pl.lit(None, t).alias(c) for c, t in SUBSCRIBERS_SCHEMA.items() if c not in frame.columns)
    ).select(list(SUBSCRIBERS_SCHEMA))


def _feed(
    det: StreamDetector,
    calls: list[tuple[str, str, float, int, bool, str, str | None, str | None, str | None]],
) -> list[Alert]:
    alerts: list[Alert] = []
    for caller, callee, minutes, ring, answered, ingress, cell, imei, imsi in calls:
        at = T0 + dt.timedelta(minutes=minutes)
        alerts += det.observe(caller, callee, at, ring, answered, ingress, cell, imei, imsi)
    return alerts


def test_third_sim_in_one_handset_flags_every_card_on_it() -> None:
    det = StreamDetector(DetectorConfig())
    calls = [
        (f"+86138000000{i}", f"+86139{i:08d}", i, 5, False, "on_net", "c1", "IMEI1", f"sim{i}")
        for i in range(4)
    ]
    alerts = _feed(det, calls)
    imei = [a for a in alerts if a.detector == "sim_bank_imei"]
    # nothing at the second SIM (dual-SIM phones are normal); all three at the third; the fourth
    # card on its own first attempt
    assert [(a.msisdn[-1], a.attempts) for a in imei] == [("0", 1), ("1", 1), ("2", 1), ("3", 1)]
    assert "3 SIMs" in imei[0].reason


def test_dual_sim_phone_is_not_a_sim_bank() -> None:
    det = StreamDetector(DetectorConfig())
    calls = [
        (
            f"+8613800000{i % 2}",
            f"+86139{i:08d}",
            i,
            5,
            True,
            "on_net",
            "c1",
            "IMEI1",
            f"sim{i % 2}",
        )
        for i in range(20)
    ]
    assert not [a for a in _feed(det, calls) if a.detector == "sim_bank_imei"]


def test_one_imei_on_cards_in_different_cells_is_a_cloned_imei_not_a_sim_bank() -> None:
    det = StreamDetector(DetectorConfig())
    calls = [
        (f"+86138000000{i}", f"+86139{i:08d}", i, 5, False, "on_net", f"c{i}", "IMEI1", f"sim{i}")
        for i in range(4)
    ]
    assert not [a for a in _feed(det, calls) if a.detector == "sim_bank_imei"]
    # the same four SIMs from one cell are a rack
    det = StreamDetector(DetectorConfig())
    same_cell = [(*c[:6], "c0", *c[7:]) for c in calls]
    assert len([a for a in _feed(det, same_cell) if a.detector == "sim_bank_imei"]) == 4


def test_sims_seen_a_day_apart_do_not_count_together() -> None:
    det = StreamDetector(DetectorConfig(imei_window_s=3600))
    calls = [
        (f"+8613800000{i}", "+8613900000000", i * 120, 5, True, "on_net", "c1", "IMEI1", f"s{i}")
        for i in range(3)
    ]
    assert not _feed(det, calls)


def test_cards_of_one_id_switching_on_together_in_one_cell_form_a_cluster() -> None:
    cards = [f"+861380000000{i}" for i in range(4)]
    det = StreamDetector(DetectorConfig(), _subscribers([(c, "doc", 10) for c in cards]))
    calls = [
        (c, "+8613900000000", i, 5, True, "on_net", "cellA", f"imei{i}", f"s{i}")
        for i, c in enumerate(cards)
    ]
    alerts = [a for a in _feed(det, calls) if a.detector == "sim_bank_cluster"]
    assert sorted(a.msisdn for a in alerts) == cards


def test_young_static_card_with_nothing_inbound_is_a_sim_bank_card() -> None:
    det = StreamDetector(DetectorConfig(), _subscribers([("+8613800000001", "d", 5)]))
    calls = [
        ("+8613800000001", f"+86139{i:08d}", i * 10, 30, i % 4 == 0, "on_net", "c1", "imeiX", "sX")
        for i in range(12)
    ]
    alerts = [a for a in _feed(det, calls) if a.detector == "sim_bank_static"]
    assert [a.attempts for a in alerts] == [12]


def test_established_sales_agent_with_the_same_pattern_is_left_alone() -> None:
    det = StreamDetector(DetectorConfig(), _subscribers([("+8613800000001", "d", 900)]))
    calls = [
        ("+8613800000001", f"+86139{i:08d}", i * 5, 30, i % 4 == 0, "on_net", "c1", "imeiX", "sX")
        for i in range(40)
    ]
    assert not _feed(det, calls)


def test_new_card_spraying_strangers_is_a_new_card_burst() -> None:
    det = StreamDetector(DetectorConfig(), _subscribers([("+8613800000001", "d", 1)]))
    calls = [
        (
            "+8613800000001",
            f"+86139{i:08d}",
            i * 3,
            20,
            i % 3 == 0,
            "on_net",
            f"c{i % 3}",
            "imeiX",
            "sX",
        )
        for i in range(10)
    ]
    alerts = [a for a in _feed(det, calls) if a.detector == "new_card_burst"]
    assert len(alerts) == 1
    assert "1.0 days old" in alerts[0].reason


def _with_cities(subscribers: pl.DataFrame, cities: dict[str, str]) -> pl.DataFrame:
    return subscribers.with_columns(
        pl.col("msisdn").replace_strict(cities, default=None).alias("city")
    )


@pytest.mark.parametrize(("local_callees", "flagged"), [(10, False), (7, True), (0, True)])
def test_new_card_burst_spares_a_local_business_but_not_a_country_wide_spray(
    local_callees: int, flagged: bool
) -> None:
    card = "+8613800000001"
    callees = [f"+86139{i:08d}" for i in range(10)]
    rows = [(card, "d", 1.0)] + [(c, f"d{i}", 900.0) for i, c in enumerate(callees)]
    cities = {card: "成都"} | {
        c: "成都" if i < local_callees else ["重庆", "广州", "绵阳"][i % 3]
        for i, c in enumerate(callees)
    }
    det = StreamDetector(DetectorConfig(), _with_cities(_subscribers(rows), cities))
    calls = [
        (card, c, i * 3, 20, i % 3 == 0, "on_net", "c1", "imeiX", "sX")
        for i, c in enumerate(callees)
    ]
    alerts = [a for a in _feed(det, calls) if a.detector == "new_card_burst"]
    assert bool(alerts) is flagged


def test_one_ring_international_bursts_are_wangiri() -> None:
    det = StreamDetector(DetectorConfig())
    calls = [
        ("+22222694043", f"+86139{i:08d}", i, 2, False, "international", None, None, None)
        for i in range(5)
    ]
    alerts = [a for a in _feed(det, calls) if a.detector == "wangiri"]
    assert [(a.msisdn, a.attempts) for a in alerts] == [("+22222694043", 5)]


def test_international_calls_that_ring_long_are_not_wangiri() -> None:
    det = StreamDetector(DetectorConfig())
    calls = [
        ("+85291234567", f"+86139{i:08d}", i * 30, 25, False, "international", None, None, None)
        for i in range(5)
    ]
    assert not [a for a in _feed(det, calls) if a.detector == "wangiri"]


def test_off_net_caller_with_unanswered_spray_is_a_robocaller() -> None:
    det = StreamDetector(DetectorConfig())
    calls = [
        ("+8617000000001", f"+86139{i:08d}", i * 20, 30, i % 4 == 0, "domestic", None, None, None)
        for i in range(8)
    ]
    alerts = [a for a in _feed(det, calls) if a.detector == "robocall"]
    assert [a.attempts for a in alerts] == [8]


def test_off_net_notice_line_that_people_answer_is_not_a_robocaller() -> None:
    det = StreamDetector(DetectorConfig())
    calls = [
        ("95588", f"+86139{i:08d}", i, 5, True, "domestic", None, None, None) for i in range(50)
    ]
    assert not _feed(det, calls)


def test_surge_from_one_country_flags_its_repeat_callers() -> None:
    cfg = DetectorConfig(surge_min_calls=10, surge_min_caller_calls=3, wangiri_min_calls=99)
    det = StreamDetector(cfg)
    calls = [
        (f"+8558000000{i % 4}", f"+86139{i:08d}", i, 20, True, "international", None, None, None)
        for i in range(12)
    ]
    alerts = [a for a in _feed(det, calls) if a.detector == "intl_surge"]
    assert alerts
    assert {a.msisdn[:4] for a in alerts} == {"+855"}
    assert "+855 inbound surge" in alerts[0].reason


def _calls_frame(rows: list[tuple[str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "caller": [r[0] for r in rows],
            "start_at": [T0 + dt.timedelta(minutes=r[1]) for r in rows],
        }
    )


def test_time_to_detect_counts_attempts_from_the_first_fraud_call() -> None:
    calls = _calls_frame(
        [("f", 0), ("f", 5), ("f", 10), ("f", 15), ("early", 0), ("x", 1), ("now", 3)]
    )
    truth = pl.DataFrame(
        {
            "msisdn": ["f", "early", "missed", "now"],
            "campaign_kind": ["sim_bank"] * 4,
            "first_fraud_at": [
                T0 + dt.timedelta(minutes=5),
                T0 + dt.timedelta(minutes=30),
                T0,
                T0 + dt.timedelta(minutes=3),
            ],
        }
    )
    alerts = [
        Alert("f", "b", T0 + dt.timedelta(minutes=15), 4, "later duplicate"),
        Alert("f", "a", T0 + dt.timedelta(minutes=10), 3, "first"),
        Alert("early", "a", T0, 1, "flagged before any fraud"),
        Alert("x", "a", T0, 1, "false alarm"),
        Alert("now", "a", T0 + dt.timedelta(minutes=3), 1, "flagged on its first fraud call"),
    ]
    result = evaluate_detection(alerts, calls, truth)
    kind = result.per_kind["sim_bank"]
    # "missed" placed no call, so it is not a calling card; f: calls at 5 and 10 -> 2 attempts;
    # "now" was flagged on the very call that was its first fraud call -> 1 attempt
    assert (kind.cards, kind.detected) == (3, 3)
    assert sorted(kind.attempts) == [0, 1, 2]
    assert sorted(kind.minutes) == [0.0, 0.0, 5.0]
    assert (result.flagged, result.true_flagged) == (4, 3)


@pytest.mark.slow
def test_simulated_sim_banks_are_caught_within_ten_attempts_with_no_bulk_caller_flagged() -> None:
    from telewarden.core.sim import Simulation, preset

    simulation = Simulation(preset("tiny", 11))
    calls = pl.concat([c.calls for c in simulation.chunks()]).select(list(CALLS_SCHEMA))
    alerts = list(detect_stream(calls, simulation.subscribers()))
    result = evaluate_detection(alerts, calls, simulation.truth_cards())
    sim_bank = result.per_kind["sim_bank"]
    assert sim_bank.detected == sim_bank.cards > 0
    assert statistics.median(sim_bank.attempts) <= 10
    assert result.legit_bulk > 0
    assert result.legit_bulk_flagged == 0
    assert result.true_flagged / result.flagged >= 0.95


@pytest.mark.slow
def test_a_detector_restored_from_its_checkpoint_goes_on_exactly_as_the_uninterrupted_one() -> None:
    import json

    from telewarden.core.sim import Simulation, preset

    simulation = Simulation(preset("tiny", 11))
    calls = pl.concat([c.calls for c in simulation.chunks()]).select(list(CALLS_SCHEMA))
    calls = calls.sort("start_at", "id")
    subscribers = simulation.subscribers()
    whole = [a.as_row() for a in detect_stream(calls, subscribers)]
    assert whole, "the tiny simulation has fraud to find"
    rows = calls.select(
        "caller", "callee", "start_at", "ring_s", "answered", "ingress", "cell_id", "imei", "imsi"
    ).rows()
    for cut in (len(rows) // 3, 2 * len(rows) // 3):
        first = StreamDetector(DetectorConfig(), subscribers)
        alerts = [a.as_row() for row in rows[:cut] for a in first.observe(*row)]
        checkpoint = json.loads(json.dumps(first.state()))
        second = StreamDetector(DetectorConfig(), subscribers)
        second.restore(checkpoint)
        alerts += [a.as_row() for row in rows[cut:] for a in second.observe(*row)]
        assert alerts == whole


def test_an_unknown_checkpoint_version_is_refused() -> None:
    with pytest.raises(ValueError, match="checkpoint version"):
        StreamDetector(DetectorConfig()).restore({"version": 99})
