"""Early warning, the use case: flags and records in, warnings delivered, stored and audited.

Two paths, one logic (``telewarden.core.warning.WarningEngine``):

* :class:`EarlyWarning` is the incremental path the live loop calls with each flag
  (``on_flag``) and each call or SMS record (``on_record``); it delivers every warning to the
  sinks and stores it (audited) at once.
* :func:`run_warnings` is the batch path: it reads a records folder, raises the label-free flags
  (the streaming call detectors and SMS intelligence) or takes a flag file, and replays flags and
  records through an :class:`EarlyWarning` in event time (a call is known at its end, an SMS when
  sent, a flag when raised).

:func:`evaluate_warnings_on_simulator` runs the batch path on simulated carrier days and scores
it against their ground truth (``telewarden eval warnings``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from telewarden.core.errors import InvalidInputError
from telewarden.core.ports import Flag
from telewarden.core.records import CallRecord, SmsRecord
from telewarden.core.warning import (
    QueueEntry,
    RiskModel,
    WarningEngine,
    WarningNotice,
    WarningPolicy,
    WarningSink,
    WarningStore,
)
from telewarden.core.warning.evaluation import (
    WarningEvaluation,
    evaluate_warnings,
    pool_evaluations,
    warnings_frame,
)
from telewarden.core.warning.exposure import Contact
from telewarden.core.warning.sms_flags import SmsFlagger

__all__ = [
    "EarlyWarning",
    "RecordSet",
    "SeedEvaluation",
    "WarningEvalReport",
    "WarningRunReport",
    "detector_flags",
    "evaluate_warnings_on_simulator",
    "load_records",
    "replay",
    "run_warnings",
    "sms_intel_flags",
]


class EarlyWarning:
    """The incremental path: per flag and per record, the warnings they complete.

    Parameters
    ----------
    engine : WarningEngine
        The pure logic (exposure index, risk, policy gate, templates).
    sinks : sequence of WarningSink
        Where each warning goes (SMS outbox or gateway, call list, push webhook).
    store : WarningStore, optional
        Stores each warning with its audit record.
    actor : str
        Who the audit log names.
    store_each : bool
        Store every warning as it is decided (live loop); False stores them in ``flush``
        (batch runs, one transaction).
    keep : bool
        Keep every warning in ``warnings`` (batch runs, the demo); a partition worker, which
        hands each warning on as an effect, passes False so its memory and checkpoints do not
        grow with the day.
    """

    def __init__(
        self,
        engine: WarningEngine,
        *,
        sinks: Sequence[WarningSink] = (),
        store: WarningStore | None = None,
        actor: str = "early-warning",
        store_each: bool = True,
        keep: bool = True,
    ) -> None:
        self.engine = engine
        self.keep = keep
        self.sinks = list(sinks)
        self.store = store
        self.actor = actor
        self.store_each = store_each
        self.warnings: list[WarningNotice] = []
        self.deliveries: dict[str, int] = {s.name: 0 for s in self.sinks}
        self.refused: dict[str, int] = {s.name: 0 for s in self.sinks}
        self._pending: list[WarningNotice] = []

    def on_flag(self, flag: Flag) -> list[WarningNotice]:
        """A subject was flagged: warn the subscribers it reached in the look-back window."""
        return self._emit(self.engine.on_flag(flag))

    def on_record(self, record: CallRecord | SmsRecord) -> list[WarningNotice]:
        """A call or SMS record arrived: warn its subscriber if it touches a flagged subject."""
        if isinstance(record, CallRecord):
            found = self.engine.on_call(
                record.id,
                record.caller,
                record.callee,
                record.start_at,
                record.ring_s,
                record.duration_s,
                record.answered,
                record.ingress,
            )
        else:
            found = self.engine.on_sms(
                record.id, record.sender, record.recipient, record.sent_at, record.text
            )
        return self._emit(found)

    def on_call(self, *args: Any) -> list[WarningNotice]:
        """A call record as plain values (``WarningEngine.on_call``'s), for the live loop."""
        return self._emit(self.engine.on_call(*args))

    def on_sms(self, *args: Any) -> list[WarningNotice]:
        """An SMS record as plain values (``WarningEngine.on_sms``'s), for the live loop."""
        return self._emit(self.engine.on_sms(*args))

    def on_contacts(self, contacts: list[Contact]) -> list[WarningNotice]:
        """Contacts of one record (``WarningEngine.on_contacts``'s), for the live loop."""
        return self._emit(self.engine.on_contacts(contacts))

    def _emit(self, found: list[WarningNotice]) -> list[WarningNotice]:
        for warning in found:
            for sink in self.sinks:
                if sink.deliver(warning):
                    self.deliveries[sink.name] += 1
                elif sink.name == "push" and "push" in warning.channels:
                    self.refused[sink.name] += 1
        if self.keep:
            self.warnings.extend(found)
        if self.store is not None and found:
            if self.store_each:
                self.store.save_warnings(found, actor=self.actor)
            else:
                self._pending.extend(found)
        return found

    def flush(self) -> int:
        """Store pending warnings (batch mode) and close the sinks; return how many stored."""
        stored = 0
        if self.store is not None and self._pending:
            stored = self.store.save_warnings(self._pending, actor=self.actor)
            self._pending = []
        for sink in self.sinks:
            sink.close()
        return stored


# ---------------------------------------------------------------------------------------------
# records and flags


@dataclass(slots=True)
class RecordSet:
    """The tables early warning reads, with the rows their readers set aside."""

    calls: pl.DataFrame
    sms: pl.DataFrame
    subscribers: pl.DataFrame | None
    quarantined: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)


