"""The number scorer in the live loop: exact incremental features, gating, flags, checkpoints."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tests.conftest import write_simulation

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.core.disposal.model import MeasureKind
from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import KEY
from telewarden.services.live_loop import LiveLoop, micro_batches
from telewarden.services.loop_disposal import LoopDisposal, register_cards
from telewarden.services.loop_replay import load_day, make_loop
from telewarden.services.loop_scoring import LoopScorer, loop_scorer_for
from telewarden.services.number_features import features_from_records


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from telewarden.core.sim import preset

    return write_simulation(tmp_path_factory.mktemp("tiny"), preset("tiny", 5))


class _FlagsBusyCallers:
    """A stand-in model: flags the given numbers once they made ``calls`` outgoing calls."""

    def __init__(self, targets: set[str], calls: int) -> None:
        self.targets = targets
        self.calls = calls
        self.explained: list[str] = []
        self.scored: list[list[str]] = []

    def score_many(self, features: pl.DataFrame, *, explain: str, threads: int) -> pl.DataFrame:
        self.explained.append(explain)
        self.scored.append(features[KEY].to_list())
        busy = pl.col(KEY).is_in(pl.Series(sorted(self.targets), dtype=pl.String).implode()) & (
            pl.col("voccalltype1").fill_null(0) >= self.calls
        )
        return features.select(
            KEY,
            pl.when(busy).then(0.9).otherwise(0.1).alias("score"),
            busy.alias("flagged"),
            pl.when(busy).then(pl.lit("voccalltype1=many")).otherwise(pl.lit("")).alias("reasons"),
        )


def _never_loaded() -> Any:
    raise AssertionError("the model was loaded although no flag could stand")


def _scorer(records: Path, model: Any, **kwargs: Any) -> LoopScorer:
    return LoopScorer(
        model,
        pl.read_parquet(records / "subscribers.parquet"),
        pl.read_parquet(records / "cells.parquet"),
        **kwargs,
    )


def _busiest(records: Path, n: int) -> set[str]:
    calls = pl.read_parquet(records / "calls.parquet").filter(pl.col("answered"))
    subscribers = pl.read_parquet(records / "subscribers.parquet")["msisdn"]
    top = (
        calls.filter(pl.col("caller").is_in(subscribers.implode()))
        .group_by("caller")
        .len()
        .sort("len", "caller", descending=True)
        .head(n)
    )
    return set(top["caller"].to_list())


def _run(loop: LiveLoop, events: pl.DataFrame, batch: int) -> list[Any]:
    flags = []
    for chunk in micro_batches(events, batch):
        flags += loop.step(chunk).flags
    return flags


def test_the_loops_incremental_features_are_the_batch_features(records: Path) -> None:
    scorer = _scorer(records, _never_loaded)
    loop = make_loop(records)
    loop.scorer = scorer
    _run(loop, load_day(records), 3_000)
    got = scorer.features()
    tables = {n: pl.read_parquet(records / f"{n}.parquet") for n in ("calls", "sms", "cells")}
    tables["subscribers"] = pl.read_parquet(records / "subscribers.parquet")
    want = features_from_records(tables).filter(pl.col(KEY).is_in(got[KEY].implode()))
    assert got.height > 100
    assert_frame_equal(got, want, check_exact=True)
    # A model that may not act, on a short history: nothing is scored (nor loaded).
    assert scorer.counters.scorings > 0
    assert scorer.counters.numbers_scored == 0
    assert "fewer than 28" in str(scorer.counters.withheld_because)


def test_flags_of_a_model_that_may_act_go_to_disposal_once_per_number(records: Path) -> None:
    targets = _busiest(records, 3)
    model = _FlagsBusyCallers(targets, calls=4)
    store = MemoryDisposalStore(MemoryStore())
    register_cards(store, records, b"k" * 32)
    disposal = LoopDisposal.over(store)
    loop = make_loop(records, disposer=disposal)
    loop.scorer = _scorer(records, model, acts=True, domain_check=False)
    events = load_day(records)
    flags = [f for f in _run(loop, events, 2_000) if f.source == "scorer"]
    assert sorted(f.subject for f in flags) == sorted(targets)
    assert set(model.explained) == {"flagged"}  # reasons are worked out for flags that stand
    for flag in flags:
        # Flagged at a scoring: the end of a batch that reached the hour's tick, after the
        # number's fourth outgoing call.
        fourth = (
            events.filter((pl.col("caller") == flag.subject) & pl.col("answered"))["at"]
            .sort()
            .to_list()[3]
        )
        assert flag.at >= fourth
        assert disposal.service.book is not None
        measures = disposal.service.book.measures_of(flag.subject)
        assert [m.kind for m in measures] == [MeasureKind.REVERIFY]
    assert loop.scorer.counters.flags == len(targets)


def test_a_restored_scorer_raises_the_flags_of_an_uninterrupted_one(records: Path) -> None:
    targets = _busiest(records, 4)
    events = load_day(records)
    models = [_FlagsBusyCallers(targets, 3) for _ in range(3)]
    whole = make_loop(records)
    whole.scorer = _scorer(records, models[0], acts=True, domain_check=False)
    expected = [(f.subject, f.at) for f in _run(whole, events, 300)]

    first = make_loop(records)
    first.scorer = _scorer(records, models[1], acts=True, domain_check=False)
    batches = list(micro_batches(events, 300))
    # Stop after a batch that did not reach a new hour, so numbers await their scoring.
    half = next(
        k
        for k in range(len(batches) // 2, len(batches))
        if batches[k - 1]["at"][-1].hour == batches[k - 2]["at"][-1].hour
    )
    got = [f for b in batches[:half] for f in first.step(b).flags]
    second = make_loop(records)
    second.detector.restore(first.detector.state())
    second.scorer = _scorer(records, models[2], acts=True, domain_check=False)
    assert isinstance(first.scorer, LoopScorer)
    second.scorer.restore(pickle.loads(pickle.dumps(first.scorer.state())))
    got += [f for b in batches[half:] for f in second.step(b).flags]
    assert [(f.subject, f.at) for f in got] == expected
    assert any(f.source == "scorer" for f in got)
    # Every scoring saw the same numbers: those awaiting a score crossed the restart too.
    assert models[1].scored + models[2].scored == models[0].scored


def test_the_shipped_model_may_not_act_in_the_loop(records: Path) -> None:
    with pytest.raises(InvalidInputError, match="whose card allows it"):
        loop_scorer_for(records, acts=True)


def test_scorings_follow_the_cadence_in_event_time(records: Path) -> None:
    scorer = _scorer(records, _FlagsBusyCallers(set(), 1), acts=True, domain_check=False)
    loop = make_loop(records)
    loop.scorer = scorer
    events = load_day(records)
    _run(loop, events, 500)

    def hour(at: dt.datetime) -> dt.datetime:
        return at.replace(minute=0, second=0, microsecond=0)

    # A scoring at the end of each batch that reached a new clock hour of event time.
    ends = {hour(b["at"][-1]) for b in micro_batches(events, 500)}
    assert scorer.counters.scorings == len(ends - {hour(events["at"][0])})
    assert scorer.counters.scorings > 12


def test_partitions_with_callee_copies_see_their_numbers_whole_traffic(records: Path) -> None:
    """Two partitions fed by caller, each answered call and SMS to a subscriber copied to the
    callee's partition: together their features are the embedded loop's, number for number."""
    from telewarden.adapters.brokers.nats_jetstream import (
        MIRROR_COLUMN,
        decode_batch,
        pack_events,
        partition_of,
        split_mirrors,
    )
    from telewarden.core.records import CALLEE_COPY_FIELDS
    from telewarden.services.live_loop import LOOP_EVENT_SCHEMA
    from telewarden.services.loop_scoring import copies_for_callees

    events = load_day(records)
    subscribers = pl.read_parquet(records / "subscribers.parquet")
    whole = _scorer(records, _never_loaded)
    embedded = make_loop(records)
    embedded.scorer = whole
    _run(embedded, events, 4_000)
    fed = events.select(*LOOP_EVENT_SCHEMA).with_columns(
        copies_for_callees(events, subscribers).alias(MIRROR_COLUMN)
    )
    messages = pack_events(fed, 2, max_events=700)
    parts = []
    for partition in (0, 1):
        scorer = _scorer(
            records, _never_loaded, owns=lambda n, p=partition: partition_of(n, 2) == p
        )
        loop = make_loop(records)
        loop.scorer = scorer
        own = 0
        for seq, message in enumerate(m for m in messages if m.subject.endswith(f"p{partition}")):
            frame, dead = decode_batch(seq, message.body)
            assert not dead
            mine, copies = split_mirrors(frame.select(list(LOOP_EVENT_SCHEMA)))
            for dropped in set(LOOP_EVENT_SCHEMA) - set(CALLEE_COPY_FIELDS):
                assert copies[dropped].null_count() == copies.height  # what no feature reads
            own += mine.height
            effects = loop.step(mine, mirrors=copies)
            assert effects.decisions.height == mine.height  # copies give no verdict
        parts.append(scorer.features())
        assert (
            own
            == events.filter(
                pl.col("caller").map_elements(lambda c, p=partition: partition_of(c, 2) == p)
            ).height
        )
    together = pl.concat(parts).sort(KEY)
    assert together[KEY].n_unique() == together.height  # each number scored by one partition
    assert_frame_equal(together, whole.features(), check_exact=True)


def test_a_tick_that_cannot_flag_does_not_wait_for_the_helper_thread(
    records: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While the events span fewer days than a withheld flag needs, an hourly tick returns
    # without waiting for the batch to be taken into the partials: the helper thread's work
    # overlaps the loop's next steps.
    import threading

    from telewarden.services import loop_scoring

    monkeypatch.setattr(loop_scoring, "TAKE_EVENTS", 1)  # every batch goes to the thread
    scorer = _scorer(records, _never_loaded)
    release = threading.Event()
    take = scorer._take

    def held(batch: pl.DataFrame) -> list[str]:
        release.wait(timeout=30)
        return take(batch)

    scorer._take = held  # type: ignore[method-assign]
    events = load_day(records)
    batches = list(micro_batches(events, 2_000))
    crossing = next(b for b in batches[1:] if b["at"][0].hour != b["at"][-1].hour)
    scorer.on_batch(batches[0])
    scorer.on_batch(crossing)
    taking = scorer._taking
    assert taking is not None and not taking.done()  # the tick returned while it was held
    assert "fewer than 28" in str(scorer.counters.withheld_because)
    release.set()
    scorer.settle()
    assert scorer.pending


def test_a_restored_scorer_knows_the_days_its_events_spanned(records: Path) -> None:
    # Day one before the checkpoint, the same traffic a day later after it: the restored
    # scorer has seen two days, so a model that may not act is scored from the second day on
    # (a scorer that forgot the first day would withhold it as a one-day history).
    day = load_day(records)
    later = day.with_columns(
        pl.col("at") + dt.timedelta(days=1), pl.lit("later:") + pl.col("position")
    )
    first = _scorer(records, _never_loaded, min_history_days=2, domain_check=False)
    for batch in micro_batches(day, 2_000):
        first.on_batch(batch)
    model = _FlagsBusyCallers(set(), 1)
    second = _scorer(records, model, min_history_days=2, domain_check=False)
    second.restore(pickle.loads(pickle.dumps(first.state())))
    for batch in micro_batches(later, 2_000):
        second.on_batch(batch)
    assert model.scored
    assert second.counters.numbers_scored > 0
