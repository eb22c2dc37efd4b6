"""Conformance suites for the store ports and the stream seams of ``telewarden.core.ports``.

Every implementation (the memory twins, SQLite, PostgreSQL, and any a carrier writes) must pass
the same checks, the way River runs ``check_estimator`` over every estimator. Each function
takes a fresh, empty implementation and raises ``AssertionError`` at the first broken promise.
Stores whose clock is fixed may pass ``at`` so that audit timestamps are checked too.

Examples
--------
>>> from telewarden.adapters.memory import MemoryStore
>>> check_store(lambda: MemoryStore())
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, Protocol

from telewarden.core.ports import (
    AuditLog,
    BatchSummary,
    DecisionLog,
    DecisionSink,
    Flag,
    FlagSink,
    ImportReport,
    ListStore,
    OptInStore,
    PolicyStore,
)
from telewarden.core.privacy import is_number_key
from telewarden.core.screening import (
    Decision,
    Ingress,
    ListEntry,
    ListKind,
    MatchKind,
    NumberList,
    OptIn,
    OptInScope,
    PolicySettings,
    RegionPolicy,
    Screener,
    ScreeningEvent,
)

__all__ = [
    "assert_no_clear_numbers",
    "check_audit_log",
    "check_decision_log",
    "check_decision_sink",
    "check_flag_sink",
    "check_list_store",
    "check_number_privacy",
    "check_optin_store",
    "check_policy_store",
    "check_store",
]

T0 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
HK_CALLER = "+85223456789"
CALLEE = "+8613800138000"
CLEAR_FORMS = ("85223456789", "23456789", "8613800138000", "13800138000", "138 0013 8000")
"""Every spelling of the two test numbers (digits alone catch ``+``, national and E.164)."""


def assert_no_clear_numbers(data: Any, *, where: str) -> None:
    """Fail when any spelling of the suite's test numbers appears in ``data`` (dumped as JSON)."""
    text = data if isinstance(data, str) else json.dumps(data, default=str, ensure_ascii=False)
    found = [form for form in CLEAR_FORMS if form in text]
    assert not found, f"{where} holds subscriber numbers in clear: {found}"


class _AuditedPolicyStore(PolicyStore, AuditLog, Protocol):
    pass


class _AuditedOptInStore(OptInStore, AuditLog, Protocol):
    pass


class _AuditedListStore(ListStore, AuditLog, Protocol):
    pass


def check_policy_store(store: _AuditedPolicyStore, *, at: dt.datetime | None = None) -> None:
    """Defaults first, then numbered versions, each audited with before and after."""
    assert store.policy_version() == 0, "a fresh store serves the built-in defaults as version 0"
    assert store.get_policy() == PolicySettings()
    changed = PolicySettings(
        cross_border_block_sms=False,
        region_overrides={"Guangdong": RegionPolicy(cross_border_block_calls=False)},
    )
    assert store.set_policy(changed, actor="alice") == 1
    assert store.get_policy() == changed, "the policy just set is the one in force"
    assert store.set_policy(PolicySettings(), actor="bob") == 2
    assert store.policy_version() == 2
    assert store.get_policy() == PolicySettings()
    first, second = reversed(store.audit_log(entity="policy"))
    assert (first.actor, first.action) == ("alice", "create")
    if at is not None:
        assert first.at == at
    assert first.before is not None and first.after is not None
    assert first.before["cross_border_block_sms"] is True
    assert first.after["cross_border_block_sms"] is False
    assert first.after["region_overrides"]["Guangdong"]["cross_border_block_calls"] is False
    assert second.before == first.after
    assert second.action == "update"


def check_optin_store(store: _AuditedOptInStore, *, at: dt.datetime | None = None) -> None:
    """Create, replace and remove per (msisdn, scope), ordered by scope, every change audited."""
    t0 = at or T0
    optin = OptIn(CALLEE, OptInScope.CALLS, True, t0, "sms-1219")
    assert store.set_optin(optin, actor="alice") is None
    opt_out = OptIn(CALLEE, OptInScope.CALLS, False, t0 + dt.timedelta(hours=1), "app")
    assert store.set_optin(opt_out, actor="bob") == optin, "replacing returns the previous record"
    store.set_optin(OptIn(CALLEE, OptInScope.SMS, True, t0), actor="alice")
    assert store.optins_for(CALLEE) == [opt_out, OptIn(CALLEE, OptInScope.SMS, True, t0)]
    assert sorted(o.scope.value for o in store.iter_optins()) == ["calls", "sms"]
    assert store.remove_optin(CALLEE, OptInScope.SMS, actor="carol") == 1
    assert store.remove_optin(CALLEE, OptInScope.SMS, actor="carol") == 0
    assert store.optins_for(CALLEE) == [opt_out]
    assert store.optins_for("+8613900000000") == []
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
    assert store.remove_optin(CALLEE, None, actor="carol") == 1, "no scope removes every scope"
    history = store.optin_history(CALLEE)
    assert [(r.action, r.actor) for r in history] == [
        ("delete", "carol"),
        ("delete", "carol"),
        ("create", "alice"),
        ("update", "bob"),
        ("create", "alice"),
    ], "the opt-in history: every scope, newest first"
    assert all(r.entity == "optin" for r in history)
    assert [r.action for r in store.optin_history(CALLEE, limit=2)] == ["delete", "delete"]
    assert store.optin_history("+8613900000000") == [], "another subscriber's history is apart"


