"""``MeasureBook``: what restriction applies to a card now (the screener's read model).

The book keeps, per msisdn, the measures in force and answers :meth:`MeasureBook.restriction_for`
with one dictionary look-up and a scan of that card's few measures. Expiry and missed deadlines
are judged at the instant asked, so a term that ran out stops biting at once, and a card that
missed its re-verification deadline is treated as escalated even before the timer has run.

Examples
--------
>>> import datetime as dt
>>> from telewarden.core.disposal.model import Approval, Measure, MeasureKind, MeasureState
>>> at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
>>> m = Measure("M1", "C1", "+8613800138000", MeasureKind.RESTRICT, MeasureState.IN_FORCE,
...             Approval.ANALYST, "fraud_abnormal", "10000", (), at, "ana", in_force_at=at,
...             term=dt.timedelta(days=90))
>>> book = MeasureBook([m])
>>> book.restriction_for("+8613800138000", at).blocks_outgoing_calls
True
>>> book.restriction_for("+8613800138000", at + dt.timedelta(days=90)) is None
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from telewarden.core.disposal.model import Case, Measure, MeasureState, Severity

__all__ = ["LOOKUP_VALUE", "CaseMeasureLookup", "MeasureBook", "MeasureLookup", "Restriction"]


@dataclass(frozen=True, slots=True)
class Restriction:
    """The restriction a card suffers at one instant, from its harshest measure.

    Emergency calls are never blocked by a restriction; the screener's emergency rule runs first.
    """

    msisdn: str
    severity: Severity
    measure_id: str
    case_id: str
    reason: str
    appeal_contact: str

    @property
    def blocks_outgoing_calls(self) -> bool:
        """Outgoing calls are refused (emergency numbers excepted)."""
        return self.severity >= Severity.LIMITED

    @property
    def blocks_outgoing_sms(self) -> bool:
        """Outgoing SMS are refused."""
        return self.severity >= Severity.LIMITED

    @property
    def blocks_incoming(self) -> bool:
        """Incoming calls and SMS are refused (suspension only)."""
        return self.severity >= Severity.SUSPENDED

    def sip_reason(self) -> str:
        """Text for the SIP ``Reason`` header: the measure and where to appeal."""
        return (
            f"card {self.severity.name.lower()} by measure {self.measure_id} "
            f"(case {self.case_id}); appeal: {self.appeal_contact}"
        )


class MeasureBook:
    """Measures in force, by card.

    Parameters
    ----------
    measures
        Any measures; only those in force are kept.
    """

    def __init__(self, measures: Iterable[Measure] = ()) -> None:
        self._by_msisdn: dict[str, dict[str, Measure]] = {}
        for m in measures:
            self.put(m)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_msisdn.values())

    def put(self, measure: Measure) -> None:
        """Add, replace or (when no longer in force) drop one measure: lifting is immediate."""
        card = self._by_msisdn.get(measure.msisdn)
        if measure.state is MeasureState.IN_FORCE:
            if card is None:
                card = self._by_msisdn[measure.msisdn] = {}
            card[measure.id] = measure
        elif card is not None:
            card.pop(measure.id, None)
            if not card:
                del self._by_msisdn[measure.msisdn]

    def restriction_for(self, msisdn: str, at: dt.datetime) -> Restriction | None:
        """The restriction on ``msisdn`` at ``at``, or None when it may call and text freely.

        A warning alone has no effect on traffic and also returns None.
        """
        card = self._by_msisdn.get(msisdn)
        if not card:
            return None
        best: Measure | None = None
        best_severity = Severity.WARNED
        for m in card.values():
            severity = m.severity_at(at)
            if severity > best_severity:
                best, best_severity = m, severity
        if best is None:
            return None
        return Restriction(
            msisdn, best_severity, best.id, best.case_id, best.reason, best.remedy_channel
        )

    def measures_of(self, msisdn: str) -> list[Measure]:
        """The card's measures in force, by id."""
        card = self._by_msisdn.get(msisdn) or {}
        return [card[k] for k in sorted(card)]

    def msisdns(self) -> list[str]:
        """Every card with at least one measure in force (whatever its severity now)."""
        return list(self._by_msisdn)

    def restricted(self, at: dt.datetime) -> list[str]:
        """Every card with a restriction at ``at``, sorted."""
        return sorted(m for m in self._by_msisdn if self.restriction_for(m, at) is not None)


