"""Disposal end to end on a small simulation: detect, dispose, enforce, notify, cascade, reconcile."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
from telewarden.adapters.storage.sql import SqlStore
from telewarden.adapters.webhook_receiver import WebhookReceiver
from telewarden.adapters.webhooks import UrllibTransport
from telewarden.cli.main import app
from telewarden.core.disposal import MeasureBook, verify_chain
from telewarden.core.disposal.ports import Endpoint
from telewarden.core.ports import FixedClock
from telewarden.services.cascade import DeliveryConfig, run_worker
from telewarden.services.disposal import DisposalService
from telewarden.services.disposal_replay import dispose_records

SECRET = "shared-secret-for-the-e2e-test"


@pytest.fixture(scope="module")
def tiny_records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    result = CliRunner().invoke(app, ["sim", "--preset", "tiny", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_flags_become_measures_that_block_later_traffic_and_reach_platforms(
    tiny_records: Path, tmp_path: Path
) -> None:
    clock = FixedClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    store = SqlStore.open(f"sqlite:///{tmp_path / 'tw.db'}", clock=clock)
    dispo = SqlDisposalStore(store)
    book = MeasureBook()
    service = DisposalService(dispo, clock, book=book)
    report = dispose_records(tiny_records, service, clock, hash_key=b"e2e-key")

    assert report.alerts > 0 and report.intake.reconciles
    assert report.intake.taken > 0 and report.intake.not_our_cards > 0  # off-net robocallers
    assert report.cards_disposed > 0
    # The detectors are precise on the simulator: every disposed card is a fraud card.
    assert report.fraud_cards_disposed == report.cards_disposed
    # Each measure in force wrote its notice in Chinese and English.
    assert report.intake.notices == 2 * report.intake.measures_in_force
    # The disposed cards kept calling; the measures stop every such call but emergency ones.
    assert report.later_calls > 0
    assert report.later_calls_blocked + report.later_emergency_calls == report.later_calls
    assert report.later_sms_blocked == report.later_sms
    # Disposal is cascaded to the platforms holding accounts on the cards.
    assert report.intake.cascade_messages > 0
    # A day later nobody has re-verified: the timer suspends every card (O4a).
    clock.at += dt.timedelta(hours=25)
    tick = service.tick()
    assert tick.escalated == report.cards_disposed == len(book.restricted(clock.at))
    assert all(
        (r := book.restriction_for(m, clock.at)) is not None and r.blocks_incoming
        for m in book.restricted(clock.at)
    )
    platforms = {
        p
        for (p,) in dispo.engine.connect()
        .exec_driver_sql("select distinct platform from cascade_outbox")
        .all()
    }
    receiver = WebhookReceiver(SECRET.encode(), fail_ratio=0.3).start()
    try:
        for platform in platforms:
            dispo.set_endpoint(Endpoint(platform, receiver.url, SECRET), actor="ops")
        from telewarden.adapters.clock import SystemClock

        run_worker(
            dispo,
            UrllibTransport(),
            SystemClock(),
            DeliveryConfig(max_attempts=30, backoff_base_s=0.01, backoff_cap_s=0.05),
            until_idle=True,
            poll_s=0.01,
        )
    finally:
        receiver.stop()
    keys = {key for key, _, _, _ in dispo.outbox_messages()}
    assert set(receiver.log.accepted) == keys
    assert receiver.log.bad_signatures == 0 and receiver.log.failed_on_purpose > 0
    reconcile = dispo.reconcile()
    assert reconcile.reconciles
    assert reconcile.delivered == reconcile.messages == len(keys)
    # Flags' messages plus those of the suspensions the timer imposed on missed deadlines.
    assert len(keys) == 2 * report.intake.cascade_messages
    assert reconcile.acted_on == reconcile.messages
    assert reconcile.cards_disposed == report.cards_disposed
    assert verify_chain(store.iter_audit_chain()).ok
    store.close()