def _exact(n: int, source: str = "feed") -> ListEntry:
    return ListEntry(f"+86138{n:08d}", MatchKind.EXACT, source, "fraud")


def check_list_store(store: _AuditedListStore) -> None:
    """Entries by pattern, audited; bulk imports upsert and reconcile; look-ups by number."""
    entry = ListEntry("+8617012", MatchKind.PREFIX, "miit", "virtual operator range")
    assert store.add_entry(ListKind.DENY, entry, actor="alice") is None
    newer = ListEntry("+8617012", MatchKind.PREFIX, "police", "fraud ring")
    assert store.add_entry(ListKind.DENY, newer, actor="bob") == entry
    assert store.count_entries(ListKind.DENY) == 1
    assert store.count_entries(ListKind.ALLOW) == 0, "the two lists are separate"
    assert store.remove_entry(ListKind.DENY, "+8617012", actor="carol") == newer
    assert store.remove_entry(ListKind.DENY, "+8617012", actor="carol") is None
    actions = [(r.action, r.before, r.after) for r in reversed(store.audit_log())]
    assert actions[0][0] == "create" and actions[0][1] is None
    assert actions[1][0] == "update" and actions[1][1] is not None
    assert actions[1][1]["source"] == "miit"
    assert actions[1][2] is not None and actions[1][2]["source"] == "police"
    assert actions[2][0] == "delete" and actions[2][2] is None

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
    assert result is report, "the report handed in is filled in and returned"
    assert (report.accepted, report.duplicates, report.inserted, report.updated) == (6, 1, 4, 1)
    assert report.total_after == 5 == store.count_entries(ListKind.DENY)
    assert report.reconciles
    assert seen == [3, 3], "progress is called with each chunk's row count"
    by_pattern = {e.pattern: e for e in store.iter_entries(ListKind.DENY)}
    assert by_pattern["+8613800000001"].source == "new", "a later row of a pattern wins"
    assert by_pattern["+8613800000003"].source == "later"
    (audit,) = store.audit_log(entity="list")
    assert (audit.action, audit.entity_key, audit.actor) == ("import", "deny:deny.csv", "importer")
    assert audit.before == {"count": 1}
    assert audit.after is not None and audit.after["inserted"] == 4

    store.import_entries(
        ListKind.ALLOW,
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
    shown = store.list_entries(ListKind.ALLOW, starting_with="+86138", limit=10)
    assert [e.pattern for e in shown] == ["+86138", "+8613800", "+8613800000005"]
    assert len(store.list_entries(ListKind.ALLOW, limit=2)) == 2
    matching = store.entries_matching(ListKind.ALLOW, ["+8613800000005"])
    assert sorted(e.pattern for e in matching) == ["+86138", "+8613800", "+8613800000005"]
    assert store.entries_matching(ListKind.ALLOW, ["+8613900000000"]) == []
    target = NumberList()
    assert store.load_list(ListKind.ALLOW, target) == 4
    hit = target.match("+8617012345678")
    assert hit is not None and hit.pattern == "+8617012"
    assert target.match("+8613800000005") == _exact(5)


def check_audit_log(store: _AuditedOptInStore) -> None:
    """Newest first, filtered by entity, limited."""
    for i in range(3):
        store.set_optin(OptIn(f"+861380013800{i}", OptInScope.SMS, True, T0), actor=f"a{i}")
    newest = store.audit_log(limit=2)
    assert [r.actor for r in newest] == ["a2", "a1"]
    assert store.audit_log(entity="policy") == []
    assert all(r.entity == "optin" for r in store.audit_log(entity="optin"))


def check_decision_log(log: DecisionLog, *, at: dt.datetime | None = None) -> None:
    """Decisions and batch summaries come back newest first, as logged."""
    t0 = at or T0
    event = ScreeningEvent(HK_CALLER, "13800138000", ingress=Ingress.INTERNATIONAL)
    decision = Screener().decide(event)
    log.log_decision(event, decision, actor="cli", at=t0)
    log.log_decision(event, decision, actor="api", at=t0 + dt.timedelta(seconds=1))
    newest, oldest = log.recent_decisions(limit=5)
    assert (newest.actor, oldest.actor) == ("api", "cli")
    assert newest.decision["verdict"] == "block"
    assert is_number_key(newest.event["caller"]), "the log keeps the caller as a keyed hash"
    assert newest.event["caller"] == oldest.event["caller"], "one number, one hash"
    assert newest.event["callee"] != newest.event["caller"]
    assert_no_clear_numbers([newest.event, newest.decision], where="the decision log")
    assert oldest.at == t0
    assert len(log.recent_decisions(limit=1)) == 1
    summary = BatchSummary(
        started_at=t0,
        finished_at=t0 + dt.timedelta(seconds=2),
        source="events.csv",
        output="verdicts.csv",
        rows_read=10,
        screened=9,
        quarantined=1,
        duration_s=2.0,
        by_verdict={"block": 9},
        by_reason={"cross_border_default_block": 9},
    )
    log.log_batch(summary, actor="cli")
    assert log.recent_batches() == [summary]


class _PrivateStore(_AuditedOptInStore, DecisionLog, Protocol):
    pass


def check_number_privacy(store: _PrivateStore) -> None:
    """Subscriber numbers reach the decision log and the opt-in audit only as keyed hashes,
    and the opt-in history is still found by number (in any spelling the store normalised)."""
    event = ScreeningEvent(HK_CALLER, "138 0013 8000", ingress=Ingress.INTERNATIONAL)
    store.log_decision(event, Screener().decide(event), actor="cli", at=T0)
    store.set_optin(OptIn(CALLEE, OptInScope.CALLS, True, T0, "sms-1219"), actor="alice")
    store.remove_optin(CALLEE, None, actor="bob")
    (logged,) = store.recent_decisions()
    assert_no_clear_numbers([logged.event, logged.decision], where="the decision log")
    audit = store.audit_log(entity="optin")
    assert [r.action for r in audit] == ["delete", "create"]
    for r in audit:
        assert_no_clear_numbers([r.entity_key, r.before, r.after], where="the opt-in audit")
    history = store.optin_history(CALLEE)
    assert [r.action for r in history] == ["delete", "create"], "found by number"
    assert store.optin_history("+8613900139000") == []
    assert audit[1].after is not None
    assert audit[1].after["msisdn"] == logged.event["callee"], "one number, one hash"


class _CountingSink(Protocol):
    def taken(self) -> int: ...


class _ReadableDecisionSink(DecisionSink, _CountingSink, Protocol):
    pass


class _ReadableFlagSink(FlagSink, _CountingSink, Protocol):
    pass


def check_decision_sink(sink: _ReadableDecisionSink) -> None:
    """A redelivered position is taken once; distinct positions are all taken."""
    screener = Screener()
    events = [
        ScreeningEvent(HK_CALLER, "13800138000", ingress=Ingress.INTERNATIONAL),
        ScreeningEvent("+8613900139000", "13800138000"),
    ]
    decisions: list[Decision] = [screener.decide(e) for e in events]
    sink.put("p1", events[0], decisions[0])
    sink.put("p2", events[1], decisions[1])
    sink.put("p1", events[0], decisions[0])
    assert sink.taken() == 2, "a redelivered event must not be counted twice"


def check_flag_sink(sink: _ReadableFlagSink) -> None:
    """A flag put twice under one key is taken once."""
    flag = Flag("+8613800138000", "msisdn", "sim_bank", T0, "many cards, one cell")
    sink.put("sim_bank:+8613800138000", flag)
    sink.put("sim_bank:+8613800138000", flag)
    sink.put("scorer:+8613800138000", flag)
    assert sink.taken() == 2


class _FullStore(_AuditedPolicyStore, _AuditedListStore, _PrivateStore, Protocol):
    pass


def check_store(factory: Callable[[], _FullStore], *, at: dt.datetime | None = None) -> None:
    """Every store-port check, each on a fresh store from ``factory``."""
    check_policy_store(factory(), at=at)
    check_optin_store(factory(), at=at)
    check_list_store(factory())
    check_audit_log(factory())
    check_decision_log(factory(), at=at)
    check_number_privacy(factory())
