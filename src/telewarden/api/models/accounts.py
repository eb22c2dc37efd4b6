"""Models of accounts: log-in, people, API keys and health."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from telewarden.api.models.common import StrictModel


class LoginRequest(StrictModel):
    """A person's credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    """A session token to send as ``Authorization: Bearer``."""

    token: str
    username: str
    role: str
    expires_in_s: int


class Me(BaseModel):
    """Who the credential belongs to."""

    kind: Literal["user", "key"]
    name: str
    role: str


class UserIn(StrictModel):
    """A new user."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=10, max_length=1024)
    role: Literal["integrator", "analyst", "supervisor", "auditor", "admin"]


class UserOut(BaseModel):
    """A user (never the password hash)."""

    username: str
    role: str
    created_at: dt.datetime
    disabled: bool


class KeyIn(StrictModel):
    """A new integrator key."""

    name: str = Field(min_length=1, max_length=64)


class KeyOut(BaseModel):
    """An API key (never its secret)."""

    key_id: str
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class NewKeyOut(KeyOut):
    """A key just created: ``secret`` is shown this once."""

    secret: str


class Health(BaseModel):
    """Liveness and what is loaded."""

    status: Literal["ok"]
    version: str
    screener_version: int
    in_flight: int
