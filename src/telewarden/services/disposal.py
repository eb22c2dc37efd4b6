"""Use cases of disposal: take a flag, apply measures by policy, decide, appeal, verify, tick.

Every use case loads one case, changes it through the core's state machine, and commits the
case, the notices it owes the subscriber (Chinese and English), the cascade messages to
platforms holding linked accounts, and one audit record per event, all in one transaction
(``CaseStore.commit``). A concurrent change to the same case makes the commit fail with
``ConflictError``; the use case then reloads and re-applies once more before giving up.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from telewarden.core.disposal.book import MeasureBook
from telewarden.core.disposal.cascade import (
    CascadeMessage,
    MessageKind,
    disposes,
    idempotency_key,
)
from telewarden.core.disposal.model import (
    Approval,
    Case,
    DisposalEvent,
    FlagRecord,
    LiftReason,
    Measure,
    MeasureKind,
)
from telewarden.core.disposal.notices import LANGUAGES, render_lift_notice, render_measure_notice
from telewarden.core.disposal.policy import DisposalPolicy
from telewarden.core.disposal.ports import (
    Card,
    CardRegistry,
    CascadeStore,
    CaseStore,
    StoredNotice,
)
from telewarden.core.errors import ConflictError, InvalidInputError, NotFoundError
from telewarden.core.ports import AuditRecord, Clock, Flag

__all__ = [
    "DisposalService",
    "DisposalStore",
    "IntakeReport",
    "TickReport",
    "new_id",
]

_RETRIES = 3


class DisposalStore(CaseStore, CardRegistry, CascadeStore, Protocol):
    """The ports disposal writes through (``SqlDisposalStore`` and ``MemoryDisposalStore``)."""


def new_id(prefix: str) -> str:
    """A fresh id such as ``C1f3a9c2b7d4e``: random, so ids never collide across processes."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@dataclass(slots=True)
class IntakeReport:
    """What became of a batch of flags; ``flags == taken + duplicates + not_our_cards``."""

    flags: int = 0
    taken: int = 0
    duplicates: int = 0
    not_our_cards: int = 0
    cases_opened: int = 0
    cases_joined: int = 0
    measures_in_force: int = 0
    measures_pending: int = 0
    notices: int = 0
    cascade_messages: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        """Whether every flag is accounted for once."""
        return self.flags == self.taken + self.duplicates + self.not_our_cards


@dataclass(slots=True)
class TickReport:
    """What the timers did."""

    cases: int = 0
    escalated: int = 0
    expired: int = 0
    appeals_overdue: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Outcome:
    notices: int = 0
    messages: int = 0
    in_force: list[Measure] = field(default_factory=list)
    pending: int = 0


