"""The live loop on NATS JetStream: two partition workers running the whole loop (screen,
detect, dispose, warn), killed with SIGKILL at random points while the feed is still publishing,
deliver every effect (verdicts, flags, measures, warnings) exactly once.

The test starts its own ``nats-server`` with JetStream on a free port (so it never touches the
machine's broker) and compares what reached ``TW_EFFECTS`` with an uninterrupted embedded run of
the same events, one loop per partition as the workers own them. It is tuned to run in about a
minute: the feed is paced so that it lasts through the kills, checkpoints are taken every half
second, and the next victim is a worker that has already made progress since its own restart,
so one worker's start-up overlaps the other's work.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from telewarden.adapters.brokers.nats_jetstream import (
    DLQ_STREAM,
    EFFECTS_STREAM,
    JetStream,
    encode_event,
    partition_of,
    unpack_effects,
)
from telewarden.runners.live import Checkpoint, effect_messages
from telewarden.services.demo import enterprise_registry
from telewarden.services.live_loop import micro_batches
from telewarden.services.loop_demo import make_whole_loop
from telewarden.services.loop_replay import load_day
from telewarden.settings import load_settings

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
KILLS = 20
PARTITIONS = 2
FEED_RATE = 100
"""Events per second: the half day (about 4,800 events) takes some 48 s to publish, about what
20 kills take on a busy 2-core machine (a restarted worker needs some 3 s to take its first
batch), so the kills land while the workers are taking events."""
FEED_BATCH = 10
"""Events per feed message (per partition): a message every 0.2 s, so the workers' micro-batches
(up to 300 events) are cut by what has arrived, differently on every restart."""
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""The workers' environment. They start two dozen times: with byte-code caching the first start
compiles what the others load (phonenumbers' data alone is megabytes of source, seconds of CPU
per start without it)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    if not Path(NATS_SERVER).exists():
        if os.environ.get("CI"):
            pytest.fail("nats-server is required in CI")
        pytest.skip("nats-server is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp_path / "js")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    try:
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _expected(records: Path, partitions: int) -> dict[str, list[object]]:
    """The effects of an uninterrupted embedded run, one loop per partition as the workers own.

    A key maps to the effects (parsed JSON) it may carry: one, except for a warning two
    partitions both raised (same victim, same flagged number), where the broker keeps whichever
    came first.
    """
    events = load_day(records)
    owner = events["caller"].map_elements(
        lambda c: partition_of(c, partitions), return_dtype=pl.Int64
    )
    hash_key = load_settings().effective_hash_key()
    expected: dict[str, list[object]] = {}
    for partition in range(partitions):
        loop = make_whole_loop(
            records,
            hash_key=hash_key,
            allow=enterprise_registry(),
            id_scope=f"p{partition}",
            owns=lambda msisdn, p=partition: partition_of(msisdn, partitions) == p,
        )
        seen: set[str] = set()
        for batch in micro_batches(events.filter(owner == partition), 1_000):
            for kind, key, payload in effect_messages(loop.step(batch)):
                assert key not in seen, f"the loop itself emitted {key} twice"
                assert kind == "warning" or key not in expected, f"{key} in two partitions"
                seen.add(key)
                expected.setdefault(key, []).append(json.loads(payload))
    return expected


def _worker(
    records: Path, url: str, partition: int, checkpoint: Path, idle: float | None
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "telewarden.cli.main", "run", "--records", str(records),
        "--broker", url, "--partition", str(partition), "--partitions", str(PARTITIONS),
        "--checkpoint", str(checkpoint), "--batch", "300", "--checkpoint-every", "0.5", "--json",
    ]  # fmt: skip
    if idle is None:
        # A worker that will be killed keeps no pipes open to the test.
        return subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
        )
    command += ["--idle-exit", str(idle)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)


def _seq(checkpoint: Path) -> int:
    try:
        return Checkpoint.load(checkpoint).last_seq
    except Exception:  # written while we read: no progress seen yet
        return 0


def kill_and_restart(
    workers: dict[int, subprocess.Popen[bytes]],
    records: Path,
    url: str,
    checkpoints: list[Path],
    kills: int,
    *,
    seed: int,
    wait_s: float,
) -> int:
    """SIGKILL a worker ``kills`` times at random points, restarting it each time.

    The victim is a worker that has taken a batch since it (re)started, so the kills land in
    processing, not only in start-up (waiting at most ``wait_s`` for one); while it is chosen,
    the other starts. ``workers`` is updated in place; returns the kills done.
    """
    partitions = range(len(checkpoints))
    since = {p: _seq(checkpoints[p]) for p in partitions}
    rng = random.Random(seed)
    done = 0
    while done < kills:
        deadline = time.monotonic() + wait_s
        ready: list[int] = []
        while not ready and time.monotonic() < deadline:
            ready = [p for p in partitions if _seq(checkpoints[p]) > since[p]]
            if not ready:
                time.sleep(0.05)
        victim = rng.choice(ready or list(partitions))
        time.sleep(rng.uniform(0.0, 0.6))
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait()
        done += 1
        since[victim] = _seq(checkpoints[victim])
        workers[victim] = _worker(records, url, victim, checkpoints[victim], None)
    return done


async def _effects(url: str) -> list[tuple[dict[str, str], bytes]]:
    js = await JetStream.connect(url)
    try:
        return await js.read_subject(EFFECTS_STREAM, "tw.effects.>")
    finally:
        await js.close()


@pytest.mark.slow
def test_killed_workers_deliver_every_effect_exactly_once(
    records: Path, nats_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    expected = _expected(records, PARTITIONS)
    phases = {"expected": time.monotonic() - started}
    for kind in ("flag", "measure", "warning"):
        assert any(k.startswith(f"{kind}:") for k in expected), f"the half day has {kind}s"
    feed = subprocess.Popen(
        [sys.executable, "-m", "telewarden.cli.main", "run", "feed", "--records", str(records),
         "--broker", nats_url, "--partitions", str(PARTITIONS), "--rate", str(FEED_RATE),
         "--batch-events", str(FEED_BATCH)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV,
    )  # fmt: skip
    partitions = range(PARTITIONS)
    checkpoints = [tmp_path / f"p{p}.ckpt" for p in partitions]
    workers = {p: _worker(records, nats_url, p, checkpoints[p], None) for p in partitions}
    try:
        kills = kill_and_restart(workers, records, nats_url, checkpoints, KILLS, seed=5, wait_s=4)
        phases["kills"] = time.monotonic() - started
        _, feed_errors = feed.communicate(timeout=120)
        phases["feed"] = time.monotonic() - started
        assert feed.returncode == 0, feed_errors.decode()
    finally:
        for process in workers.values():
            process.kill()
            process.wait()
        if feed.poll() is None:
            feed.kill()
            feed.communicate()
    # Every partition is then run to the end of the stream.
    finals = [_worker(records, nats_url, p, checkpoints[p], idle=1.5) for p in partitions]
    reports = []
    for process in finals:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
        reports.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    phases["finals"] = time.monotonic() - started
    assert sum(r["dead_lettered"] for r in reports) == 0
    assert any(r["resumed_from_seq"] > 0 for r in reports), "the workers resumed from checkpoints"

    stored = asyncio.run(_effects(nats_url))
    ids = [headers["Nats-Msg-Id"] for headers, _ in stored]
    assert len(ids) == len(set(ids)), "a message reached the stream twice"
    assert any(i.startswith("verdict:p") for i in ids), "verdicts travel in batch messages"
    # Every effect of every message, unpacked: each key once, none lost, none twice.
    effects = [pair for headers, data in stored for pair in unpack_effects(headers, data)]
    keys = [key for key, _ in effects]
    twice = sorted(k for k in set(keys) if keys.count(k) > 1) if len(keys) != len(set(keys)) else []
    assert not twice, f"effects stored twice: {twice[:5]}"
    got = dict(effects)
    missing = set(expected) - set(got)
    extra = set(got) - set(expected)
    assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5])
    differing = [k for k in expected if got[k] not in expected[k]]
    assert not differing, differing[:5]
    for kind in ("measure", "warning"):
        # Spelled out: each measure and each warning of the embedded run, once, nothing more.
        want = sorted(k for k in expected if k.startswith(f"{kind}:"))
        assert sorted(k for k in keys if k.startswith(f"{kind}:")) == want
    assert kills == KILLS
    phases["checked"] = time.monotonic() - started
    print(
        f"{kills} kills, {len(got):,} effects; s since start:",
        {k: round(v, 1) for k, v in phases.items()},
    )


@pytest.mark.slow
def test_a_malformed_or_oversized_event_goes_to_the_dead_letter_subject(
    records: Path, nats_url: str, tmp_path: Path
) -> None:
    async def publish() -> None:
        js = await JetStream.connect(nats_url)
        try:
            await js.js.publish("tw.events.p0", b"{not json", headers={"Nats-Msg-Id": "bad-1"})
            await js.js.publish(
                "tw.events.p0", b'{"x":' + b"1" * 70_000 + b"}", headers={"Nats-Msg-Id": "bad-2"}
            )
            good = load_day(records).row(0, named=True)
            await js.js.publish("tw.events.p0", encode_event(good), headers={"Nats-Msg-Id": "good"})
            # A batch message: two good events around a bad one.
            second = {**load_day(records).row(1, named=True), "at": good["at"].isoformat()}
            bad = {**second, "position": "bad-3", "channel": "fax"}
            lines = [json.dumps(x, default=str).encode() for x in (second, bad)]
            lines.append(encode_event(load_day(records).row(2, named=True)))
            await js.js.publish(
                "tw.events.p0",
                b"\n".join(lines) + b"\n",
                headers={"Nats-Msg-Id": "batch-1", "Tw-Format": "ndjson", "Tw-Count": "3"},
            )
        finally:
            await js.close()

    async def dead() -> list[tuple[dict[str, str], bytes]]:
        js = await JetStream.connect(nats_url)
        try:
            return await js.read_subject(DLQ_STREAM, "tw.dlq.>")
        finally:
            await js.close()

    asyncio.run(publish())
    process = _worker(records, nats_url, 0, tmp_path / "p0.ckpt", idle=1.0)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()
    report = json.loads(stdout.decode().strip().splitlines()[-1])
    assert (report["events"], report["dead_lettered"]) == (3, 3)
    letters = {
        h["Nats-Msg-Id"]: (h["Tw-Seq"], h["Tw-Line"], h["Tw-Reason"])
        for h, _ in asyncio.run(dead())
    }
    assert letters["dlq:1:0"][2].startswith("not JSON")
    assert letters["dlq:2:0"][2].startswith("event of")
    assert letters["dlq:4:1"] == ("4", "1", "channel must be call or sms, not 'fax'")
    assert len(letters) == 3
