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

from telewarden.core.disposal.model import Measure, MeasureState, Severity

__all__ = ["MeasureBook", "Restriction"]


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

    def restricted(self, at: dt.datetime) -> list[str]:
        """Every card with a restriction at ``at``, sorted."""
        return sorted(m for m in self._by_msisdn if self.restriction_for(m, at) is not None)
