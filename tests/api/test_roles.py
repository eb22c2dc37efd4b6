"""Every route refuses a missing credential and every role it does not grant.

The table below names the permission of each route; the test fails when the app has a route
the table does not list (so a new route cannot ship without deciding who may call it).
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from telewarden.api.auth import GRANTS, Permission
from telewarden.core.service_ports import Role
from tests.api.conftest import Service, build

P = Permission
ANYONE = "anyone"  # any authenticated caller
PUBLIC = "public"

EXPECTED: dict[tuple[str, str], Permission | str] = {
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/metrics"): P.READ,
    ("POST", "/v1/screen"): P.SCREEN,
    ("POST", "/v1/screen/batch"): P.SCREEN,
    ("POST", "/v1/sms/classify"): P.SCREEN,
    ("POST", "/v1/optins"): P.EDIT_LISTS,
    ("GET", "/v1/optins/{msisdn}"): P.READ,
    ("DELETE", "/v1/optins/{msisdn}"): P.EDIT_LISTS,
    ("GET", "/v1/lists/counts"): P.READ,
    ("GET", "/v1/lists/{kind}"): P.READ,
    ("POST", "/v1/lists/{kind}"): P.EDIT_LISTS,
    ("DELETE", "/v1/lists/{kind}/{pattern}"): P.EDIT_LISTS,
    ("GET", "/v1/policy"): P.READ,
    ("PUT", "/v1/policy/settings"): P.EDIT_POLICY,
    ("GET", "/v1/policy/history"): P.READ,
    ("GET", "/v1/audit"): P.AUDIT,
    ("GET", "/v1/decisions"): P.READ,
    ("GET", "/v1/statistics"): P.READ,
    ("GET", "/v1/numbers/{msisdn}"): P.READ,
    ("GET", "/v1/numbers/{msisdn}/score"): P.READ,
    ("POST", "/v1/sms/classify/batch"): P.SCREEN,
    ("GET", "/v1/cases"): P.READ,
    ("POST", "/v1/cases"): P.DISPOSE,
    ("GET", "/v1/cases/{case_id}"): P.READ,
    ("POST", "/v1/cases/{case_id}/decision"): P.DISPOSE,
    ("GET", "/v1/measures"): P.READ,
    ("POST", "/v1/cases/{case_id}/measures"): P.DISPOSE,
    ("POST", "/v1/cases/{case_id}/measures/{measure_id}/approve"): P.DISPOSE,
    ("POST", "/v1/cases/{case_id}/measures/{measure_id}/reject"): P.DISPOSE,
    ("POST", "/v1/cases/{case_id}/measures/{measure_id}/lift"): P.DISPOSE,
    ("GET", "/v1/appeals"): P.READ,
    ("POST", "/v1/cases/{case_id}/appeals"): P.DISPOSE,
    ("POST", "/v1/cases/{case_id}/appeals/decision"): P.DISPOSE,
    ("GET", "/v1/credit/listings"): P.READ,
    ("POST", "/v1/credit/listings"): P.APPROVE,
    ("GET", "/v1/warnings"): P.READ,
    ("GET", "/v1/warnings/stats"): P.READ,
    ("GET", "/v1/models"): P.READ,
    ("GET", "/v1/models/{kind}/{version}"): P.READ,
    ("POST", "/v1/models/{kind}/{version}/promote"): P.APPROVE,
    ("POST", "/v1/models/{kind}/rollback"): P.APPROVE,
    ("POST", "/v1/auth/login"): PUBLIC,
    ("POST", "/v1/auth/logout"): ANYONE,
    ("GET", "/v1/auth/me"): ANYONE,
    ("GET", "/v1/users"): P.ADMIN,
    ("POST", "/v1/users"): P.ADMIN,
    ("GET", "/v1/keys"): P.ADMIN,
    ("POST", "/v1/keys"): P.ADMIN,
    ("DELETE", "/v1/keys/{key_id}"): P.ADMIN,
    # the console: no session -> redirect to the log-in page; wrong role -> 403 page
    ("GET", "/"): PUBLIC,
    ("GET", "/console/login"): PUBLIC,
    ("POST", "/console/login"): PUBLIC,
    ("POST", "/console/logout"): P.READ,
    ("GET", "/console/"): P.READ,
    ("GET", "/console/policy"): P.READ,
    ("POST", "/console/policy/set"): P.EDIT_POLICY,
    ("POST", "/console/lists/add"): P.EDIT_LISTS,
    ("GET", "/console/numbers"): P.READ,
    ("GET", "/console/numbers/{msisdn}"): P.READ,
    ("GET", "/console/audit"): P.AUDIT,
    ("GET", "/console/cases"): P.READ,
    ("POST", "/console/cases"): P.DISPOSE,
    ("GET", "/console/cases/{case_id}"): P.READ,
    ("POST", "/console/cases/{case_id}/propose"): P.DISPOSE,
    ("POST", "/console/cases/{case_id}/measures/{measure_id}/approve"): P.DISPOSE,
    ("POST", "/console/cases/{case_id}/measures/{measure_id}/reject"): P.DISPOSE,
    ("POST", "/console/cases/{case_id}/measures/{measure_id}/lift"): P.DISPOSE,
    ("POST", "/console/cases/{case_id}/decide"): P.DISPOSE,
    ("POST", "/console/cases/{case_id}/appeal"): P.DISPOSE,
    ("POST", "/console/cases/{case_id}/appeal/decide"): P.DISPOSE,
    ("GET", "/console/measures"): P.READ,
    ("GET", "/console/warnings"): P.READ,
}
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect"}
SAMPLES = {
    "msisdn": "13800138000", "kind": "deny", "pattern": "+8613800000000", "key_id": "x",
    "case_id": "Cnone", "measure_id": "Mnone", "version": "1",
}  # fmt: skip


@pytest.fixture(scope="module")
def walk() -> Service:
    return build()


def _flat(routes: list[object]) -> list[APIRoute]:
    """API routes, looking inside included routers (FastAPI >= 0.160 keeps them nested)."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):
            out.extend(_flat(route.original_router.routes))
    return out


