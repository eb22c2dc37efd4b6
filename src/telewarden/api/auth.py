"""Who may call what: credentials, principals, roles and their grants.

Credentials: ``Authorization: Bearer <API key or session token>`` or ``X-API-Key: <key>`` on
``/v1``; the console's ``tw_session`` cookie on console pages. API keys belong to integrators
(screening only); people log in (``POST /v1/auth/login``) and act with their role.

A verified credential is trusted for ``ApiConfig.auth_cache_s`` seconds without a store look-up
(so a key revoked from the CLI stops working within that time); a failed one is never cached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from telewarden.api.errors import AuthError
from telewarden.api.state import ApiState
from telewarden.core.service_ports import Role
from telewarden.services import accounts

__all__ = ["GRANTS", "Permission", "Principal", "authenticate", "require", "state_of"]

SESSION_COOKIE = "tw_session"
_AUTH_CACHE_MAX = 10_000


class Permission(StrEnum):
    """What a route needs."""

    SCREEN = "screen"
    READ = "read"
    EDIT_LISTS = "edit_lists"
    """Opt-ins and deny/allow lists."""
    EDIT_POLICY = "edit_policy"
    DISPOSE = "dispose"
    """Open and decide cases, propose and lift measures, file and decide appeals."""
    APPROVE = "approve"
    """Approve what needs a supervisor: suspensions, credit listings."""
    AUDIT = "audit"
    ADMIN = "admin"
    """Users and API keys."""


GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.SCREEN: frozenset({Role.INTEGRATOR, Role.ANALYST, Role.SUPERVISOR, Role.ADMIN}),
    Permission.READ: frozenset({Role.ANALYST, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN}),
    Permission.EDIT_LISTS: frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN}),
    Permission.EDIT_POLICY: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Permission.DISPOSE: frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN}),
    Permission.APPROVE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Permission.AUDIT: frozenset({Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN}),
    Permission.ADMIN: frozenset({Role.ADMIN}),
}
"""Roles granted each permission; auditors read and audit but change nothing."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a person (``user``) or an integrator's key (``key``)."""

    kind: str
    name: str
    role: Role
    token: str | None = None
    """The session token of a person (for log-out and the console's CSRF field)."""

    @property
    def actor(self) -> str:
        """The audit log's actor: ``user:alice`` or ``key:twk_Ab12...``."""
        return f"{self.kind}:{self.name}"[:64]


def state_of(request: Request) -> ApiState:
    """The process state the app was built with."""
    state: ApiState = request.app.state.api
    return state


def _lookup(state: ApiState, secret: str) -> Principal | None:
    service, clock = state.service, state.ctx.clock
    if secret.startswith(accounts.KEY_PREFIX):
        key = accounts.key_for_secret(service, secret)
        return None if key is None else Principal("key", key.key_id, key.role)
    user = accounts.session_user(service, clock, secret)
    return None if user is None else Principal("user", user.username, user.role, secret)


def principal_for(state: ApiState, secret: str) -> Principal | None:
    """The principal of a key or session token, through the short-lived cache."""
    cache = state.auth_cache
    hit = cache.get(secret)
    now = time.monotonic()
    if hit is not None and hit[1] > now:
        principal = hit[0]
        assert isinstance(principal, Principal)
        return principal
    found = _lookup(state, secret)
    if found is None:
        cache.pop(secret, None)
        return None
    if len(cache) >= _AUTH_CACHE_MAX:
        cache.clear()
    cache[secret] = (found, now + state.config.auth_cache_s)
    return found


_bearer = HTTPBearer(
    auto_error=False, description="An API key or a session token from /v1/auth/login"
)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An integrator's API key")


async def authenticate(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The caller, or 401."""
    secret = bearer.credentials if bearer is not None else api_key
    if not secret:
        raise AuthError(401, "authentication required: send Authorization: Bearer <token or key>")
    principal = principal_for(state_of(request), secret.strip())
    if principal is None:
        raise AuthError(401, "unknown, expired or revoked credential")
    return principal


def require(permission: Permission) -> Any:
    """A dependency that lets through only principals whose role has ``permission``."""
    allowed = GRANTS[permission]

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in allowed:
            raise AuthError(403, f"role {principal.role.value} may not {permission.value}")
        return principal

    return Depends(check)


Screening = Annotated[Principal, require(Permission.SCREEN)]
Reader = Annotated[Principal, require(Permission.READ)]
ListEditor = Annotated[Principal, require(Permission.EDIT_LISTS)]
PolicyEditor = Annotated[Principal, require(Permission.EDIT_POLICY)]
Disposer = Annotated[Principal, require(Permission.DISPOSE)]
Approver = Annotated[Principal, require(Permission.APPROVE)]
Auditor = Annotated[Principal, require(Permission.AUDIT)]
Admin = Annotated[Principal, require(Permission.ADMIN)]
Anyone = Annotated[Principal, Depends(authenticate)]
"""Route parameter types: ``who: Reader`` lets through the roles granted ``read``."""
