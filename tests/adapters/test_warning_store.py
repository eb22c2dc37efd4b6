"""The warning store: the same behaviour from the memory twin, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_warnings import MemoryWarningStore
from telewarden.adapters.storage.sql import SqlStore
from telewarden.adapters.storage.warnings import SqlWarningStore
from telewarden.core.errors import NotFoundError
from telewarden.core.ports import FixedClock, Flag
from telewarden.core.privacy import is_number_key
from telewarden.core.warning import Outcome, WarningEngine, WarningNotice, WarningStore

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
FRAUD = "+8617000000000"


def _warnings() -> list[WarningNotice]:
    engine = WarningEngine()
    for i in range(3):
        engine.on_call(i, FRAUD, f"+86138000000{i:02d}", T0, 5, 600 + i, True)
    return engine.on_flag(Flag(FRAUD, "msisdn", "new_card_burst", T0 + dt.timedelta(hours=1), "x"))


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
    ]
)
def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[WarningStore, MemoryStore | SqlStore]]:
    if request.param == "memory":
        base = MemoryStore(clock=FixedClock(T0))
        yield MemoryWarningStore(base), base
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'w.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    sql = SqlStore.open(url, clock=FixedClock(T0))
    with sql.engine.begin() as conn:
        for table in ("warnings", "warning_outcomes", "audit_log"):
            conn.execute(sa.text(f"delete from {table}"))
    try:
        yield SqlWarningStore(sql), sql
    finally:
        sql.close()


def test_warnings_are_stored_once_listed_newest_first_and_audited(
    stores: tuple[WarningStore, MemoryStore | SqlStore],
) -> None:
    store, base = stores
    assert isinstance(store, WarningStore)
    warnings = _warnings()
    assert len(warnings) == 3
    assert store.save_warnings(warnings, actor="test") == 3
    assert store.save_warnings(warnings, actor="test") == 0  # idempotent on warning id
    assert store.count_warnings() == 3
    got = store.get_warning(warnings[1].warning_id)
    assert got == warnings[1]
    listed = store.list_warnings(limit=2)
    assert len(listed) == 2
    assert store.list_warnings(msisdn=warnings[0].msisdn) == [warnings[0]]
    audit = base.audit_log(entity="warning")
    assert {a.entity_key for a in audit} == {w.warning_id for w in warnings}
    assert audit[0].after is not None and audit[0].after["text_zh"].startswith("【反诈预警】")
    # Private by default: the warned subscriber's number only hashed in the audit log.
    for a in audit:
        assert a.after is not None and is_number_key(a.after["msisdn"])
        warned = {w.msisdn for w in warnings}
        assert not [m for m in warned if m.lstrip("+") in json.dumps(a.after)]


def test_outcomes_are_recorded_in_order_audited_and_unknown_warnings_refused(
    stores: tuple[WarningStore, MemoryStore | SqlStore],
) -> None:
    store, base = stores
    [warning, *_] = _warnings()
    store.save_warnings([warning], actor="test")
    store.record_outcome(warning.warning_id, Outcome.REACHED, note="hotline", actor="agent7")
    store.record_outcome(warning.warning_id, Outcome.DISPUTED, note="my cousin", actor="agent7")
    outcomes = store.outcomes_for(warning.warning_id)
    assert [o.outcome for o in outcomes] == [Outcome.REACHED, Outcome.DISPUTED]
    assert outcomes[0].at == T0 and outcomes[1].note == "my cousin"
    [latest, *_] = base.audit_log(entity="warning_outcome")
    assert latest.actor == "agent7" and latest.after == {"outcome": "disputed", "note": "my cousin"}
    with pytest.raises(NotFoundError):
        store.record_outcome("nope", Outcome.SAFE, note="", actor="x")
    assert store.get_warning("nope") is None


def test_a_warning_round_trips_through_its_dict() -> None:
    [warning, *_] = _warnings()
    assert WarningNotice.from_dict(warning.as_dict()) == warning
    assert dataclasses.replace(warning, call_at=None).as_dict()["call_at"] is None