def _routes(svc: Service) -> dict[tuple[str, str], APIRoute]:
    found = {}
    for route in _flat(svc.client.app.routes):  # type: ignore[attr-defined]
        if route.path not in DOCS:
            for method in route.methods:
                found[(method, route.path)] = route
    return found


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)


def test_the_table_names_every_route(walk: Service) -> None:
    assert set(_routes(walk)) == set(EXPECTED)


@pytest.mark.parametrize("method,path", sorted(k for k, v in EXPECTED.items() if v != PUBLIC))
def test_missing_and_wrong_role_credentials_are_refused(
    walk: Service, method: str, path: str
) -> None:
    url = _url(path)
    console = path.startswith("/console")
    r = walk.client.request(method, url, follow_redirects=False)
    if console:
        assert r.status_code == 303 and r.headers["location"] == "/console/login"
    else:
        assert r.status_code == 401, r.text
        assert r.headers.get("www-authenticate") == "Bearer"
        bad = {"Authorization": "Bearer twk_not-a-real-key"}
        assert walk.client.request(method, url, headers=bad).status_code == 401
    permission = EXPECTED[(method, path)]
    if permission == ANYONE:
        return
    assert isinstance(permission, Permission)
    refused = [r for r in Role if r not in GRANTS[permission]]
    callers = [r.value for r in refused] + (["key"] if permission != P.SCREEN else [])
    for who in callers:
        headers = walk.as_(who)
        if console:
            token = headers.get("Authorization", "Bearer x").split()[1]
            walk.client.cookies.set("tw_session", token)
            r = walk.client.request(method, url, follow_redirects=False)
            walk.client.cookies.clear()
            expected = 303 if who == "key" else 403  # a key is no console session
        else:
            r = walk.client.request(method, url, headers=headers)
            expected = 403
        assert r.status_code == expected, f"{who} on {method} {path}: {r.status_code}"


def test_roles_granted_are_let_through(walk: Service) -> None:
    """A granted role gets past authorisation (the answer is not 401 or 403)."""
    checks = [
        ("GET", "/v1/policy", "auditor"),
        ("GET", "/v1/audit", "auditor"),
        ("PUT", "/v1/policy/settings", "supervisor"),
        ("POST", "/v1/lists/deny", "analyst"),
        ("POST", "/v1/screen", "key"),
        ("GET", "/v1/users", "admin"),
        ("GET", "/v1/cases", "auditor"),
        ("POST", "/v1/cases", "analyst"),
        ("POST", "/v1/credit/listings", "supervisor"),
        ("GET", "/v1/warnings/stats", "auditor"),
    ]
    for method, url, who in checks:
        r = walk.client.request(method, url, headers=walk.as_(who), json={})
        assert r.status_code not in (401, 403), (method, url, who, r.status_code)
