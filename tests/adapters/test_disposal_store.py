"""The disposal store: the same behaviour from memory, SQLite and PostgreSQL (conformance suite)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
from telewarden.adapters.storage.sql import SqlStore
from telewarden.core.disposal import (
    Case,
    CaseState,
    DisposalPolicy,
    FlagRecord,
    LinkedAccount,
    MessageKind,
    verify_chain,
)
from telewarden.core.disposal.cascade import CascadeMessage, idempotency_key
from telewarden.core.disposal.credit import plan_listing
from telewarden.core.disposal.notices import render_measure_notice
from telewarden.core.disposal.ports import (
    Card,
    CardRegistry,
    CascadeStore,
    CaseStore,
    CreditStore,
    Endpoint,
    StoredNotice,
)
from telewarden.core.errors import ConflictError, NotFoundError
from telewarden.core.ports import AuditRecord, FixedClock

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
CARD = "+8613800138000"
POLICY = DisposalPolicy()
DISPOSAL_TABLES = (
    "cascade_dead_letters",
    "cascade_outbox",
    "cascade_endpoints",
    "linked_accounts",
    "credit_listings",
    "dispo_cards",
    "dispo_notices",
    "dispo_appeals",
    "dispo_measures",
    "dispo_flags",
    "dispo_cases",
    "audit_log",
)


def _sql(url: str) -> SqlDisposalStore:
    store = SqlStore.open(url, clock=FixedClock(T0))
    with store.engine.begin() as conn:
        for table in DISPOSAL_TABLES:
            conn.execute(sa.text(f"delete from {table}"))
    return SqlDisposalStore(store)


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql"),
    ]
)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A disposal store on each backend (its screening store is ``.store``)."""
    if request.param == "memory":
        yield MemoryDisposalStore(MemoryStore(clock=FixedClock(T0)))
        return
    url = (
        f"sqlite:///{tmp_path / 'tw.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
    dispo = _sql(url)
    try:
        yield dispo
    finally:
        dispo.store.close()


def _case(case_id: str = "C1", source: str = "police", msisdn: str = CARD) -> Case:
    counter = itertools.count(1)
    case = Case(case_id, msisdn, T0, id_doc_hash="h1")
    case.add_flag(FlagRecord(f"flag-{case_id}", source, T0, "evidence", 0.97, {"n": 3}), actor="d")
    for m in POLICY.automatic_measures(
        case, source, at=T0, new_id=lambda: f"{case_id}-M{next(counter)}"
    ):
        case.propose(m)
    return case


def _message(case: Case, platform: str, account: str) -> CascadeMessage:
    measure = case.measures[0]
    return CascadeMessage(
        idempotency_key(platform, account, measure.id, MessageKind.DISPOSED),
        platform,
        account,
        case.msisdn,
        case.id,
        measure.id,
        MessageKind.DISPOSED,
        {"account": account, "measure": str(measure.kind)},
    )


def _audit(action: str) -> list[AuditRecord]:
    return [AuditRecord(T0, "ana", "case", "C1", action, None, {"state": "open", "n": 1.5})]


def test_every_store_satisfies_the_ports(stores: Any) -> None:
    for port in (CaseStore, CardRegistry, CreditStore, CascadeStore):
        assert isinstance(stores, port)


def test_a_case_round_trips_with_its_measures_appeals_and_notices(stores: Any) -> None:
    case = _case()
    case.lodge_appeal(
        "A1", grounds="mine", channel="web", at=T0, review_within=POLICY.appeal_review_within
    )
    notice = StoredNotice(
        case.id, case.measures[0].id, T0, render_measure_notice(case.measures[0], "zh")
    )
    stores.commit(case, audit=_audit("create"), notices=[notice], outbox=[])
    assert case.version == 1
    loaded = stores.get_case("C1")
    assert loaded == case
    assert stores.live_case_for(CARD) == case
    assert stores.flag_seen("flag-C1") and not stores.flag_seen("other")
    assert stores.notices_for("C1") == [notice]
    assert stores.count_cases() == {"appealed": 1}
    assert [c.id for c in stores.list_cases(state=CaseState.APPEALED)] == ["C1"]
    with pytest.raises(NotFoundError):
        stores.get_case("nope")


def test_a_stale_copy_cannot_overwrite_a_newer_case(stores: Any) -> None:
    case = _case()
    stores.commit(case, audit=[], notices=[], outbox=[])
    first, second = stores.get_case("C1"), stores.get_case("C1")
    first.confirm(by="ana", at=T0)
    stores.commit(first, audit=_audit("confirm"), notices=[], outbox=[])
    second.clear(by="bob", at=T0)
    with pytest.raises(ConflictError):
        stores.commit(second, audit=_audit("clear"), notices=[], outbox=[])
    assert stores.get_case("C1").state is CaseState.CONFIRMED
    # The refused commit wrote no audit record.
    assert [e.action for e in stores.store.iter_audit_chain()] == ["confirm"]


def test_measures_in_force_and_due_timers(stores: Any) -> None:
    stores.commit(_case("C1", "police"), audit=[], notices=[], outbox=[])
    stores.commit(_case("C2", "deny_list", "+8613900139000"), audit=[], notices=[], outbox=[])
    kinds = sorted((m.case_id, str(m.kind)) for m in stores.measures_in_force())
    assert kinds == [("C1", "restrict"), ("C1", "reverify"), ("C2", "warn")]
    assert stores.cases_due(T0) == []
    assert stores.cases_due(T0 + dt.timedelta(hours=24)) == ["C1"]
    assert stores.cases_due(T0 + dt.timedelta(days=31)) == ["C1", "C2"]


def test_the_outbox_leases_retries_dead_letters_and_reconciles(stores: Any) -> None:
    case = _case()
    messages = [_message(case, "wechat", "w1"), _message(case, "alipay", "a1")]
    stores.commit(case, audit=[], notices=[], outbox=messages + messages[:1])
    lease = dt.timedelta(seconds=30)
    claimed = stores.claim(now=T0, limit=10, lease=lease)
    assert sorted(i.message.key for i in claimed) == sorted(m.key for m in messages)
    assert claimed[0].message in messages
    # Leased messages are not handed out twice until the lease runs out.
    assert stores.claim(now=T0 + dt.timedelta(seconds=1), limit=10, lease=lease) == []
    again = stores.claim(now=T0 + lease, limit=10, lease=lease)
    assert len(again) == 2
    w1, a1 = messages
    stores.dead_letter(a1.key, at=T0, error="gone", attempts=9)
    stores.mark_failed(
        w1.key, at=T0, error="503", attempts=1, retry_at=T0 + dt.timedelta(minutes=1)
    )
    assert stores.claim(now=T0 + lease + dt.timedelta(seconds=1), limit=10, lease=lease) == []
    (retry,) = stores.claim(now=T0 + dt.timedelta(minutes=2), limit=10, lease=lease)
    assert retry.attempts == 1
    stores.mark_delivered(w1.key, at=T0, ack="restricted", attempts=2)
    # A late ack for a message already settled changes nothing.
    stores.mark_delivered(a1.key, at=T0, ack="restricted", attempts=10)
    assert stores.outbox_counts() == {"delivered": 1, "dead": 1}
    report = stores.reconcile()
    assert report.reconciles
    assert (report.cards_disposed, report.messages, report.delivered) == (1, 2, 1)
    assert (report.acknowledged, report.acted_on, report.dead, report.pending) == (1, 1, 1, 0)
    assert report.by_platform["alipay"]["dead"] == 1
    # After the platform fixes its endpoint the dead letter is sent again, attempts reset.
    later = T0 + dt.timedelta(hours=1)
    assert stores.requeue_dead(at=later, actor="ops") == 1
    (again_a1,) = stores.claim(now=later, limit=10, lease=lease)
    assert (again_a1.message.key, again_a1.attempts) == (a1.key, 0)
    assert stores.requeue_dead(at=later, actor="ops") == 0


def test_cards_by_id_accounts_endpoints_and_listings(stores: Any) -> None:
    cards = [Card(f"+86138000000{i:02d}", "idA" if i < 3 else "idB", T0) for i in range(5)]
    assert stores.import_cards(cards, actor="ops", source_name="subs") == 5
    assert [c.msisdn for c in stores.cards_under("idA")] == [c.msisdn for c in cards[:3]]
    assert stores.card(cards[4].msisdn) == cards[4]
    assert stores.card("+8600") is None
    accounts = [
        LinkedAccount("wechat", "w1", CARD),
        LinkedAccount("qq", "q1", CARD),
        LinkedAccount("wechat", "w1", "+8613900139000"),  # re-linked: the later row wins
    ]
    assert stores.import_accounts(accounts, actor="ops", source_name="a.csv") == 3
    assert stores.accounts_for(CARD) == [LinkedAccount("qq", "q1", CARD)]
    assert stores.count_accounts() == 2
    stores.set_endpoint(Endpoint("wechat", "http://127.0.0.1:1/hook", "s3cret"), actor="ops")
    assert stores.endpoints()["wechat"].secret == "s3cret"
    listing = plan_listing(
        [], id_hash="idA", basis="fraud", start=T0, term_years=2, listing_id="L1"
    )
    stores.save_listing(listing, actor="police")
    assert stores.listings_for("idA") == [listing]
    lifted = listing.lifted(at=T0 + dt.timedelta(days=1), reason="appeal")
    stores.save_listing(lifted, actor="sup")
    assert stores.listings_for("idA") == [lifted]
    assert stores.list_listings() == [lifted]
    # Every change was audited, and the chain holds; the secret is not in the audit log.
    chain = list(stores.store.iter_audit_chain())
    assert [e.entity for e in chain] == [
        "cards",
        "linked_accounts",
        "cascade_endpoint",
        "credit_listing",
        "credit_listing",
    ]
    assert "s3cret" not in repr(chain)
    assert verify_chain(chain).ok


def test_a_card_has_one_live_case_at_a_time(stores: Any) -> None:
    first = _case("C1", "deny_list")
    stores.commit(first, audit=[], notices=[], outbox=[])
    # Another process, not seeing C1 yet, opens its own case for the same card: refused.
    racer = Case("C2", CARD, T0)
    racer.add_flag(FlagRecord("flag-racer", "scorer", T0, "score"), actor="d")
    with pytest.raises(ConflictError):
        stores.commit(racer, audit=[], notices=[], outbox=[])
    assert not stores.flag_seen("flag-racer")
    first.clear(by="ana", at=T0)
    stores.commit(first, audit=[], notices=[], outbox=[])
    stores.commit(racer, audit=[], notices=[], outbox=[])
    assert stores.live_case_for(CARD).id == "C2"


def test_retention_purges_old_cleared_cases_only(stores: Any) -> None:
    old = _case("C1", "police")
    old.clear(by="ana", at=T0)
    notice = StoredNotice("C1", None, T0, render_measure_notice(old.measures[0], "en"))
    stores.commit(old, audit=[], notices=[notice], outbox=[_message(old, "qq", "q1")])
    live = _case("C2", "police", "+8613900139000")
    stores.commit(live, audit=[], notices=[], outbox=[])
    assert stores.purge_cleared(T0, actor="ops") == 0  # not older than the cut-off
    # The pending cascade message of a purged case is kept until it is delivered.
    assert stores.purge_cleared(T0 + dt.timedelta(days=1), actor="ops") == 1
    with pytest.raises(NotFoundError):
        stores.get_case("C1")
    assert stores.notices_for("C1") == [] and not stores.flag_seen("flag-C1")
    assert stores.outbox_counts() == {"pending": 1}
    assert stores.get_case("C2").state is CaseState.OPEN
    chain = list(stores.store.iter_audit_chain())
    assert chain[-1].action == "purge" and chain[-1].after["cases"] == 1
    assert verify_chain(chain).ok
