"""Cases, graded measures and appeals: the disposal state machine (AFL Arts. 11, 31, 32).

A :class:`Case` gathers the flags raised against one subscriber card and the measures taken on
it. Every change goes through a method here, which checks the transition against the tables
below and returns the :class:`DisposalEvent` objects the services turn into notices, cascade
messages and audit records. Time always comes in as an argument (the caller's ``Clock``).

Measure states::

    PENDING_APPROVAL ──approve──► IN_FORCE ──lift──────► LIFTED    (re-verified, appeal upheld,
          │                          │                             released, case cleared)
          ├──reject──► REJECTED      ├──term ends──────► EXPIRED
          └──cancel──► CANCELLED     └──deadline missed► ESCALATED (superseded by a harsher one)

Case states::

    OPEN ──confirm──► CONFIRMED          OPEN / CONFIRMED ──appeal──► APPEALED
    OPEN ──clear────► CLEARED            APPEALED ──upheld──► CLEARED
                                         APPEALED ──rejected─► the state before the appeal

``CLEARED`` is final and holds no measure in force or pending: clearing lifts or cancels them all
in the same step, so no measure outlives a won appeal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from typing import Any

from telewarden.core.errors import ConflictError, InvalidInputError

__all__ = [
    "Appeal",
    "AppealState",
    "Approval",
    "Case",
    "CaseState",
    "DisposalEvent",
    "FlagRecord",
    "LiftReason",
    "Measure",
    "MeasureKind",
    "MeasureState",
    "Severity",
]


class MeasureKind(StrEnum):
    """The graded measures, mildest first."""

    WARN = "warn"
    """A warning notice; no effect on traffic."""
    REVERIFY = "reverify"
    """Re-verify the subscriber's identity by a deadline (AFL Art. 11; 24 h in the 2021 notice)."""
    RESTRICT = "restrict"
    """Outgoing calls and SMS blocked (emergency numbers excepted)."""
    SUSPEND = "suspend"
    """All service suspended (emergency numbers excepted)."""


class Severity(IntEnum):
    """How hard a measure bites; the read model reports the highest in force."""

    NONE = 0
    WARNED = 1
    LIMITED = 2
    RESTRICTED = 3
    SUSPENDED = 4


SEVERITY: dict[MeasureKind, Severity] = {
    MeasureKind.WARN: Severity.WARNED,
    MeasureKind.REVERIFY: Severity.LIMITED,
    MeasureKind.RESTRICT: Severity.RESTRICTED,
    MeasureKind.SUSPEND: Severity.SUSPENDED,
}


class Approval(StrEnum):
    """Who must agree before a measure is in force."""

    AUTOMATIC = "automatic"
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"


class MeasureState(StrEnum):
    """Where a measure stands (see the module docstring)."""

    PENDING_APPROVAL = "pending_approval"
    IN_FORCE = "in_force"
    LIFTED = "lifted"
    EXPIRED = "expired"
    ESCALATED = "escalated"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


MEASURE_TRANSITIONS: dict[MeasureState, frozenset[MeasureState]] = {
    MeasureState.PENDING_APPROVAL: frozenset(
        {MeasureState.IN_FORCE, MeasureState.REJECTED, MeasureState.CANCELLED}
    ),
    MeasureState.IN_FORCE: frozenset(
        {MeasureState.LIFTED, MeasureState.EXPIRED, MeasureState.ESCALATED}
    ),
    MeasureState.LIFTED: frozenset(),
    MeasureState.EXPIRED: frozenset(),
    MeasureState.ESCALATED: frozenset(),
    MeasureState.REJECTED: frozenset(),
    MeasureState.CANCELLED: frozenset(),
}
"""Every allowed measure transition; anything else is a ``ConflictError``."""


class LiftReason(StrEnum):
    """Why a measure stopped before its term."""

    REVERIFIED = "reverified"
    APPEAL_UPHELD = "appeal_upheld"
    RELEASED = "released"
    """An analyst released the card (the flag was wrong or the risk is gone)."""
    CLEARED = "cleared"
    """The case was cleared (police feedback ``not fraud``, or an analyst's decision)."""


