"""Disposal use cases over the memory store: intake, timers, appeals, notices, cascade, audit."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.adapters.webhooks import FunctionTransport
from telewarden.core.disposal import Approval, CaseState, LinkedAccount, MeasureBook, MeasureKind
from telewarden.core.disposal.cascade import IDEMPOTENCY_HEADER, verify_signature
from telewarden.core.disposal.ports import Card, Endpoint, WebhookResponse
from telewarden.core.errors import ConflictError
from telewarden.core.ports import FixedClock, Flag
from telewarden.services.audit import verify_audit
from telewarden.services.cascade import DeliveryConfig, deliver_due
from telewarden.services.disposal import DisposalService

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
SIMBANK = "+8613800000001"
OTHER = "+8613800000002"
OFFNET = "+447700900123"


def _service() -> tuple[DisposalService, MemoryDisposalStore, FixedClock, MeasureBook]:
    clock = FixedClock(T0)
    store = MemoryDisposalStore(MemoryStore(clock=clock))
    store.import_cards([Card(SIMBANK, "idA"), Card(OTHER, "idA")], actor="ops", source_name="s")
    store.import_accounts(
        [LinkedAccount("wechat", "w1", SIMBANK), LinkedAccount("alipay", "a1", SIMBANK)],
        actor="ops",
        source_name="a",
    )
    counter = itertools.count(1)
    book = MeasureBook()
    service = DisposalService(
        store, clock, book=book, make_id=lambda prefix: f"{prefix}{next(counter)}"
    )
    return service, store, clock, book


def _flag(msisdn: str, source: str = "sim_bank_imei") -> Flag:
    return Flag(msisdn, "msisdn", source, T0, "4 IMSIs on one IMEI in 24 h")


def test_intake_opens_cases_applies_measures_and_reconciles() -> None:
    service, store, _, book = _service()
    report = service.take_flags(
        [
            ("sim_bank_imei:" + SIMBANK, _flag(SIMBANK)),
            ("sim_bank_imei:" + SIMBANK, _flag(SIMBANK)),  # a re-run of the same alerts
            ("sim_bank_cluster:" + SIMBANK, _flag(SIMBANK, "sim_bank_cluster")),
            ("wangiri:" + OFFNET, _flag(OFFNET, "wangiri")),
        ]
    )
    assert report.reconciles
    assert (report.flags, report.taken, report.duplicates, report.not_our_cards) == (4, 2, 1, 1)
    assert (report.cases_opened, report.cases_joined) == (1, 1)
    # One blocking re-verification: the second flag joins and brings nothing new.
    assert report.by_kind == {"reverify": 1}
    assert report.notices == 2 and report.cascade_messages == 2
    restriction = book.restriction_for(SIMBANK, T0)
    assert restriction is not None and restriction.blocks_outgoing_calls
    case = store.live_case_for(SIMBANK)
    assert case is not None and case.id_doc_hash == "idA" and len(case.flags) == 2
    langs = sorted(n.notice.lang for n in store.notices_for(case.id))
    assert langs == ["en", "zh"]
    assert verify_audit(store.store).ok


def test_a_missed_deadline_suspends_and_a_won_appeal_lifts_everything_at_once() -> None:
    service, store, clock, book = _service()
    case_id = service.take_flag(_flag(SIMBANK), key="k1")
    assert case_id is not None
    clock.at = T0 + dt.timedelta(hours=25)
    tick = service.tick()
    assert (tick.cases, tick.escalated) == (1, 1)
    restriction = book.restriction_for(SIMBANK, clock.at)
    assert restriction is not None and restriction.blocks_incoming
    # Suspension is a new disposal: the platforms are told again.
    assert store.outbox_counts() == {"pending": 4}
    service.appeal(case_id, grounds="I am the owner and use it daily", channel="hotline")
    clock.at += dt.timedelta(hours=1)
    case = service.decide_appeal(case_id, upheld=True, by="sup")
    assert case.state is CaseState.CLEARED
    assert book.restriction_for(SIMBANK, clock.at) is None
    assert service.measure_book().restriction_for(SIMBANK, clock.at) is None
    # Lifting is cascaded too (the blocking re-verification was escalated, the suspension lifted).
    assert store.outbox_counts() == {"pending": 6}
    kinds = [n.notice.subject for n in store.notices_for(case_id) if n.notice.lang == "en"]
    assert kinds[-1] == "Notice: measure lifted"
    assert verify_audit(store.store).ok


def test_passing_reverification_by_number_lifts_at_once() -> None:
    service, _, clock, book = _service()
    service.take_flag(_flag(SIMBANK), key="k1")
    clock.at = T0 + dt.timedelta(hours=3)
    service.pass_reverification(SIMBANK, by="shop-7")
    assert book.restriction_for(SIMBANK, clock.at) is None


def test_suspension_waits_for_a_supervisor_and_the_timer_reports_late_reviews() -> None:
    service, store, clock, book = _service()
    case_id = service.take_flag(_flag(OTHER, "analyst"), key="k1")
    assert case_id is not None
    case = service.propose(case_id, MeasureKind.SUSPEND, by="ana")
    (pending,) = case.pending()
    assert book.restriction_for(OTHER, T0) is None
    with pytest.raises(ConflictError):
        service.approve(case_id, pending.id, by="ana", role=Approval.SUPERVISOR)
    service.approve(case_id, pending.id, by="sup", role=Approval.SUPERVISOR)
    assert book.restriction_for(OTHER, T0) is not None
    service.appeal(case_id, grounds="wrong card", channel="web")
    clock.at = T0 + dt.timedelta(hours=49)
    assert service.tick().appeals_overdue == [case_id]
    assert service.tick().appeals_overdue == []  # reported once


def _receiver(secret: bytes, fail: set[int]) -> tuple[FunctionTransport, dict[str, int]]:
    seen: dict[str, int] = {}
    calls = itertools.count(1)

    def handle(url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse:
        n = next(calls)
        assert verify_signature(secret, body, headers, now=T0.timestamp())
        if n in fail:
            return WebhookResponse(503, b"busy")
        key = headers[IDEMPOTENCY_HEADER]
        seen[key] = seen.get(key, 0) + 1
        action = "restricted" if json.loads(body)["type"] == "disposed" else "restored"
        return WebhookResponse(200, json.dumps({"ack": action}).encode())

    return FunctionTransport(handle), seen


def test_delivery_retries_with_backoff_dead_letters_and_reconciles() -> None:
    service, store, clock, _ = _service()
    secret = "a-shared-secret-of-32-characters"
    store.set_endpoint(Endpoint("wechat", "http://wechat.test/hook", secret), actor="ops")
    # alipay has no endpoint: its message fails every attempt and ends as a dead letter.
    service.take_flag(_flag(SIMBANK), key="k1")
    transport, seen = _receiver(secret.encode(), fail={1})
    config = DeliveryConfig(max_attempts=3, backoff_base_s=10, backoff_cap_s=100)
    first = deliver_due(store, transport, clock, config)
    assert (first.attempts, first.delivered, first.failed) == (2, 0, 2)
    # Nothing is due again before the backoff has passed.
    assert deliver_due(store, transport, clock, config).attempts == 0
    clock.at = T0 + dt.timedelta(seconds=10)
    second = deliver_due(store, transport, clock, config)
    assert (second.delivered, second.failed) == (1, 1)
    clock.at = T0 + dt.timedelta(seconds=30)
    third = deliver_due(store, transport, clock, config)
    assert third.dead == 1
    assert store.outbox_counts() == {"delivered": 1, "dead": 1}
    assert list(seen.values()) == [1]
    report = store.reconcile()
    assert report.reconciles
    assert (report.cards_disposed, report.accounts_notified, report.acted_on, report.dead) == (
        1,
        2,
        1,
        1,
    )


def test_a_measure_extends_to_the_other_cards_of_the_id_once() -> None:
    service, store, _, book = _service()
    case_id = service.take_flag(_flag(SIMBANK), key="k1")
    assert case_id is not None
    report = service.extend_to_id(case_id, by="ana")
    assert (report.flags, report.taken, report.by_kind) == (1, 1, {"reverify": 1})
    sibling = store.live_case_for(OTHER)
    assert sibling is not None and sibling.flags[0].source == "id_link"
    # Non-blocking re-verification: the sibling card still calls freely.
    assert book.restriction_for(OTHER, T0) is None
    assert service.extend_to_id(case_id, by="ana").duplicates == 1


def test_a_single_screen_honours_the_measure_at_once_and_lifting_is_immediate() -> None:
    from telewarden.core.screening import Channel, ScreeningEvent
    from telewarden.services.context import AppContext
    from telewarden.services.screening import screen_one

    service, store, clock, _ = _service()
    ctx = AppContext(store=store.store, clock=clock, cases=store)
    call = ScreeningEvent(SIMBANK, "+8613900139000", Channel.CALL)
    assert screen_one(ctx, call, actor="t").reason.value == "domestic"
    service.take_flag(_flag(SIMBANK), key="k1")
    clock.at = T0 + dt.timedelta(minutes=1)
    blocked = screen_one(ctx, call, actor="t")
    assert (blocked.rule, blocked.verdict.value) == ("card_measure", "block")
    assert "appeal=" in blocked.sip_reason
    sms = ScreeningEvent(SIMBANK, "+8613900139000", Channel.SMS)
    assert screen_one(ctx, sms, actor="t").verdict.value == "block"
    # Calls to emergency numbers are never blocked by a measure.
    emergency = ScreeningEvent(SIMBANK, "110", Channel.CALL)
    assert screen_one(ctx, emergency, actor="t").reason.value == "emergency_callee"
    # A card without a case is untouched.
    assert screen_one(ctx, ScreeningEvent(OTHER, "+8613900139000"), actor="t").verdict.value == (
        "allow"
    )
    service.pass_reverification(SIMBANK, by="shop-7")
    assert screen_one(ctx, call, actor="t").reason.value == "domestic"


def test_a_loaded_screener_honours_the_measures_in_force_when_it_was_built() -> None:
    from telewarden.core.screening import ScreeningEvent
    from telewarden.services.context import AppContext
    from telewarden.services.screening import load_screener, measures_now

    service, store, clock, _ = _service()
    ctx = AppContext(store=store.store, clock=clock, cases=store)
    service.take_flag(_flag(SIMBANK), key="k1")
    clock.at = T0 + dt.timedelta(minutes=1)
    screener = load_screener(store.store, ctx.effective_policy(), measures=measures_now(ctx))
    assert screener.decide(ScreeningEvent(SIMBANK, "+8613900139000")).rule == "card_measure"
    assert screener.decide(ScreeningEvent(OTHER, "+8613900139000")).rule == "domestic"
    assert (
        load_screener(store.store, ctx.effective_policy())
        .decide(ScreeningEvent(SIMBANK, "+8613900139000"))
        .rule
        == "domestic"
    ), "without measures the shipped rules apply"


def test_flag_files_take_scores_over_the_bar_and_replay_each_flag_at_its_time(
    tmp_path: Path,
) -> None:
    from telewarden.services.disposal_intake import FileReport, take_flag_files

    folder = tmp_path
    (folder / "alerts.csv").write_text(
        "msisdn,detector,flagged_at,reason\n"
        f"{SIMBANK},sim_bank_imei,2026-11-20T03:00:00+00:00,4 IMSIs\n"
        "not-a-number,sim_bank_imei,2026-11-20T03:00:00+00:00,bad\n"
    )
    (folder / "scores.csv").write_text(f"msisdn,score\n{OTHER},0.95\n{OFFNET},0.2\n{OTHER},x\n")
    service, store, clock, _ = _service()
    report = FileReport()
    taken = take_flag_files(
        service, folder / "alerts.csv", folder / "scores.csv", report, scores_at=T0,
        min_score=0.9, replay_clock=clock,
    )  # fmt: skip
    assert (report.rows_read, report.quarantined, report.reconciles) == (5, 2, True)
    assert report.problems == ["line 3: needs an E.164 msisdn, a detector and a flagged_at time",
                               "line 4: score is not a number"]  # fmt: skip
    assert (taken.flags, taken.taken, taken.cases_opened) == (2, 2, 2)
    by_msisdn = {c.msisdn: c for c in store.list_cases(limit=10)}
    assert by_msisdn[SIMBANK].opened_at == dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
    assert [f.source for f in by_msisdn[OTHER].flags] == ["scorer"]
    assert by_msisdn[OTHER].opened_at == T0
