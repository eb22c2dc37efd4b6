"""Batch screening of an event file: read in chunks, ``decide_frame``, write verdicts.

The chunks stay Polars frames end to end; :func:`telewarden.core.screening.decide_frame`
gives the same verdict, reason and rule as ``Screener.decide`` for every row (tested in
``tests/unit/core/test_screening_batch.py``) at several times its throughput.

Reading, deciding and writing are timed separately so the throughput line can say how much of
a run was the policy itself and how much was file I/O.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from telewarden.adapters.clock import SystemClock
from telewarden.adapters.files.events import EventFileReader
from telewarden.adapters.files.output import refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import QuarantineWriter, check_quarantine_share
from telewarden.adapters.files.table import file_format
from telewarden.adapters.files.verdicts import SCHEMA as VERDICT_SCHEMA
from telewarden.adapters.files.verdicts import VerdictWriter
from telewarden.core.ports import BatchSummary, Clock
from telewarden.core.screening import Screener, decide_frame
from telewarden.services.screening import content_inspector, load_screener

if TYPE_CHECKING:
    from telewarden.services.context import AppContext


def default_quarantine_path(output: Path) -> Path:
    """``verdicts.parquet`` -> ``verdicts.quarantine.csv`` next to it."""
    return output.with_name(f"{output.stem}.quarantine.csv")


@dataclass(frozen=True, slots=True)
class BatchRun:
    """What a batch run produced: the summary to log, where the bad rows went, and timings."""

    summary: BatchSummary
    quarantine_path: Path | None
    read_s: float
    decide_s: float
    by_pair: list[tuple[tuple[str, str], int]]
    """Counts by ``(verdict, reason)``, most common first."""

    @property
    def events_per_s(self) -> float:
        """Screened events per second of the whole run (read, decide, write)."""
        return self.summary.screened / self.summary.duration_s if self.summary.duration_s else 0.0

    @property
    def decide_per_s(self) -> float:
        """Screened events per second spent inside ``decide_frame`` only."""
        return self.summary.screened / self.decide_s if self.decide_s else 0.0


def screen_file(
    screener: Screener,
    source: Path,
    output: Path,
    *,
    quarantine: Path | None = None,
    chunk_rows: int = 50_000,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    clock: Clock | None = None,
    encoding: str | None = None,
) -> BatchRun:
    """Screen every event in ``source`` and write one verdict row per usable event to ``output``.

    Parameters
    ----------
    screener : Screener
        Holds the policy, opt-ins and lists to apply.
    source, output : Path
        ``.csv`` or ``.parquet`` each; the formats may differ.
    quarantine : Path, optional
        Where rejected rows go; default ``<output stem>.quarantine.csv``. Created only when a
        row is rejected.
    on_total : callable, optional
        Called once with the number of rows in the file, before screening starts.
    progress : callable, optional
        Called with the number of rows handled after each chunk.
    """
    quarantine = quarantine or default_quarantine_path(output)
    refuse_inputs_as_outputs([source], [output, quarantine])
    clock = clock or SystemClock()
    started_at = clock.now()
    t0 = time.perf_counter()
    reader = EventFileReader(source, chunk_rows=chunk_rows, encoding=encoding)
    read_s = time.perf_counter() - t0
    if on_total is not None:
        on_total(reader.rows_read)
    by_pair: Counter[tuple[str, str]] = Counter()
    decide_s = 0.0
    screened = rows = 0
    with VerdictWriter(output) as verdicts, QuarantineWriter(quarantine) as bad:
        for chunk in reader.iter_frames():
            t = time.perf_counter()
            decided = decide_frame(
                screener,
                chunk.frame.select("line", "caller", "callee", "channel", "ingress", "text"),
            )
            decide_s += time.perf_counter() - t
            counts = decided.group_by("verdict", "reason").len().rows()
            by_pair.update({(verdict, reason): n for verdict, reason, n in counts})
            if decided.height:
                verdicts.write(decided.select(list(VERDICT_SCHEMA)))
            bad.write(chunk.quarantined)
            screened += decided.height
            rows += chunk.rows_read
            if progress is not None:
                progress(chunk.rows_read)
        quarantined = bad.count
    duration_s = time.perf_counter() - t0
    by_verdict: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for (verdict, reason), count in by_pair.items():
        by_verdict[verdict] += count
        by_reason[reason] += count
    summary = BatchSummary(
        started_at=started_at,
        finished_at=clock.now(),
        source=str(source),
        output=str(output),
        rows_read=rows,
        screened=screened,
        quarantined=quarantined,
        duration_s=duration_s,
        by_verdict=dict(by_verdict.most_common()),
        by_reason=dict(by_reason.most_common()),
    )
    return BatchRun(
        summary, quarantine if quarantined else None, read_s, decide_s, by_pair.most_common()
    )


@dataclass(frozen=True, slots=True)
class LoadedState:
    """What a batch screen loaded from the store before it started."""

    policy_version: int
    optins: int
    deny: int
    allow: int
    load_s: float


def screen_file_from_store(
    ctx: AppContext,
    source: Path,
    output: Path,
    *,
    actor: str,
    quarantine: Path | None = None,
    chunk_rows: int = 50_000,
    on_loaded: Callable[[LoadedState], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    encoding: str | None = None,
    max_quarantine_share: float | None = None,
) -> BatchRun:
    """Screen a file against the store's policy, opt-ins and lists, and log the batch summary.

    The summary is logged first; then a run that quarantined every row, or more than
    ``max_quarantine_share`` of them, is InvalidInputError (the verdicts stay written).
    """
    file_format(source)
    file_format(output)
    t0 = time.perf_counter()
    policy = ctx.effective_policy()
    screener = load_screener(
        ctx.store, policy, content=content_inspector(policy, ctx.inspector_factory)
    )
    if on_loaded is not None:
        on_loaded(
            LoadedState(
                ctx.store.policy_version(),
                len(screener.optins),
                len(screener.deny),
                len(screener.allow),
                time.perf_counter() - t0,
            )
        )
    run = screen_file(
        screener,
        source,
        output,
        quarantine=quarantine,
        chunk_rows=chunk_rows,
        on_total=on_total,
        progress=progress,
        clock=ctx.clock,
        encoding=encoding,
    )
    ctx.store.log_batch(run.summary, actor=actor)
    check_quarantine_share(
        run.summary.rows_read, run.summary.quarantined, max_quarantine_share, run.quarantine_path
    )
    return run
