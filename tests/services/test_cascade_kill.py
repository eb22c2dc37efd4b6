"""The cascade worker killed with SIGKILL at random points while the receiver fails half its requests.

After restarts every message reaches the receiver under its idempotency key exactly once as the
receiver sees it (re-sends carry the same key and body), none is missing, and the reconciliation
adds up. The worker is a real process (``python -m telewarden.cli.cascade run``).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
from telewarden.adapters.storage.sql import SqlStore
from telewarden.adapters.webhook_receiver import WebhookReceiver
from telewarden.core.disposal import LinkedAccount
from telewarden.core.disposal.ports import Card, Endpoint
from telewarden.core.ports import FixedClock, Flag
from telewarden.services.disposal import DisposalService

SECRET = "kill-test-shared-secret-0123456789"
CARDS = 30
KILLS = 3


def _worker(env: dict[str, str], *, capture: bool = False) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "telewarden.cli.cascade",
        "run",
        "--until-idle",
        "--lease-s",
        "1",
        "--backoff-s",
        "0.02",
        "--backoff-cap-s",
        "0.2",
        "--max-attempts",
        "60",
        "--poll-s",
        "0.05",
        "--timeout-s",
        "2",
        "--batch",
        "10",
    ]
    stderr = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_every_message_arrives_once_despite_kills_and_failures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    clock = FixedClock(dt.datetime.now(dt.UTC))
    store = SqlStore.open(url, clock=clock)
    dispo = SqlDisposalStore(store)
    cards = [f"+86138{i:08d}" for i in range(CARDS)]
    dispo.import_cards([Card(m, f"id{i}") for i, m in enumerate(cards)], actor="t", source_name="t")
    dispo.import_accounts(
        [LinkedAccount(p, f"{p}-{m}", m) for m in cards for p in ("wechat", "alipay")],
        actor="t",
        source_name="t",
    )
    service = DisposalService(dispo, clock)
    for m in cards:
        service.take_flag(Flag(m, "msisdn", "sim_bank_imei", clock.now(), "rack"), key=m)
    expected = {key for key, _, _, _ in dispo.outbox_messages()}
    assert len(expected) == 2 * CARDS
    receiver = WebhookReceiver(SECRET.encode(), fail_ratio=0.5, latency_s=0.02, seed=11).start()
    env = {
        **os.environ,
        "TELEWARDEN_HOME": str(tmp_path / "home"),
        "TELEWARDEN_DATABASE_URL": url,
        "TELEWARDEN_HASH_KEY": "unused-here",
        "TELEWARDEN_NUMBER_KEY": "1:test-number-key-shared-by-every-host-0123456789",
    }
    rng = random.Random(int(os.environ.get("TW_KILL_SEED", "1")))
    kills = 0
    started = time.monotonic()
    try:
        for platform in ("wechat", "alipay"):
            dispo.set_endpoint(Endpoint(platform, receiver.url, SECRET), actor="t")
        while kills < KILLS and time.monotonic() - started < 25:
            before = receiver.log.requests
            target = before + rng.randint(3, 20)
            worker = _worker(env)
            while worker.poll() is None and receiver.log.requests < target:
                time.sleep(0.005)
            if worker.poll() is not None:
                break  # it finished everything before we could kill it
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            kills += 1
        assert kills >= 2, "the worker finished before it could be killed twice"
        assert dispo.outbox_counts().get("pending", 0) > 0 or kills == KILLS
        final = _worker(env, capture=True)
        _, err = final.communicate(timeout=60)
        assert final.returncode == 0, err.decode()
    finally:
        receiver.stop()
    log = receiver.log
    assert set(log.accepted) == expected, "a message is missing or unexpected"
    assert log.repeat_body_mismatches == 0 and log.bad_signatures == 0
    assert log.failed_on_purpose > 0
    assert dispo.outbox_counts() == {"delivered": 2 * CARDS}
    report = dispo.reconcile()
    assert report.reconciles
    assert (report.messages, report.delivered, report.dead, report.pending) == (2 * CARDS,) * 2 + (
        0,
        0,
    )
    assert report.cards_disposed == CARDS and report.acted_on == 2 * CARDS
    print(
        f"kills={kills} requests={log.requests} failed_on_purpose={log.failed_on_purpose} "
        f"repeats={log.repeats} accepted={len(log.accepted)} in {time.monotonic() - started:.1f}s"
    )
    store.close()
