"""The live loop's step: screen, detect, dispose and warn a micro-batch of events in event time.

One :class:`LiveLoop` owns the per-number state of a partition of the traffic (the streaming
detectors' windows, the measures in force) and turns each micro-batch of call and SMS events,
sorted by event time, into effects:

1. **Screen** the whole batch at once with ``decide_frame`` against the policy, lists, opt-ins
   and measures in force when the batch starts (the vectorised path).
2. **Detect**: the batch's call attempts go to the streaming detectors in event order, as one
   micro-batch (``observe_batch``: the rules' code runs only for the calls that could complete
   one); an alert becomes a :class:`~telewarden.core.ports.Flag` at the event that completed
   the evidence. With a scoring hook, the batch also updates the subscribers' incremental
   features, and on its cadence the number scorer's flags that stand join the detectors'.
3. **Dispose**: the disposal hook turns flags into measures (suspend, restrict ...) through the
   disposal policy; a measure is in force from its time on.
4. **Re-screen** the batch's later events (strictly after the measure's time) of a card that
   a measure took in this very batch,
   one by one, so every event's verdict is the one due at its event time: a SIM bank found at
   its first call does not deliver its second, whatever the batch size.
5. **Warn**: flags and delivered events go to the early-warning hook.

The hooks are small protocols so the loop runs with or without disposal and early warning
(``None``: flags are still emitted). Nothing here reads a clock: time is the events' own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from telewarden.core.detectors.streaming import BATCH_COLUMNS, Alert, StreamDetector
from telewarden.core.ports import Flag
from telewarden.core.records import LIVE_EVENT_SCHEMA
from telewarden.core.screening import Channel, Ingress, Screener, ScreeningEvent, decide_frame

__all__ = [
    "LOOP_EVENT_SCHEMA",
    "Disposer",
    "FlagSource",
    "LiveLoop",
    "LoopCounters",
    "StepEffects",
    "Warner",
    "flag_from_alert",
    "flag_key",
]

LOOP_EVENT_SCHEMA = LIVE_EVENT_SCHEMA
"""The columns of a micro-batch (:data:`telewarden.core.records.LIVE_EVENT_SCHEMA`)."""


def flag_key(flag: Flag) -> str:
    """The flag's idempotency key: one flag per subject and source."""
    return f"{flag.source}:{flag.subject}"


def flag_from_alert(alert: Alert) -> Flag:
    """A detector alert as a flag on the card (or off-net number) it names."""
    return Flag(
        subject=alert.msisdn,
        kind="msisdn",
        source=alert.detector,
        at=alert.flagged_at,
        reason=alert.reason,
        evidence={"attempts": alert.attempts},
    )


class Disposer(Protocol):
    """Turns flags into measures and answers which measures are in force (disposal)."""

    def as_of(self, at: Any) -> None:
        """The screener's view of the measures moves to the instant ``at``."""
        ...

    def on_flags(self, flags: Sequence[Flag]) -> list[Any]:
        """Open or join cases for ``flags``; return the measures put in force."""
        ...

    def blocked_from(self, msisdn: str, at: Any) -> Any | None:
        """From when ``msisdn``'s outgoing traffic is blocked, judged at flag time ``at``."""
        ...


class FlagSource(Protocol):
    """Raises flags from a whole micro-batch (the number scorer on its cadence)."""

    def on_batch(self, batch: pl.DataFrame) -> list[Flag]:
        """Take the batch's events in event-time order; the flags that stand."""
        ...


class Warner(Protocol):
    """Finds and warns the subscribers a flagged number reached (early warning)."""

    def on_batch(self, flags: Sequence[Flag], delivered: pl.DataFrame) -> list[Any]:
        """Take the batch's flags and delivered events in event-time order; the warnings due."""
        ...


@dataclass
class StepEffects:
    """What one micro-batch produced; each list is keyed for idempotent sinks."""

    decisions: pl.DataFrame
    """``position, channel, caller, callee, at, verdict, reason, rule``, in event order."""
    flags: list[Flag] = field(default_factory=list)
    measures: list[Any] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)
    rescreened: int = 0


@dataclass
class LoopCounters:
    """Running totals of a loop, for reports and metrics."""

    events: int = 0
    batches: int = 0
    blocked: int = 0
    flags: int = 0
    measures: int = 0
    warnings: int = 0
    rescreened: int = 0
    screen_s: float = 0.0
    detect_s: float = 0.0
    score_s: float = 0.0
    dispose_s: float = 0.0
    warn_s: float = 0.0
    by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}


_DECISION_COLUMNS = ["position", "channel", "caller", "callee", "at", "verdict", "reason", "rule"]


