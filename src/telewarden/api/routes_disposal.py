"""``/v1`` routes of disposal and early warning: cases, measures, appeals, credit list, warnings.

Each route parses, calls the disposal use cases (``services.disposal.DisposalService``, the same
ones ``telewarden cases`` and ``telewarden measures`` call) or the read models of
``services.casework`` with the caller as the audit actor, tells the screener cache when a
measure changed, and renders. Analysts open and decide cases, propose and lift measures and
decide appeals; a suspension needs a supervisor's approval (the disposal policy, enforced by the
core's case state machine: 409 otherwise) and credit listings are for supervisors only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from telewarden.api import models as m
from telewarden.api.auth import Approver, Disposer, Principal, Reader, state_of
from telewarden.api.errors import ERROR_RESPONSES
from telewarden.api.paging import Limit, Offset, window
from telewarden.api.render_disposal import (
    appeal_out,
    case_out,
    case_summary,
    listing_out,
    measure_out,
    warning_out,
)
from telewarden.core.disposal.model import AppealState, Approval, Case
from telewarden.core.service_ports import Role
from telewarden.services import casework

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

CaseId = Annotated[str, Path(min_length=1, max_length=64)]
MeasureId = Annotated[str, Path(min_length=1, max_length=64)]


def _changed(request: Request, case: Case) -> m.CaseOut:
    state = state_of(request)
    state.changed()  # the screener enforces the measures in force: reload it
    return case_out(case, state.disposal_store.notices_for(case.id))


def approval_of(who: Principal) -> Approval:
    """The approval level a person's role carries."""
    return Approval.SUPERVISOR if who.role in (Role.SUPERVISOR, Role.ADMIN) else Approval.ANALYST


# -- cases -------------------------------------------------------------------------------------


@router.get("/cases", response_model=m.CasePage, tags=["cases"])
def list_cases(
    who: Reader,
    request: Request,
    offset: Offset = 0,
    limit: Limit = 50,
    state: Literal["open", "confirmed", "appealed", "cleared"] | None = None,
    fraud_type: Annotated[str | None, Query(max_length=64, description="A flag source")] = None,
) -> m.CasePage:
    """The case queue, newest first, by state and fraud type (the flags' source)."""
    window(offset, limit)
    store = state_of(request).disposal_store
    page = casework.case_queue(
        store, state=casework.case_state(state), fraud_type=fraud_type, offset=offset,
        limit=limit,
    )  # fmt: skip
    return m.CasePage(
        items=[case_summary(c) for c in page.cases], total=None, offset=offset, limit=limit,
        next_offset=offset + limit if page.more else None, counts=store.count_cases(),
    )  # fmt: skip


@router.post("/cases", response_model=m.CaseOut, status_code=201, tags=["cases"])
def open_case(who: Disposer, body: m.CaseCreate, request: Request) -> m.CaseOut:
    """Open (or join) a card's case by hand; 404 when it is not one of the carrier's cards."""
    service = state_of(request).disposal()
    case = casework.open_case(service, body.msisdn, reason=body.reason, by=who.actor)
    return _changed(request, case)


@router.get("/cases/{case_id}", response_model=m.CaseOut, tags=["cases"])
def show_case(who: Reader, case_id: CaseId, request: Request) -> m.CaseOut:
    """One case with its evidence (flags), measures, appeals and the notices sent."""
    store = state_of(request).disposal_store
    return case_out(store.get_case(case_id), store.notices_for(case_id))


@router.post("/cases/{case_id}/decision", response_model=m.CaseOut, tags=["cases"])
def decide_case(
    who: Disposer, case_id: CaseId, body: m.CaseDecision, request: Request
) -> m.CaseOut:
    """Confirm fraud (measures stay) or clear the case (every measure lifted at once)."""
    service = state_of(request).disposal()
    return _changed(request, service.decide(case_id, body.outcome, by=who.actor, note=body.note))


# -- measures ----------------------------------------------------------------------------------


@router.get("/measures", response_model=m.MeasurePage, tags=["measures"])
def list_measures(
    who: Reader,
    request: Request,
    kind: Literal["warn", "reverify", "restrict", "suspend"] | None = None,
    limit: Limit = 100,
) -> m.MeasurePage:
    """Measures in force (what the screener enforces), newest first."""
    found = casework.measures_in_force(state_of(request).disposal_store, kind=kind)
    return m.MeasurePage(items=[measure_out(x) for x in found[:limit]], count=len(found))


@router.post(
    "/cases/{case_id}/measures", response_model=m.CaseOut, status_code=201, tags=["measures"]
)
def propose_measure(
    who: Disposer, case_id: CaseId, body: m.MeasureCreate, request: Request
) -> m.CaseOut:
    """Propose a measure; it waits for the approval the policy asks for (suspend: supervisor)."""
    from telewarden.core.disposal.model import MeasureKind

    service = state_of(request).disposal()
    case = service.propose(case_id, MeasureKind(body.kind), by=who.actor, reason=body.reason)
    return _changed(request, case)


