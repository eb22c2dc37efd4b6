"""A real service for browser and load tests: uvicorn in a subprocess over a seeded SQLite store."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from telewarden.adapters.clock import SystemClock
from telewarden.adapters.service_store import service_store_for
from telewarden.adapters.storage.sql import SqlStore
from telewarden.core.ports import BatchSummary
from telewarden.core.screening import (
    Channel,
    Ingress,
    ListEntry,
    ListKind,
    MatchKind,
    OptIn,
    OptInScope,
    ScreeningEvent,
)
from telewarden.core.service_ports import LoggedDecision
from telewarden.services import accounts
from telewarden.services.screening import load_screener

ADMIN, ANALYST, SUPERVISOR = "admin", "analyst", "supervisor"
PASSWORD = "console-password-1"
FRAUD = "+8617012345678"
OPTED_IN = "+8613800138000"
CARD = "+8617099990000"
"""One of the carrier's cards with an open case (a robocall detector's flag)."""


@dataclass
class Live:
    url: str
    home: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(home: Path) -> None:
    """Users, a deny entry, an opt-in, a week of decisions and batch summaries."""
    home.mkdir(parents=True, exist_ok=True)
    clock = SystemClock()
    # The server reads the number key ring from the settings of ``home``: seed under the same
    # ring, or the console's number page would not find the seeded decisions by number.
    from telewarden.settings import load_settings

    ring = load_settings(home=home, database_url=None).number_keyring()
    store = SqlStore.open(f"sqlite:///{home / 'telewarden.db'}", clock=clock, keyring=ring)
    service = service_store_for(store, clock)
    accounts.create_user(service, clock, ADMIN, PASSWORD, "admin", actor="test")
    accounts.create_user(service, clock, ANALYST, PASSWORD, "analyst", actor="test")
    accounts.create_user(service, clock, SUPERVISOR, PASSWORD, "supervisor", actor="test")
    _seed_case(store, clock)
    store.add_entry(
        ListKind.DENY, ListEntry(FRAUD, MatchKind.EXACT, "police", "诈骗号码"), actor="test"
    )
    store.set_optin(OptIn(OPTED_IN, OptInScope.CALLS, True, clock.now(), "app"), actor="test")
    screener = load_screener(store, store.get_policy())
    today = clock.now().replace(hour=9, minute=0, second=0, microsecond=0)
    items = []
    for day in reversed(range(7)):  # oldest first, as they would have been logged
        at = today - dt.timedelta(days=day)
        for i in range(3 + day):
            for event in (
                ScreeningEvent("+85223456789", f"1390013{i:04d}", Channel.CALL, Ingress.INTERNATIONAL, at),
                ScreeningEvent(FRAUD, OPTED_IN, Channel.CALL, Ingress.DOMESTIC, at),
                ScreeningEvent("+447700900123", f"1380013{i:04d}", Channel.SMS, Ingress.INTERNATIONAL, at),
                ScreeningEvent("13900139000", OPTED_IN, Channel.CALL, Ingress.DOMESTIC, at),
            ):  # fmt: skip
                items.append(LoggedDecision(event, screener.decide(event), "key:twk_seed", at))
        store.log_batch(
            BatchSummary(
                at, at, "cdr.parquet", "verdicts.parquet", 1000 * (day + 1), 1000 * (day + 1),
                0, 1.0, {"block": 120 * (day + 1), "allow": 880 * (day + 1)},
                {"cross_border_default_block": 120 * (day + 1), "domestic": 880 * (day + 1)},
            ),
            actor="cli",
        )  # fmt: skip
    service.log_decisions(items)
    store.close()


def _seed_case(store: SqlStore, clock: SystemClock) -> None:
    from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
    from telewarden.core.disposal.ports import Card
    from telewarden.core.ports import Flag
    from telewarden.services.disposal import DisposalService

    cases = SqlDisposalStore(store)
    cases.import_cards([Card(CARD, "id-hash-card")], actor="test", source_name="test")
    flag = Flag(
        CARD, "msisdn", "robocall", clock.now(), "412 calls to strangers in one hour",
        score=0.97, evidence={"calls_1h": 412, "distinct_callees_1h": 398},
    )  # fmt: skip
    DisposalService(cases, clock).take_flag(flag, key="seed:robocall:1")


@contextmanager
def serve(
    home: Path, *, workers: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[Live]:
    """uvicorn serving ``telewarden.api.main:app_from_settings`` over ``home``; stopped after."""
    port = free_port()
    env = {
        **os.environ,
        "TELEWARDEN_HOME": str(home),
        "TELEWARDEN_API_ACCESS_LOG": "0",
        **(extra_env or {}),
    }
    env.pop("TELEWARDEN_DATABASE_URL", None)
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "telewarden.api.main:app_from_settings", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--no-access-log", "--log-level", "warning",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError(
                    f"server did not start: {(home / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield Live(url, home)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
