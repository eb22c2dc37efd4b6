"""The demo's live-loop stage: the simulated day through screen, detect, dispose and warn.

Builds the loop the way a carrier would embed it (the disposal use cases over an in-memory
disposal store holding the simulated carrier's cards, early warning over its subscribers), runs
the day through it in event time, decides the same events with screening alone, and compares
both against the simulator's truth (:func:`~telewarden.services.loop_replay.loop_report`).

With ``telewarden demo --adaptive`` a further stage (:func:`run_adaptive_stage`) puts the same
loop in front of the simulator itself, on the same preset and seed with campaigns that react
to its measures (``telewarden.services.adaptive_replay``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.core.screening import ContentInspector, NumberList, PolicySettings, decide_frame
from telewarden.core.sim import SimConfig, Simulation
from telewarden.core.sim.config import adaptive_config
from telewarden.services.adaptive_replay import (
    AdversaryReport,
    LoopSettings,
    evaluate_adversaries,
)
from telewarden.services.demo import memoise_findings
from telewarden.services.disposal import IntakeReport
from telewarden.services.live_loop import LiveLoop
from telewarden.services.loop_disposal import LoopDisposal, SequentialIds, register_cards
from telewarden.services.loop_replay import (
    LoopReport,
    LoopRun,
    load_day,
    loop_report,
    make_loop,
    replay_records,
)
from telewarden.services.loop_scoring import (
    SHIPPED_SCORING,
    LoopScorer,
    ScoringSettings,
    loop_scorer_for,
)
from telewarden.services.loop_warning import LoopWarner
from telewarden.services.warning import EarlyWarning, build_engine

__all__ = [
    "LoopDemo",
    "adaptive_stage_chunks",
    "make_whole_loop",
    "run_adaptive_stage",
    "run_loop_demo",
]

_SCREEN_COLUMNS = ["position", "channel", "caller", "callee", "ingress", "at", "text"]


def make_whole_loop(
    records: Path,
    *,
    hash_key: bytes,
    policy: PolicySettings | None = None,
    content: ContentInspector | None = None,
    allow: NumberList | None = None,
    id_scope: str | None = None,
    owns: Callable[[str], bool] | None = None,
    scoring: ScoringSettings | None = SHIPPED_SCORING,
) -> LiveLoop:
    """The whole loop for the simulated carrier in ``records``: screen, detect, dispose, warn.

    Disposal runs over an in-memory disposal store holding the carrier's cards (ID documents
    hashed under ``hash_key``), early warning over its subscribers.

    ``id_scope`` makes the loop a partition worker's: cases and measures get counted ids in
    that scope (:class:`~telewarden.services.loop_disposal.SequentialIds`), so a restarted
    worker re-derives the same ids, and neither warnings nor the warning queue are kept in
    memory (they leave as effects). ``owns`` says which flagged cards the partition disposes of
    (and which numbers it scores).

    ``scoring`` adds the number scorer over incremental features
    (:class:`~telewarden.services.loop_scoring.LoopScorer`); None leaves it out.
    """
    store = MemoryDisposalStore(MemoryStore())
    register_cards(store, records, hash_key)
    worker = id_scope is not None
    disposal = (
        LoopDisposal.over(store, owns=owns, make_id=SequentialIds(id_scope))
        if id_scope is not None
        else LoopDisposal.over(store, owns=owns)
    )
    subscribers = pl.read_parquet(records / "subscribers.parquet")
    warner = LoopWarner(
        EarlyWarning(build_engine(subscribers, keep_queue=not worker), keep=not worker)
    )
    loop = make_loop(
        records, policy=policy, content=content, allow=allow, disposer=disposal, warner=warner
    )
    if scoring is not None:
        loop.scorer = loop_scorer_for(
            records, model_path=scoring.model, acts=scoring.acts, every=scoring.every, owns=owns
        )
    return loop


@dataclass
class LoopDemo:
    """What the loop stage measured."""

    run: LoopRun
    report: LoopReport
    intake: IntakeReport
    notices: int
    cases: MemoryDisposalStore
    """The cases, measures and notices of the day (``demo --serve`` keeps them in a store)."""
    scorer: dict[str, Any] | None = None
    """What the number scorer did in the loop (its counters), None without one."""


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
    loop = make_whole_loop(records, hash_key=hash_key, policy=policy, content=content, allow=allow)
    disposal = loop.disposer
    assert isinstance(disposal, LoopDisposal)
    run = replay_records(loop, events, batch_size=batch_size, progress=progress)
    warned = pl.DataFrame(
        [{"msisdn": w.msisdn, "at": w.send_at} for w in run.warnings],
        schema={"msisdn": pl.String, "at": pl.Datetime("us", "UTC")},
    )
    report = loop_report(records, run, alone, warned=warned, measure_times=disposal.measured_at)
    store = disposal.service.store
    assert isinstance(store, MemoryDisposalStore)
    scorer = loop.scorer.summary() if isinstance(loop.scorer, LoopScorer) else None
    return LoopDemo(run, report, disposal.intake, disposal.intake.notices, store, scorer)


def adaptive_stage_chunks(config: SimConfig, step_s: int) -> int:
    """Chunks the adaptive stage goes through (for a progress bar): three runs of ``config``."""
    simulation = Simulation(config)
    return simulation.chunk_count() + 2 * simulation.chunk_count(step_s)


def run_adaptive_stage(
    config: SimConfig,
    settings: LoopSettings,
    on_chunk: Callable[[], object] | None = None,
) -> AdversaryReport:
    """The day of ``config`` with adaptive campaigns, without and with the loop.

    The campaigns are ``config``'s with their reaction policies and the threshold gamer
    (``adaptive_config``); the loop is the one of :func:`run_loop_demo`, driving the simulator
    step by step (``telewarden.services.adaptive_replay.evaluate_adversaries``).
    """
    return evaluate_adversaries(adaptive_config(config), settings, on_chunk)