class LiveLoop:
    """Screen, detect, dispose and warn micro-batches of events in event time.

    Parameters
    ----------
    screener : Screener or callable returning one
        The screening snapshot; a callable is asked once per batch, so a policy or list change
        swaps the snapshot between batches (the screener consults the disposer's measures).
    detector : StreamDetector
        The streaming detectors' state for this partition, fed one micro-batch at a time
        (``observe_batch``; a :class:`~telewarden.core.detectors.BatchDetector` in the
        shipped loops, the per-call reference gives the same alerts).
    disposer, warner : optional
        The disposal and early-warning hooks; without them flags are only emitted.
    scorer : optional
        The number scorer's hook (:class:`~telewarden.services.loop_scoring.LoopScorer`): its
        flags join the detectors' on their way to disposal and early warning.
    """

    def __init__(
        self,
        screener: Screener | Callable[[], Screener],
        detector: StreamDetector,
        *,
        disposer: Disposer | None = None,
        warner: Warner | None = None,
        scorer: FlagSource | None = None,
    ) -> None:
        self._screener = screener
        self.detector = detector
        self.disposer = disposer
        self.warner = warner
        self.scorer = scorer
        self.counters = LoopCounters()
        # Detection runs on this thread while the step screens the same batch: the two read
        # only the batch (the detectors' state is theirs alone), and both spend most of their
        # time in Polars, which releases the GIL, so a second core takes one of them
        # (`bench/stream.py --helpers`: median wall x1.04 on an idle machine, the same effects).
        self._beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loop-detect")

    def screener(self) -> Screener:
        """The screening snapshot in force for the next batch."""
        return self._screener() if callable(self._screener) else self._screener

    def step(self, batch: pl.DataFrame, *, mirrors: pl.DataFrame | None = None) -> StepEffects:
        """Process one micro-batch (``LOOP_EVENT_SCHEMA`` columns, any order of rows).

        ``mirrors`` are copies of other partitions' events whose callee this partition owns:
        only the scorer's features read them (the callee's incoming calls and SMS); they are
        neither screened nor detected, and give no effect.
        """
        counters = self.counters
        batch = batch.sort("at", maintain_order=True)
        screener = self.screener()
        if self.disposer is not None and batch.height:
            self.disposer.as_of(batch["at"][0])
        detecting = self._beside.submit(self._timed_detect, batch)
        started = time.perf_counter()
        decided = decide_frame(screener, batch.select(_SCREEN_INPUT))
        counters.screen_s += time.perf_counter() - started

        alerts, detect_s = detecting.result()
        flags = [flag_from_alert(a) for a in alerts]
        counters.detect_s += detect_s
        if self.scorer is not None:
            started = time.perf_counter()
            seen = batch
            if mirrors is not None and mirrors.height:
                seen = pl.concat([batch, mirrors.select(batch.columns)]).sort(
                    "at", maintain_order=True
                )
            flags += self.scorer.on_batch(seen)
            counters.score_s += time.perf_counter() - started

        measures: list[Any] = []
        rescreened = 0
        if flags and self.disposer is not None:
            started = time.perf_counter()
            measures = self.disposer.on_flags(flags)
            decided, rescreened = self._rescreen(screener, batch, decided, flags)
            counters.dispose_s += time.perf_counter() - started

        warnings: list[Any] = []
        if self.warner is not None:
            started = time.perf_counter()
            delivered = batch.filter(decided["verdict"] != "block")
            if flags or delivered.height:
                warnings += self.warner.on_batch(flags, delivered)
            counters.warn_s += time.perf_counter() - started

        decisions = decided.select(_DECISION_COLUMNS)
        counters.events += batch.height
        counters.batches += 1
        counters.blocked += int((decisions["verdict"] == "block").sum())
        counters.flags += len(flags)
        counters.measures += len(measures)
        counters.warnings += len(warnings)
        counters.rescreened += rescreened
        for reason, n in decisions["reason"].value_counts().iter_rows():
            counters.by_reason[reason] = counters.by_reason.get(reason, 0) + n
        return StepEffects(decisions, flags, measures, warnings, rescreened)

    def _timed_detect(self, batch: pl.DataFrame) -> tuple[list[Alert], float]:
        started = time.perf_counter()
        return self._detect(batch), time.perf_counter() - started

    def _detect(self, batch: pl.DataFrame) -> list[Alert]:
        calls = batch.filter(pl.col("channel") == "call")
        if not calls.height:
            return []
        epoch = (pl.col("at").dt.epoch("us") / 1_000_000).alias("t")
        return self.detector.observe_batch(calls.with_columns(epoch).select(BATCH_COLUMNS))

    def _rescreen(
        self, screener: Screener, batch: pl.DataFrame, decided: pl.DataFrame, flags: list[Flag]
    ) -> tuple[pl.DataFrame, int]:
        """Re-decide the batch's events of newly measured cards that follow the measure."""
        assert self.disposer is not None
        since: dict[str, Any] = {}
        for flag in flags:
            start = self.disposer.blocked_from(flag.subject, flag.at)
            if start is not None and flag.subject not in since:
                since[flag.subject] = start
        if not since:
            return decided, 0
        # A measured number's later events either way: its own calls, and calls back to it.
        numbers = list(since)
        later = (
            batch.with_row_index("_row")
            .filter(pl.col("caller").is_in(numbers) | pl.col("callee").is_in(numbers))
            .select("_row", "caller", "callee", "channel", "ingress", "at", "text")
        )
        rows: list[int] = []
        verdicts: list[str] = []
        reasons: list[str] = []
        rules: list[str] = []
        for row, caller, callee, channel, ingress, at, text in later.iter_rows():
            # The event that completed the evidence was screened before detection saw it.
            start = since.get(caller) or since[callee]
            if at <= start:
                continue
            self.disposer.as_of(at)
            decision = screener.decide(
                ScreeningEvent(
                    caller, callee, Channel.from_str(channel), Ingress.from_str(ingress), at,
                    text=text,
                )
            )  # fmt: skip
            rows.append(row)
            verdicts.append(str(decision.verdict))
            reasons.append(str(decision.reason))
            rules.append(decision.rule)
        if not rows:
            return decided, 0
        patch = pl.DataFrame(
            {"_row": rows, "_verdict": verdicts, "_reason": reasons, "_rule": rules},
            schema_overrides={"_row": pl.UInt32},
        )
        patched = (
            decided.with_row_index("_row")
            .join(patch, on="_row", how="left", maintain_order="left")
            .with_columns(
                pl.coalesce("_verdict", "verdict").alias("verdict"),
                pl.coalesce("_reason", "reason").alias("reason"),
                pl.coalesce("_rule", "rule").alias("rule"),
            )
            .drop("_row", "_verdict", "_reason", "_rule")
        )
        return patched, len(rows)


