"""The console's disposal and early-warning pages: case queue, a case, measures, warnings.

Registered as console sections (``register_section``). Pages read through
``services.casework``; buttons post forms that call the same disposal use cases as
``/v1/cases/...`` (``DisposalService``) with the person as the audit actor, then go back to the
case with a message. A suspension is proposed by an analyst and approved by a supervisor (the
core refuses an analyst's or the proposer's own approval; the page shows why).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telewarden.api.auth import Permission, Principal, state_of
from telewarden.api.console.charts import bars, stacked_bars
from telewarden.api.console.i18n import translate
from telewarden.api.console.pages import Viewer, act, check_csrf, console_principal, lang_of, render
from telewarden.api.console.sections import Section, register_section
from telewarden.api.routes_disposal import approval_of
from telewarden.core.disposal.model import AppealState, CaseState, MeasureKind
from telewarden.core.errors import TelewardenError
from telewarden.services import casework

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False)

Disposer = Annotated[Principal, console_principal(Permission.DISPOSE)]

STATES = tuple(s.value for s in CaseState)
KINDS = tuple(k.value for k in MeasureKind)


def _to_case(case_id: str, message: str) -> RedirectResponse:
    return RedirectResponse(
        f"/console/cases/{quote(case_id)}?message={quote(message[:300])}", status_code=303
    )


# -- queue and case ----------------------------------------------------------------------------


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    who: Viewer,
    request: Request,
    state: Annotated[str, Query(max_length=16)] = "",
    fraud_type: Annotated[str, Query(max_length=64)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    message: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    """The case queue with filters by state and fraud type."""
    store = state_of(request).disposal_store
    wanted = state if state in STATES else None
    page = casework.case_queue(
        store, state=casework.case_state(wanted), fraud_type=fraud_type.strip() or None,
        offset=offset, limit=50,
    )  # fmt: skip
    figures = casework.disposal_figures(store, state_of(request).ctx.clock.now())
    return render(
        request, "cases.html", who, page=page, state=wanted or "", fraud_type=fraud_type.strip(),
        states=STATES, fraud_types=sorted(figures.cases_by_fraud_type), counts=store.count_cases(),
        kinds_of=casework.fraud_types, message=message,
    )  # fmt: skip


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    who: Viewer,
    request: Request,
    case_id: str,
    message: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    """One case: evidence, measures with their approval buttons, notices, appeals."""
    s = state_of(request)
    try:
        case = s.disposal_store.get_case(case_id)
    except TelewardenError as exc:
        return render(request, "error.html", who, status=404, title="not_found", text=str(exc))
    lang = lang_of(request)
    notices = [n for n in s.disposal_store.notices_for(case_id) if n.notice.lang == lang]
    return render(
        request, "case.html", who, case=case, notices=notices, message=message, kinds=KINDS,
        fraud_types=casework.fraud_types(case), now=s.ctx.clock.now(),
        open_appeal=case.open_appeal(), pending=case.pending(),
        is_supervisor=approval_of(who).value == "supervisor",
    )  # fmt: skip


def _act(
    request: Request, who: Principal, csrf: str, case_id: str, done: str, change: Any
) -> Response:
    return act(
        request, who, csrf, lambda s: change(s.disposal()),
        lambda message: _to_case(case_id, message),
        lambda _: translate(done, lang_of(request)),
    )  # fmt: skip


@router.post("/cases/{case_id}/propose")
def propose(
    who: Disposer,
    request: Request,
    case_id: str,
    kind: Annotated[str, Form(max_length=16)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Propose a measure (a suspension then waits for a supervisor)."""
    if kind not in KINDS:
        return _to_case(case_id, f"✗ unknown measure {kind!r}")
    return _act(
        request, who, csrf, case_id, "propose",
        lambda svc: svc.propose(case_id, MeasureKind(kind), by=who.actor),
    )  # fmt: skip


