"""Fixtures of the service tests: an app over a MemoryStore with one user per role and a key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_service import MemoryServiceStore
from telewarden.api import ApiConfig, create_app
from telewarden.core.ports import FixedClock
from telewarden.core.service_ports import Role
from telewarden.services import accounts
from telewarden.services.context import AppContext

# Argon2id with test-sized parameters: the recommended ones cost most of a second per hash on
# a busy CI machine, and every fixture logs five people in.
accounts.use_password_hasher(
    PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
)

NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


@dataclass
class Service:
    """A test client with a bearer header for every role."""

    client: TestClient
    store: MemoryStore
    service: MemoryServiceStore
    headers: dict[str, dict[str, str]]

    def as_(self, role: str) -> dict[str, str]:
        return self.headers[role]


GATE_BASIS = "test fixture: synthetic messages, no subscriber content"


def open_content_gate(s: Service) -> None:
    """Open the legal gate (closed by default) through the policy route, with its basis."""
    body = {"key": "content_inspection", "value": True, "legal_basis": GATE_BASIS}
    r = s.client.put("/v1/policy/settings", json=body, headers=s.as_("supervisor"))
    assert r.status_code == 200, r.text


def build(
    config: ApiConfig | None = None, *, console: bool = True, measures: bool = False
) -> Service:
    """The app over a MemoryStore; ``measures``: screens honour disposal's measures, as served."""
    clock = FixedClock(NOW)
    store = MemoryStore(clock=clock)
    service = MemoryServiceStore(store)
    cases = None
    if measures:
        from telewarden.adapters.memory_disposal import MemoryDisposalStore

        cases = MemoryDisposalStore(store)
    ctx = AppContext(
        store=store, clock=clock, inspector_factory=lambda: None, hash_key=b"test-key" * 4,
        cases=cases,
    )  # fmt: skip
    app = create_app(
        lambda: ctx,
        config=config or ApiConfig(change_poll_s=0.0, access_log=False),
        service_factory=lambda _ctx: service,
        console=console,
    )
    client = TestClient(app)
    headers: dict[str, dict[str, str]] = {}
    for role in Role:
        accounts.create_user(service, clock, f"{role.value}1", PASSWORD, role.value, actor="test")
        token = client.post(
            "/v1/auth/login", json={"username": f"{role.value}1", "password": PASSWORD}
        ).json()["token"]
        headers[role.value] = {"Authorization": f"Bearer {token}"}
    key = accounts.create_key(service, clock, "sbc-1", actor="test")
    headers["key"] = {"X-API-Key": key.secret}
    return Service(client, store, service, headers)


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    s = build()
    with s.client:
        yield s
