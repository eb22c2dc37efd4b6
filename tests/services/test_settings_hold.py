"""Issue 12, settings that hold: policy values checked against the world, unknown keys refused,
a damaged stored policy reported, import audit counts that are the import's own, a private
SQLite file.
"""

from __future__ import annotations

import datetime as dt
import stat
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.storage.sql import SqlStore
from telewarden.core.errors import ConfigurationError, InvalidInputError
from telewarden.core.ports import FixedClock
from telewarden.core.screening import ListEntry, ListKind, MatchKind, Screener
from telewarden.services.policy import known_regions, set_policy_value

AT = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("region_overrides.Atlantis.cross_border_block_calls", "false", "unknown province"),
        ("high_risk_countries", '["MM", "XX"]', "XX is not an ISO 3166"),
        ("appeal_contact", '"  "', "appeal_contact must not be empty"),
        ("no_such_key", "1", "unknown policy key"),
        ("region_overrides.Guangdong.no_such_switch", "false", "unknown region setting"),
        ("appeal_contact.sub", "1", "has no sub-settings"),
    ],
)
def test_policy_values_that_name_nothing_real_are_refused(
    key: str, value: str, message: str
) -> None:
    store = MemoryStore(clock=FixedClock(AT))
    with pytest.raises(InvalidInputError, match=message):
        set_policy_value(store, key, value, actor="t")
    assert store.policy_version() == 0


def test_real_provinces_cities_and_countries_are_accepted() -> None:
    store = MemoryStore(clock=FixedClock(AT))
    assert {"Guangdong", "Shenzhen", "Sichuan", "HK"} <= known_regions()
    for key, value in [
        ("region_overrides.广东省.cross_border_block_calls", "false"),
        ("region_overrides.Shenzhen.cross_border_block_sms", "false"),
        ("high_risk_countries", '["MM", "KH"]'),
        ("appeal_contact", '"10086"'),
    ]:
        set_policy_value(store, key, value, actor="t")
    assert store.get_policy().region_overrides["Guangdong"].cross_border_block_calls is False


def test_a_damaged_stored_policy_is_one_configuration_error(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'tw.db'}", clock=FixedClock(AT))
    try:
        set_policy_value(store, "appeal_contact", '"12321"', actor="t")
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                "update policy_versions set document = '{\"high_risk_countries\": 5}'"
            )
        with pytest.raises(ConfigurationError, match="stored policy version 1 is damaged"):
            store.get_policy()
    finally:
        store.close()


def test_the_sqlite_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "home" / "telewarden.db"
    SqlStore.open(f"sqlite:///{path}").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    schema = f"tw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"create schema {schema}")
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"drop schema if exists {schema} cascade")
        admin.dispose()


@pytest.mark.integration
def test_a_nul_byte_in_a_list_file_is_quarantined_on_postgresql(
    pg_url: str, tmp_path: Path
) -> None:
    # PostgreSQL text cannot hold NUL: the import was a psycopg traceback, nothing imported.
    from telewarden.services.lists import import_list

    path = tmp_path / "deny.csv"
    path.write_bytes(b"pattern,reason\n13800138000,ok\n13900139000,bad\x00reason\n")
    store = SqlStore.open(pg_url, clock=FixedClock(AT))
    try:
        with store.engine.begin() as conn:
            conn.execute(sa.text("delete from list_entries"))
        run = import_list(store, ListKind.DENY, path, actor="t")
        assert (run.report.accepted, run.report.quarantined) == (1, 1)
        assert [e.pattern for e in store.list_entries(ListKind.DENY)] == ["+8613800138000"]
    finally:
        store.close()


def test_concurrent_imports_audit_their_own_counts_on_postgresql(pg_url: str) -> None:
    stores = [SqlStore.open(pg_url, clock=FixedClock(AT)) for _ in range(2)]
    rows = 30_000

    def entries(offset: int) -> Iterator[list[ListEntry]]:
        for start in range(0, rows, 5_000):
            yield [
                ListEntry(f"+86138{offset + i:08d}", MatchKind.EXACT, "f", "")
                for i in range(start, start + 5_000)
            ]

    reports = [None, None]

    def run(i: int) -> None:
        reports[i] = stores[i].import_entries(  # type: ignore[call-overload]
            ListKind.DENY, entries(i * rows // 2), actor=f"a{i}", source_name=f"f{i}"
        )

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert stores[0].count_entries(ListKind.DENY) == rows * 3 // 2
        for report in reports:
            assert report is not None
            d = report.as_dict()
            assert d["inserted"] >= 0 and d["updated"] >= 0, d
            assert d["inserted"] + d["updated"] + d["duplicates"] == d["accepted"] == rows, d
        assert sorted(r.as_dict()["updated"] for r in reports) == [0, rows // 2]  # type: ignore[union-attr]
    finally:
        for store in stores:
            store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_decisions_older_than_the_retention_are_purged_and_the_purge_audited(
    tmp_path: Path, kind: str
) -> None:
    from telewarden.core.screening import ScreeningEvent
    from telewarden.services.decisions import purge_decisions

    old, new = AT - dt.timedelta(days=200), AT - dt.timedelta(days=10)
    store = (
        MemoryStore(clock=FixedClock(AT))
        if kind == "memory"
        else SqlStore.open(f"sqlite:///{tmp_path / 'tw.db'}", clock=FixedClock(AT))
    )
    try:
        event = ScreeningEvent("+85223456789", "13800138000")
        decision = Screener().decide(event)
        for at in (old, old, new):
            store.log_decision(event, decision, actor="t", at=at)
        report = purge_decisions(store, FixedClock(AT), older_than_days=180, actor="ops")
        assert report.deleted == 2
        assert [d.at for d in store.recent_decisions()] == [new]
        [audit] = store.audit_log(entity="decision_log")
        assert (audit.actor, audit.after) == (
            "ops",
            {"deleted": 2, "older_than": report.older_than.isoformat()},
        )
        with pytest.raises(InvalidInputError):
            purge_decisions(store, FixedClock(AT), older_than_days=0, actor="ops")
    finally:
        if isinstance(store, SqlStore):
            store.close()
