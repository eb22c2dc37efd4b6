"""The screening store: the same behaviour from MemoryStore, SqlStore on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.storage.migrate import HEAD_REVISION, current_revision, head_revision
from telewarden.adapters.storage.protocol import (
    BatchSummary,
    ImportReport,
    ScreeningStore,
)
from telewarden.adapters.storage.sql import SqlStore
from telewarden.core.ports import FixedClock
from telewarden.core.screening import (
    Channel,
    Ingress,
    ListEntry,
    ListKind,
    MatchKind,
    NumberList,
    OptIn,
    OptInScope,
    PolicySettings,
    ReasonCode,
    RegionPolicy,
    Screener,
    ScreeningEvent,
    Verdict,
)
from telewarden.services.screening import load_screener, screener_for

T0 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
HK_CALLER = "+85223456789"
CALLEE = "+8613800138000"


@pytest.fixture(scope="module")
def pg_schema_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    base = request.getfixturevalue("postgres_url")
    schema = f"tw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"create schema {schema}")
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"drop schema if exists {schema} cascade")
        admin.dispose()


def _sql_store(url: str) -> SqlStore:
    store = SqlStore.open(url, clock=FixedClock(T0))
    # Repeatable runs on a shared schema: start every test from empty tables.
    with store.engine.begin() as conn:
        for table in (
            "list_entries",
            "optins",
            "policy_versions",
            "audit_log",
            "decision_log",
            "batch_runs",
        ):
            conn.execute(sa.text(f"delete from {table}"))
    return store


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScreeningStore]:
    if request.param == "memory":
        yield MemoryStore(clock=FixedClock(T0))
        return
    if request.param == "sqlite":
        sql = _sql_store(f"sqlite:///{tmp_path / 'home' / 'telewarden.db'}")
    else:
        sql = _sql_store(request.getfixturevalue("pg_schema_url"))
    try:
        yield sql
    finally:
        sql.close()


def test_memory_and_sql_stores_satisfy_the_protocol(tmp_path: Path) -> None:
    sql = SqlStore.open(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        assert isinstance(sql, ScreeningStore)
        assert isinstance(MemoryStore(), ScreeningStore)
    finally:
        sql.close()


def test_head_revision_constant_matches_the_shipped_migrations() -> None:
    assert head_revision() == HEAD_REVISION


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
    ],
)
def test_open_migrates_a_fresh_database_and_reopening_is_idempotent(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'new' / 'dir' / 'telewarden.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    for _ in range(2):
        store = SqlStore.open(url)
        try:
            assert current_revision(store.engine) == HEAD_REVISION
            tables = set(sa.inspect(store.engine).get_table_names())
            assert {"optins", "list_entries", "policy_versions", "audit_log"} <= tables
            assert {"decision_log", "batch_runs"} <= tables
        finally:
            store.close()


def test_policy_defaults_then_versions_with_audited_before_and_after(
    store: ScreeningStore,
) -> None:
    assert store.policy_version() == 0
    assert store.get_policy() == PolicySettings()
    changed = PolicySettings(
        cross_border_block_sms=False,
        region_overrides={"Guangdong": RegionPolicy(cross_border_block_calls=False)},
    )
    assert store.set_policy(changed, actor="alice") == 1
    assert store.set_policy(PolicySettings(), actor="bob") == 2
    assert store.policy_version() == 2
    assert store.get_policy() == PolicySettings()
    first, second = reversed(store.audit_log(entity="policy"))
    assert (first.actor, first.action, first.at) == ("alice", "create", T0)
    assert first.before is not None and first.after is not None
    assert first.before["cross_border_block_sms"] is True
    assert first.after["cross_border_block_sms"] is False
    assert first.after["region_overrides"]["Guangdong"]["cross_border_block_calls"] is False
    assert second.before == first.after
    assert second.action == "update"


def test_optin_create_replace_and_remove_are_audited(store: ScreeningStore) -> None:
    optin = OptIn(CALLEE, OptInScope.CALLS, True, T0, "sms-1219")
    assert store.set_optin(optin, actor="alice") is None
    opt_out = OptIn(CALLEE, OptInScope.CALLS, False, T0 + dt.timedelta(hours=1), "app")
    assert store.set_optin(opt_out, actor="bob") == optin
    store.set_optin(OptIn(CALLEE, OptInScope.SMS, True, T0), actor="alice")
    assert store.optins_for(CALLEE) == [opt_out, OptIn(CALLEE, OptInScope.SMS, True, T0)]
    assert store.remove_optin(CALLEE, OptInScope.SMS, actor="carol") == 1
    assert store.remove_optin(CALLEE, OptInScope.SMS, actor="carol") == 0
    assert store.optins_for(CALLEE) == [opt_out]
    records = list(reversed(store.audit_log(entity="optin")))
    assert [(r.action, r.actor) for r in records] == [
        ("create", "alice"),
        ("update", "bob"),
        ("create", "alice"),
        ("delete", "carol"),
    ]
    assert records[1].before is not None and records[1].before["opted_in"] is True
    assert records[1].after is not None and records[1].after["opted_in"] is False
    assert records[3].after is None and records[3].before is not None


def test_list_entry_add_replace_remove_are_audited(store: ScreeningStore) -> None:
    entry = ListEntry("+8617012", MatchKind.PREFIX, "miit", "virtual operator range")
    assert store.add_entry(ListKind.DENY, entry, actor="alice") is None
    newer = ListEntry("+8617012", MatchKind.PREFIX, "police", "fraud ring")
    assert store.add_entry(ListKind.DENY, newer, actor="bob") == entry
    assert store.count_entries(ListKind.DENY) == 1
    assert store.count_entries(ListKind.ALLOW) == 0
    assert store.remove_entry(ListKind.DENY, "+8617012", actor="carol") == newer
    assert store.remove_entry(ListKind.DENY, "+8617012", actor="carol") is None
    actions = [(r.action, r.before, r.after) for r in reversed(store.audit_log())]
    assert actions[0][0] == "create" and actions[0][1] is None
    assert actions[1][0] == "update" and actions[1][1] is not None
    assert actions[1][1]["source"] == "miit"
    assert actions[1][2] is not None and actions[1][2]["source"] == "police"
    assert actions[2][0] == "delete" and actions[2][2] is None


def _exact(n: int, source: str = "feed") -> ListEntry:
    return ListEntry(f"+86138{n:08d}", MatchKind.EXACT, source, "fraud")


def test_bulk_import_upserts_counts_duplicates_and_reconciles(store: ScreeningStore) -> None:
    store.add_entry(ListKind.DENY, _exact(1, "old"), actor="alice")
    chunks = [
        [_exact(1, "new"), _exact(2), _exact(3)],
        [_exact(3, "later"), _exact(4), ListEntry("+86170", MatchKind.PREFIX, "miit", "range")],
    ]
    report = ImportReport(kind=ListKind.DENY, rows_read=7, quarantined=1)
    seen: list[int] = []
    result = store.import_entries(
        ListKind.DENY,
        chunks,
        actor="importer",
        source_name="deny.csv",
        progress=seen.append,
        report=report,
    )
    assert result is report
    assert (report.accepted, report.duplicates, report.inserted, report.updated) == (6, 1, 4, 1)
    assert report.total_after == 5 == store.count_entries(ListKind.DENY)
    assert report.reconciles
    assert seen == [3, 3]
    by_pattern = {e.pattern: e for e in store.iter_entries(ListKind.DENY)}
    assert by_pattern["+8613800000001"].source == "new"
    assert by_pattern["+8613800000003"].source == "later"
    (audit,) = store.audit_log(entity="list")
    assert (audit.action, audit.entity_key, audit.actor) == ("import", "deny:deny.csv", "importer")
    assert audit.before == {"count": 1}
    assert audit.after is not None and audit.after["inserted"] == 4


def test_list_queries_by_prefix_and_by_number(store: ScreeningStore) -> None:
    store.import_entries(
        ListKind.DENY,
        [
            [
                _exact(5),
                ListEntry("+86138", MatchKind.PREFIX, "a", "b"),
                ListEntry("+8613800", MatchKind.PREFIX, "a", "b"),
                ListEntry("+8617012", MatchKind.PREFIX, "a", "b"),
            ]
        ],
        actor="t",
        source_name="x",
    )
    shown = store.list_entries(ListKind.DENY, starting_with="+86138", limit=10)
    assert [e.pattern for e in shown] == ["+86138", "+8613800", "+8613800000005"]
    assert len(store.list_entries(ListKind.DENY, limit=2)) == 2
    matching = store.entries_matching(ListKind.DENY, ["+8613800000005"])
    assert sorted(e.pattern for e in matching) == ["+86138", "+8613800", "+8613800000005"]
    assert store.entries_matching(ListKind.ALLOW, ["+8613800000005"]) == []
    target = NumberList()
    assert store.load_list(ListKind.DENY, target) == 4
    hit = target.match("+8617012345678")
    assert hit is not None and hit.pattern == "+8617012"
    assert target.match("+8613800000005") == _exact(5)


def test_decision_and_batch_logs_keep_the_newest_first(store: ScreeningStore) -> None:
    screener = Screener()
    event = ScreeningEvent(HK_CALLER, "13800138000", ingress=Ingress.INTERNATIONAL)
    decision = screener.decide(event)
    store.log_decision(event, decision, actor="cli", at=T0)
    store.log_decision(event, decision, actor="api", at=T0 + dt.timedelta(seconds=1))
    newest, oldest = store.recent_decisions(limit=5)
    assert (newest.actor, oldest.actor) == ("api", "cli")
    assert newest.decision["verdict"] == "block"
    assert newest.event["caller"] == HK_CALLER
    assert oldest.at == T0
    summary = BatchSummary(
        started_at=T0,
        finished_at=T0 + dt.timedelta(seconds=2),
        source="events.csv",
        output="verdicts.csv",
        rows_read=10,
        screened=9,
        quarantined=1,
        duration_s=2.0,
        by_verdict={"block": 9},
        by_reason={"cross_border_default_block": 9},
    )
    store.log_batch(summary, actor="cli")
    assert store.recent_batches() == [summary]


def test_screeners_built_from_the_store_apply_its_state(store: ScreeningStore) -> None:
    event = ScreeningEvent(HK_CALLER, "13800138000", Channel.CALL, Ingress.INTERNATIONAL)
    assert screener_for(store, store.get_policy(), event).decide(event).verdict is Verdict.BLOCK
    store.set_optin(OptIn(CALLEE, OptInScope.CALLS, True, T0), actor="t")
    for screener in (
        screener_for(store, store.get_policy(), event),
        load_screener(store, store.get_policy()),
    ):
        decision = screener.decide(event)
        assert decision.verdict is Verdict.ALLOW_LABELLED
        assert decision.origin == "Hong Kong"
    store.add_entry(
        ListKind.DENY, ListEntry("+852234", MatchKind.PREFIX, "police", "ring"), actor="t"
    )
    for screener in (
        screener_for(store, store.get_policy(), event),
        load_screener(store, store.get_policy()),
    ):
        assert screener.decide(event).reason is ReasonCode.DENY_LISTED_PREFIX
    store.set_policy(PolicySettings(cross_border_block_calls=False), actor="t")
    assert load_screener(store, store.get_policy()).settings.cross_border_block_calls is False


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
    ]
)
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        store = _sql_store(f"sqlite:///{tmp_path / 'telewarden.db'}")
    else:
        store = _sql_store(request.getfixturevalue("pg_schema_url"))
    try:
        yield store
    finally:
        store.close()


def test_a_failed_import_leaves_the_list_and_the_audit_log_unchanged(
    sql_store: SqlStore,
) -> None:
    store = sql_store
    store.add_entry(ListKind.DENY, _exact(1), actor="t")

    def chunks() -> Iterator[list[ListEntry]]:
        yield [_exact(2), _exact(3)]
        raise OSError("disk went away mid-file")

    with pytest.raises(OSError, match="mid-file"):
        store.import_entries(ListKind.DENY, chunks(), actor="t", source_name="x")
    assert store.count_entries(ListKind.DENY) == 1
    assert [r.entity for r in store.audit_log()] == ["list_entry"]
