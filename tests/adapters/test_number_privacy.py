"""Private by default (issue 12, item 5): subscriber numbers in the decision log and the opt-in
audit only as keyed hashes, found by number under the current and the retired keys."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.service_store import service_store_for
from telewarden.adapters.storage.sql import SqlStore
from telewarden.cli.main import app
from telewarden.core.errors import ConfigurationError, InvalidInputError
from telewarden.core.ports import FixedClock
from telewarden.core.privacy import (
    KeyRing,
    NumberKey,
    is_number_key,
    number_key,
    number_keys,
    redact_numbers,
)
from telewarden.core.screening import (
    Channel,
    Ingress,
    OptIn,
    OptInScope,
    Screener,
    ScreeningEvent,
)
from telewarden.core.service_ports import LoggedDecision
from telewarden.settings import load_settings
from telewarden.testing.stores import assert_no_clear_numbers

T0 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
HK_CALLER = "+85223456789"
CALLEE = "+8613800138000"
OLD = NumberKey("1", b"o" * 32)
NEW = NumberKey("2", b"n" * 32)


def test_a_number_hashes_alike_under_one_key_and_apart_under_two() -> None:
    one, two = KeyRing(OLD), KeyRing(NEW, retired=(OLD,))
    assert number_key(one, CALLEE) == number_key(one, f" {CALLEE} ")
    assert number_key(one, CALLEE).startswith("k1:") and is_number_key(number_key(one, CALLEE))
    assert number_key(two, CALLEE).startswith("k2:")
    assert number_keys(two, CALLEE) == [number_key(two, CALLEE), number_key(one, CALLEE)]
    assert CALLEE[1:] not in number_key(one, CALLEE)
    assert "o" * 32 not in repr(one), "a key ring never prints its secrets"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: NumberKey("Key", b"s" * 32), "lowercase", id="bad-id"),
        pytest.param(lambda: NumberKey("1", b"short"), "at least 16 bytes", id="short-secret"),
        pytest.param(lambda: KeyRing(OLD, retired=(OLD,)), "distinct", id="same-id-twice"),
    ],
)
def test_a_malformed_key_is_refused(build: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        build()  # type: ignore[operator]


def test_redaction_reaches_into_texts_but_not_into_short_whole_values() -> None:
    doc = {"detail": "caller +8613800138000 on the deny list", "callee": "110", "n": 110}
    out = redact_numbers(doc, {"+8613800138000": "H", "110": "E"})
    assert out == {"detail": "caller H on the deny list", "callee": "E", "n": 110}


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``memory`` or the URL of an empty SQL store."""
    if request.param == "memory":
        yield "memory"
        return
    url = (
        f"sqlite:///{tmp_path / 'telewarden.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
    store = SqlStore.open(url)
    with store.engine.begin() as conn:
        for table in ("optins", "audit_log", "decision_log"):
            conn.execute(sa.text(f"delete from {table}"))
    store.close()
    yield url


class _Stores:
    """Stores over one backend, reopened with another key ring (a rotation)."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.memory = MemoryStore(clock=FixedClock(T0))

    def open(self, ring: KeyRing) -> MemoryStore | SqlStore:
        if self.backend == "memory":
            self.memory.keyring = ring  # the same data, read under the new ring
            return self.memory
        return SqlStore.open(self.backend, clock=FixedClock(T0), keyring=ring)


def _screen(store: MemoryStore | SqlStore, caller: str, callee: str, actor: str) -> None:
    event = ScreeningEvent(caller, callee, Channel.CALL, Ingress.INTERNATIONAL, at=T0)
    decision = Screener().decide(event)
    store.log_decision(event, decision, actor=actor, at=T0)
    service_store_for(store, FixedClock(T0)).log_decisions(
        [LoggedDecision(event, decision, f"{actor}-api", T0)]
    )


def test_logs_hold_no_clear_number_and_lookups_survive_a_rotation(backend: str) -> None:
    stores = _Stores(backend)
    before = stores.open(KeyRing(OLD))
    _screen(before, HK_CALLER, "138 0013 8000", "under-1")
    before.set_optin(OptIn(CALLEE, OptInScope.CALLS, True, T0, "sms"), actor="under-1")

    # Rotation: key 2 is current, key 1 retired (kept for look-ups).
    rotated = stores.open(KeyRing(NEW, retired=(OLD,)))
    _screen(rotated, HK_CALLER, CALLEE, "under-2")
    rotated.set_optin(OptIn(CALLEE, OptInScope.SMS, True, T0, "app"), actor="under-2")

    service = service_store_for(rotated, FixedClock(T0))
    about = service.decisions_about(["13800138000"], limit=10)
    assert sorted(str(d["actor"]) for d in about) == [
        "under-1",
        "under-1-api",
        "under-2",
        "under-2-api",
    ], "found under the current and the retired key, by a national spelling"
    assert {d["callee"] for d in about} == {"13800138000"}, "shown as the number asked for"
    assert all(is_number_key(str(d["caller"])) for d in about), "the other party stays hashed"
    history = rotated.optin_history(CALLEE)
    assert [(r.actor, r.entity_key[:3]) for r in history] == [
        ("under-2", "k2:"),
        ("under-1", "k1:"),
    ]

    logged = rotated.recent_decisions(limit=10)
    assert len(logged) == 4
    assert {d.event["callee"][:3] for d in logged} == {"k1:", "k2:"}
    assert_no_clear_numbers([[d.event, d.decision] for d in logged], where="the decision log")
    for r in rotated.audit_log(limit=10):
        assert_no_clear_numbers([r.entity_key, r.before, r.after], where="the audit log")
    if isinstance(rotated, SqlStore):
        with rotated.engine.connect() as conn:
            for table in ("decision_log", "audit_log"):
                rows = conn.execute(sa.text(f"select * from {table}")).all()
                assert rows
                assert_no_clear_numbers(str(rows), where=f"the {table} table")

    # Once the retention has purged key 1's decision rows, key 1 is dropped from the ring.
    dropped = stores.open(KeyRing(NEW))
    later = service_store_for(dropped, FixedClock(T0)).decisions_about([CALLEE], limit=10)
    assert sorted(str(d["actor"]) for d in later) == ["under-2", "under-2-api"]
    assert [r.actor for r in dropped.optin_history(CALLEE)] == ["under-2"]
    for store in {id(s): s for s in (before, rotated, dropped)}.values():
        if isinstance(store, SqlStore):
            store.close()


def test_a_bad_number_key_setting_is_one_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path))
    monkeypatch.delenv("TELEWARDEN_DATABASE_URL", raising=False)
    monkeypatch.setenv("TELEWARDEN_NUMBER_KEY", "tooshortsecret")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.count("\n") == 0
    assert "TELEWARDEN_NUMBER_KEY" in message and "ID:SECRET" in message
    assert "tooshortsecret" not in message, "the key's text is never echoed"
    monkeypatch.setenv("TELEWARDEN_NUMBER_KEY", "2:" + "s" * 40)
    monkeypatch.setenv("TELEWARDEN_NUMBER_KEYS_RETIRED", '["2:' + "t" * 40 + '"]')
    with pytest.raises(ConfigurationError, match="TELEWARDEN_NUMBER_KEYS_RETIRED: .*distinct"):
        load_settings().number_keyring()


def test_without_a_key_one_is_made_private_in_home_and_a_shared_database_needs_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path))
    monkeypatch.delenv("TELEWARDEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEWARDEN_NUMBER_KEY", raising=False)
    monkeypatch.delenv("TELEWARDEN_NUMBER_KEYS_RETIRED", raising=False)
    ring = load_settings().number_keyring()
    key_file = tmp_path / "number.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert load_settings().number_keyring() == ring, "the same key on every later start"
    monkeypatch.setenv("TELEWARDEN_DATABASE_URL", "postgresql+psycopg://h/db")
    with pytest.raises(ConfigurationError, match="TELEWARDEN_NUMBER_KEY is required"):
        load_settings().number_keyring()


def test_privacy_new_key_prints_a_key_the_settings_accept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path))
    monkeypatch.delenv("TELEWARDEN_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["privacy", "new-key", "--id", "2"])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("TELEWARDEN_NUMBER_KEY", result.output.strip())
    monkeypatch.setenv("TELEWARDEN_NUMBER_KEYS_RETIRED", '["1:' + "o" * 40 + '"]')
    shown = runner.invoke(app, ["privacy", "keys", "--json"])
    assert shown.exit_code == 0, shown.output
    assert '"current": "2"' in shown.output and '"1"' in shown.output
    assert result.output.strip().split(":")[1] not in shown.output, "secrets are never shown"
