"""Ports of the service (REST API and console): accounts, sessions, statistics, change counter.

Kept apart from :mod:`telewarden.core.ports` (the screening store ports) because only the
service needs them. ``SqlServiceStore`` (``adapters/storage/service_sql.py``) and
``MemoryServiceStore`` (``adapters/memory_service.py``) implement :class:`ServiceStore` over
the same engine or memory store as the screening store, so audit records of account changes
land in the same audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from telewarden.core.screening.types import Decision, ScreeningEvent

__all__ = [
    "ApiKey",
    "DecisionCount",
    "LoggedDecision",
    "Role",
    "ServiceStore",
    "Session",
    "User",
]


class Role(StrEnum):
    """What a caller of the service may do (see ``telewarden.api.auth`` for the grants).

    Examples
    --------
    >>> Role("auditor").value
    'auditor'
    """

    INTEGRATOR = "integrator"
    """Screening only: a SIP proxy or SMS centre calling with an API key."""
    ANALYST = "analyst"
    """Reads everything screening-related; changes opt-ins and lists."""
    SUPERVISOR = "supervisor"
    """An analyst who may also change the policy (and, later, approve suspensions)."""
    AUDITOR = "auditor"
    """Reads everything, including the audit log; changes nothing."""
    ADMIN = "admin"
    """Everything, including users and API keys."""


@dataclass(frozen=True, slots=True)
class User:
    """A person who logs in; ``password_hash`` is an Argon2id PHC string, never the password."""

    username: str
    role: Role
    password_hash: str
    created_at: dt.datetime
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An integrator's key; only the SHA-256 of the secret is stored."""

    key_id: str
    """Public identifier shown in listings and logs (the secret's first characters)."""
    name: str
    role: Role
    key_hash: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in person's bearer token (stored as its SHA-256) and when it expires."""

    token_hash: str
    username: str
    created_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DecisionCount:
    """How many logged single screens had this day, channel, verdict and reason."""

    day: dt.date
    channel: str
    verdict: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One decision to append to the log in a bulk write."""

    event: ScreeningEvent
    decision: Decision
    actor: str
    at: dt.datetime


@runtime_checkable
class ServiceStore(Protocol):
    """Accounts, sessions and the read models the service needs beside the screening ports."""

    # accounts: each change is audited with its actor
    def add_user(self, user: User, *, actor: str) -> None:
        """Create a user; ConflictError when the username is taken."""
        ...

    def get_user(self, username: str) -> User | None:
        """The user, or None."""
        ...

    def list_users(self) -> list[User]:
        """Every user, by username."""
        ...

    def add_key(self, key: ApiKey, *, actor: str) -> None:
        """Store a new API key."""
        ...

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key whose secret hashes to ``key_hash`` (revoked keys too), or None."""
        ...

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        ...

    def revoke_key(self, key_id: str, *, actor: str, at: dt.datetime) -> ApiKey | None:
        """Mark the key revoked; the key as it was, or None when there is no such key."""
        ...

    # sessions
    def add_session(self, session: Session) -> None:
        """Store a session token."""
        ...

    def session_by_hash(self, token_hash: str) -> Session | None:
        """The session, or None."""
        ...

    def remove_session(self, token_hash: str) -> None:
        """Forget the session (log-out)."""
        ...

    # read models
    def change_counter(self) -> int:
        """A number that grows with every audited change (policy, opt-ins, lists, accounts).

        A long-running screener compares it with the value it was loaded at.
        """
        ...

    def log_decisions(self, items: Sequence[LoggedDecision]) -> None:
        """Append many single-screen decisions in one transaction.

        The logged document holds the event and the verdict (reason, rule, SIP mapping,
        message), not the rule trace: re-screening the event explains it.
        """
        ...

    def decision_counts(self, since: dt.datetime) -> list[DecisionCount]:
        """Logged single screens since ``since``, counted by day, channel, verdict and reason."""
        ...

    def decisions_about(self, numbers: Sequence[str], *, limit: int) -> list[dict[str, object]]:
        """The newest logged decisions whose caller or callee is one of ``numbers``."""
        ...
