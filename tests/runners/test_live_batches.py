"""Batches on the wire, without a broker: feed messages of many events decoded at once with
per-line dead letters, effects packed per kind and micro-batch, and the intent log that makes a
restarted worker cut its micro-batches where it cut them before (so the broker's message-id
deduplication still gives exactly-once)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from telewarden.adapters.brokers.nats_jetstream import (
    MAX_EVENT_BYTES,
    Fetched,
    PartitionReader,
    decode_batch,
    decode_message,
    encode_event,
    pack_events,
    partition_of,
    unpack_effects,
)
from telewarden.runners.live import (
    Checkpoint,
    IntentLog,
    effect_batches,
    effect_messages,
    hook_states,
    restore_hooks,
)
from telewarden.services.live_loop import LOOP_EVENT_SCHEMA, LiveLoop
from telewarden.services.loop_demo import make_whole_loop
from telewarden.services.loop_replay import load_day

PARTITIONS = 2
AT = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def _event(position: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "position": position,
        "channel": "call",
        "at": AT.isoformat(),
        "caller": "+8613800138000",
        "callee": "+8613900139000",
        "ingress": "domestic",
        "ring_s": 3,
        "answered": True,
        "duration_s": 40,
    }
    row.update(changes)
    return row


def _line(row: dict[str, Any]) -> bytes:
    return json.dumps(row, separators=(",", ":")).encode()


def test_a_packed_day_decodes_back_to_the_same_events(records: Path) -> None:
    events = load_day(records).select(list(LOOP_EVENT_SCHEMA))
    messages = pack_events(events, PARTITIONS, max_events=250, max_bytes=20_000)
    assert messages == pack_events(events, PARTITIONS, max_events=250, max_bytes=20_000)
    assert sum(m.count for m in messages) == events.height
    assert all(m.count <= 250 and len(m.body) <= 20_000 for m in messages)
    assert any(len(m.body) > 15_000 for m in messages), "the byte limit cut some messages"
    assert len({m.msg_id for m in messages}) == len(messages)
    frames = []
    for seq, message in enumerate(messages, 1):
        frame, dead = decode_batch(seq, message.body)
        assert not dead
        assert frame.height == message.count == int(message.headers["Tw-Count"])
        owners = {partition_of(c, PARTITIONS) for c in frame["caller"]}
        assert owners == {int(message.subject.removeprefix("tw.events.p"))}
        assert message.msg_id == f"events:{frame['position'][0]}-{frame['position'][-1]}"
        frames.append(frame)
    decoded = pl.concat(frames).sort("position")
    assert decoded.equals(events.sort("position"))


def test_bad_lines_of_a_batch_are_dead_lettered_with_their_line_and_reason() -> None:
    lines = [
        _line(_event("1")),
        _line(_event("2", caller=None)),
        _line(_event("3", channel="fax")),
        _line(_event("4", at="yesterday")),
        _line(_event("5", text="x" * MAX_EVENT_BYTES)),
        b"",
        _line(_event("6", at="2026-03-01T17:30:00+08:00")),
        _line(_event("7", callee="")),
    ]
    frame, dead = decode_batch(41, b"\n".join(lines) + b"\n")
    assert frame["position"].to_list() == ["1", "6"]
    assert frame["at"].to_list() == [AT, AT]
    got = [(d.seq, d.line, d.reason) for d in dead]
    assert got == [
        (41, 1, "missing caller"),
        (41, 2, "channel must be call or sms, not 'fax'"),
        (41, 3, "at is not an ISO-8601 time: 'yesterday'"),
        (41, 4, f"event of {len(lines[4])} bytes exceeds {MAX_EVENT_BYTES}"),
        (41, 7, "missing callee"),
    ]
    assert dead[0].data == lines[1]


def test_a_batch_that_does_not_parse_is_decoded_line_by_line() -> None:
    lines = [_line(_event("1")), b"{not json", b"[1, 2]", _line(_event("4", ring_s="long"))]
    frame, dead = decode_batch(7, b"\n".join(lines))
    assert frame["position"].to_list() == ["1"]
    assert [d.line for d in dead] == [1, 2, 3]
    assert dead[0].reason.startswith("not JSON")
    assert dead[1].reason == "not a JSON object"
    assert dead[2].reason.startswith("a field has the wrong type")


def test_a_single_event_message_of_the_earlier_format_is_still_accepted() -> None:
    row = _event("9", at=AT)
    single, dead = decode_message(Fetched(3, encode_event(row), 0.0))
    assert not dead
    batch, _ = decode_message(Fetched(4, _line(_event("9")) + b"\n", 0.0, batch=True))
    assert single.equals(batch) and single.height == 1
    _, bad = decode_message(Fetched(5, b"{oops", 0.0))
    assert [(d.seq, d.line) for d in bad] == [(5, 0)] and bad[0].reason.startswith("not JSON")


def _loop(records: Path, partition: int) -> LiveLoop:
    return make_whole_loop(
        records,
        hash_key=b"test-key" * 4,
        id_scope=f"p{partition}",
        owns=lambda msisdn: partition_of(msisdn, PARTITIONS) == partition,
    )


class _Msg:
    def __init__(self, seq: int, data: bytes, headers: dict[str, str]) -> None:
        self.data = data
        self.headers = headers
        self.metadata = type(
            "M", (), {"sequence": type("S", (), {"stream": seq})(), "timestamp": 0.0}
        )()


class _Sub:
    """A partition's messages, handed out in fetches of random sizes (as arrivals vary)."""

    def __init__(self, messages: list[_Msg], seed: int) -> None:
        self.messages = messages
        self.rng = random.Random(seed)

    async def fetch(self, batch: int, timeout: float) -> list[_Msg]:
        if not self.messages:
            raise TimeoutError
        n = min(batch, self.rng.randint(1, 6))
        out, self.messages = self.messages[:n], self.messages[n:]
        return out