def load_records(directory: Path) -> RecordSet:
    """Read ``calls``, ``sms`` and (optionally) ``subscribers`` of a records folder, validated."""
    from telewarden.adapters.records_io import read_table
    from telewarden.core.records import TABLES

    if not directory.is_dir():
        raise InvalidInputError(f"no such records folder: {directory}")
    frames: dict[str, pl.DataFrame | None] = {}
    quarantined: dict[str, int] = {}
    read: dict[str, int] = {}
    for name in ("calls", "sms", "subscribers"):
        path = next(
            (p for p in (directory / f"{name}.parquet", directory / f"{name}.csv") if p.is_file()),
            None,
        )
        if path is None:
            frames[name] = None
            continue
        result = read_table(path, name)
        frames[name] = result.frame
        quarantined[name] = result.quarantine.height
        read[name] = result.read
    if frames["calls"] is None and frames["sms"] is None:
        raise InvalidInputError(f"{directory} holds neither calls nor sms records")

    def empty(name: str) -> pl.DataFrame:
        return pl.DataFrame(schema=TABLES[name].schema)

    return RecordSet(
        calls=frames["calls"] if frames["calls"] is not None else empty("calls"),
        sms=frames["sms"] if frames["sms"] is not None else empty("sms"),
        subscribers=frames["subscribers"],
        quarantined=quarantined,
        read=read,
    )


def detector_flags(
    calls: pl.DataFrame,
    subscribers: pl.DataFrame | None,
    progress: Callable[[int], object] | None = None,
) -> list[Flag]:
    """Flags from the label-free streaming call detectors, at the time each alert completed."""
    from telewarden.core.detectors.streaming import DetectorConfig, detect_stream

    if calls.height == 0:
        return []
    flags = []
    for alert in detect_stream(calls, subscribers, DetectorConfig(), on_progress=progress):
        flags.append(
            Flag(
                subject=alert.msisdn,
                kind="msisdn",
                source=alert.detector,
                at=alert.flagged_at,
                reason=alert.reason,
                evidence={"attempts": alert.attempts},
            )
        )
    return flags


