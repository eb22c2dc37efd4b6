"""NATS JetStream: the live loop's event source and effect sink beyond one machine.

Streams (created on first use, idempotently):

``TW_EVENTS`` (subjects ``tw.events.p<k>``)
    Call and SMS events, one JSON message each, partitioned by the caller's number
    (``crc32(caller) % partitions``) so one worker owns each number's state. The feed sets
    ``Nats-Msg-Id`` to the event's position, so a re-sent event is stored once.
``TW_EFFECTS`` (subjects ``tw.effects.<kind>``)
    Verdicts, flags, measures and warnings. Every effect carries ``Nats-Msg-Id`` = its
    idempotency key; a worker that replays events after a crash re-publishes the same keys and
    JetStream drops the duplicates inside its duplicate window, so downstream sees each effect
    once. The window (``DUPLICATE_WINDOW_S``) must exceed the longest restart.
``TW_DLQ`` (subject ``tw.dlq.events``)
    Events that could not be decoded or were oversized, with the reason in a header.

A worker reads its partition with a consumer that starts after the sequence of its last
checkpoint; positions are committed by the checkpoint, taken only after the sinks took the
effects (see ``telewarden.runners.live``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import nats
import polars as pl
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError

from telewarden.core.errors import ConfigurationError

EVENTS_STREAM = "TW_EVENTS"
EFFECTS_STREAM = "TW_EFFECTS"
DLQ_STREAM = "TW_DLQ"
DUPLICATE_WINDOW_S = 900
MAX_EVENT_BYTES = 64 * 1024
"""An event larger than this is a malformed feed (an SMS is at most a few KB), not traffic."""

EVENT_FIELDS = (
    "position",
    "channel",
    "at",
    "caller",
    "callee",
    "ingress",
    "ring_s",
    "answered",
    "duration_s",
    "cell_id",
    "imei",
    "imsi",
    "text",
)


def partition_of(caller: str, partitions: int) -> int:
    """The partition that owns ``caller`` (stable across processes and machines).

    Examples
    --------
    >>> partition_of("+8613800138000", 4) == partition_of("+8613800138000", 4)
    True
    """
    return zlib.crc32(caller.encode()) % partitions


def encode_event(row: dict[str, Any]) -> bytes:
    """One event as compact JSON (``at`` as ISO-8601)."""
    at = row["at"]
    out = dict(row)
    out["at"] = at.isoformat() if isinstance(at, dt.datetime) else at
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()


def decode_event(data: bytes) -> dict[str, Any]:
    """An event from its JSON; ValueError naming the problem when it is not a valid event."""
    if len(data) > MAX_EVENT_BYTES:
        raise ValueError(f"event of {len(data)} bytes exceeds {MAX_EVENT_BYTES}")
    try:
        row = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    missing = [f for f in ("position", "channel", "at", "caller", "callee") if not row.get(f)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if row["channel"] not in ("call", "sms"):
        raise ValueError(f"channel must be call or sms, not {row['channel']!r}")
    try:
        at = dt.datetime.fromisoformat(str(row["at"]))
    except ValueError as exc:
        raise ValueError(f"at is not an ISO-8601 time: {row['at']!r}") from exc
    row["at"] = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return {f: row.get(f) for f in EVENT_FIELDS}


@dataclass(frozen=True, slots=True)
class Fetched:
    """One fetched message: its stream sequence, its data and when the broker stored it."""

    seq: int
    data: bytes
    stored_at: float
    """POSIX seconds (the start of the end-to-end lag)."""


class JetStream:
    """A connection to NATS with the three streams of the live loop."""

    def __init__(self, nc: Any) -> None:
        self.nc = nc
        self.js = nc.jetstream()

    @classmethod
    async def connect(cls, url: str) -> JetStream:
        """Connect and make sure the streams exist; ConfigurationError when NATS is unreachable."""
        try:
            nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=3)
        except Exception as exc:  # every client error means the same to the operator
            raise ConfigurationError(f"cannot reach NATS at {url}: {exc}") from exc
        broker = cls(nc)
        await broker.ensure_streams()
        return broker

    async def ensure_streams(self) -> None:
        """Create the events, effects and dead-letter streams when missing."""
        for name, subjects in (
            (EVENTS_STREAM, ["tw.events.>"]),
            (EFFECTS_STREAM, ["tw.effects.>"]),
            (DLQ_STREAM, ["tw.dlq.>"]),
        ):
            try:
                await self.js.stream_info(name)
            except NotFoundError:
                await self.js.add_stream(
                    StreamConfig(name=name, subjects=subjects, duplicate_window=DUPLICATE_WINDOW_S)
                )

    async def close(self) -> None:
        """Flush and close the connection."""
        await self.nc.drain()

    # -- feed ----------------------------------------------------------------------------------

    async def publish_events(
        self, rows: Iterable[dict[str, Any]], partitions: int, *, rate: float | None = None
    ) -> int:
        """Publish events to their partitions; each is stored once whatever the retries.

        ``rate`` (events per second) paces the feed, as live traffic arrives.
        """
        count = 0
        started = time.perf_counter()
        for row in rows:
            if rate is not None and count % 100 == 0:
                ahead = count / rate - (time.perf_counter() - started)
                if ahead > 0:
                    await self.js.publish_async_completed()
                    await asyncio.sleep(ahead)
            subject = f"tw.events.p{partition_of(row['caller'], partitions)}"
            await self.js.publish_async(
                subject, encode_event(row), headers={"Nats-Msg-Id": str(row["position"])}
            )
            count += 1
        await self.js.publish_async_completed()
        return count

    # -- worker --------------------------------------------------------------------------------

    async def partition_reader(self, partition: int, after_seq: int) -> PartitionReader:
        """A reader of one partition's events with stream sequence above ``after_seq``."""
        durable = f"tw-worker-p{partition}"
        with contextlib.suppress(NotFoundError):
            await self.js.delete_consumer(EVENTS_STREAM, durable)
        config = ConsumerConfig(
            durable_name=durable,
            filter_subject=f"tw.events.p{partition}",
            ack_policy=AckPolicy.NONE,
            deliver_policy=(
                DeliverPolicy.BY_START_SEQUENCE if after_seq > 0 else DeliverPolicy.ALL
            ),
            opt_start_seq=after_seq + 1 if after_seq > 0 else None,
            max_ack_pending=-1,
        )
        await self.js.add_consumer(EVENTS_STREAM, config)
        sub = await self.js.pull_subscribe_bind(durable, stream=EVENTS_STREAM)
        return PartitionReader(sub)

    async def publish_effects(self, effects: Iterable[tuple[str, str, bytes]]) -> int:
        """Publish ``(kind, key, payload)`` effects; JetStream drops a key it stored before."""
        count = 0
        for kind, key, payload in effects:
            await self.js.publish_async(f"tw.effects.{kind}", payload, headers={"Nats-Msg-Id": key})
            count += 1
        await self.js.publish_async_completed()
        return count

    async def dead_letter(self, seq: int, data: bytes, reason: str) -> None:
        """Set an unusable event aside with its sequence and reason."""
        await self.js.publish(
            "tw.dlq.events",
            data[:MAX_EVENT_BYTES],
            headers={"Nats-Msg-Id": f"dlq:{seq}", "Tw-Reason": reason[:200], "Tw-Seq": str(seq)},
        )

    async def read_subject(self, stream: str, subject: str) -> list[tuple[dict[str, str], bytes]]:
        """Every message of ``subject`` with its headers (tests and reconciliation)."""
        info = await self.js.stream_info(stream)
        last = info.state.last_seq
        out: list[tuple[dict[str, str], bytes]] = []
        if not info.state.messages:
            return out
        sub = await self.js.pull_subscribe(
            subject,
            stream=stream,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL),
        )
        seen = 0
        while seen < last:
            try:
                msgs = await sub.fetch(batch=1000, timeout=1)
            except (TimeoutError, nats.errors.TimeoutError):
                break
            for msg in msgs:
                seen = msg.metadata.sequence.stream
                out.append((dict(msg.headers or {}), msg.data))
        await sub.unsubscribe()
        return out


class PartitionReader:
    """Fetches one partition's events in stream order."""

    def __init__(self, sub: Any) -> None:
        self._sub = sub

    async def fetch(self, batch: int, timeout: float) -> list[Fetched]:
        """Up to ``batch`` messages; an empty list when none came within ``timeout`` seconds."""
        try:
            msgs = await self._sub.fetch(batch=batch, timeout=timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        return [
            Fetched(m.metadata.sequence.stream, m.data, _stored_at(m.metadata.timestamp))
            for m in msgs
        ]

    async def close(self) -> None:
        """Stop reading."""
        await self._sub.unsubscribe()


def _stored_at(timestamp: Any) -> float:
    if isinstance(timestamp, dt.datetime):
        return timestamp.timestamp()
    return float(timestamp or 0.0)


def frame_of(rows: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Decoded events as a loop event frame."""
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
