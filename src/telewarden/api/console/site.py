"""The console's built-in pages: log-in, dashboard, policy, a number's page, audit log.

Pages authenticate with the ``tw_session`` cookie set at log-in and check the CSRF field of
their forms (``console/pages.py``). A page calls the same services as the ``/v1`` routes,
with the person as the audit actor.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from telewarden.api.auth import SESSION_COOKIE, Permission, state_of
from telewarden.api.console.charts import stacked_bars
from telewarden.api.console.i18n import reason_label, translate
from telewarden.api.console.pages import (
    Auditor,
    ConsoleAuthError,
    ListEditor,
    PolicyEditor,
    Viewer,
    act,
    check_csrf,
    lang_of,
    render,
)
from telewarden.api.console.panels import dashboard_panels
from telewarden.api.console.sections import Section, register_section, sections
from telewarden.core.errors import TelewardenError
from telewarden.services import accounts, lists, optins, policy, statistics

__all__ = ["mount_console"]

HERE = Path(__file__).resolve().parent
router = APIRouter(prefix="/console", include_in_schema=False)


# -- log-in ------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """The log-in form."""
    return render(request, "login.html", None, failed=False)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Check the password; set the session cookie and go to the dashboard."""
    state = state_of(request)
    found = accounts.login(state.service, state.ctx.clock, username, password)
    if found is None:
        return render(request, "login.html", None, status=401, failed=True)
    _user, token = found
    response = RedirectResponse("/console/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict",
        max_age=int(accounts.SESSION_TTL.total_seconds()), path="/",
    )  # fmt: skip
    return response


