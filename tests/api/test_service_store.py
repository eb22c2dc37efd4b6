"""The service store: the same behaviour from MemoryServiceStore, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.service_store import service_store_for
from telewarden.adapters.storage.sql import SqlStore
from telewarden.core.errors import ConflictError, InvalidInputError
from telewarden.core.ports import FixedClock
from telewarden.core.screening import Channel, Screener, ScreeningEvent
from telewarden.core.service_ports import LoggedDecision, Role, ServiceStore
from telewarden.services import accounts

T0 = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    base = request.getfixturevalue("postgres_url")
    schema = f"tw_api_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f"create schema {schema}"))
    yield f"{base}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"drop schema {schema} cascade"))
    admin.dispose()


def _memory(_tmp: Path, _req: pytest.FixtureRequest) -> tuple[MemoryStore, ServiceStore]:
    store = MemoryStore(clock=FixedClock(T0))
    return store, service_store_for(store, FixedClock(T0))


def _sqlite(tmp: Path, _req: pytest.FixtureRequest) -> tuple[SqlStore, ServiceStore]:
    store = SqlStore.open(f"sqlite:///{tmp / 'tw.db'}", clock=FixedClock(T0))
    return store, service_store_for(store, FixedClock(T0))


def _postgres(_tmp: Path, req: pytest.FixtureRequest) -> tuple[SqlStore, ServiceStore]:
    store = SqlStore.open(req.getfixturevalue("pg_url"), clock=FixedClock(T0))
    with store.engine.begin() as conn:
        for table in ("api_sessions", "api_keys", "api_users", "decision_log", "audit_log"):
            conn.execute(sa.text(f"delete from {table}"))
    return store, service_store_for(store, FixedClock(T0))


BACKENDS: dict[str, Callable[..., tuple[object, ServiceStore]]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "postgresql": pytest.param(_postgres, marks=pytest.mark.integration),  # type: ignore[dict-item]
}


@pytest.fixture(params=list(BACKENDS.values()), ids=list(BACKENDS))
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[object, ServiceStore]]:
    pair = request.param(tmp_path, request)
    yield pair
    close = getattr(pair[0], "close", None)
    if close is not None:
        close()


def test_users_keys_sessions_and_their_audit(stores: tuple[object, ServiceStore]) -> None:
    store, service = stores
    clock = FixedClock(T0)
    counter = service.change_counter()
    user = accounts.create_user(
        service, clock, "wang.li", "a long password", "supervisor", actor="admin"
    )
    assert service.change_counter() > counter
    assert service.get_user("wang.li") == user and user.role is Role.SUPERVISOR
    assert "a long password" not in user.password_hash
    with pytest.raises(ConflictError):
        accounts.create_user(service, clock, "wang.li", "a long password", "analyst", actor="x")
    with pytest.raises(InvalidInputError):
        accounts.create_user(service, clock, "bad name", "a long password", "analyst", actor="x")
    with pytest.raises(InvalidInputError):
        accounts.create_user(service, clock, "short", "pw", "analyst", actor="x")
    assert accounts.login(service, clock, "wang.li", "wrong password") is None
    found = accounts.login(service, clock, "wang.li", "a long password")
    assert found is not None
    _, token = found
    assert accounts.session_user(service, clock, token) == user
    later = FixedClock(T0 + accounts.SESSION_TTL + dt.timedelta(seconds=1))
    assert accounts.session_user(service, later, token) is None
    new = accounts.create_key(service, clock, "sbc-1", actor="admin")
    assert accounts.key_for_secret(service, new.secret) == new.key
    assert [k.key_id for k in service.list_keys()] == [new.key.key_id]
    accounts.revoke_key(service, clock, new.key.key_id, actor="admin")
    assert accounts.key_for_secret(service, new.secret) is None
    audit = store.audit_log(limit=10)  # type: ignore[attr-defined]
    assert [(r.entity, r.action, r.actor) for r in audit[:3]] == [
        ("api_key", "revoke", "admin"),
        ("api_key", "create", "admin"),
        ("user", "create", "admin"),
    ]
    assert "password_hash" not in (audit[2].after or {})


def test_decisions_logged_in_bulk_are_counted_and_found(
    stores: tuple[object, ServiceStore],
) -> None:
    store, service = stores
    screener = Screener()
    events = [
        ScreeningEvent("+85223456789", "13800138000", Channel.CALL, at=T0),
        ScreeningEvent("+85223456789", "+8613800138000", Channel.SMS, at=T0),
        ScreeningEvent("13900139000", "13800138000", Channel.CALL, at=T0),
    ]
    service.log_decisions([LoggedDecision(e, screener.decide(e), "key:k1", T0) for e in events])
    counts = {(c.channel, c.verdict, c.reason): c.count for c in service.decision_counts(T0)}
    assert counts == {
        ("call", "block", "cross_border_default_block"): 1,
        ("sms", "block", "cross_border_default_block"): 1,
        ("call", "allow", "domestic"): 1,
    }
    assert all(c.day == T0.date() for c in service.decision_counts(T0))
    about = service.decisions_about(["13800138000", "+8613800138000"], limit=10)
    assert len(about) == 3
    assert len(service.decisions_about(["13900139000"], limit=10)) == 1
    assert service.decision_counts(T0 + dt.timedelta(days=1)) == []