@router.post(
    "/cases/{case_id}/measures/{measure_id}/approve", response_model=m.CaseOut, tags=["measures"]
)
def approve_measure(
    who: Disposer, case_id: CaseId, measure_id: MeasureId, request: Request
) -> m.CaseOut:
    """Put a pending measure in force and write its notice; a suspension needs a supervisor
    other than its proposer (409 otherwise)."""
    service = state_of(request).disposal()
    case = service.approve(case_id, measure_id, by=who.actor, role=approval_of(who))
    return _changed(request, case)


@router.post(
    "/cases/{case_id}/measures/{measure_id}/reject", response_model=m.CaseOut, tags=["measures"]
)
def reject_measure(
    who: Disposer,
    case_id: CaseId,
    measure_id: MeasureId,
    body: m.MeasureRejection,
    request: Request,
) -> m.CaseOut:
    """Refuse a pending measure."""
    service = state_of(request).disposal()
    return _changed(request, service.reject(case_id, measure_id, by=who.actor, note=body.note))


@router.post(
    "/cases/{case_id}/measures/{measure_id}/lift", response_model=m.CaseOut, tags=["measures"]
)
def lift_measure(
    who: Disposer, case_id: CaseId, measure_id: MeasureId, request: Request
) -> m.CaseOut:
    """Release a measure in force at once (its lift notice is written)."""
    service = state_of(request).disposal()
    return _changed(request, service.lift(case_id, measure_id, by=who.actor))


# -- appeals -----------------------------------------------------------------------------------


@router.get("/appeals", response_model=m.AppealPage, tags=["appeals"])
def list_appeals(
    who: Reader,
    request: Request,
    state: Literal["under_review", "upheld", "rejected"] | None = None,
    limit: Limit = 50,
) -> m.AppealPage:
    """Appeals with their review deadlines: under review (overdue marked) first."""
    s = state_of(request)
    rows = casework.appeals(
        s.disposal_store, s.ctx.clock.now(),
        state=AppealState(state) if state else None, limit=limit,
    )  # fmt: skip
    return m.AppealPage(items=[appeal_out(r.appeal, r.msisdn, r.overdue) for r in rows])


@router.post(
    "/cases/{case_id}/appeals", response_model=m.CaseOut, status_code=201, tags=["appeals"]
)
def file_appeal(
    who: Disposer, case_id: CaseId, body: m.AppealCreate, request: Request
) -> m.CaseOut:
    """Take the subscriber's appeal (accepted at once; its review is due per the policy)."""
    service = state_of(request).disposal()
    case = service.appeal(case_id, grounds=body.grounds, channel=body.channel, taken_by=who.actor)
    return _changed(request, case)


@router.post("/cases/{case_id}/appeals/decision", response_model=m.CaseOut, tags=["appeals"])
def decide_appeal(
    who: Disposer, case_id: CaseId, body: m.AppealDecision, request: Request
) -> m.CaseOut:
    """Decide the appeal under review: upheld lifts every measure at once and clears the case."""
    service = state_of(request).disposal()
    case = service.decide_appeal(case_id, upheld=body.upheld, by=who.actor, note=body.note)
    return _changed(request, case)


# -- credit list -------------------------------------------------------------------------------


@router.get("/credit/listings", response_model=list[m.CreditListingOut], tags=["credit"])
def list_listings(who: Reader, request: Request, limit: Limit = 50) -> list[m.CreditListingOut]:
    """Credit listings, newest first."""
    return [listing_out(x) for x in state_of(request).disposal_store.list_listings(limit=limit)]


@router.post(
    "/credit/listings", response_model=m.CreditListingChange, status_code=201, tags=["credit"]
)
def create_listing(
    who: Approver, body: m.CreditListingCreate, request: Request
) -> m.CreditListingChange:
    """List an ID document for 2 or 3 years (supervisors); the written notices are returned."""
    report = (
        state_of(request)
        .credit()
        .list_id(body.id_document, basis=body.basis, term_years=body.term_years, by=who.actor)
    )
    return m.CreditListingChange(
        listing=listing_out(report.listing),
        notices=[
            m.NoticeOut(measure_id=None, created_at=report.listing.starts_at, lang=n.lang,
                        subject=n.subject, body=n.body)
            for n in report.notices
        ],
        cards=[c.msisdn for c in report.cards],
    )  # fmt: skip


# -- warnings ----------------------------------------------------------------------------------


@router.get("/warnings", response_model=m.WarningPage, tags=["warnings"])
def list_warnings(
    who: Reader,
    request: Request,
    msisdn: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
) -> m.WarningPage:
    """Warnings sent, newest first (optionally to one subscriber)."""
    store = state_of(request).warning_store
    found = store.list_warnings(msisdn=msisdn, limit=limit)
    return m.WarningPage(items=[warning_out(w) for w in found], total=store.count_warnings())


@router.get("/warnings/stats", response_model=m.WarningStatsOut, tags=["warnings"])
def warning_stats(who: Reader, request: Request) -> m.WarningStatsOut:
    """Warnings sent by band, fraud type, channel and day."""
    f = casework.warning_figures(state_of(request).warning_store)
    return m.WarningStatsOut(
        total=f.total, by_band=f.by_band, by_fraud_type=f.by_fraud_type, by_channel=f.by_channel,
        by_day={d.isoformat(): n for d, n in sorted(f.by_day.items())},
    )  # fmt: skip