def _cut(reader: PartitionReader) -> list[tuple[int, int]]:
    out = []
    while batch := asyncio.run(reader.next_batch(40, 0.01)):
        out.append((batch[0].seq, batch[-1].seq))
    return out


def _partition_messages(records: Path, partition: int) -> list[_Msg]:
    events = load_day(records).select(list(LOOP_EVENT_SCHEMA))
    packed = [
        m
        for m in pack_events(events, PARTITIONS, max_events=15)
        if m.subject == f"tw.events.p{partition}"
    ]
    return [_Msg(seq, m.body, m.headers) for seq, m in enumerate(packed, 1)]


def _publish(loop: LiveLoop, batch: list[Fetched], partition: int) -> dict[str, bytes]:
    frames = [decode_message(f)[0] for f in batch]
    effects = loop.step(pl.concat(frames))
    messages = effect_batches(effects, partition, batch[0].seq, batch[-1].seq, 1_000_000)
    return {m.msg_id: m.body for m in messages}


@pytest.mark.parametrize("partition", range(PARTITIONS), ids=lambda p: f"p{p}")
def test_a_restarted_worker_replays_its_logged_batches_under_the_same_message_ids(
    records: Path, tmp_path: Path, partition: int
) -> None:
    messages = _partition_messages(records, partition)
    # The first run: micro-batches as the fetches cut them, each range logged before its
    # effects are "published"; a checkpoint after the 3rd batch; a crash after the 9th.
    loop = _loop(records, partition)
    log = IntentLog(tmp_path / "p.ckpt.intents")
    reader = PartitionReader(_Sub(list(messages), seed=1))
    published: dict[str, bytes] = {}
    logged = []
    for i in range(9):
        batch = asyncio.run(reader.next_batch(40, 0.01))
        logged.append((batch[0].seq, batch[-1].seq))
        log.append(*logged[-1])
        published |= _publish(loop, batch, partition)
        if i == 2:
            Checkpoint(batch[-1].seq, 0, loop.detector.state(), hook_states(loop)).save(
                tmp_path / "p.ckpt"
            )
            log.rewrite([])
    log.close()
    # The restart: the checkpoint, then the logged ranges, fetched in other sizes.
    checkpoint = Checkpoint.load(tmp_path / "p.ckpt")
    ranges = IntentLog(tmp_path / "p.ckpt.intents").load(checkpoint.last_seq)
    assert ranges == logged[3:]
    rest = [m for m in messages if m.metadata.sequence.stream > checkpoint.last_seq]
    reader = PartitionReader(_Sub(list(rest), seed=2), checkpoint.last_seq)
    restarted = _loop(records, partition)
    assert checkpoint.detector is not None and checkpoint.hooks is not None
    restarted.detector.restore(checkpoint.detector)
    restore_hooks(restarted, checkpoint.hooks)
    again: dict[str, bytes] = {}
    for first, last in ranges:
        batch = asyncio.run(reader.next_batch(40, 0.01, until_seq=last))
        assert (batch[0].seq, batch[-1].seq) == (first, last)
        again |= _publish(restarted, batch, partition)
    after_checkpoint = {
        k: v
        for k, v in published.items()
        if not k.startswith("warning:") and int(k.split(":")[2].split("-")[0]) > checkpoint.last_seq
    }
    assert {k: v for k, v in again.items() if not k.startswith("warning:")} == after_checkpoint
    assert {k: published[k] for k in again if k.startswith("warning:")} == {
        k: v for k, v in again.items() if k.startswith("warning:")
    }
    assert any(k.startswith("verdict:") for k in again)
    # Without the log, the same messages fetched otherwise are cut otherwise: other ids, and
    # the broker would store those effects twice.
    free = _cut(PartitionReader(_Sub(list(rest), seed=2), checkpoint.last_seq))
    assert free[: len(ranges)] != ranges


