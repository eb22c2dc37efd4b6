"""Read models and the few use cases the analyst's screens add over disposal and early warning.

What belongs here: the case queue (filters by state and fraud type, pages), the measures in
force, the appeals with their review deadlines, the figures of the dashboard, opening a case by
hand, and the statistics of the warnings sent. The changes themselves (propose, approve, lift,
decide, appeal) are :class:`~telewarden.services.disposal.DisposalService`'s, called as the CLI
calls them; the API and the console call the functions here with the person as the actor.

A case's fraud type is the source of the flags that opened or joined it (``sim_bank``,
``robocall``, ``wangiri``, ``analyst``, ...): the detector or person that found the card.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field

from telewarden.core.disposal.model import (
    Appeal,
    AppealState,
    Case,
    CaseState,
    Measure,
    MeasureState,
)
from telewarden.core.disposal.ports import CaseStore, StoredNotice
from telewarden.core.errors import InvalidInputError, NotFoundError
from telewarden.core.ports import Flag
from telewarden.core.warning.engine import WarningNotice
from telewarden.core.warning.ports import WarningStore
from telewarden.services.disposal import DisposalService

__all__ = [
    "AppealRow",
    "CasePage",
    "DisposalFigures",
    "WarningFigures",
    "appeals",
    "case_queue",
    "case_queue_of",
    "case_state",
    "disposal_figures",
    "fraud_types",
    "measures_in_force",
    "notices_of",
    "open_case",
    "warning_figures",
]

SCAN_LIMIT = 10_000
"""Cases read at most to answer one filtered page or one set of figures."""


def fraud_types(case: Case) -> list[str]:
    """The distinct sources of the case's flags, in the order they came."""
    return list(dict.fromkeys(f.source for f in case.flags))


def case_state(value: str | None) -> CaseState | None:
    """A case state from its name (None passes through); ``InvalidInputError`` when unknown."""
    if value is None or value == "":
        return None
    try:
        return CaseState(value)
    except ValueError as exc:
        names = ", ".join(s.value for s in CaseState)
        raise InvalidInputError(f"unknown case state {value!r} (one of {names})") from exc


@dataclass(frozen=True, slots=True)
class CasePage:
    """One page of the case queue, newest first."""

    cases: list[Case]
    offset: int
    limit: int
    more: bool


