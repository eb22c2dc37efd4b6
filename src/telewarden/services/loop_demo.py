"""The demo's live-loop stage: the simulated day through screen, detect, dispose and warn.

Builds the loop the way a carrier would embed it (the disposal use cases over an in-memory
disposal store holding the simulated carrier's cards, early warning over its subscribers), runs
the day through it in event time, decides the same events with screening alone, and compares
both against the simulator's truth (:func:`~telewarden.services.loop_replay.loop_report`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.core.screening import ContentInspector, NumberList, PolicySettings, decide_frame
from telewarden.services.demo import memoise_findings
from telewarden.services.disposal import IntakeReport
from telewarden.services.loop_disposal import LoopDisposal, register_cards
from telewarden.services.loop_replay import (
    LoopReport,
    LoopRun,
    load_day,
    loop_report,
    make_loop,
    replay_records,
)
from telewarden.services.loop_warning import LoopWarner
from telewarden.services.warning import EarlyWarning, build_engine

__all__ = ["LoopDemo", "run_loop_demo"]

_SCREEN_COLUMNS = ["position", "channel", "caller", "callee", "ingress", "at", "text"]


@dataclass
class LoopDemo:
    """What the loop stage measured."""

    run: LoopRun
    report: LoopReport
    intake: IntakeReport
    notices: int
    cases: MemoryDisposalStore
    """The cases, measures and notices of the day (``demo --serve`` keeps them in a store)."""


def run_loop_demo(
    records: Path,
    *,
    hash_key: bytes,
    policy: PolicySettings | None = None,
    content: ContentInspector | None = None,
    allow: NumberList | None = None,
    batch_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> LoopDemo:
    """Run the simulated day in ``records`` through the whole loop and score it."""
    events = load_day(records)
    if content is not None:
        texts = events.filter(pl.col("text").is_not_null())["text"].unique().to_list()
        content = memoise_findings(content, texts)
    alone_loop = make_loop(records, policy=policy, content=content, allow=allow)
    alone = decide_frame(alone_loop.screener(), events.select(_SCREEN_COLUMNS)).select(
        "position", "verdict"
    )
    store = MemoryDisposalStore(MemoryStore())
    register_cards(store, records, hash_key)
    disposal = LoopDisposal.over(store)
    subscribers = pl.read_parquet(records / "subscribers.parquet")
    warner = LoopWarner(EarlyWarning(build_engine(subscribers)))
    loop = make_loop(
        records, policy=policy, content=content, allow=allow, disposer=disposal, warner=warner
    )
    run = replay_records(loop, events, batch_size=batch_size, progress=progress)
    warned = pl.DataFrame(
        [{"msisdn": w.msisdn, "at": w.send_at} for w in run.warnings],
        schema={"msisdn": pl.String, "at": pl.Datetime("us", "UTC")},
    )
    report = loop_report(records, run, alone, warned=warned, measure_times=disposal.measured_at)
    return LoopDemo(run, report, disposal.intake, disposal.intake.notices, store)
