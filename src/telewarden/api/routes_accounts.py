"""``/v1/auth`` (log in and out, who am I), ``/v1/users`` and ``/v1/keys`` (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from telewarden.api import models as m
from telewarden.api.auth import Admin, Anyone, state_of
from telewarden.api.errors import ERROR_RESPONSES, AuthError
from telewarden.core.service_ports import ApiKey, User
from telewarden.services import accounts

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


def _user(u: User) -> m.UserOut:
    return m.UserOut(
        username=u.username, role=u.role.value, created_at=u.created_at, disabled=u.disabled
    )


def _key(k: ApiKey) -> m.KeyOut:
    return m.KeyOut(
        key_id=k.key_id, name=k.name, role=k.role.value, created_at=k.created_at,
        revoked_at=k.revoked_at,
    )  # fmt: skip


@router.post("/auth/login", response_model=m.LoginOut, tags=["auth"])
def login(body: m.LoginRequest, request: Request) -> m.LoginOut:
    """A session token for a person's username and password (401 when they do not match)."""
    state = state_of(request)
    found = accounts.login(state.service, state.ctx.clock, body.username, body.password)
    if found is None:
        raise AuthError(401, "wrong username or password")
    user, token = found
    return m.LoginOut(
        token=token,
        username=user.username,
        role=user.role.value,
        expires_in_s=int(accounts.SESSION_TTL.total_seconds()),
    )


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(
    who: Anyone,
    request: Request,
) -> None:
    """End the caller's session."""
    if who.token is not None:
        state = state_of(request)
        accounts.logout(state.service, who.token)
        state.auth_cache.pop(who.token, None)


@router.get("/auth/me", response_model=m.Me, tags=["auth"])
async def me(
    who: Anyone,
) -> m.Me:
    """Who the credential belongs to, and its role."""
    return m.Me(kind=who.kind, name=who.name, role=who.role.value)  # type: ignore[arg-type]


@router.get("/users", response_model=list[m.UserOut], tags=["admin"])
def list_users(
    who: Admin,
    request: Request,
) -> list[m.UserOut]:
    """Every user."""
    return [_user(u) for u in state_of(request).service.list_users()]


@router.post("/users", response_model=m.UserOut, status_code=201, tags=["admin"])
def add_user(
    who: Admin,
    body: m.UserIn,
    request: Request,
) -> m.UserOut:
    """Create a user (409 when the username is taken)."""
    state = state_of(request)
    user = accounts.create_user(
        state.service, state.ctx.clock, body.username, body.password, body.role, actor=who.actor
    )
    return _user(user)


@router.get("/keys", response_model=list[m.KeyOut], tags=["admin"])
def list_keys(
    who: Admin,
    request: Request,
) -> list[m.KeyOut]:
    """Every API key (never a secret)."""
    return [_key(k) for k in state_of(request).service.list_keys()]


@router.post("/keys", response_model=m.NewKeyOut, status_code=201, tags=["admin"])
def create_key(
    who: Admin,
    body: m.KeyIn,
    request: Request,
) -> m.NewKeyOut:
    """A new integrator key; its secret is in this response only."""
    state = state_of(request)
    new = accounts.create_key(state.service, state.ctx.clock, body.name, actor=who.actor)
    return m.NewKeyOut(**_key(new.key).model_dump(), secret=new.secret)


@router.delete("/keys/{key_id}", response_model=m.KeyOut, tags=["admin"])
def revoke_key(
    who: Admin,
    key_id: Annotated[str, Path(min_length=1, max_length=32)],
    request: Request,
) -> m.KeyOut:
    """Revoke a key (404 when there is none); other workers stop accepting it within seconds."""
    state = state_of(request)
    key = accounts.revoke_key(state.service, state.ctx.clock, key_id, actor=who.actor)
    state.auth_cache.clear()
    return _key(key)