def test_effect_batches_carry_every_effect_once_under_its_own_key(records: Path) -> None:
    events = load_day(records).select(list(LOOP_EVENT_SCHEMA))
    loop = _loop(records, 0)
    owned = events.filter(
        pl.col("caller").map_elements(lambda c: partition_of(c, PARTITIONS), return_dtype=pl.Int64)
        == 0
    )
    effects = loop.step(owned)
    one_by_one = {key: json.loads(payload) for _, key, payload in effect_messages(effects)}
    messages = effect_batches(effects, 0, 10, 20, max_bytes=50_000)
    unpacked = [
        pair
        for m in messages
        for pair in unpack_effects({"Nats-Msg-Id": m.msg_id, **(m.headers or {})}, m.body)
    ]
    assert len(unpacked) == len({k for k, _ in unpacked}) == len(one_by_one)
    assert dict(unpacked) == one_by_one
    verdicts = [m for m in messages if m.subject == "tw.effects.verdict"]
    assert len(verdicts) > 1 and all(len(m.body) <= 50_000 for m in verdicts)
    assert [m.msg_id for m in verdicts] == [f"verdict:p0:10-20:{i}" for i in range(len(verdicts))]
    kinds = {m.subject for m in messages}
    assert {"tw.effects.flag", "tw.effects.measure"} <= kinds
    assert sum(m.subject == "tw.effects.flag" for m in messages) == 1


class _OneAtATime(_Sub):
    async def fetch(self, batch: int, timeout: float) -> list[_Msg]:
        if not self.messages:
            raise TimeoutError
        out, self.messages = self.messages[:1], self.messages[1:]
        return out


def test_a_lingering_micro_batch_takes_what_arrives_within_the_linger(records: Path) -> None:
    messages = _partition_messages(records, 0)[:20]
    events = sum(int(m.headers["Tw-Count"]) for m in messages)
    quick = asyncio.run(PartitionReader(_OneAtATime(list(messages), 0)).next_batch(10_000, 0.01))
    assert len(quick) == 1  # without a linger: what one fetch brings
    reader = PartitionReader(_OneAtATime(list(messages), 0))
    lingering = asyncio.run(reader.next_batch(10_000, 0.01, linger_s=0.5))
    assert [f.seq for f in lingering] == list(range(1, 21))
    assert sum(f.count for f in lingering) == events
    capped = asyncio.run(
        PartitionReader(_OneAtATime(list(messages), 0)).next_batch(30, 0.01, linger_s=0.5)
    )
    assert 0 < sum(f.count for f in capped) <= 30 < events