_SCREEN_INPUT = ["position", "channel", "caller", "callee", "ingress", "at", "text"]


def events_from_records(calls: pl.DataFrame, sms: pl.DataFrame) -> pl.DataFrame:
    """The simulator's (canonical) calls and SMS tables as one loop event table, in time order.

    Positions are ``calls:<id>`` and ``sms:<id>``; SMS carry no ring or handset fields.
    """
    call_events = calls.select(
        (pl.lit("calls:") + pl.col("id").cast(pl.String)).alias("position"),
        pl.lit("call").alias("channel"),
        pl.col("start_at").alias("at"),
        "caller",
        "callee",
        "ingress",
        "ring_s",
        "answered",
        "duration_s",
        "cell_id",
        "imei",
        "imsi",
        pl.lit(None, pl.String).alias("text"),
        "callee_cell_id",
    )
    sms_events = sms.select(
        (pl.lit("sms:") + pl.col("id").cast(pl.String)).alias("position"),
        pl.lit("sms").alias("channel"),
        pl.col("sent_at").alias("at"),
        pl.col("sender").alias("caller"),
        pl.col("recipient").alias("callee"),
        "ingress",
        pl.lit(None, pl.Int32).alias("ring_s"),
        pl.lit(None, pl.Boolean).alias("answered"),
        pl.lit(None, pl.Int32).alias("duration_s"),
        "cell_id",
        pl.lit(None, pl.String).alias("imei"),
        pl.lit(None, pl.String).alias("imsi"),
        "text",
        pl.lit(None, pl.String).alias("callee_cell_id"),
    )
    events = pl.concat([call_events, sms_events], how="vertical_relaxed").with_columns(
        # Screening only needs to know whether an event came through an international gateway;
        # the simulator also tells on-net from other domestic traffic.
        pl.when(pl.col("ingress") == "international")
        .then(pl.lit("international"))
        .otherwise(pl.lit("domestic"))
        .alias("ingress")
    )
    return events.cast(LOOP_EVENT_SCHEMA).sort("at", "position")  # type: ignore[arg-type]


def micro_batches(events: pl.DataFrame, size: int) -> Iterable[pl.DataFrame]:
    """Consecutive slices of ``size`` events (the last may be shorter)."""
    for offset in range(0, events.height, size):
        yield events.slice(offset, size)