class CaseState(StrEnum):
    """Where a case stands (see the module docstring)."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    APPEALED = "appealed"
    CLEARED = "cleared"


CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset({CaseState.CONFIRMED, CaseState.CLEARED, CaseState.APPEALED}),
    CaseState.CONFIRMED: frozenset({CaseState.APPEALED, CaseState.CLEARED}),
    CaseState.APPEALED: frozenset({CaseState.OPEN, CaseState.CONFIRMED, CaseState.CLEARED}),
    CaseState.CLEARED: frozenset(),
}


class AppealState(StrEnum):
    """An appeal is accepted when lodged (AFL Art. 32: accept promptly), then decided."""

    UNDER_REVIEW = "under_review"
    UPHELD = "upheld"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """A flag as the case keeps it: the evidence that opened or joined the case."""

    key: str
    """Idempotency key: a flag with a key already on the case changes nothing."""
    source: str
    at: dt.datetime
    reason: str
    score: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure on one card, with what the law says the subscriber must be told.

    ``reason``, ``remedy_channel`` and ``documents`` are the three items AFL Art. 32 requires in
    every notice of a restriction; ``deadline`` is the re-verification deadline (Art. 11) and
    ``expires_at`` the end of the measure's term.
    """

    id: str
    case_id: str
    msisdn: str
    kind: MeasureKind
    state: MeasureState
    approval: Approval
    reason: str
    remedy_channel: str
    documents: tuple[str, ...]
    proposed_at: dt.datetime
    proposed_by: str
    in_force_at: dt.datetime | None = None
    approved_by: str | None = None
    deadline: dt.datetime | None = None
    escalate_to: MeasureKind | None = None
    """What an unmet deadline turns this measure into (re-verification only)."""
    term: dt.timedelta | None = None
    """Length of the term, counted from ``in_force_at``; None means until lifted."""
    blocks_while_pending: bool = False
    """For re-verification: whether outgoing traffic is blocked until the subscriber verifies."""
    ended_at: dt.datetime | None = None
    ended_by: str | None = None
    lift_reason: LiftReason | None = None
    escalated_from: str | None = None

    @property
    def expires_at(self) -> dt.datetime | None:
        """End of the term (None for measures without one or not yet in force)."""
        if self.term is None or self.in_force_at is None:
            return None
        return self.in_force_at + self.term

    def in_force(self, at: dt.datetime) -> bool:
        """Whether the measure bites at ``at``: in force and its term not over.

        A term that has run out stops the measure at once, before any timer records the expiry.
        """
        if self.state is not MeasureState.IN_FORCE:
            return False
        if self.in_force_at is not None and at < self.in_force_at:
            return False
        expires = self.expires_at
        return expires is None or at < expires

    def severity_at(self, at: dt.datetime) -> Severity:
        """The severity the card suffers from this measure at ``at``.

        A re-verification whose deadline has passed already bites like the measure it escalates
        to, so a slow timer never leaves a card that missed its deadline unrestricted.
        """
        if not self.in_force(at):
            return Severity.NONE
        if self.kind is MeasureKind.REVERIFY:
            if self.deadline is not None and at >= self.deadline and self.escalate_to:
                return SEVERITY[self.escalate_to]
            return Severity.LIMITED if self.blocks_while_pending else Severity.WARNED
        return SEVERITY[self.kind]

    def moved(self, state: MeasureState, **changes: Any) -> Measure:
        """A copy in ``state``; raises ``ConflictError`` for a transition the table forbids."""
        if state not in MEASURE_TRANSITIONS[self.state]:
            raise ConflictError(f"measure {self.id} is {self.state}; it cannot become {state}")
        return replace(self, state=state, **changes)