def case_queue(
    store: CaseStore,
    *,
    state: CaseState | None = None,
    fraud_type: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> CasePage:
    """The cases in ``state`` whose flags include ``fraud_type``, newest first, one page."""
    window = offset + limit + 1
    if fraud_type:
        found = [
            c
            for c in store.list_cases(state=state, limit=SCAN_LIMIT)
            if fraud_type in fraud_types(c)
        ][:window]
    else:
        found = store.list_cases(state=state, limit=window)
    return CasePage(found[offset : offset + limit], offset, limit, len(found) > offset + limit)


def case_queue_of(store: CaseStore, msisdn: str) -> list[Case]:
    """The cases of one card, newest first (its live case, then the cleared ones kept)."""
    return [c for c in store.list_cases(limit=SCAN_LIMIT) if c.msisdn == msisdn]


def notices_of(store: CaseStore, case_id: str) -> list[StoredNotice]:
    """The notices the case owed its subscriber, oldest first (``NotFoundError`` if no case)."""
    store.get_case(case_id)
    return store.notices_for(case_id)


def open_case(service: DisposalService, msisdn: str, *, reason: str, by: str) -> Case:
    """An analyst opens (or joins) the case of one of the carrier's cards by hand."""
    from telewarden.core.numbers import NumberIntel

    e164 = NumberIntel(cache_size=16).normalise(msisdn)
    if e164 is None:
        raise InvalidInputError(f"{msisdn!r} is not a phone number")
    if not reason.strip():
        raise InvalidInputError("a case states why it is opened")
    flag = Flag(e164, "msisdn", "analyst", service.clock.now(), reason.strip(), evidence={"by": by})
    case_id = service.take_flag(flag, key=f"manual:{uuid.uuid4().hex}")
    if case_id is None:
        raise NotFoundError(f"{e164} is not one of the carrier's cards")
    return service.store.get_case(case_id)


def measures_in_force(store: CaseStore, *, kind: str | None = None) -> list[Measure]:
    """Every measure in force (of one kind), the newest first."""
    found = [m for m in store.measures_in_force() if kind is None or str(m.kind) == kind]
    return sorted(found, key=lambda m: (m.in_force_at or m.proposed_at, m.id), reverse=True)


@dataclass(frozen=True, slots=True)
class AppealRow:
    """An appeal with its case's number and whether its review is overdue."""

    appeal: Appeal
    msisdn: str
    overdue: bool


def appeals(
    store: CaseStore, now: dt.datetime, *, state: AppealState | None = None, limit: int = 50
) -> list[AppealRow]:
    """Appeals (under review by default first), review deadline soonest first."""
    rows = [
        AppealRow(a, c.msisdn, a.state is AppealState.UNDER_REVIEW and a.review_due < now)
        for c in store.list_cases(limit=SCAN_LIMIT)
        for a in c.appeals
        if state is None or a.state is state
    ]
    rows.sort(key=lambda r: (r.appeal.state is not AppealState.UNDER_REVIEW, r.appeal.review_due))
    return rows[:limit]


@dataclass(slots=True)
class DisposalFigures:
    """What the dashboard shows of disposal."""

    cases_by_state: dict[str, int] = field(default_factory=dict)
    cases_by_fraud_type: dict[str, int] = field(default_factory=dict)
    cards_flagged: int = 0
    cards_disposed: int = 0
    """Cards with a measure that limits traffic (re-verify, restrict, suspend) ever in force."""
    measures_in_force: dict[str, int] = field(default_factory=dict)
    appeals: dict[str, int] = field(default_factory=dict)
    appeals_overdue: int = 0
    flagged_by_day: dict[dt.date, int] = field(default_factory=dict)
    disposed_by_day: dict[dt.date, int] = field(default_factory=dict)


_DISPOSING = frozenset({"reverify", "restrict", "suspend"})
_ENFORCED = frozenset(
    {MeasureState.IN_FORCE, MeasureState.LIFTED, MeasureState.EXPIRED, MeasureState.ESCALATED}
)


def disposal_figures(store: CaseStore, now: dt.datetime) -> DisposalFigures:
    """Cases by state and fraud type, cards flagged and disposed (per day), appeals, measures."""
    out = DisposalFigures(cases_by_state=store.count_cases())
    for case in store.list_cases(limit=SCAN_LIMIT):
        kinds = fraud_types(case)
        if kinds:
            out.cases_by_fraud_type[kinds[0]] = out.cases_by_fraud_type.get(kinds[0], 0) + 1
        out.cards_flagged += 1
        day = case.opened_at.date()
        out.flagged_by_day[day] = out.flagged_by_day.get(day, 0) + 1
        disposed = [
            m.in_force_at
            for m in case.measures
            if str(m.kind) in _DISPOSING and m.state in _ENFORCED and m.in_force_at is not None
        ]
        if disposed:
            out.cards_disposed += 1
            first = min(disposed).date()
            out.disposed_by_day[first] = out.disposed_by_day.get(first, 0) + 1
        for a in case.appeals:
            out.appeals[str(a.state)] = out.appeals.get(str(a.state), 0) + 1
            out.appeals_overdue += a.state is AppealState.UNDER_REVIEW and a.review_due < now
    out.measures_in_force = dict(Counter(str(m.kind) for m in store.measures_in_force()))
    return out


@dataclass(slots=True)
class WarningFigures:
    """The warnings sent, counted."""

    total: int = 0
    by_band: dict[str, int] = field(default_factory=dict)
    by_fraud_type: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_day: dict[dt.date, int] = field(default_factory=dict)


def warning_figures(store: WarningStore, *, scan: int = SCAN_LIMIT) -> WarningFigures:
    """Warnings by band, fraud type, channel and day of sending (the newest ``scan`` read)."""
    found: list[WarningNotice] = store.list_warnings(limit=scan)
    out = WarningFigures(total=store.count_warnings())
    out.by_band = dict(Counter(w.band for w in found))
    out.by_fraud_type = dict(Counter(w.fraud_type for w in found))
    out.by_channel = dict(Counter(c for w in found for c in w.channels))
    out.by_day = dict(Counter(w.send_at.date() for w in found))
    return out
