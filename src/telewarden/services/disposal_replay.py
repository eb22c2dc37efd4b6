"""Disposal end to end on carrier records (the simulator's output): detect, dispose, enforce.

Replays the calls through the label-free detectors, takes every alert as a flag in time order
(each measure stamped with its flag's time), and then asks the ``MeasureBook`` what the screener
will do with every later outgoing call and SMS of a card under a measure: the figure the issue
asks for ("the same cards' later calls blocked"), with emergency calls excepted. Against the
simulator's ground truth it also counts how many disposed cards were fraud cards.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from telewarden.core.detectors.streaming import DetectorConfig, detect_stream
from telewarden.core.disposal.book import MeasureBook
from telewarden.core.disposal.cascade import LinkedAccount, disposes
from telewarden.core.disposal.credit import id_key
from telewarden.core.disposal.model import Severity
from telewarden.core.numbers import SERVICE_NUMBERS, NumberKind
from telewarden.core.ports import FixedClock, Flag
from telewarden.services.disposal import DisposalService, IntakeReport

__all__ = ["ReplayReport", "dispose_records"]

EMERGENCY_NUMBERS = frozenset(
    digits
    for digits, (kind, _, _) in SERVICE_NUMBERS.items()
    if kind in (NumberKind.EMERGENCY, NumberKind.POLICE)
)
"""Never blocked by a measure: police, fire, ambulance (AFL and the screener's first rule)."""


@dataclass(slots=True)
class ReplayReport:
    """What the disposal chain did on one set of records."""

    calls: int = 0
    alerts: int = 0
    intake: IntakeReport = field(default_factory=IntakeReport)
    cards_disposed: int = 0
    fraud_cards_disposed: int = 0
    later_calls: int = 0
    later_calls_blocked: int = 0
    later_emergency_calls: int = 0
    later_sms: int = 0
    later_sms_blocked: int = 0
    escalated: int = 0
    """Re-verifications whose deadline passed within the records, suspended by the timer."""
    flag_to_measure_ms: list[float] = field(default_factory=list)
    detect_s: float = 0.0
    dispose_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        latencies = sorted(self.flag_to_measure_ms)
        median = latencies[len(latencies) // 2] if latencies else None
        return {
            "calls": self.calls,
            "alerts": self.alerts,
            "flags_taken": self.intake.taken,
            "not_our_cards": self.intake.not_our_cards,
            "cases_opened": self.intake.cases_opened,
            "measures_in_force": self.intake.measures_in_force,
            "by_kind": self.intake.by_kind,
            "notices": self.intake.notices,
            "cascade_messages": self.intake.cascade_messages,
            "escalated_by_timer": self.escalated,
            "cards_disposed": self.cards_disposed,
            "fraud_cards_disposed": self.fraud_cards_disposed,
            "later_calls": self.later_calls,
            "later_calls_blocked": self.later_calls_blocked,
            "later_emergency_calls": self.later_emergency_calls,
            "later_sms": self.later_sms,
            "later_sms_blocked": self.later_sms_blocked,
            "flag_to_measure_median_ms": median,
            "detect_s": round(self.detect_s, 3),
            "dispose_s": round(self.dispose_s, 3),
        }


def _accounts(frame: pl.DataFrame) -> Iterator[LinkedAccount]:
    for platform, account, msisdn in frame.select("platform", "account", "msisdn").iter_rows():
        yield LinkedAccount(platform, account, msisdn)


def dispose_records(
    records: Path,
    service: DisposalService,
    clock: FixedClock,
    *,
    hash_key: bytes,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Run detection and disposal on ``records`` and count what the measures then block.

    ``clock`` is the service's clock; it is moved to each flag's time so measures, deadlines and
    notices carry the records' own times.
    """
    report = ReplayReport()
    calls = pl.read_parquet(records / "calls.parquet")
    subscribers = pl.read_parquet(records / "subscribers.parquet")
    report.calls = calls.height
    store = service.store
    store.import_cards(
        (
            _card(msisdn, doc, at, hash_key)
            for msisdn, doc, at in subscribers.select(
                "msisdn", "id_doc_hash", "activated_at"
            ).iter_rows()
        ),
        actor="replay",
        source_name=str(records / "subscribers.parquet"),
    )
    accounts_path = records / "accounts.parquet"
    if accounts_path.is_file():
        store.import_accounts(
            _accounts(pl.read_parquet(accounts_path)), actor="replay", source_name="accounts"
        )
    started = time.perf_counter()
    alerts = list(detect_stream(calls, subscribers, DetectorConfig(), on_progress=progress))
    report.detect_s = time.perf_counter() - started
    report.alerts = len(alerts)
    started = time.perf_counter()
    for alert in sorted(alerts, key=lambda a: a.flagged_at):
        clock.at = alert.flagged_at
        flag = Flag(
            alert.msisdn,
            "msisdn",
            alert.detector,
            alert.flagged_at,
            alert.reason,
            evidence={"attempts": alert.attempts},
        )
        t0 = time.perf_counter()
        service.take_flag(flag, key=f"{alert.detector}:{alert.msisdn}", report=report.intake)
        report.flag_to_measure_ms.append((time.perf_counter() - t0) * 1000)
    # Timers at the end of the records: missed re-verification deadlines escalate to suspension.
    end: Any = calls["start_at"].max()
    if isinstance(end, dt.datetime) and alerts:
        clock.at = max(end, clock.at)
        tick = service.tick()
        report.escalated = tick.escalated
    report.dispose_s = time.perf_counter() - started
    book = service.book if service.book is not None else service.measure_book()
    _count_enforcement(report, book, calls, records)
    disposed = {
        m.msisdn
        for m in service.store.measures_in_force()
        if disposes(str(m.kind), blocks_while_pending=m.blocks_while_pending)
    }
    report.cards_disposed = len(disposed)
    truth = records / "truth_cards.parquet"
    if truth.is_file():
        fraud = set(pl.read_parquet(truth, columns=["msisdn"])["msisdn"].to_list())
        report.fraud_cards_disposed = len(disposed & fraud)
    return report


def _card(msisdn: str, doc: str, at: Any, key: bytes) -> Any:
    from telewarden.core.disposal.ports import Card

    return Card(msisdn, id_key(key, doc), at)


def _count_enforcement(
    report: ReplayReport, book: MeasureBook, calls: pl.DataFrame, records: Path
) -> None:
    for caller, callee, at in calls.select("caller", "callee", "start_at").iter_rows():
        restriction = book.restriction_for(caller, at)
        if restriction is None or restriction.severity < Severity.LIMITED:
            continue
        report.later_calls += 1
        if callee in EMERGENCY_NUMBERS:
            report.later_emergency_calls += 1
        elif restriction.blocks_outgoing_calls:
            report.later_calls_blocked += 1
    sms_path = records / "sms.parquet"
    if sms_path.is_file():
        sms = pl.read_parquet(sms_path, columns=["sender", "sent_at"])
        for sender, at in sms.iter_rows():
            restriction = book.restriction_for(sender, at)
            if restriction is None or restriction.severity < Severity.LIMITED:
                continue
            report.later_sms += 1
            if restriction.blocks_outgoing_sms:
                report.later_sms_blocked += 1