def _measure_action(action: str, doc: str, change: Any) -> None:
    """``POST /console/cases/{case_id}/measures/{measure_id}/<action>``: ``change(svc, ...)``."""

    def handler(
        who: Disposer,
        request: Request,
        case_id: str,
        measure_id: str,
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        return _act(
            request, who, csrf, case_id, action,
            lambda svc: change(svc, case_id, measure_id, who),
        )  # fmt: skip

    handler.__name__ = handler.__qualname__ = action
    handler.__doc__ = doc
    router.post(f"/cases/{{case_id}}/measures/{{measure_id}}/{action}")(handler)


_measure_action(
    "approve", "Approve a pending measure: in force at once, its notice written.",
    lambda svc, case_id, measure_id, who: svc.approve(
        case_id, measure_id, by=who.actor, role=approval_of(who)
    ),
)  # fmt: skip
_measure_action(
    "reject", "Refuse a pending measure.",
    lambda svc, case_id, measure_id, who: svc.reject(case_id, measure_id, by=who.actor),
)  # fmt: skip
_measure_action(
    "lift", "Release a measure in force.",
    lambda svc, case_id, measure_id, who: svc.lift(case_id, measure_id, by=who.actor),
)  # fmt: skip


@router.post("/cases/{case_id}/decide")
def decide(
    who: Disposer,
    request: Request,
    case_id: str,
    outcome: Annotated[str, Form(max_length=8)],
    note: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Confirm fraud or clear the case."""
    return _act(
        request, who, csrf, case_id, outcome if outcome in ("confirm", "clear") else "decision",
        lambda svc: svc.decide(case_id, outcome, by=who.actor, note=note),
    )  # fmt: skip


@router.post("/cases/{case_id}/appeal")
def file_appeal(
    who: Disposer,
    request: Request,
    case_id: str,
    grounds: Annotated[str, Form(max_length=2000)],
    channel: Annotated[str, Form(max_length=32)] = "hotline",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Take the subscriber's appeal (accepted at once; review due per the policy)."""
    return _act(
        request, who, csrf, case_id, "file_appeal",
        lambda svc: svc.appeal(
            case_id, grounds=grounds, channel=channel or "hotline", taken_by=who.actor
        ),
    )  # fmt: skip


@router.post("/cases/{case_id}/appeal/decide")
def decide_appeal(
    who: Disposer,
    request: Request,
    case_id: str,
    upheld: Annotated[str, Form(max_length=5)],
    note: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Uphold the appeal (every measure lifted, case cleared) or reject it."""
    yes = upheld == "true"
    return _act(
        request, who, csrf, case_id, "accept_appeal" if yes else "reject_appeal",
        lambda svc: svc.decide_appeal(case_id, upheld=yes, by=who.actor, note=note),
    )  # fmt: skip


@router.post("/cases")
def open_case(
    who: Disposer,
    request: Request,
    msisdn: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=500)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Open (or join) a card's case by hand."""
    check_csrf(who, csrf)
    state = state_of(request)
    try:
        case = casework.open_case(state.disposal(), msisdn, reason=reason, by=who.actor)
    except TelewardenError as exc:
        return RedirectResponse(f"/console/cases?message={quote(str(exc)[:300])}", status_code=303)
    return _to_case(case.id, f"✓ {translate('open_case', lang_of(request))}")


# -- measures, appeals, warnings ---------------------------------------------------------------


@router.get("/measures", response_class=HTMLResponse)
def measures_page(who: Viewer, request: Request) -> HTMLResponse:
    """Measures in force and appeals with their review deadlines."""
    s = state_of(request)
    now = s.ctx.clock.now()
    return render(
        request, "measures.html", who,
        measures=casework.measures_in_force(s.disposal_store)[:500],
        appeals=casework.appeals(s.disposal_store, now, limit=200),
        under_review=AppealState.UNDER_REVIEW,
    )  # fmt: skip


@router.get("/warnings", response_class=HTMLResponse)
def warnings_page(
    who: Viewer, request: Request, msisdn: Annotated[str, Query(max_length=64)] = ""
) -> HTMLResponse:
    """Warnings sent: per day, by band and fraud type, and the newest."""
    store = state_of(request).warning_store
    lang = lang_of(request)
    figures = casework.warning_figures(store)
    days = sorted(figures.by_day)
    per_day = stacked_bars(
        [d.strftime("%m-%d") for d in days],
        {translate("warnings_sent", lang): [figures.by_day[d] for d in days]},
        empty=translate("no_data", lang),
    )
    return render(
        request, "warnings.html", who, figures=figures, per_day_svg=per_day,
        by_type_svg=bars(figures.by_fraud_type, empty=translate("no_data", lang)),
        warnings=store.list_warnings(msisdn=msisdn.strip() or None, limit=100),
        msisdn=msisdn.strip(),
    )  # fmt: skip


SECTIONS = (
    Section("cases", "案件", "Cases", "/console/cases", Permission.READ, router, order=25),
    Section("measures", "处置措施", "Measures", "/console/measures", Permission.READ, order=26),
    Section("warnings", "预警", "Warnings", "/console/warnings", Permission.READ, order=27),
)


def register() -> None:
    """Add the cases, measures and warnings sections to the console."""
    for section in SECTIONS:
        register_section(section)
