"""Early warning on columns: the same warnings, counts and exposure as one record at a time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import write_simulation

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.core.ports import Flag
from telewarden.services.demo import enterprise_registry
from telewarden.services.live_loop import LiveLoop, micro_batches
from telewarden.services.loop_disposal import LoopDisposal, register_cards
from telewarden.services.loop_replay import load_day, make_loop
from telewarden.services.loop_warning import LoopWarner
from telewarden.services.warning import EarlyWarning, build_engine


class ByRecord(LoopWarner):
    """The reference: every record one by one."""

    def on_batch(self, flags: list[Flag], delivered: pl.DataFrame) -> list:  # type: ignore[override]
        return self.on_batch_by_record(flags, delivered)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from telewarden.core.sim import preset

    return write_simulation(tmp_path_factory.mktemp("tiny"), preset("tiny", 11))


def _run(
    records: Path,
    warner_class: type[LoopWarner],
    batch: int,
    events: pl.DataFrame | None = None,
) -> tuple[LiveLoop, LoopWarner]:
    """The whole loop over ``events`` (the records' day when None) with ``warner_class``."""
    store = MemoryDisposalStore(MemoryStore())
    register_cards(store, records, b"k" * 32)
    subscribers = pl.read_parquet(records / "subscribers.parquet")
    warner = warner_class(EarlyWarning(build_engine(subscribers)))
    loop = make_loop(
        records, allow=enterprise_registry(), disposer=LoopDisposal.over(store), warner=warner
    )
    for chunk in micro_batches(load_day(records) if events is None else events, batch):
        loop.step(chunk)
    warner.settle()
    return loop, warner


def _exposure(warner: LoopWarner) -> dict[tuple[str, str], tuple[object, ...]]:
    warner.settle()  # a prune under way finishes first
    index = warner.early.engine.index
    index.warm(list(index._cold_subjects))
    return {
        (subject, msisdn): dataclasses.astuple(summary)
        for subject, pairs in index._by_subject.items()
        for msisdn, summary in pairs.items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("batch", [500, 5_000])
def test_columnar_early_warning_equals_record_by_record(records: Path, batch: int) -> None:
    loop, fast = _run(records, LoopWarner, batch)
    _, slow = _run(records, ByRecord, batch)
    assert loop.counters.flags > 0
    assert fast.early.warnings, "the day must raise warnings for the comparison to mean much"
    assert fast.early.warnings == slow.early.warnings
    assert fast.early.engine.counts == slow.early.engine.counts
    assert fast.early.engine.queue == slow.early.engine.queue
    assert _exposure(fast) == _exposure(slow)


def _synthetic(seed: int, n: int, t0: dt.datetime) -> pl.DataFrame:
    """Calls and SMS among a few numbers: spoofed domestic callers on the international
    gateway, Wangiri-style foreign numbers, call-backs and texts naming a domain."""
    rng = random.Random(seed)
    fraud = ["+8617100000001", "+23225848160", "+8617100000002", "95588"]
    subs = [f"+86138000000{i:02d}" for i in range(12)]
    rows = []
    for k in range(n):
        at = t0 + dt.timedelta(seconds=7 * k)
        if rng.random() < 0.25:
            rows.append(
                (
                    "sms",
                    at,
                    rng.choice(fraud + subs),
                    rng.choice(subs),
                    "domestic",
                    None,
                    None,
                    None,
                    rng.choice([None, "hi", "pay at www.Scam-pay.cn now"]),
                )
            )
            continue
        caller, callee = rng.choice(fraud + subs), rng.choice(subs)
        if rng.random() < 0.2:
            caller, callee = callee, rng.choice(fraud)  # a call back
        answered = rng.random() < 0.5
        rows.append(
            (
                "call",
                at,
                caller,
                callee,
                rng.choice(["international", "domestic"]),
                rng.randint(0, 30),
                rng.randint(1, 900) if answered else 0,
                answered,
                None,
            )
        )
    return pl.DataFrame(
        [(f"calls:{seed}{k}", *row) for k, row in enumerate(rows)],
        schema=["position", "channel", "at", "caller", "callee", "ingress", "ring_s",
                "duration_s", "answered", "text"],
        orient="row",
    ).with_columns(pl.col("at").dt.cast_time_unit("us"))  # fmt: skip


def test_spoofed_callers_links_and_flags_within_a_batch_match_record_by_record() -> None:
    t0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    fast = LoopWarner(EarlyWarning(build_engine(None)))
    slow = ByRecord(EarlyWarning(build_engine(None)))
    first, second = _synthetic(1, 400, t0), _synthetic(2, 400, t0 + dt.timedelta(hours=1))
    flags = [
        Flag("+8617100000001", "msisdn", "new_card_burst", t0 + dt.timedelta(minutes=20), "x"),
        Flag("scam-pay.cn", "domain", "sms_link", t0 + dt.timedelta(minutes=30), "x"),
    ]
    later = [
        Flag("+23225848160", "msisdn", "wangiri_burst", t0 + dt.timedelta(minutes=70), "x"),
        Flag("95588", "msisdn", "impersonation", t0 + dt.timedelta(minutes=90), "x"),
        Flag("+8617100000002", "msisdn", "new_card_burst", t0 + dt.timedelta(minutes=99), "x"),
    ]
    for warner in (fast, slow):
        warner.on_batch(flags, first)
        warner.on_batch(later, second)
    assert len(slow.early.warnings) >= 3
    assert fast.early.warnings == slow.early.warnings
    assert fast.early.engine.counts == slow.early.engine.counts
    assert _exposure(fast) == _exposure(slow)


class _NeverPrunes(LoopWarner):
    def _prune(self, delivered: pl.DataFrame) -> None:
        return None


@pytest.mark.slow
def test_pruning_on_the_helper_thread_changes_no_warning(records: Path) -> None:
    # Three days of traffic (the day again a day and two days later): the exposure index is
    # pruned on the helper thread between batches, and every warning is the same as without
    # pruning.
    day = load_day(records)
    days = pl.concat(
        day.with_columns(pl.col("at") + dt.timedelta(days=k), pl.lit(f"d{k}:") + pl.col("position"))
        for k in range(3)
    )
    _, pruning = _run(records, LoopWarner, 5_000, days)
    _, never = _run(records, _NeverPrunes, 5_000, days)
    assert pruning.early.warnings == never.early.warnings
    assert pruning.early.warnings
    assert pruning.pruned > 0  # the prunes did forget or fold something
