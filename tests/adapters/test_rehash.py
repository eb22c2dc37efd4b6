"""`telewarden privacy rehash`: rows logged in clear (before hashing) rewritten, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from telewarden.adapters.storage.models import DecisionRow
from telewarden.adapters.storage.protocol import event_to_dict
from telewarden.adapters.storage.sql import SqlStore, append_audit
from telewarden.cli.main import app
from telewarden.core.errors import ConfigurationError
from telewarden.core.ports import AuditRecord, FixedClock
from telewarden.core.privacy import KeyRing, NumberKey, is_number_key
from telewarden.core.screening import Screener, ScreeningEvent
from telewarden.core.screening.types import Ingress
from telewarden.services.audit import verify_audit
from telewarden.services.privacy import rehash_clear_numbers
from telewarden.testing.stores import CALLEE, HK_CALLER, assert_no_clear_numbers

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
RING = KeyRing(NumberKey("2", b"n" * 32))
NUMBER_KEY = "2:" + "n" * 32


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A SQL store holding rows as the version before keyed hashing wrote them (in clear)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'telewarden.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    store = SqlStore.open(url, clock=FixedClock(T0), keyring=RING)
    with store.engine.begin() as conn:
        for table in ("optins", "audit_log", "decision_log"):
            conn.execute(sa.text(f"delete from {table}"))
    _write_rows_in_clear(store, decisions=5)
    try:
        yield store
    finally:
        store.close()


def _write_rows_in_clear(store: SqlStore, *, decisions: int) -> None:
    event = ScreeningEvent(HK_CALLER, "138 0013 8000", ingress=Ingress.INTERNATIONAL)
    decision = Screener().decide(event)
    row = {
        "at": T0, "actor": "cli", "channel": "call", "ingress": "international",
        "caller": event.caller, "callee": event.callee, "verdict": str(decision.verdict),
        "reason": str(decision.reason), "rule": decision.rule, "sip_status": decision.sip_status,
        "origin": decision.origin, "decision": {"event": event_to_dict(event), **decision.to_dict()},
    }  # fmt: skip
    optin = {"msisdn": CALLEE, "scope": "calls", "opted_in": True, "source": "sms-1219"}
    warned = {"msisdn": CALLEE, "fraud_number": "+8617000000001", "channel": "sms"}
    with store.engine.begin() as conn:
        conn.execute(sa.insert(DecisionRow), [row] * decisions)
        append_audit(
            conn,
            [
                AuditRecord(T0, "alice", "optin", f"{CALLEE}:calls", "create", None, optin),
                AuditRecord(T0, "cli", "policy", "v1", "create", None, {"appeal": "10086"}),
                AuditRecord(T0, "bob", "optin", f"{CALLEE}:calls", "delete", optin, None),
                AuditRecord(T0, "loop", "warning", "w-1", "create", None, warned),
            ],
        )


def _raw(store: SqlStore, table: str) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(f"select * from {table}"))]


def test_rows_in_clear_are_rehashed_in_batches_and_the_chain_still_verifies(
    store: SqlStore,
) -> None:
    assert verify_audit(store).ok
    decisions, audit = rehash_clear_numbers(store, actor="dpo", batch_size=2)
    assert decisions.as_dict() == {
        "table": "decision_log", "read": 5, "rehashed": 5, "already_hashed": 0, "skipped": {},
        "batches": 3, "reconciles": True,
    }  # fmt: skip
    assert (audit.read, audit.rehashed, audit.already_hashed, audit.skipped) == (3, 3, 0, {})
    assert_no_clear_numbers(_raw(store, "decision_log"), where="the decision log")
    rows = [r for r in _raw(store, "audit_log") if r["entity"] in ("optin", "warning")]
    assert_no_clear_numbers([str(r) for r in rows], where="the opt-in and warning audit")
    assert "+8617000000001" in str(rows[-1]["after"]), "the fraud number warned about stays"
    report = verify_audit(store)
    assert report.ok and report.entries == 5  # four records and the rehash's own
    (record,) = store.audit_log(entity="privacy")
    assert record.actor == "dpo" and record.after is not None and record.after["rehashed"] == 3
    # The rows are found by number as today's rows are: the opt-in history and the decisions.
    assert [r.action for r in store.optin_history(CALLEE)] == ["delete", "create"]
    logged = store.recent_decisions()
    assert all(is_number_key(d.event["caller"]) for d in logged)
    assert {d.event["callee"] for d in logged} == {store.optin_history(CALLEE)[0].entity_key[:-6]}


def test_a_second_run_changes_nothing(store: SqlStore) -> None:
    rehash_clear_numbers(store, actor="dpo", batch_size=1000)
    before = (_raw(store, "decision_log"), _raw(store, "audit_log"))
    decisions, audit = rehash_clear_numbers(store, actor="dpo", batch_size=1000)
    assert (decisions.read, decisions.rehashed, decisions.already_hashed) == (5, 0, 5)
    assert (audit.read, audit.rehashed, audit.already_hashed) == (3, 0, 3)
    assert (_raw(store, "decision_log"), _raw(store, "audit_log")) == before
    assert verify_audit(store).ok


def test_a_chain_that_does_not_verify_is_refused_and_nothing_is_rewritten(
    store: SqlStore,
) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("update audit_log set actor = 'mallory' where id = 2"))
    with pytest.raises(ConfigurationError, match="does not verify .row 2"):
        rehash_clear_numbers(store, actor="dpo")
    assert CALLEE in str(_raw(store, "audit_log")), "the audit log is left as it was"


def test_the_command_prints_counts_that_reconcile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TELEWARDEN_NUMBER_KEY", NUMBER_KEY)
    for name in ("TELEWARDEN_DATABASE_URL", "TELEWARDEN_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    store = SqlStore.open(f"sqlite:///{tmp_path / 'home' / 'telewarden.db'}", keyring=RING)
    _write_rows_in_clear(store, decisions=3)
    store.close()
    result = CliRunner().invoke(app, ["privacy", "rehash", "--batch-size", "2", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    tables = {t["table"]: t for t in json.loads(result.output)}
    assert tables["decision_log"]["rehashed"] == 3 and tables["decision_log"]["batches"] == 2
    assert tables["audit_log"]["rehashed"] == 3 and tables["audit_log"]["reconciles"]
    again = CliRunner().invoke(app, ["privacy", "rehash"])
    assert "decision_log: read 3 = rehashed 0 + already hashed 3 + skipped 0" in " ".join(
        again.output.split()
    )
