"""What every console page shares: the session check, CSRF, language, rendering, form actions.

Pages authenticate with the ``tw_session`` cookie (HttpOnly, SameSite=Strict) set at log-in;
forms that change something carry a CSRF field derived from the session token. A section of
its own (``register_section``) imports its page helpers from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from telewarden.api.auth import (
    GRANTS,
    SESSION_COOKIE,
    Permission,
    Principal,
    principal_for,
    state_of,
)
from telewarden.api.console.i18n import LANGS, reason_label, translate
from telewarden.api.console.sections import sections
from telewarden.api.errors import HttpError
from telewarden.api.state import ApiState
from telewarden.core.errors import TelewardenError

__all__ = [
    "Auditor",
    "ConsoleAuthError",
    "ListEditor",
    "PolicyEditor",
    "Viewer",
    "act",
    "check_csrf",
    "console_principal",
    "csrf_token",
    "lang_of",
    "render",
]

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
LANG_COOKIE = "tw_lang"

T = TypeVar("T")


class ConsoleAuthError(Exception):
    """No session (redirect to log-in) or a role without the permission (403 page)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def lang_of(request: Request) -> str:
    """The page's language: ``?lang=``, else the language cookie, else Chinese."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return asked if asked in LANGS else "zh"


def csrf_token(principal: Principal) -> str:
    """The CSRF field of a session's forms (a hash of its token: no server-side state)."""
    return hashlib.sha256(f"csrf:{principal.token}".encode()).hexdigest()[:32]


def _principal(request: Request, permission: Permission) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise ConsoleAuthError(303)
    found = principal_for(state_of(request), token)
    if found is None or found.kind != "user":
        raise ConsoleAuthError(303)
    if found.role not in GRANTS[permission]:
        raise ConsoleAuthError(403)
    return found


def console_principal(permission: Permission) -> Any:
    """A dependency: the logged-in person holding ``permission`` (else log-in or a 403 page)."""

    def check(request: Request) -> Principal:
        return _principal(request, permission)

    return Depends(check)


Viewer = Annotated[Principal, console_principal(Permission.READ)]
ListEditor = Annotated[Principal, console_principal(Permission.EDIT_LISTS)]
PolicyEditor = Annotated[Principal, console_principal(Permission.EDIT_POLICY)]
Auditor = Annotated[Principal, console_principal(Permission.AUDIT)]


def check_csrf(principal: Principal, csrf: str) -> None:
    """Refuse (403) a form whose CSRF field is not the session's."""
    if csrf != csrf_token(principal):
        raise HttpError(403, "stale or missing form token; reload the page")


def act(
    request: Request,
    who: Principal,
    csrf: str,
    change: Callable[[ApiState], T],
    back: Callable[[str], Response],
    done: Callable[[T], str],
) -> Response:
    """A form's change: CSRF checked, ``change`` run, then ``back`` with ``✓ done`` or ``✗ why``."""
    check_csrf(who, csrf)
    state = state_of(request)
    try:
        result = change(state)
    except TelewardenError as exc:
        return back(f"✗ {exc}")
    state.changed()
    return back(f"✓ {done(result)}")


def render(
    request: Request, template: str, principal: Principal | None, status: int = 200, **values: Any
) -> HTMLResponse:
    """A page in the request's language, with the navigation the principal may see."""
    lang = lang_of(request)
    nav = [
        s for s in sections() if principal is not None and principal.role in GRANTS[s.permission]
    ]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": lambda key: translate(key, lang),
            "reason": lambda code: reason_label(str(code), lang),
            "lang": lang,
            "other_lang": "en" if lang == "zh" else "zh",
            "nav": nav,
            "who": principal,
            "csrf": csrf_token(principal) if principal is not None and principal.token else "",
            "can": lambda p: principal is not None and principal.role in GRANTS[Permission(p)],
            **values,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", max_age=365 * 86400)
    return response