LOOKUP_VALUE = {
    Severity.LIMITED: "pending_reverification",
    Severity.RESTRICTED: "restricted",
    Severity.SUSPENDED: "suspended",
}


class MeasureLookup:
    """A :class:`MeasureBook` seen as the screener's ``measure`` lookup, at one instant.

    The screener asks per number, not per instant, so the lookup answers as of ``as_of``;
    :meth:`at` moves that instant (the live loop moves it to each micro-batch's first event, and
    to an event's own time when it re-screens) and :meth:`changed` tells the screener that the
    book changed. Each bumps ``version``, which makes a screener drop what it derived.

    Examples
    --------
    >>> import datetime as dt
    >>> from telewarden.core.disposal.model import Approval, Measure, MeasureKind, MeasureState
    >>> at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    >>> m = Measure("M1", "C1", "+8613800138000", MeasureKind.SUSPEND, MeasureState.IN_FORCE,
    ...             Approval.SUPERVISOR, "fraud_abnormal", "10000", (), at, "sup", in_force_at=at)
    >>> lookup = MeasureLookup(MeasureBook([m]), at)
    >>> lookup.lookup("+8613800138000"), lookup.lookup("+8613900139000")
    ('suspended', None)
    """

    def __init__(self, book: MeasureBook, as_of: dt.datetime) -> None:
        self.book = book
        self._as_of = as_of
        self.version = 0
        self.off_net: dict[str, dt.datetime] = {}
        """Flagged numbers that are no card of the carrier's, from when they are blocked."""

    def flag_off_net(self, number: str, at: dt.datetime) -> None:
        """Block ``number`` (no card of ours) from ``at``: calls from it and calls to it."""
        if number not in self.off_net:
            self.off_net[number] = at
            self.version += 1

    @property
    def as_of(self) -> dt.datetime:
        """The instant the answers are for."""
        return self._as_of

    def at(self, as_of: dt.datetime) -> None:
        """Answer as of ``as_of`` from now on."""
        if as_of != self._as_of:
            self._as_of = as_of
            self.version += 1

    def changed(self) -> None:
        """The book changed (a measure put in force, lifted or expired)."""
        self.version += 1

    def lookup(self, e164: str) -> str | None:
        """``pending_reverification``, ``restricted``, ``suspended`` or None (free to call)."""
        since = self.off_net.get(e164)
        if since is not None and since <= self._as_of:
            return "flagged_off_net"
        restriction = self.book.restriction_for(e164, self._as_of)
        return None if restriction is None else LOOKUP_VALUE.get(restriction.severity)

    def candidates(self) -> list[str]:
        """Every number :meth:`lookup` may answer for; any other number gets None.

        A batch screener asks only these one by one (``NumberLookup`` pre-filter).
        """
        return [*self.off_net, *self.book.msisdns()]

    def blocked_from(self, msisdn: str, *, after: dt.datetime) -> dt.datetime | None:
        """The earliest instant at or after ``after`` from which the card's outgoing traffic is
        blocked, judged from the measures put in force (None when none blocks it)."""
        since = self.off_net.get(msisdn)
        if since is not None:
            return max(since, after)
        restriction = self.book.restriction_for(msisdn, after)
        if restriction is not None and restriction.blocks_outgoing_calls:
            return after
        return None


class _LiveCases(Protocol):
    def live_case_for(self, msisdn: str) -> Case | None: ...


class CaseMeasureLookup:
    """The ``measure`` lookup answered per number from the case store, at one instant.

    For single screens: two numbers, two indexed look-ups, whatever the number of cards under a
    measure (a batch screener loads the whole :class:`MeasureBook` instead).
    """

    version = 0

    def __init__(self, cases: _LiveCases, at: dt.datetime) -> None:
        self.cases = cases
        self.at = at

    def lookup(self, e164: str) -> str | None:
        """The measure the card is under at ``at`` (as :class:`MeasureLookup` answers)."""
        case = self.cases.live_case_for(e164)
        return None if case is None else LOOKUP_VALUE.get(case.severity_at(self.at))
