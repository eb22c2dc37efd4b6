"""The screening store: the same behaviour from MemoryStore, SqlStore on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from telewarden.adapters.memory import (
    MemoryDecisionSink,
    MemoryEventSource,
    MemoryFlagSink,
    MemoryStore,
)
from telewarden.adapters.storage.migrate import HEAD_REVISION, current_revision, head_revision
from telewarden.adapters.storage.protocol import (
    ScreeningStore,
)
from telewarden.adapters.storage.sql import SqlStore
from telewarden.core.ports import AuditRecord, FixedClock
from telewarden.core.screening import (
    Channel,
    Decision,
    Ingress,
    ListEntry,
    ListKind,
    MatchKind,
    OptIn,
    OptInScope,
    PolicySettings,
    ReasonCode,
    ScreeningEvent,
    Verdict,
)
from telewarden.services.screening import load_screener, screener_for
from telewarden.testing.stores import (
    check_audit_log,
    check_decision_log,
    check_decision_sink,
    check_flag_sink,
    check_list_store,
    check_number_privacy,
    check_optin_store,
    check_policy_store,
)

T0 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
HK_CALLER = "+85223456789"
CALLEE = "+8613800138000"


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


def _exact(n: int, source: str = "feed") -> ListEntry:
    return ListEntry(f"+86138{n:08d}", MatchKind.EXACT, source, "fraud")


@pytest.mark.parametrize(
    "check",
    [
        check_policy_store,
        check_optin_store,
        check_list_store,
        check_audit_log,
        check_decision_log,
        check_number_privacy,
    ],
    ids=["policy", "optins", "lists", "audit", "decisions", "privacy"],
)
def test_store_port_conformance(store: ScreeningStore, check: Callable[..., None]) -> None:
    # Each check starts from the fixture's fresh, empty store.
    if check in (check_policy_store, check_optin_store, check_decision_log):
        check(store, at=T0)
    else:
        check(store)


def test_memory_twins_of_the_stream_seams_pass_their_suites() -> None:
    check_decision_sink(MemoryDecisionSink())
    check_flag_sink(MemoryFlagSink())
    source = MemoryEventSource([ScreeningEvent(HK_CALLER, CALLEE)] * 3)
    positions = [e.position for e in source.events()]
    assert len(set(positions)) == 3
    for position in positions:
        source.acknowledge(position)
    assert source.acknowledged == set(positions)


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


class _ForgetfulStore(MemoryStore):
    """Breaks one promise: replacing an opt-in does not return the record it replaced."""

    def set_optin(self, optin: OptIn, *, actor: str) -> OptIn | None:
        super().set_optin(optin, actor=actor)
        return None


class _HistoryOfOneScopeStore(MemoryStore):
    """Breaks the port's opt-in history: only the records of the calls scope are found."""

    def optin_history(self, msisdn: str, *, limit: int = 100) -> list[AuditRecord]:
        found = super().optin_history(msisdn, limit=limit)
        return [r for r in found if r.entity_key.endswith(":calls")]


class _DoubleCountingSink(MemoryDecisionSink):
    """Breaks idempotency: counts every put."""

    def __init__(self) -> None:
        super().__init__()
        self.puts = 0

    def put(self, position: str, event: ScreeningEvent, decision: Decision) -> None:
        self.puts += 1

    def taken(self) -> int:
        return self.puts


def test_the_conformance_suites_catch_a_broken_implementation() -> None:
    with pytest.raises(AssertionError, match="replacing returns the previous record"):
        check_optin_store(_ForgetfulStore(clock=FixedClock(T0)))
    with pytest.raises(AssertionError, match="the opt-in history: every scope"):
        check_optin_store(_HistoryOfOneScopeStore(clock=FixedClock(T0)))
    with pytest.raises(AssertionError, match="redelivered"):
        check_decision_sink(_DoubleCountingSink())