class DisposalService:
    """The disposal use cases over one store.

    Parameters
    ----------
    store
        Cases, cards and the cascade outbox.
    clock
        The time every measure, notice and audit record is stamped with.
    policy
        Which measures apply automatically and who approves the others.
    book
        A ``MeasureBook`` kept current as measures change (the screener's read model); optional.
    require_card
        Only the carrier's own cards (``CardRegistry``) get cases; other flagged numbers
        (off-net callers) are counted as ``not_our_cards``. False takes flags on any number
        (when no card registry is loaded).
    """

    def __init__(
        self,
        store: DisposalStore,
        clock: Clock,
        *,
        policy: DisposalPolicy | None = None,
        book: MeasureBook | None = None,
        require_card: bool = True,
        make_id: Callable[[str], str] = new_id,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or DisposalPolicy()
        self.book = book
        self.require_card = require_card
        self.make_id = make_id

    # -- settle: events -> notices, cascade, audit --------------------------------------------

    def _settle(self, case: Case, events: list[DisposalEvent], actor: str) -> _Outcome:
        """Commit ``case`` with what ``events`` owe: notices, cascade messages, audit records."""
        now = self.clock.now()
        notices: list[StoredNotice] = []
        outbox: list[CascadeMessage] = []
        audit: list[AuditRecord] = []
        outcome = _Outcome()
        accounts = None
        for e in events:
            m = e.measure
            if m is not None:
                audit.append(
                    AuditRecord(
                        now,
                        e.actor or actor,
                        "measure",
                        m.id,
                        e.kind,
                        None,
                        {
                            "case": case.id,
                            "kind": str(m.kind),
                            "state": str(m.state),
                            "reason": m.reason,
                            "approval": str(m.approval),
                            "lift_reason": str(m.lift_reason) if m.lift_reason else None,
                        },
                    )
                )
            else:
                audit.append(
                    AuditRecord(
                        now,
                        e.actor or actor,
                        "appeal" if e.appeal is not None else "case",
                        e.appeal.id if e.appeal is not None else case.id,
                        e.kind,
                        None,
                        {"case": case.id, "state": str(case.state), "detail": e.detail[:200]},
                    )
                )
            if m is None:
                continue
            if e.kind == "measure_in_force":
                outcome.in_force.append(m)
                notices += [
                    StoredNotice(case.id, m.id, now, render_measure_notice(m, lang))
                    for lang in LANGUAGES
                ]
            elif e.kind in ("measure_lifted", "measure_expired"):
                notices += [
                    StoredNotice(case.id, m.id, now, render_lift_notice(m, lang))
                    for lang in LANGUAGES
                ]
            elif e.kind == "measure_proposed" and m.approval is not Approval.AUTOMATIC:
                outcome.pending += 1
            cascaded = e.kind in ("measure_in_force", "measure_lifted", "measure_expired")
            if cascaded and disposes(str(m.kind), blocks_while_pending=m.blocks_while_pending):
                if accounts is None:
                    accounts = self.store.accounts_for(case.msisdn)
                kind = MessageKind.DISPOSED if e.kind == "measure_in_force" else MessageKind.LIFTED
                outbox += [_message(case, m, a.platform, a.account, kind, e.at) for a in accounts]
        self.store.commit(case, audit=audit, notices=notices, outbox=outbox)
        if self.book is not None:
            for m in case.measures:
                self.book.put(m)
        outcome.notices = len(notices)
        outcome.messages = len(outbox)
        return outcome

    def _mutate(
        self, case_id: str, change: Callable[[Case, dt.datetime], list[DisposalEvent]], actor: str
    ) -> Case:
        for attempt in range(_RETRIES):
            case = self.store.get_case(case_id)
            events = change(case, self.clock.now())
            try:
                self._settle(case, events, actor)
                return case
            except ConflictError:
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- intake --------------------------------------------------------------------------------

    def take_flag(self, flag: Flag, *, key: str, report: IntakeReport | None = None) -> str | None:
        """Open or join the card's case with ``flag`` and apply the policy's automatic measures.

        Returns the case id, or None when the flag was a duplicate or not about one of the
        carrier's cards. ``key`` makes intake idempotent (a re-run of the same alerts file
        changes nothing).
        """
        report = report if report is not None else IntakeReport()
        report.flags += 1
        if flag.kind not in ("msisdn", "sender"):
            raise InvalidInputError(f"flags of kind {flag.kind!r} do not open card cases")
        if self.store.flag_seen(key):
            report.duplicates += 1
            return None
        card: Card | None = self.store.card(flag.subject)
        if card is None and self.require_card:
            report.not_our_cards += 1
            return None
        record = FlagRecord(key, flag.source, flag.at, flag.reason, flag.score, dict(flag.evidence))
        for attempt in range(_RETRIES):
            # A concurrent intake may have taken this very flag while we were refused.
            if attempt and self.store.flag_seen(key):
                report.duplicates += 1
                return None
            now = self.clock.now()
            case = self.store.live_case_for(flag.subject)
            opened = case is None
            if case is None:
                case = Case(
                    self.make_id("C"),
                    flag.subject,
                    now,
                    id_doc_hash=card.id_hash if card else None,
                )
            events = case.add_flag(record, actor=flag.source)
            for m in self.policy.automatic_measures(
                case, flag.source, at=now, new_id=lambda: self.make_id("M")
            ):
                events += case.propose(m)
            try:
                outcome = self._settle(case, events, flag.source)
            except ConflictError:
                if attempt == _RETRIES - 1:
                    raise
                continue
            report.taken += 1
            report.cases_opened += int(opened)
            report.cases_joined += int(not opened)
            report.measures_in_force += len(outcome.in_force)
            report.measures_pending += outcome.pending
            report.notices += outcome.notices
            report.cascade_messages += outcome.messages
            for m in outcome.in_force:
                report.by_kind[str(m.kind)] = report.by_kind.get(str(m.kind), 0) + 1
            return case.id
        return None  # pragma: no cover

    def take_flags(self, flags: Iterable[tuple[str, Flag]]) -> IntakeReport:
        """Take ``(key, flag)`` pairs; the report reconciles every flag."""
        report = IntakeReport()
        for key, flag in flags:
            self.take_flag(flag, key=key, report=report)
        return report

    def extend_to_id(self, case_id: str, *, by: str) -> IntakeReport:
        """Flag every other card on the case's ID document (``id_link`` in the policy).

        Idempotent: a second call for the same case changes nothing.
        """
        case = self.store.get_case(case_id)
        if case.id_doc_hash is None:
            raise InvalidInputError(f"case {case_id} has no ID document on record")
        now = self.clock.now()
        flags = [
            (
                f"id_link:{case.id}:{card.msisdn}",
                Flag(
                    card.msisdn,
                    "msisdn",
                    "id_link",
                    now,
                    f"same ID document as {case.msisdn} (case {case.id}, by {by})",
                ),
            )
            for card in self.store.cards_under(case.id_doc_hash)
            if card.msisdn != case.msisdn
        ]
        return self.take_flags(flags)

    # -- analyst and supervisor decisions ------------------------------------------------------

    def propose(
        self, case_id: str, kind: MeasureKind, *, by: str, reason: str = "fraud_abnormal"
    ) -> Case:
        """An analyst proposes a measure; it waits for the approval the policy asks for."""

        def change(case: Case, now: dt.datetime) -> list[DisposalEvent]:
            measure = self.policy.proposed_measure(
                case, kind, measure_id=self.make_id("M"), by=by, at=now, reason=reason
            )
            return case.propose(measure)

        return self._mutate(case_id, change, by)

    def approve(self, case_id: str, measure_id: str, *, by: str, role: Approval) -> Case:
        """Approve a pending measure; it is in force at once."""
        return self._mutate(
            case_id, lambda c, now: c.approve(measure_id, by=by, role=role, at=now), by
        )

    def reject(self, case_id: str, measure_id: str, *, by: str, note: str = "") -> Case:
        """Refuse a pending measure."""
        return self._mutate(
            case_id, lambda c, now: c.reject(measure_id, by=by, at=now, note=note), by
        )

    def lift(self, case_id: str, measure_id: str, *, by: str) -> Case:
        """Release one measure in force at once."""
        return self._mutate(
            case_id,
            lambda c, now: c.lift(measure_id, reason=LiftReason.RELEASED, by=by, at=now),
            by,
        )

    def decide(self, case_id: str, outcome: str, *, by: str, note: str = "") -> Case:
        """``confirm`` (fraud: measures stay) or ``clear`` (not fraud: every measure lifted)."""
        if outcome == "confirm":
            return self._mutate(case_id, lambda c, now: c.confirm(by=by, at=now, note=note), by)
        if outcome == "clear":
            return self._mutate(case_id, lambda c, now: c.clear(by=by, at=now, note=note), by)
        raise InvalidInputError("the outcome is confirm or clear")

    def appeal(
        self, case_id: str, *, grounds: str, channel: str, taken_by: str | None = None
    ) -> Case:
        """Accept the subscriber's appeal; its review is due per the policy.

        The subscriber is the appeal's actor; ``taken_by`` (the person who entered it from the
        hotline or a service hall) goes into the audit record's detail.
        """

        def change(c: Case, now: dt.datetime) -> list[DisposalEvent]:
            events = c.lodge_appeal(
                self.make_id("A"),
                grounds=grounds,
                channel=channel,
                at=now,
                review_within=self.policy.appeal_review_within,
            )
            if taken_by:
                events = [replace(e, detail=f"taken by {taken_by} via {channel}") for e in events]
            return events

        return self._mutate(case_id, change, "subscriber")

    def decide_appeal(self, case_id: str, *, upheld: bool, by: str, note: str = "") -> Case:
        """Decide the appeal under review; upheld lifts every measure at once."""
        return self._mutate(
            case_id, lambda c, now: c.decide_appeal(upheld=upheld, by=by, at=now, note=note), by
        )

    def pass_reverification(self, msisdn_or_case: str, *, by: str) -> Case:
        """The subscriber re-verified (in a shop or online): lift what it limited, at once."""
        case_id = msisdn_or_case
        if msisdn_or_case.startswith("+"):
            live = self.store.live_case_for(msisdn_or_case)
            if live is None:
                raise NotFoundError(f"no open case for {msisdn_or_case}")
            case_id = live.id
        return self._mutate(case_id, lambda c, now: c.pass_reverification(by=by, at=now), by)

    # -- timers --------------------------------------------------------------------------------

    def tick(self, *, limit: int = 10_000) -> TickReport:
        """Fire every timer due now: escalate missed deadlines, expire terms, report overdue reviews."""
        report = TickReport()
        now = self.clock.now()
        escalation = self.policy.escalation(lambda: self.make_id("M"))
        fired: list[DisposalEvent] = []

        def change(case: Case, at: dt.datetime) -> list[DisposalEvent]:
            fired.clear()
            fired.extend(case.tick(at, escalation=escalation))
            return list(fired)

        for case_id in self.store.cases_due(now, limit=limit):
            self._mutate(case_id, change, "timer")
            events = list(fired)
            report.cases += 1
            report.escalated += sum(e.kind == "measure_escalated" for e in events)
            report.expired += sum(e.kind == "measure_expired" for e in events)
            report.appeals_overdue += [case_id for e in events if e.kind == "appeal_overdue"]
        return report

    def measure_book(self) -> MeasureBook:
        """A ``MeasureBook`` of every measure in force (for the screener)."""
        return MeasureBook(self.store.measures_in_force())


def _message(
    case: Case,
    measure: Measure,
    platform: str,
    account: str,
    kind: MessageKind,
    at: dt.datetime,
) -> CascadeMessage:
    payload: dict[str, Any] = {
        "type": str(kind),
        "platform": platform,
        "account": account,
        "msisdn": case.msisdn,
        "case": case.id,
        "measure": measure.id,
        "measure_kind": str(measure.kind),
        "reason": measure.reason.split(":", 1)[0],
        "at": at.isoformat(),
        "legal_basis": "AFL Art. 22",
    }
    return CascadeMessage(
        idempotency_key(platform, account, measure.id, kind),
        platform,
        account,
        case.msisdn,
        case.id,
        measure.id,
        kind,
        payload,
    )