def sms_intel_flags(sms: pl.DataFrame, *, min_scam: int = 3) -> list[Flag]:
    """Flags from SMS intelligence: senders, domains and wallets of repeated scam SMS.

    Each distinct text is classified once with the shipped SMS model, then the messages are
    replayed in time order through :class:`SmsFlagger`.
    """
    if sms.height == 0:
        return []
    from telewarden.adapters.sms_model import load_default_model
    from telewarden.core.sms.inspector import ContentVerdict, SmsClassifier

    texts = sms["text"].drop_nulls().unique().to_list()
    classifier = SmsClassifier(load_default_model())
    verdicts = classifier.classify_many(texts)
    scam = {t for t, v in zip(texts, verdicts, strict=True) if v.verdict is ContentVerdict.SCAM}
    flagger = SmsFlagger(min_scam=min_scam)
    flags: list[Flag] = []
    ordered = sms.sort("sent_at", "id").select("sender", "sent_at", "text")
    for sender, sent_at, text in ordered.iter_rows():
        flags.extend(flagger.observe(sender, sent_at, text, text in scam))
    return flags


def replay(
    early: EarlyWarning,
    calls: pl.DataFrame,
    sms: pl.DataFrame,
    flags: Iterable[Flag],
    progress: Callable[[int], object] | None = None,
) -> None:
    """Feed flags and records to ``early`` in event time (flags first at equal times)."""
    flag_list = sorted(flags, key=lambda f: f.at)
    calls = calls.with_columns(
        (
            pl.col("start_at")
            + pl.duration(
                seconds=pl.col("ring_s").fill_null(0)
                + pl.when(pl.col("answered")).then(pl.col("duration_s").fill_null(0)).otherwise(0)
            )
        ).alias("_known_at")
    )
    order = pl.concat(
        [
            pl.DataFrame(
                {
                    "t": [f.at for f in flag_list],
                    "k": [0] * len(flag_list),
                    "i": list(range(len(flag_list))),
                },
                schema={"t": pl.Datetime("us", "UTC"), "k": pl.Int8, "i": pl.Int64},
            ),
            calls.select(
                pl.col("_known_at").alias("t"),
                pl.lit(1, pl.Int8).alias("k"),
                pl.int_range(pl.len(), dtype=pl.Int64).alias("i"),
            ),
            sms.select(
                pl.col("sent_at").alias("t"),
                pl.lit(2, pl.Int8).alias("k"),
                pl.int_range(pl.len(), dtype=pl.Int64).alias("i"),
            ),
        ]
    ).sort("t", "k", "i")
    call_rows = calls.select(
        "id", "caller", "callee", "start_at", "ring_s", "duration_s", "answered", "ingress"
    ).rows()
    sms_rows = sms.select("id", "sender", "recipient", "sent_at", "text").rows()
    engine = early.engine
    emit = early._emit
    for n, (_t, kind, i) in enumerate(order.iter_rows(), start=1):
        if kind == 0:
            early.on_flag(flag_list[i])
        elif kind == 1:
            found = engine.on_call(*call_rows[i])
            if found:
                emit(found)
        else:
            found = engine.on_sms(*sms_rows[i])
            if found:
                emit(found)
        if progress is not None and n % 50_000 == 0:
            progress(50_000)


@dataclass(slots=True)
class WarningRunReport:
    """What one batch run read, flagged, assessed and sent."""

    records: dict[str, int]
    quarantined: dict[str, int]
    flags_by_source: dict[str, int]
    assessed: int
    decisions: dict[str, int]
    warnings: list[WarningNotice]
    queue: list[QueueEntry]
    deliveries: dict[str, int]
    refused: dict[str, int]
    stored: int
    outputs: dict[str, Path]
    duration_s: float

    @property
    def by_band(self) -> dict[str, int]:
        """Warnings per risk band."""
        out: dict[str, int] = {}
        for w in self.warnings:
            out[w.band] = out.get(w.band, 0) + 1
        return out

    @property
    def by_fraud_type(self) -> dict[str, int]:
        """Warnings per fraud type."""
        out: dict[str, int] = {}
        for w in self.warnings:
            out[w.fraud_type] = out.get(w.fraud_type, 0) + 1
        return out


