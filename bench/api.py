"""Screening over HTTP: throughput and p50/p99 latency, single and batch, against a trivial endpoint.

Starts uvicorn with 2 workers in a subprocess serving the telewarden service over a fresh SQLite
store (decision logging on, as deployed), then a second uvicorn with 2 workers serving a trivial
FastAPI endpoint (a small pydantic body in, a fixed JSON out), and drives each from ANOTHER
process over loopback with a minimal keep-alive HTTP/1.1 client (asyncio streams; a full client
library would be the bottleneck). The ratio single-screen / trivial says what the screening
costs over FastAPI's own floor on the same machine in the same run.

    uv run python bench/api.py [--seconds 10] [--connections 32] [--batch 1000] [--small]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRIVIAL_APP = """
from fastapi import FastAPI
from pydantic import BaseModel

class Body(BaseModel):
    caller: str
    callee: str

def make() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(body: Body) -> dict:
        return {"verdict": "allow", "reason": "domestic", "caller": body.caller}

    return app
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(target: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-access-log",
            "--log-level", "warning",
        ],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                if s.recv(100):
                    return proc, port
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


def request_bytes(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{head}\r\n"
    ).encode() + body


async def _connection(
    port: int, requests: list[bytes], stop_at: float, latencies: list[float], statuses: dict
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = random.randrange(len(requests))
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        writer.write(requests[i % len(requests)])
        i += 1
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - t0)
        statuses[status] = statuses.get(status, 0) + 1
    writer.close()


def _drive(
    port: int, requests: list[bytes], seconds: float, connections: int, out: mp.Queue
) -> None:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def main() -> float:
        # a short warm-up (screener load, connection set-up) that is not measured
        warm: list[float] = []
        await asyncio.gather(
            *(_connection(port, requests, time.perf_counter() + 1.0, warm, {}) for _ in range(2))
        )
        t0 = time.perf_counter()
        stop = t0 + seconds
        await asyncio.gather(
            *(_connection(port, requests, stop, latencies, statuses) for _ in range(connections))
        )
        return time.perf_counter() - t0

    elapsed = asyncio.run(main())
    out.put((latencies, statuses, elapsed))


def drive(port: int, requests: list[bytes], seconds: float, connections: int, procs: int) -> dict:
    """Run the client in ``procs`` other processes; throughput and latency percentiles."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    workers = [
        ctx.Process(target=_drive, args=(port, requests, seconds, connections // procs, queue))
        for _ in range(procs)
    ]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    latencies = sorted(x for r in results for x in r[0])
    statuses: dict[int, int] = {}
    for r in results:
        for k, v in r[1].items():
            statuses[k] = statuses.get(k, 0) + v
    elapsed = max(r[2] for r in results)
    q = (
        statistics.quantiles(latencies, n=100, method="inclusive")
        if len(latencies) > 1
        else [0.0] * 99
    )
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "statuses": statuses,
    }


def line(name: str, r: dict, per_request: int = 1) -> str:
    return (
        f"{name:<28} {r['rps']:>9,.0f} req/s {r['rps'] * per_request:>11,.0f} verdicts/s  "
        f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  statuses {r['statuses']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batch", type=int, default=1000, help="events per batch request")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--small", action="store_true", help="3 s per measurement")
    parser.add_argument(
        "--no-decision-log", action="store_true", help="do not write single screens to the log"
    )
    args = parser.parse_args()
    seconds = 3.0 if args.small else args.seconds

    from telewarden.adapters.clock import SystemClock
    from telewarden.adapters.service_store import service_store_for
    from telewarden.adapters.storage.sql import SqlStore
    from telewarden.services import accounts

    home = Path(tempfile.mkdtemp(prefix="tw-bench-api-"))
    clock = SystemClock()
    store = SqlStore.open(f"sqlite:///{home / 'telewarden.db'}", clock=clock)
    secret = accounts.create_key(
        service_store_for(store, clock), clock, "bench", actor="bench"
    ).secret
    store.close()
    (home / "trivial_app.py").write_text(TRIVIAL_APP)
    env = {
        **os.environ,
        "TELEWARDEN_HOME": str(home),
        "TELEWARDEN_API_ACCESS_LOG": "0",
        "TELEWARDEN_API_LOG_DECISIONS": "0" if args.no_decision_log else "1",
        "PYTHONPATH": f"{home}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    env.pop("TELEWARDEN_DATABASE_URL", None)
    rng = random.Random(7)
    callers = [f"+852{rng.randrange(2000_0000, 9999_9999)}" for _ in range(300)] + [
        f"1{rng.choice('3589')}{rng.randrange(0, 10**9):09d}" for _ in range(700)
    ]
    callees = [f"13{rng.randrange(0, 10**9):09d}" for _ in range(1000)]
    auth = {"Authorization": f"Bearer {secret}"}
    singles = [
        request_bytes("/v1/screen", json.dumps({"caller": c, "callee": d}).encode(), auth)
        for c, d in zip(callers, callees, strict=True)
    ]
    trivial = [
        request_bytes("/echo", json.dumps({"caller": c, "callee": d}).encode(), {})
        for c, d in zip(callers, callees, strict=True)
    ]
    batches = []
    for _ in range(8):
        events = [
            {"caller": rng.choice(callers), "callee": rng.choice(callees)}
            for _ in range(args.batch)
        ]
        batches.append(
            request_bytes("/v1/screen/batch", json.dumps({"events": events}).encode(), auth)
        )

    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"uvicorn workers {args.workers}; client {args.client_procs} processes, "
        f"{args.connections} connections; {seconds:.0f} s per measurement"
    )
    proc, port = start("trivial_app:make", env, args.workers)
    try:
        base = drive(port, trivial, seconds, args.connections, args.client_procs)
    finally:
        proc.terminate()
        proc.wait()
    print(line("trivial FastAPI endpoint", base))
    proc, port = start("telewarden.api.main:app_from_settings", env, args.workers)
    try:
        single = drive(port, singles, seconds, args.connections, args.client_procs)
        print(line("POST /v1/screen", single))
        batch = drive(port, batches, seconds, max(args.client_procs, 4), args.client_procs)
        print(line(f"POST /v1/screen/batch x{args.batch}", batch, args.batch))
    finally:
        proc.terminate()
        proc.wait()
    print(f"single / trivial throughput: {single['rps'] / base['rps']:.2f}")
    print(f"batch verdicts/s / single verdicts/s: {batch['rps'] * args.batch / single['rps']:.1f}")


if __name__ == "__main__":
    main()
