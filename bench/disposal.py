"""Benchmark of disposal: measures applied per second, flag-to-measure latency, cascade rate.

Run ``uv run python bench/disposal.py`` (5,000 cards) or with ``--small`` (500).

- **Measures applied per second**: ``DisposalService.take_flag`` on distinct SIM-bank cards, each
  opening a case with a blocking re-verification in force, its two notices (zh, en), two cascade
  messages and its audit records committed in one transaction. On the SQLite file store (and
  PostgreSQL when ``TELEWARDEN_TEST_POSTGRES_URL`` answers), against the in-memory store as the
  baseline (same core, no database): the ratio is what durability costs.
- **Flag to measure in force**: p50/p99 of one ``take_flag`` call, i.e. from the flag handed to
  the service to the measure committed and in the ``MeasureBook`` the screener reads.
- **Cascade notices per second** to a ``WebhookReceiver`` on 127.0.0.1 (no injected failures):
  the worker leasing, signing, POSTing and recording each message, against a baseline of bare
  signed POSTs of the same bodies over the same transport (no store): the ratio is the outbox's
  bookkeeping cost.
- **Restriction look-ups per second** in the ``MeasureBook`` against a plain dict look-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

from telewarden.adapters.clock import SystemClock
from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
from telewarden.adapters.storage.sql import SqlStore
from telewarden.adapters.webhook_receiver import WebhookReceiver
from telewarden.adapters.webhooks import UrllibTransport
from telewarden.core.disposal import LinkedAccount, MeasureBook
from telewarden.core.disposal.cascade import IDEMPOTENCY_HEADER, canonical_body, sign
from telewarden.core.disposal.ports import Card, Endpoint
from telewarden.core.ports import FixedClock, Flag
from telewarden.services.cascade import DeliveryConfig, run_worker
from telewarden.services.disposal import DisposalService

SECRET = "bench-shared-secret-0123456789ab"
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def _cards(n: int) -> list[str]:
    return [f"+86138{i:08d}" for i in range(n)]


def _load(store: object, cards: list[str]) -> None:
    store.import_cards(  # type: ignore[attr-defined]
        [Card(m, f"id{i // 3}") for i, m in enumerate(cards)], actor="bench", source_name="b"
    )
    store.import_accounts(  # type: ignore[attr-defined]
        [LinkedAccount(p, f"{p}-{m}", m) for m in cards for p in ("wechat", "alipay")],
        actor="bench",
        source_name="b",
    )


def _apply(store: object, cards: list[str]) -> tuple[float, list[float], MeasureBook]:
    clock = FixedClock(T0)
    book = MeasureBook()
    service = DisposalService(store, clock, book=book)  # type: ignore[arg-type]
    latencies: list[float] = []
    started = time.perf_counter()
    for m in cards:
        t0 = time.perf_counter()
        service.take_flag(Flag(m, "msisdn", "sim_bank_imei", T0, "rack"), key=m)
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    assert len(book) == len(cards)
    return elapsed, latencies, book


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _report(name: str, n: int, elapsed: float, latencies: list[float]) -> float:
    rate = n / elapsed
    print(
        f"{name:<12} {rate:>9,.0f} measures/s  flag->measure p50 {_pct(latencies, 0.5):6.2f} ms"
        f"  p99 {_pct(latencies, 0.99):6.2f} ms"
    )
    return rate


def _postgres_url() -> str | None:
    url = os.environ.get(
        "TELEWARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception:
        return None
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    n = 500 if args.small else 5000
    cards = _cards(n)
    print(f"disposal benchmark: {n:,} SIM-bank flags, 2 linked accounts per card")

    memory = MemoryDisposalStore(MemoryStore(clock=FixedClock(T0)))
    _load(memory, cards)
    mem_elapsed, mem_lat, _ = _apply(memory, cards)
    mem_rate = _report("memory", n, mem_elapsed, mem_lat)

    with tempfile.TemporaryDirectory() as tmp:
        sql = SqlStore.open(f"sqlite:///{Path(tmp) / 'bench.db'}", clock=FixedClock(T0))
        dispo = SqlDisposalStore(sql)
        _load(dispo, cards)
        sq_elapsed, sq_lat, book = _apply(dispo, cards)
        sq_rate = _report("sqlite", n, sq_elapsed, sq_lat)
        print(f"{'':<12} sqlite / memory baseline = {sq_rate / mem_rate:.3f}")

        pg = _postgres_url()
        if pg is not None:
            import uuid

            import sqlalchemy as sa

            schema = f"tw_bench_{uuid.uuid4().hex[:10]}"
            admin = sa.create_engine(pg)
            with admin.begin() as conn:
                conn.exec_driver_sql(f"create schema {schema}")
            try:
                pg_store = SqlStore.open(
                    f"{pg}?options=-csearch_path%3D{schema}", clock=FixedClock(T0)
                )
                pg_dispo = SqlDisposalStore(pg_store)
                _load(pg_dispo, cards)
                pg_elapsed, pg_lat, _ = _apply(pg_dispo, cards)
                pg_rate = _report("postgresql", n, pg_elapsed, pg_lat)
                print(f"{'':<12} postgresql / memory baseline = {pg_rate / mem_rate:.3f}")
                pg_store.close()
            finally:
                with admin.begin() as conn:
                    conn.exec_driver_sql(f"drop schema if exists {schema} cascade")
                admin.dispose()
        else:
            print("postgresql   not reachable: skipped")

        # Read model look-ups against a plain dict of the same cards.
        at = T0 + dt.timedelta(hours=1)
        probes = cards * max(1, 200_000 // n)
        started = time.perf_counter()
        hits = sum(book.restriction_for(m, at) is not None for m in probes)
        book_s = time.perf_counter() - started
        plain = {m: True for m in cards}
        started = time.perf_counter()
        base_hits = sum(plain.get(m) is not None for m in probes)
        dict_s = time.perf_counter() - started
        assert hits == base_hits == len(probes)
        print(
            f"MeasureBook  {len(probes) / book_s:>11,.0f} look-ups/s of restricted cards; dict "
            f"baseline {len(probes) / dict_s:,.0f}/s; ratio {dict_s / book_s:.3f}"
        )
        # Most traffic comes from cards without a measure: the look-up is one dict miss.
        misses = [f"+86139{i:08d}" for i in range(len(probes))]
        started = time.perf_counter()
        assert all(book.restriction_for(m, at) is None for m in misses)
        miss_s = time.perf_counter() - started
        started = time.perf_counter()
        assert all(plain.get(m) is None for m in misses)
        dict_miss_s = time.perf_counter() - started
        print(
            f"MeasureBook  {len(misses) / miss_s:>11,.0f} look-ups/s of free cards; dict "
            f"baseline {len(misses) / dict_miss_s:,.0f}/s; ratio {dict_miss_s / miss_s:.3f}"
        )

        # Cascade: every message of the SQLite run to a local receiver, against bare POSTs.
        receiver = WebhookReceiver(SECRET.encode()).start()
        try:
            for platform in ("wechat", "alipay"):
                dispo.set_endpoint(Endpoint(platform, receiver.url, SECRET), actor="bench")
            messages = dispo.outbox_counts().get("pending", 0)
            started = time.perf_counter()
            delivered = run_worker(
                dispo, UrllibTransport(), SystemClock(), DeliveryConfig(), until_idle=True
            )
            worker_s = time.perf_counter() - started
            assert delivered.delivered == messages == len(receiver.log.accepted)
            transport = UrllibTransport()
            sample = min(messages, 2000)
            body = canonical_body({"type": "disposed", "account": "x", "n": 0})
            started = time.perf_counter()
            for i in range(sample):
                headers = sign(SECRET.encode(), body, timestamp=int(time.time()))
                headers[IDEMPOTENCY_HEADER] = f"baseline-{i}"
                assert transport.post(receiver.url, body, headers, timeout_s=5).status == 200
            bare_s = time.perf_counter() - started
        finally:
            receiver.stop()
        worker_rate = messages / worker_s
        bare_rate = sample / bare_s
        print(
            f"cascade      {worker_rate:>9,.0f} notices/s delivered and recorded ({messages:,}); "
            f"bare signed POSTs {bare_rate:,.0f}/s; ratio {worker_rate / bare_rate:.3f}"
        )
        reconcile = dispo.reconcile()
        print(
            f"reconcile    messages {reconcile.messages:,} delivered {reconcile.delivered:,} "
            f"acted on {reconcile.acted_on:,} reconciles {reconcile.reconciles}"
        )
        sql.close()
    print(f"latency spread sqlite: stdev {statistics.pstdev(sq_lat):.2f} ms")


if __name__ == "__main__":
    main()