@dataclass(frozen=True, slots=True)
class Appeal:
    """A subscriber's appeal against the measures of a case."""

    id: str
    case_id: str
    lodged_at: dt.datetime
    review_due: dt.datetime
    grounds: str
    channel: str
    state: AppealState = AppealState.UNDER_REVIEW
    decided_at: dt.datetime | None = None
    decided_by: str | None = None
    note: str = ""
    overdue_reported: bool = False
    """Set when the timer reported the review overdue, so it is reported once."""


@dataclass(frozen=True, slots=True)
class DisposalEvent:
    """What happened to a case, for notices, the cascade and the audit log."""

    kind: str
    """``case_opened``, ``flag_joined``, ``measure_proposed``, ``measure_in_force``,
    ``measure_rejected``, ``measure_cancelled``, ``measure_lifted``, ``measure_expired``,
    ``measure_escalated``, ``case_confirmed``, ``case_cleared``, ``appeal_lodged``,
    ``appeal_upheld``, ``appeal_rejected``, ``appeal_overdue``."""
    case_id: str
    at: dt.datetime
    actor: str
    measure: Measure | None = None
    appeal: Appeal | None = None
    detail: str = ""


@dataclass(slots=True)
class Case:
    """Everything known and done about one card: flags, measures, appeals.

    Mutate only through the methods; each returns the events it caused.
    """

    id: str
    msisdn: str
    opened_at: dt.datetime
    state: CaseState = CaseState.OPEN
    id_doc_hash: str | None = None
    flags: list[FlagRecord] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)
    state_before_appeal: CaseState | None = None
    updated_at: dt.datetime | None = None
    version: int = 0
    """Bumped by the store on every commit; a stale copy cannot overwrite a newer one."""

    # -- queries -------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the case is final (cleared)."""
        return self.state is CaseState.CLEARED

    def measure(self, measure_id: str) -> Measure:
        """The measure with ``measure_id`` (``InvalidInputError`` when unknown)."""
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise InvalidInputError(f"case {self.id} has no measure {measure_id!r}")

    def in_force(self, at: dt.datetime) -> list[Measure]:
        """Measures biting at ``at``."""
        return [m for m in self.measures if m.in_force(at)]

    def pending(self) -> list[Measure]:
        """Measures waiting for an analyst's or a supervisor's approval."""
        return [m for m in self.measures if m.state is MeasureState.PENDING_APPROVAL]

    def open_appeal(self) -> Appeal | None:
        """The appeal under review, if any."""
        return next((a for a in self.appeals if a.state is AppealState.UNDER_REVIEW), None)

    def severity_at(self, at: dt.datetime) -> Severity:
        """The harshest severity of the case's measures at ``at``."""
        return max((m.severity_at(at) for m in self.measures), default=Severity.NONE)

    # -- internal helpers ----------------------------------------------------------------------

    def _touch(self, at: dt.datetime) -> None:
        self.updated_at = at

    def _move(self, state: CaseState) -> None:
        if state not in CASE_TRANSITIONS[self.state]:
            raise ConflictError(f"case {self.id} is {self.state}; it cannot become {state}")
        self.state = state

    def _replace(self, measure: Measure) -> None:
        self.measures = [measure if m.id == measure.id else m for m in self.measures]

    def _require_live(self) -> None:
        if self.closed:
            raise ConflictError(f"case {self.id} is cleared; open a new case for a new flag")

    # -- flags and measures --------------------------------------------------------------------

    def add_flag(self, flag: FlagRecord, *, actor: str) -> list[DisposalEvent]:
        """Join ``flag`` to the case; a flag key already present changes nothing."""
        self._require_live()
        if any(f.key == flag.key for f in self.flags):
            return []
        self.flags.append(flag)
        self._touch(flag.at)
        kind = "case_opened" if len(self.flags) == 1 else "flag_joined"
        return [
            DisposalEvent(kind, self.id, flag.at, actor, detail=f"{flag.source}: {flag.reason}")
        ]

    def propose(self, measure: Measure) -> list[DisposalEvent]:
        """Add a measure; an automatic one is in force at once, others wait for approval."""
        self._require_live()
        if measure.case_id != self.id or measure.msisdn != self.msisdn:
            raise InvalidInputError(f"measure {measure.id} belongs to another case or card")
        if any(m.id == measure.id for m in self.measures):
            raise ConflictError(f"case {self.id} already has a measure {measure.id}")
        if measure.state is not MeasureState.PENDING_APPROVAL:
            raise InvalidInputError("a new measure starts pending approval")
        self.measures.append(measure)
        self._touch(measure.proposed_at)
        events = [
            DisposalEvent(
                "measure_proposed", self.id, measure.proposed_at, measure.proposed_by, measure
            )
        ]
        if measure.approval is Approval.AUTOMATIC:
            events += self._enforce(measure, measure.proposed_at, measure.proposed_by, None)
        return events

    def _enforce(
        self, measure: Measure, at: dt.datetime, actor: str, approver: str | None
    ) -> list[DisposalEvent]:
        # While an appeal is under review new measures still take effect: the law asks for a
        # prompt review, not a stay; the appeal's decision lifts them all when upheld.
        enforced = measure.moved(MeasureState.IN_FORCE, in_force_at=at, approved_by=approver)
        if enforced.deadline is not None and enforced.deadline <= at:
            raise InvalidInputError(f"measure {measure.id}: deadline before it takes effect")
        self._replace(enforced)
        self._touch(at)
        return [DisposalEvent("measure_in_force", self.id, at, actor, enforced)]

    def approve(
        self, measure_id: str, *, by: str, role: Approval, at: dt.datetime
    ) -> list[DisposalEvent]:
        """Put a pending measure in force; ``role`` must be at least the approval it needs."""
        self._require_live()
        measure = self.measure(measure_id)
        if _RANK[role] < _RANK[measure.approval]:
            raise ConflictError(
                f"measure {measure_id} ({measure.kind}) needs {measure.approval} approval; "
                f"{by} acts as {role}"
            )
        if measure.proposed_by == by and measure.approval is Approval.SUPERVISOR:
            raise ConflictError(f"{by} proposed measure {measure_id}; another supervisor approves")
        return self._enforce(measure, at, by, by)

    def reject(
        self, measure_id: str, *, by: str, at: dt.datetime, note: str = ""
    ) -> list[DisposalEvent]:
        """Refuse a pending measure."""
        measure = self.measure(measure_id).moved(MeasureState.REJECTED, ended_at=at, ended_by=by)
        self._replace(measure)
        self._touch(at)
        return [DisposalEvent("measure_rejected", self.id, at, by, measure, detail=note)]

    def lift(
        self, measure_id: str, *, reason: LiftReason, by: str, at: dt.datetime
    ) -> list[DisposalEvent]:
        """Lift one measure in force at once."""
        measure = self.measure(measure_id).moved(
            MeasureState.LIFTED, ended_at=at, ended_by=by, lift_reason=reason
        )
        self._replace(measure)
        self._touch(at)
        return [DisposalEvent("measure_lifted", self.id, at, by, measure, detail=str(reason))]

    def _end_all(self, reason: LiftReason, by: str, at: dt.datetime) -> list[DisposalEvent]:
        events: list[DisposalEvent] = []
        for m in list(self.measures):
            if m.state is MeasureState.IN_FORCE:
                events += self.lift(m.id, reason=reason, by=by, at=at)
            elif m.state is MeasureState.PENDING_APPROVAL:
                cancelled = m.moved(MeasureState.CANCELLED, ended_at=at, ended_by=by)
                self._replace(cancelled)
                events.append(
                    DisposalEvent("measure_cancelled", self.id, at, by, cancelled, detail=reason)
                )
        return events

    def pass_reverification(self, *, by: str, at: dt.datetime) -> list[DisposalEvent]:
        """The subscriber re-verified: lift the re-verification and what it limited, at once.

        Measures an analyst or supervisor imposed independently (a restriction on evidence, a
        suspension after police referral) stay; they are lifted by appeal or release.
        """
        self._require_live()
        reverify = [m for m in self.measures if m.kind is MeasureKind.REVERIFY and m.in_force(at)]
        escalated_ids = {m.id for m in self.measures if m.kind is MeasureKind.REVERIFY}
        follow_ups = [
            m
            for m in self.measures
            if m.escalated_from in escalated_ids and m.state is MeasureState.IN_FORCE
        ]
        if not reverify and not follow_ups:
            raise ConflictError(f"case {self.id} has no re-verification to pass")
        events: list[DisposalEvent] = []
        for m in reverify + follow_ups:
            events += self.lift(m.id, reason=LiftReason.REVERIFIED, by=by, at=at)
        return events

    # -- decisions -----------------------------------------------------------------------------

    def confirm(self, *, by: str, at: dt.datetime, note: str = "") -> list[DisposalEvent]:
        """An analyst (or police feedback) confirms fraud; measures stay as they are."""
        if self.state is CaseState.APPEALED:
            raise ConflictError(f"case {self.id} is under appeal; decide the appeal first")
        self._move(CaseState.CONFIRMED)
        self._touch(at)
        return [DisposalEvent("case_confirmed", self.id, at, by, detail=note)]

    def clear(
        self, *, by: str, at: dt.datetime, reason: LiftReason = LiftReason.CLEARED, note: str = ""
    ) -> list[DisposalEvent]:
        """Close the case as not fraud: every measure is lifted or cancelled in the same step."""
        self._move(CaseState.CLEARED)
        events = self._end_all(reason, by, at)
        appeal = self.open_appeal()
        if appeal is not None:
            self.appeals = [
                replace(a, state=AppealState.UPHELD, decided_at=at, decided_by=by, note=note)
                if a.id == appeal.id
                else a
                for a in self.appeals
            ]
        self._touch(at)
        return [*events, DisposalEvent("case_cleared", self.id, at, by, detail=note)]

    def lodge_appeal(
        self,
        appeal_id: str,
        *,
        grounds: str,
        channel: str,
        at: dt.datetime,
        review_within: dt.timedelta,
    ) -> list[DisposalEvent]:
        """Accept an appeal (AFL Art. 32: accept promptly) and set the date its review is due."""
        self._require_live()
        if self.open_appeal() is not None:
            raise ConflictError(f"case {self.id} already has an appeal under review")
        if not grounds.strip():
            raise InvalidInputError("an appeal states its grounds")
        previous = self.state
        self._move(CaseState.APPEALED)
        self.state_before_appeal = previous
        appeal = Appeal(appeal_id, self.id, at, at + review_within, grounds, channel)
        self.appeals.append(appeal)
        self._touch(at)
        return [DisposalEvent("appeal_lodged", self.id, at, "subscriber", appeal=appeal)]

    def decide_appeal(
        self, *, upheld: bool, by: str, at: dt.datetime, note: str = ""
    ) -> list[DisposalEvent]:
        """Decide the appeal under review: upheld lifts every measure at once and clears the case."""
        appeal = self.open_appeal()
        if appeal is None or self.state is not CaseState.APPEALED:
            raise ConflictError(f"case {self.id} has no appeal under review")
        decided = replace(
            appeal,
            state=AppealState.UPHELD if upheld else AppealState.REJECTED,
            decided_at=at,
            decided_by=by,
            note=note,
        )
        if upheld:
            events = self.clear(by=by, at=at, reason=LiftReason.APPEAL_UPHELD, note=note)
            self.appeals = [decided if a.id == appeal.id else a for a in self.appeals]
            return [DisposalEvent("appeal_upheld", self.id, at, by, appeal=decided), *events]
        self.appeals = [decided if a.id == appeal.id else a for a in self.appeals]
        self._move(self.state_before_appeal or CaseState.OPEN)
        self.state_before_appeal = None
        self._touch(at)
        return [DisposalEvent("appeal_rejected", self.id, at, by, appeal=decided, detail=note)]

    # -- timers --------------------------------------------------------------------------------

    def due_at(self) -> dt.datetime | None:
        """The earliest instant a timer of this case fires (deadline, term end, review due)."""
        times: list[dt.datetime] = []
        for m in self.measures:
            if m.state is MeasureState.IN_FORCE:
                if m.deadline is not None and m.escalate_to is not None:
                    times.append(m.deadline)
                if m.expires_at is not None:
                    times.append(m.expires_at)
        appeal = self.open_appeal()
        if appeal is not None and not appeal.overdue_reported:
            times.append(appeal.review_due)
        return min(times, default=None)

    def tick(
        self, at: dt.datetime, *, escalation: Any, actor: str = "timer"
    ) -> list[DisposalEvent]:
        """Fire every timer due at ``at``: expire ended terms, escalate missed deadlines.

        ``escalation(case, measure, at)`` builds the harsher measure an unmet deadline turns
        into (the policy decides its reason, documents and term). An overdue appeal review is
        reported (``appeal_overdue``) for a supervisor; it is never decided by a timer.
        """
        events: list[DisposalEvent] = []
        for m in list(self.measures):
            if m.state is not MeasureState.IN_FORCE:
                continue
            expires = m.expires_at
            if expires is not None and expires <= at:
                ended = m.moved(MeasureState.EXPIRED, ended_at=expires, ended_by=actor)
                self._replace(ended)
                events.append(DisposalEvent("measure_expired", self.id, expires, actor, ended))
                continue
            if m.deadline is not None and m.escalate_to is not None and m.deadline <= at:
                ended = m.moved(MeasureState.ESCALATED, ended_at=m.deadline, ended_by=actor)
                self._replace(ended)
                events.append(DisposalEvent("measure_escalated", self.id, m.deadline, actor, ended))
                follow_up: Measure = escalation(self, ended, m.deadline)
                events += self.propose(follow_up)
        appeal = self.open_appeal()
        if appeal is not None and appeal.review_due <= at and not appeal.overdue_reported:
            reported = replace(appeal, overdue_reported=True)
            self.appeals = [reported if a.id == appeal.id else a for a in self.appeals]
            events.append(
                DisposalEvent(
                    "appeal_overdue", self.id, at, actor, appeal=reported, detail="review"
                )
            )
        if events:
            self._touch(at)
        return events

    def check_invariants(self, at: dt.datetime) -> None:
        """Raise ``AssertionError`` naming the first broken invariant (used by tests and stores)."""
        if self.state is CaseState.CLEARED:
            live = [
                m.id
                for m in self.measures
                if m.state in (MeasureState.IN_FORCE, MeasureState.PENDING_APPROVAL)
            ]
            assert not live, f"cleared case {self.id} still has measures {live}"
            assert self.open_appeal() is None, f"cleared case {self.id} has an open appeal"
        if self.state is CaseState.APPEALED:
            assert self.open_appeal() is not None, f"appealed case {self.id} has no open appeal"
        else:
            assert self.open_appeal() is None, (
                f"case {self.id} has an appeal open but is {self.state}"
            )
        for m in self.measures:
            if m.state is MeasureState.IN_FORCE:
                assert m.in_force_at is not None, f"measure {m.id} in force without a start"
            if m.state in (MeasureState.LIFTED, MeasureState.EXPIRED, MeasureState.ESCALATED):
                assert m.ended_at is not None, f"measure {m.id} ended without an end time"
            if m.lift_reason is not None:
                assert m.state is MeasureState.LIFTED, f"measure {m.id} has a lift reason"
        for a in self.appeals:
            if a.state is AppealState.UPHELD:
                assert self.state is CaseState.CLEARED, f"upheld appeal {a.id}, case not cleared"


_RANK = {Approval.AUTOMATIC: 0, Approval.ANALYST: 1, Approval.SUPERVISOR: 2}
