"""The live loop's step: verdicts due at each event's time, whatever the micro-batch size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
import pytest

from telewarden.core.detectors import BatchDetector
from telewarden.core.detectors.streaming import DetectorConfig, StreamDetector
from telewarden.core.ports import Flag
from telewarden.core.screening import ListEntry, MatchKind, NumberList, Screener
from telewarden.core.screening import batch as screening_batch
from telewarden.services.live_loop import (
    LOOP_EVENT_SCHEMA,
    LiveLoop,
    flag_key,
    micro_batches,
)

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
IMEI = "353280110000001"
BANK = [f"+8613800000{i:03d}" for i in range(4)]


class SuspendOnFlag:
    """Suspends every flagged card from the flag's time (a test double of disposal)."""

    def __init__(self, deny: NumberList) -> None:
        self.deny = deny
        self.since: dict[str, dt.datetime] = {}

    def on_flags(self, flags: Sequence[Flag]) -> list[Flag]:
        new = []
        for flag in flags:
            if flag.subject not in self.since:
                self.since[flag.subject] = flag.at
                self.deny.add(ListEntry(flag.subject, MatchKind.EXACT, "measure", flag.source))
                new.append(flag)
        return new

    def as_of(self, at: dt.datetime) -> None:
        """Deny-list entries act at once; nothing to move."""

    def blocked_from(self, msisdn: str, at: dt.datetime) -> dt.datetime | None:
        return self.since.get(msisdn)


def _events() -> pl.DataFrame:
    """A SIM bank: four cards on one IMEI in one cell, each calling every minute, among
    ordinary subscribers' calls and an SMS."""
    rows = []
    for minute in range(6):
        for i, card in enumerate(BANK):
            rows.append(
                {
                    "position": f"calls:{minute}{i}",
                    "channel": "call",
                    "at": T0 + dt.timedelta(minutes=minute, seconds=i),
                    "caller": card,
                    "callee": f"+861390000{minute}{i:03d}",
                    "ingress": "domestic",
                    "ring_s": 20,
                    "answered": False,
                    "duration_s": 0,
                    "cell_id": "c1",
                    "imei": IMEI,
                    "imsi": f"46000000000000{i}",
                    "text": None,
                }
            )
        rows.append(
            {
                "position": f"calls:legit{minute}",
                "channel": "call",
                "at": T0 + dt.timedelta(minutes=minute, seconds=30),
                "caller": "+8613900001111",
                "callee": "+8613900002222",
                "ingress": "domestic",
                "ring_s": 5,
                "answered": True,
                "duration_s": 60,
                "cell_id": "c2",
                "imei": "353280110000999",
                "imsi": "460000000009999",
                "text": None,
            }
        )
    rows.append(
        {
            "position": "sms:1",
            "channel": "sms",
            "at": T0 + dt.timedelta(minutes=5, seconds=40),
            "caller": BANK[0],
            "callee": "+8613900002222",
            "ingress": "domestic",
            "ring_s": None,
            "answered": None,
            "duration_s": None,
            "cell_id": "c1",
            "imei": None,
            "imsi": None,
            "text": None,
        }
    )
    return pl.DataFrame(rows, schema=LOOP_EVENT_SCHEMA)


def _run(
    batch_size: int, detector: type[StreamDetector] = StreamDetector
) -> tuple[pl.DataFrame, LiveLoop]:
    deny = NumberList()
    loop = LiveLoop(
        Screener(deny=deny),
        detector(DetectorConfig()),
        disposer=SuspendOnFlag(deny),
    )
    out = [loop.step(b).decisions for b in micro_batches(_events(), batch_size)]
    return pl.concat(out), loop


def test_a_card_flagged_mid_batch_has_its_later_events_blocked() -> None:
    decisions, loop = _run(batch_size=1_000)
    by_position = dict(zip(decisions["position"], decisions["verdict"], strict=True))
    # The third SIM on the IMEI completes the evidence: the first three calls went through.
    assert [by_position[f"calls:0{i}"] for i in range(3)] == ["allow"] * 3
    # Every later event of the four cards is blocked, SMS included; the bystander never is.
    later = decisions.filter(
        pl.col("caller").is_in(BANK) & (pl.col("at") > T0 + dt.timedelta(seconds=3))
    )
    assert later.height == 21 and set(later["verdict"]) == {"block"}
    assert set(decisions.filter(pl.col("caller") == "+8613900001111")["verdict"]) == {"allow"}
    assert loop.counters.flags == 4 and loop.counters.measures == 4
    assert loop.counters.rescreened > 0


@pytest.mark.parametrize("batch_size", [1, 3, 7, 50])
def test_verdicts_do_not_depend_on_the_micro_batch_size(batch_size: int) -> None:
    whole, _ = _run(batch_size=1_000)
    sliced, _ = _run(batch_size=batch_size)
    assert sliced.select("position", "verdict", "reason").equals(
        whole.select("position", "verdict", "reason")
    )


@pytest.mark.parametrize("batch_size", [1, 3, 7, 50, 1_000])
def test_the_batch_detector_gives_the_per_call_detectors_verdicts_and_flags(
    batch_size: int,
) -> None:
    reference, reference_loop = _run(batch_size=batch_size)
    batched, loop = _run(batch_size=batch_size, detector=BatchDetector)
    assert batched.equals(reference)
    assert loop.counters.flags == reference_loop.counters.flags == 4
    state, expected = loop.detector.state(), reference_loop.detector.state()
    for part in ("imei", "cell_starts"):  # lists of keys: their order carries nothing
        state[part] = sorted(state[part], key=repr)
        expected[part] = sorted(expected[part], key=repr)
    assert state == expected


def test_flag_keys_name_source_and_subject() -> None:
    flag = Flag(BANK[0], "msisdn", "sim_bank_imei", T0, "three SIMs")
    assert flag_key(flag) == f"sim_bank_imei:{BANK[0]}"


def test_screening_a_batchs_few_new_numbers_one_by_one_changes_no_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The previous path: every batch's non-mobile numbers through the bulk tables.
    monkeypatch.setattr(screening_batch, "_BULK_FROM", 0)
    reference, reference_loop = _run(batch_size=7, detector=BatchDetector)
    monkeypatch.undo()
    got, loop = _run(batch_size=7, detector=BatchDetector)
    assert got.equals(reference)
    timings = ("screen_s", "detect_s", "dispose_s", "warn_s")
    counters = {k: v for k, v in loop.counters.as_dict().items() if k not in timings}
    want = {k: v for k, v in reference_loop.counters.as_dict().items() if k not in timings}
    assert counters == want and counters["rescreened"] > 0


def test_detection_runs_beside_screening_and_its_flags_act_in_the_same_batch() -> None:
    import threading

    threads: list[str] = []

    class Recording(StreamDetector):
        def observe_batch(self, frame: pl.DataFrame) -> list[Any]:
            threads.append(threading.current_thread().name)
            return super().observe_batch(frame)

    decisions, loop = _run(batch_size=1_000, detector=Recording)
    assert threads and all(name.startswith("loop-detect") for name in threads)
    # The flags raised beside screening still block the cards' later events of the batch.
    assert loop.counters.flags == 4 and loop.counters.rescreened > 0
    assert (decisions["verdict"] == "block").sum() == 21