@router.post("/logout")
def logout(who: Viewer, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """End the session."""
    check_csrf(who, csrf)
    state = state_of(request)
    if who.token:
        accounts.logout(state.service, who.token)
        state.auth_cache.pop(who.token, None)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- dashboard ---------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def dashboard(
    who: Viewer, request: Request, days: Annotated[int, Query(ge=1, le=statistics.MAX_DAYS)] = 14
) -> HTMLResponse:
    """Totals, calls and SMS stopped per day by reason, batch screening, recent decisions."""
    state = state_of(request)
    state.decisions.flush()
    lang = lang_of(request)
    found = statistics.statistics(state.service, state.ctx.store, state.ctx.clock, days=days)
    first = found.since.date()
    day_list = [first + dt.timedelta(days=i) for i in range(days)]
    labels = [d.strftime("%m-%d") for d in day_list]
    stopped = found.stopped_by_day()
    reasons = sorted({r for per in stopped.values() for r in per})
    series = {r: [stopped.get(d, {}).get(r, 0) for d in day_list] for r in reasons}
    stopped_svg = stacked_bars(
        labels,
        series,
        labels={r: reason_label(r, lang) for r in reasons},
        empty=translate("no_data", lang),
    )
    batch_by_day = {b.day: b for b in found.batches}
    batch_series = {
        translate("blocked", lang): [
            batch_by_day[d].blocked if d in batch_by_day else 0 for d in day_list
        ],
        translate("screened", lang) + " − " + translate("blocked", lang): [
            batch_by_day[d].screened - batch_by_day[d].blocked if d in batch_by_day else 0
            for d in day_list
        ],
    }
    batch_svg = stacked_bars(labels, batch_series, empty=translate("no_data", lang))
    recent = state.ctx.store.recent_decisions(limit=15)
    return render(
        request, "dashboard.html", who, days=days, totals=found.totals(),
        stopped_svg=stopped_svg, batch_svg=batch_svg, recent=recent,
        **dashboard_panels(request, day_list, lang),
    )  # fmt: skip


# -- policy ------------------------------------------------------------------------------------


@router.get("/policy", response_class=HTMLResponse)
def policy_page(
    who: Viewer,
    request: Request,
    msisdn: Annotated[str, Query(max_length=64)] = "",
    prefix: Annotated[str, Query(max_length=32)] = "",
    message: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """Cross-border defaults per region, opt-in look-up, lists."""
    store = state_of(request).ctx.store
    version, settings = policy.policy_in_force(store)
    optin_result: dict[str, Any] | None = None
    if msisdn.strip():
        try:
            e164, records = optins.optins_of(store, msisdn)
            optin_result = {"e164": e164, "records": records, "error": None}
        except TelewardenError as exc:
            optin_result = {"e164": None, "records": [], "error": str(exc)}
    counts = lists.count_entries(store, [lists.list_kind(k) for k in lists.KINDS])
    clean_prefix = prefix.strip() if prefix.strip().lstrip("+").isdigit() else ""
    shown = {
        k: lists.show_entries(store, lists.list_kind(k), starting_with=clean_prefix, limit=20)[0]
        for k in lists.KINDS
    }
    return render(
        request, "policy.html", who, version=version, settings=settings, msisdn=msisdn,
        optin_result=optin_result, counts=counts, shown=shown, prefix=clean_prefix,
        message=message,
    )  # fmt: skip


def _back(message: str) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"/console/policy?message={quote(message[:200])}", status_code=303)


@router.post("/policy/set")
def policy_set(
    who: PolicyEditor,
    request: Request,
    key: Annotated[str, Form(max_length=200)],
    value: Annotated[str, Form(max_length=2000)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Change one policy setting (supervisors and admins)."""
    return act(
        request, who, csrf,
        lambda s: policy.set_policy_value(s.ctx.store, key, value, actor=who.actor),
        _back,
        lambda c: f"{c.key} = {json.dumps(c.value, ensure_ascii=False)} (v{c.version})",
    )  # fmt: skip


@router.post("/lists/add")
def lists_add(
    who: ListEditor,
    request: Request,
    kind: Annotated[str, Form(max_length=8)],
    pattern: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Add a list entry (analysts, supervisors, admins)."""
    return act(
        request, who, csrf,
        lambda s: lists.add_entry(
            s.ctx.store, lists.list_kind(kind), pattern, reason=reason, source="console",
            actor=who.actor,
        ),
        _back,
        lambda added: f"{kind}: {added[0].pattern}",
    )  # fmt: skip


# -- numbers -----------------------------------------------------------------------------------


@router.get("/numbers", response_class=HTMLResponse)
def numbers_search(
    who: Viewer, request: Request, msisdn: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    """The look-up form, or a redirect to the number's page."""
    if msisdn.strip():
        from urllib.parse import quote

        return RedirectResponse(f"/console/numbers/{quote(msisdn.strip())}", status_code=303)
    return render(request, "number.html", who, profile=None, error=None, cases=[])


@router.get("/numbers/{msisdn}", response_class=HTMLResponse)
def number_page(who: Viewer, request: Request, msisdn: str) -> HTMLResponse:
    """What is known about one number: analysis, list status, opt-ins, decisions."""
    state = state_of(request)
    state.decisions.flush()
    try:
        profile = statistics.number_profile(state.ctx.store, state.service, msisdn, limit=50)
    except TelewardenError as exc:
        return render(request, "number.html", who, status=422, profile=None, error=str(exc))
    cases = []
    if profile.e164:
        from telewarden.services.casework import case_queue_of

        cases = case_queue_of(state.disposal_store, profile.e164)
    return render(request, "number.html", who, profile=profile, error=None, cases=cases)


# -- audit -------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_page(who: Auditor, request: Request) -> HTMLResponse:
    """The newest audited changes with their actors."""
    records = state_of(request).ctx.store.audit_log(limit=100)
    return render(request, "audit.html", who, records=records)


BUILT_IN = (
    Section("dashboard", "总览", "Dashboard", "/console/", Permission.READ, order=10),
    Section("policy", "策略", "Policy", "/console/policy", Permission.READ, order=20),
    Section("numbers", "号码", "Numbers", "/console/numbers", Permission.READ, order=30),
    Section("audit", "审计日志", "Audit log", "/console/audit", Permission.AUDIT, order=90),
)


def mount_console(app: FastAPI) -> None:
    """Add the console's pages, its static files and every registered section's router."""
    from telewarden.api.console import disposal

    for section in BUILT_IN:
        register_section(section)
    disposal.register()
    app.include_router(router)
    for section in sections():
        if section.router is not None:
            app.include_router(section.router)
    app.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")

    async def console_auth(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConsoleAuthError)
        if exc.status == 303:
            return RedirectResponse("/console/login", status_code=303)
        return render(request, "error.html", None, status=403, title="forbidden")

    app.add_exception_handler(ConsoleAuthError, console_auth)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)
