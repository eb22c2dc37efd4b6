"""NATS JetStream: the live loop's event source and effect sink beyond one machine.

Streams (created on first use, idempotently):

``TW_EVENTS`` (subjects ``tw.events.p<k>``)
    Call and SMS events, partitioned by the caller's number (``crc32(caller) % partitions``) so
    one worker owns each number's state. The feed packs consecutive events of one partition
    into one message (:func:`pack_events`: up to ``max_events`` events or ``max_bytes`` bytes,
    whichever comes first), body JSON Lines (one event a line), headers ``Tw-Format: ndjson``
    and ``Tw-Count``, and ``Nats-Msg-Id`` = ``events:<first position>-<last position>``, so a
    re-sent batch is stored once. A message without ``Tw-Format`` is one JSON event (the
    earlier format), still accepted.
``TW_EFFECTS`` (subjects ``tw.effects.<kind>``)
    Verdicts, flags, measures and warnings, JSON Lines ``{"key": <idempotency key>, "effect":
    {...}}``. A worker publishes one message per effect kind and micro-batch (more only to stay
    under the server's max payload), ``Nats-Msg-Id`` = ``<kind>:p<k>:<first seq>-<last
    seq>:<part>``: a worker that replays a micro-batch after a crash re-publishes the same ids
    and JetStream drops the duplicates inside its duplicate window (``DUPLICATE_WINDOW_S``, which
    must exceed the longest restart). Replayed micro-batches have the same boundaries because
    the worker logs each one's sequence range before publishing (``telewarden.runners.live``).
    Warnings are the exception: one message each, ``Nats-Msg-Id`` = the warning's key, because
    two partitions may raise the same warning (same victim, same flagged number) and only a
    per-warning id lets the broker keep one. :func:`unpack_effects` reads both shapes.
``TW_DLQ`` (subject ``tw.dlq.events``)
    Events that could not be decoded or were oversized, one message per bad event (a bad line
    of a batch message on its own), ``Nats-Msg-Id`` = ``dlq:<seq>:<line>``, with the stream
    sequence, the line index in its message and the reason in headers.

A worker reads its partition with a consumer that starts after the sequence of its last
checkpoint; positions are committed by the checkpoint, taken only after the broker acknowledged
the effects (see ``telewarden.runners.live``). Publishing is asynchronous: a micro-batch's
messages go out together and the worker waits once for all their acknowledgements.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import nats
import polars as pl
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError

from telewarden.core.errors import ConfigurationError
from telewarden.core.records import CALLEE_COPY_FIELDS, LIVE_EVENT_SCHEMA

EVENTS_STREAM = "TW_EVENTS"
EFFECTS_STREAM = "TW_EFFECTS"
DLQ_STREAM = "TW_DLQ"
DUPLICATE_WINDOW_S = 900
MAX_EVENT_BYTES = 64 * 1024
"""An event larger than this is a malformed feed (an SMS is at most a few KB), not traffic."""
BATCH_EVENTS = 1_000
"""Default events per feed message."""
BATCH_BYTES = 256 * 1024
"""Default bytes per feed message (the server's default max payload is 1 MiB)."""
HEADER_ROOM = 4 * 1024
"""Bytes kept free under the server's max payload for a message's headers."""
ACK_TIMEOUT_S = 30.0
"""How long a worker waits for the acknowledgements of one micro-batch's messages."""
FORMAT_HEADER = "Tw-Format"
COUNT_HEADER = "Tw-Count"
NDJSON = "ndjson"

EVENT_FIELDS = tuple(LIVE_EVENT_SCHEMA)
REQUIRED_FIELDS = ("position", "channel", "at", "caller", "callee")

MIRROR_COLUMN = "_mirror_to_callee"
"""A boolean column of a feed: send a copy of the event to its callee's partition too (when
another partition owns the callee), for the callee's features (the scorer's incoming side)."""
MIRROR_PREFIX = "mirror:"
"""A copy's position: ``mirror:<position>``, unique in the stream like every position."""

_WIRE_SCHEMA: dict[str, pl.DataType] = {**LIVE_EVENT_SCHEMA, "at": pl.String()}
"""An event line as read from the wire: ``at`` still a string, checked afterwards."""

EVENT_SCHEMA: dict[str, pl.DataType] = dict(LIVE_EVENT_SCHEMA)
"""The decoded events' columns (the live loop's event schema)."""


def partition_of(caller: str, partitions: int) -> int:
    """The partition that owns ``caller`` (stable across processes and machines).

    Examples
    --------
    >>> partition_of("+8613800138000", 4) == partition_of("+8613800138000", 4)
    True
    """
    return zlib.crc32(caller.encode()) % partitions


def partitions_of(callers: pl.Series, partitions: int) -> pl.Series:
    """:func:`partition_of` of every caller (computed once per distinct caller)."""
    unique = callers.unique()
    owners = [partition_of(c, partitions) for c in unique.to_list()]
    return callers.replace_strict(unique, pl.Series(owners, dtype=pl.Int64), return_dtype=pl.Int64)


def encode_event(row: dict[str, Any]) -> bytes:
    """One event as compact JSON (``at`` as ISO-8601): the single-event message format."""
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
    missing = [f for f in REQUIRED_FIELDS if not row.get(f)]
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
class EventMessage:
    """One feed message: a partition's consecutive events as JSON Lines."""

    subject: str
    msg_id: str
    body: bytes
    count: int

    @property
    def headers(self) -> dict[str, str]:
        """``Nats-Msg-Id``, format and count."""
        return {"Nats-Msg-Id": self.msg_id, FORMAT_HEADER: NDJSON, COUNT_HEADER: str(self.count)}


def pack_events(
    events: pl.DataFrame,
    partitions: int,
    *,
    max_events: int = BATCH_EVENTS,
    max_bytes: int = BATCH_BYTES,
) -> list[EventMessage]:
    """``events`` (loop event columns, in order) as feed messages, partition by partition.

    Each partition's events are cut into runs of at most ``max_events`` events and
    ``max_bytes`` bytes (an event larger than ``max_bytes`` travels alone); the message id
    names the run's first and last positions, so packing the same events the same way gives
    the same ids.

    Examples
    --------
    >>> import datetime as dt
    >>> at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> rows = [{"position": str(i), "channel": "call", "at": at, "caller": "+861380013800",
    ...          "callee": "+861390013900"} for i in range(5)]
    >>> [m.msg_id for m in pack_events(pl.DataFrame(rows), 1, max_events=2)]
    ['events:0-1', 'events:2-3', 'events:4-4']
    """
    if max_events < 1 or max_bytes < 1:
        raise ValueError("a feed message holds at least one event and one byte")
    columns = [c for c in EVENT_FIELDS if c in events.columns]
    owners = partitions_of(events["caller"], partitions)
    mirrored = MIRROR_COLUMN in events.columns and partitions > 1
    if mirrored:
        callee_owners = partitions_of(events["callee"], partitions)
        mirror = events[MIRROR_COLUMN].fill_null(False) & (callee_owners != owners)
    out: list[EventMessage] = []
    for partition in range(partitions):
        if mirrored:
            # The callee's partition gets a copy of the event (position ``mirror:<position>``)
            # for the number scorer's features of its own subscriber; nothing else reads it,
            # so a copy carries only what the callee's side of the features reads (fewer bytes
            # to publish and decode).
            take = (owners == partition) | (mirror & (callee_owners == partition))
            position = pl.col("position").cast(pl.String)
            copy = pl.col("_copy")
            mine = (
                events.with_columns((owners != partition).alias("_copy"))
                .filter(take)
                .select(
                    pl.when(copy)
                    .then(MIRROR_PREFIX + position)
                    .otherwise(position)
                    .alias("position"),
                    *(
                        c if c in CALLEE_COPY_FIELDS else pl.when(~copy).then(pl.col(c)).alias(c)
                        for c in columns
                        if c != "position"
                    ),
                )
            )
        else:
            mine = events.filter(owners == partition).select(columns)
        if not mine.height:
            continue
        lines = mine.write_ndjson().encode().split(b"\n")[: mine.height]
        positions = mine["position"].cast(pl.String).to_list()
        start, size = 0, 0
        for i, line in enumerate(lines):
            if i > start and (i - start >= max_events or size + len(line) + 1 > max_bytes):
                out.append(_event_message(partition, lines, positions, start, i))
                start, size = i, 0
            size += len(line) + 1
        out.append(_event_message(partition, lines, positions, start, len(lines)))
    return out


def split_mirrors(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A decoded batch's own events, and the copies other partitions sent for its callees
    (positions back without the ``mirror:`` prefix)."""
    copy = pl.col("position").str.starts_with(MIRROR_PREFIX)
    if not events.select(copy.any()).item():
        return events, events.clear()
    mirrors = events.filter(copy).with_columns(pl.col("position").str.strip_prefix(MIRROR_PREFIX))
    return events.filter(~copy), mirrors


def _event_message(
    partition: int, lines: list[bytes], positions: list[str], start: int, stop: int
) -> EventMessage:
    return EventMessage(
        f"tw.events.p{partition}",
        f"events:{positions[start]}-{positions[stop - 1]}",
        b"\n".join(lines[start:stop]) + b"\n",
        stop - start,
    )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event set aside: its message's stream sequence, its line there and why."""

    seq: int
    line: int
    data: bytes
    reason: str


def decode_batch(seq: int, data: bytes) -> tuple[pl.DataFrame, list[DeadLetter]]:
    """A JSON Lines feed message as an event frame and the dead letters of its bad lines.

    The body is parsed at once (``pl.read_ndjson`` with the wire schema) and checked column by
    column: oversized lines, missing fields, an unknown channel, an unparsable ``at``. When the
    body as a whole does not parse (a line that is not a JSON object, a field of the wrong
    type), each line is decoded on its own. Blank lines are not events and are skipped; line
    indexes count every line of the body from 0.
    """
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    dead: list[DeadLetter] = []
    kept: list[int] = []
    for i, line in enumerate(lines):
        if len(line) > MAX_EVENT_BYTES:
            dead.append(
                DeadLetter(seq, i, line, f"event of {len(line)} bytes exceeds {MAX_EVENT_BYTES}")
            )
        elif line.strip():
            kept.append(i)
    if not kept:
        return pl.DataFrame(schema=EVENT_SCHEMA), dead
    try:
        wire = pl.read_ndjson(io.BytesIO(b"\n".join(lines[i] for i in kept)), schema=_WIRE_SCHEMA)
    except Exception:  # polars raises several error types for a bad line; each is handled below
        wire = None
    if wire is None or wire.height != len(kept):
        return _decode_lines(seq, lines, kept, dead)
    at = pl.col("at").str.to_datetime(time_zone="UTC", time_unit="us", strict=False)
    present = [pl.col(f).is_not_null() & (pl.col(f) != "") for f in REQUIRED_FIELDS]
    sound = pl.all_horizontal(*present, pl.col("channel").is_in(["call", "sms"]), at.is_not_null())
    quick = wire.with_columns(at.alias("_at"), sound.alias("_sound"))
    if quick["_sound"].all():
        # Every line is an event (the usual message): no reasons to write, no line to mend.
        return quick.select(
            pl.col("_at").alias("at") if c == "at" else c for c in EVENT_SCHEMA
        ), dead
    missing = pl.concat_str(
        [pl.when(pl.col(f).is_null() | (pl.col(f) == "")).then(pl.lit(f)) for f in REQUIRED_FIELDS],
        separator=", ",
        ignore_nulls=True,
    )
    checked = quick.drop("_sound").with_columns(
        _line=pl.Series(kept, dtype=pl.Int64), _missing=missing
    )
    unparsed = checked.filter(pl.col("_at").is_null() & (pl.col("_missing") == ""))
    if unparsed.height:
        # Valid ISO-8601 in another shape than the first line's (the vectorised parse infers
        # one format): parse these few one by one as the single-event path does.
        fixed = [_parse_at(v) for v in unparsed["at"].to_list()]
        checked = checked.update(
            unparsed.select("_line").with_columns(
                _at=pl.Series(fixed, dtype=pl.Datetime("us", "UTC"))
            ),
            on="_line",
        )
    reason = (
        pl.when(pl.col("_missing") != "")
        .then(pl.lit("missing ") + pl.col("_missing"))
        .when(~pl.col("channel").is_in(["call", "sms"]))
        .then(pl.format("channel must be call or sms, not '{}'", pl.col("channel")))
        .when(pl.col("_at").is_null())
        .then(pl.format("at is not an ISO-8601 time: '{}'", pl.col("at")))
    )
    checked = checked.with_columns(_reason=reason)
    bad = checked.filter(pl.col("_reason").is_not_null())
    for line, why in bad.select("_line", "_reason").iter_rows():
        dead.append(DeadLetter(seq, line, lines[line], why))
    dead.sort(key=lambda d: d.line)
    good = checked.filter(pl.col("_reason").is_null()).with_columns(at=pl.col("_at"))
    return good.select(list(EVENT_SCHEMA)), dead


def _parse_at(value: str) -> dt.datetime | None:
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _decode_lines(
    seq: int, lines: list[bytes], kept: list[int], dead: list[DeadLetter]
) -> tuple[pl.DataFrame, list[DeadLetter]]:
    frames = []
    for i in kept:
        try:
            frames.append(event_frame(decode_event(lines[i])))
        except ValueError as exc:
            dead.append(DeadLetter(seq, i, lines[i], str(exc)))
    dead.sort(key=lambda d: d.line)
    return (pl.concat(frames) if frames else pl.DataFrame(schema=EVENT_SCHEMA)), dead


def event_frame(row: dict[str, Any]) -> pl.DataFrame:
    """One decoded event as a one-row frame; ValueError when a field has the wrong type."""
    try:
        return pl.DataFrame([row], schema=EVENT_SCHEMA)
    except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        raise ValueError(f"a field has the wrong type: {exc}") from exc


def decode_message(item: Fetched) -> tuple[pl.DataFrame, list[DeadLetter]]:
    """A fetched message's events, batch or single (the earlier format), and its dead letters."""
    if item.batch:
        return decode_batch(item.seq, item.data)
    try:
        return event_frame(decode_event(item.data)), []
    except ValueError as exc:
        return pl.DataFrame(schema=EVENT_SCHEMA), [DeadLetter(item.seq, 0, item.data, str(exc))]


def unpack_effects(headers: dict[str, str], data: bytes) -> list[tuple[str, Any]]:
    """The ``(idempotency key, effect)`` pairs of one effects message, batch or single."""
    if headers.get(FORMAT_HEADER) != NDJSON:
        return [(headers["Nats-Msg-Id"], json.loads(data))]
    out = []
    for line in data.splitlines():
        item = json.loads(line)
        out.append((item["key"], item["effect"]))
    return out


@dataclass(frozen=True, slots=True)
class Fetched:
    """One fetched message: its stream sequence, its data and when the broker stored it."""

    seq: int
    data: bytes
    stored_at: float
    """POSIX seconds (the start of the end-to-end lag)."""
    batch: bool = False
    """A JSON Lines batch (``Tw-Format: ndjson``), not one JSON event."""
    count: int = 1
    """Events in the message (``Tw-Count``; 1 for a single event)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to publish: subject, ``Nats-Msg-Id``, body and further headers."""

    subject: str
    msg_id: str
    body: bytes
    headers: dict[str, str] | None = None


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

    @property
    def max_body_bytes(self) -> int:
        """The largest body a message may have on this server (headers kept aside)."""
        return int(self.nc.max_payload) - HEADER_ROOM

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
        self,
        events: pl.DataFrame,
        partitions: int,
        *,
        rate: float | None = None,
        max_events: int = BATCH_EVENTS,
        max_bytes: int = BATCH_BYTES,
    ) -> int:
        """Publish events to their partitions in batch messages; each is stored once.

        The events are taken in slices of ``max_events * partitions`` (so each partition's
        message holds about ``max_events``) and each slice is packed with :func:`pack_events`:
        the cut depends only on the events and the settings, so a re-run of the same feed sends
        the same message ids. ``rate`` (events per second) paces the feed slice by slice, as
        live traffic arrives.
        """

        async def send(message: EventMessage) -> Any:
            return await self.js.publish_async(
                message.subject, message.body, headers=message.headers
            )

        return await feed_events(
            events,
            partitions,
            send,
            rate=rate,
            max_events=max_events,
            max_bytes=min(max_bytes, self.max_body_bytes),
        )

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
        return PartitionReader(sub, after_seq)

    async def publish_all(self, messages: Sequence[Outgoing]) -> None:
        """Publish every message, then wait once for all their acknowledgements.

        Returns only when the broker stored (or, for an id inside its duplicate window,
        recognised) every message; a refused or unacknowledged message raises.
        """
        pending = []
        for message in messages:
            headers = {"Nats-Msg-Id": message.msg_id, **(message.headers or {})}
            pending.append(
                await self.js.publish_async(message.subject, message.body, headers=headers)
            )
        await _acknowledged(pending)

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


async def feed_events(
    events: pl.DataFrame,
    partitions: int,
    send: Callable[[EventMessage], Awaitable[Any]],
    *,
    rate: float | None,
    max_events: int,
    max_bytes: int,
) -> int:
    """The feed on any broker: ``events`` packed slice by slice and handed to ``send``.

    The events are taken in slices of ``max_events * partitions`` (so each partition's
    message holds about ``max_events``) and each slice is packed with :func:`pack_events`: the
    cut depends only on the events and the settings, so a re-run of the same feed sends the same
    message ids. ``rate`` (events per second) paces the feed slice by slice, as live traffic
    arrives. ``send`` publishes one message and returns the future of its acknowledgement;
    acknowledgements are awaited every thousand messages and at the end.
    """
    step = max_events * partitions
    started = time.perf_counter()
    pending: list[asyncio.Future[Any]] = []
    for offset in range(0, events.height, step):
        if rate is not None:
            ahead = offset / rate - (time.perf_counter() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
        chunk = events.slice(offset, step)
        for message in pack_events(chunk, partitions, max_events=max_events, max_bytes=max_bytes):
            pending.append(await send(message))
        if len(pending) >= 1_000:
            await _acknowledged(pending)
            pending = []
    await _acknowledged(pending)
    return events.height


def dead_letter_message(dead: DeadLetter) -> Outgoing:
    """The dead-letter message of one bad event, keyed by its sequence and line."""
    return Outgoing(
        "tw.dlq.events",
        f"dlq:{dead.seq}:{dead.line}",
        dead.data[:MAX_EVENT_BYTES],
        {"Tw-Reason": dead.reason[:200], "Tw-Seq": str(dead.seq), "Tw-Line": str(dead.line)},
    )


async def _acknowledged(pending: list[asyncio.Future[Any]]) -> None:
    if pending:
        await asyncio.wait_for(asyncio.gather(*pending), ACK_TIMEOUT_S)


class PartitionReader:
    """Fetches one partition's messages in stream order and hands them out in micro-batches.

    Messages fetched beyond a micro-batch wait for the next one, so a micro-batch can end at a
    given sequence (a replayed range) and a message is never split.
    """

    def __init__(self, sub: Any, after_seq: int = 0, fetch_messages: int = 256) -> None:
        self._sub = sub
        self._last = after_seq
        self._pending: deque[Fetched] = deque()
        self.fetch_messages = fetch_messages

    async def _fetch(self, timeout: float) -> bool:
        try:
            msgs = await self._sub.fetch(batch=self.fetch_messages, timeout=timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            return False
        for m in msgs:
            seq = m.metadata.sequence.stream
            if seq <= self._last:
                continue  # redelivered: already handed out
            headers = m.headers or {}
            batch = headers.get(FORMAT_HEADER) == NDJSON
            count = int(headers.get(COUNT_HEADER, 1)) if batch else 1
            self._pending.append(
                Fetched(seq, m.data, _stored_at(m.metadata.timestamp), batch, count)
            )
            self._last = seq
        return bool(msgs)

    async def next_batch(
        self,
        max_events: int,
        timeout: float,
        *,
        until_seq: int | None = None,
        linger_s: float = 0.0,
    ) -> list[Fetched]:
        """The next micro-batch of whole messages.

        Without ``until_seq``: the messages already fetched and, when they hold fewer than
        ``max_events`` events, what one fetch brings within ``timeout`` seconds, and further
        fetches for up to ``linger_s`` seconds after the first (a step has a fixed cost, so a
        slow stream is taken in fewer, larger batches), up to ``max_events`` events (a larger
        first message comes alone); an empty list when nothing came. With ``until_seq``: every
        message up to and including that sequence, whatever their number, fetching as long as
        needed (a replayed micro-batch).
        """
        out: list[Fetched] = []
        events = 0
        fetched_once = False
        empty_fetches = 0
        first_at = 0.0
        while True:
            while self._pending:
                head = self._pending[0]
                if until_seq is not None:
                    if head.seq > until_seq:
                        return out
                elif out and events + head.count > max_events:
                    return out
                out.append(self._pending.popleft())
                events += head.count
                if until_seq is not None and head.seq == until_seq:
                    return out
            if until_seq is None:
                if events >= max_events:
                    return out
                if fetched_once:
                    left = linger_s - (time.perf_counter() - first_at)
                    if not out or left <= 0:
                        return out
                    await self._fetch(min(timeout, left))
                    continue
                fetched_once, first_at = True, time.perf_counter()
                await self._fetch(timeout if not out else min(timeout, 0.01))
                continue
            if not await self._fetch(timeout):
                empty_fetches += 1
                if empty_fetches >= 20:
                    raise ConfigurationError(
                        f"the intent log names sequence {until_seq}, which the stream does not "
                        "hold (any more); move the checkpoint and its intent log away to "
                        "restart the partition from the beginning of the stream"
                    )

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