def build_engine(
    subscribers: pl.DataFrame | None,
    *,
    policy: WarningPolicy | None = None,
    risk: RiskModel | None = None,
    keep_queue: bool = True,
) -> WarningEngine:
    """An engine whose warnable numbers are the subscribers table's (any +861 mobile without)."""
    is_subscriber = numbers = None
    if subscribers is not None and subscribers.height:
        numbers = subscribers["msisdn"].drop_nulls().unique()
        is_subscriber = set(numbers.to_list()).__contains__
    return WarningEngine(
        risk=risk,
        policy=policy,
        is_subscriber=is_subscriber,
        subscribers=numbers,
        keep_queue=keep_queue,
    )


def run_warnings(
    records: Path,
    *,
    out: Path,
    store: WarningStore | None = None,
    extra_sinks: Sequence[WarningSink] = (),
    flags: list[Flag] | None = None,
    detect: bool = True,
    policy: WarningPolicy | None = None,
    risk: RiskModel | None = None,
    actor: str = "early-warning",
    progress: Callable[[int], object] | None = None,
) -> WarningRunReport:
    """The batch path over a records folder; writes the queue, warnings, SMS outbox, call list.

    Parameters
    ----------
    records : Path
        Canonical records (``calls``, ``sms``, optionally ``subscribers``), Parquet or CSV.
    out : Path
        Folder for ``queue.csv``, ``warnings.csv``, ``sms_outbox.csv`` and ``call_list.csv``.
    store : WarningStore, optional
        Where warnings are stored and audited.
    extra_sinks : sequence of WarningSink
        More sinks (the push webhook).
    flags : list of Flag, optional
        Flags given by the caller (lists, cases, another detector).
    detect : bool
        Also raise the label-free flags (call detectors and SMS intelligence).
    """
    from telewarden.adapters.warning_sinks import (
        CallListSink,
        SmsOutboxSink,
        write_queue,
        write_warnings,
    )

    started = time.perf_counter()
    data = load_records(records)
    all_flags = list(flags or [])
    if detect:
        all_flags += detector_flags(data.calls, data.subscribers)
        all_flags += sms_intel_flags(data.sms)
    outputs = {
        "sms_outbox": out / "sms_outbox.csv",
        "call_list": out / "call_list.csv",
        "queue": out / "queue.csv",
        "warnings": out / "warnings.csv",
    }
    sinks: list[WarningSink] = [
        SmsOutboxSink(outputs["sms_outbox"]),
        CallListSink(outputs["call_list"]),
        *extra_sinks,
    ]
    engine = build_engine(data.subscribers, policy=policy, risk=risk)
    early = EarlyWarning(engine, sinks=sinks, store=store, actor=actor, store_each=False)
    replay(early, data.calls, data.sms, all_flags, progress)
    stored = early.flush()
    queue = engine.prioritised()
    write_queue(outputs["queue"], queue)
    write_warnings(outputs["warnings"], early.warnings)
    by_source: dict[str, int] = {}
    for f in all_flags:
        by_source[f.source] = by_source.get(f.source, 0) + 1
    return WarningRunReport(
        records={"calls": data.calls.height, "sms": data.sms.height},
        quarantined=data.quarantined,
        flags_by_source=by_source,
        assessed=engine.counts.assessed,
        decisions=dict(engine.counts.decisions),
        warnings=early.warnings,
        queue=queue,
        deliveries=early.deliveries,
        refused=early.refused,
        stored=stored,
        outputs=outputs,
        duration_s=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------------------
# evaluation on the simulator


@dataclass(frozen=True, slots=True)
class SeedEvaluation:
    """The evaluation of one simulated day."""

    preset: str
    seed: int
    evaluation: WarningEvaluation
    flags: int
    duration_s: float


@dataclass(frozen=True, slots=True)
class WarningEvalReport:
    """Every seed's evaluation and the pooled one."""

    seeds: tuple[SeedEvaluation, ...]
    pooled: WarningEvaluation
    tuning_seeds: tuple[int, ...]


TUNING_SEEDS = (1, 7)
"""Seeds the risk base rates and policy defaults were set on (``tiny`` 1, ``day`` 7); not reported."""


def _simulate(preset_name: str, seed: int, hours: int | None) -> dict[str, pl.DataFrame]:
    from dataclasses import replace

    from telewarden.core.sim import Simulation, preset

    config = preset(preset_name, seed)
    if hours is not None:
        config = replace(config, hours=hours)
    simulation = Simulation(config)
    parts: dict[str, list[pl.DataFrame]] = {
        "calls": [],
        "sms": [],
        "truth_events": [],
        "truth_victims": [],
    }
    for chunk in simulation.chunks():
        parts["calls"].append(chunk.calls)
        parts["sms"].append(chunk.sms)
        parts["truth_events"].append(chunk.truth_events)
        parts["truth_victims"].append(chunk.truth_victims)
    tables = {name: pl.concat(frames) for name, frames in parts.items()}
    tables["subscribers"] = simulation.subscribers()
    tables["truth_cards"] = simulation.truth_cards()
    return tables


def evaluate_tables(
    tables: dict[str, pl.DataFrame],
    *,
    policy: WarningPolicy | None = None,
    risk: RiskModel | None = None,
) -> tuple[WarningEvaluation, int]:
    """Run the batch logic on simulator tables in memory and score it; also the flag count."""
    flags = detector_flags(tables["calls"], tables["subscribers"]) + sms_intel_flags(tables["sms"])
    engine = build_engine(tables["subscribers"], policy=policy, risk=risk)
    early = EarlyWarning(engine)
    replay(early, tables["calls"], tables["sms"], flags)
    queue = pl.DataFrame(
        {
            "msisdn": [e.msisdn for e in engine.queue],
            "subject": [e.subject for e in engine.queue],
            "signal": [e.signal for e in engine.queue],
        },
        schema={"msisdn": pl.String, "subject": pl.String, "signal": pl.String},
    )
    evaluation = evaluate_warnings(
        warnings_frame([w.as_dict() | {"send_at": w.send_at} for w in early.warnings]),
        calls=tables["calls"],
        sms=tables["sms"],
        truth_victims=tables["truth_victims"],
        truth_cards=tables["truth_cards"],
        truth_events=tables["truth_events"],
        queue=queue,
    )
    return evaluation, len(flags)


def evaluate_warnings_on_simulator(
    seeds: Sequence[int],
    *,
    preset_name: str = "day",
    hours: int | None = None,
    records: Path | None = None,
    policy: WarningPolicy | None = None,
    risk: RiskModel | None = None,
    on_seed: Callable[[SeedEvaluation], object] | None = None,
) -> WarningEvalReport:
    """Simulate each seed, raise flags, warn, and score against the truth; pool the seeds.

    With ``records`` (a folder written by ``telewarden sim``), that one folder is scored
    instead and ``seeds`` is only a label.
    """
    results: list[SeedEvaluation] = []
    for seed in seeds:
        started = time.perf_counter()
        if records is not None:
            tables = {
                name: pl.read_parquet(records / f"{name}.parquet")
                for name in (
                    "calls",
                    "sms",
                    "subscribers",
                    "truth_events",
                    "truth_victims",
                    "truth_cards",
                )
            }
        else:
            tables = _simulate(preset_name, seed, hours)
        evaluation, n_flags = evaluate_tables(tables, policy=policy, risk=risk)
        result = SeedEvaluation(
            preset_name, seed, evaluation, n_flags, time.perf_counter() - started
        )
        results.append(result)
        if on_seed is not None:
            on_seed(result)
        if records is not None:
            break
    return WarningEvalReport(
        tuple(results), pool_evaluations([r.evaluation for r in results]), TUNING_SEEDS
    )
