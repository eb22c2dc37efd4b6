"""Kafka (any Kafka-protocol broker): the live loop's event source and effect sink.

The same seams as :mod:`~telewarden.adapters.brokers.nats_jetstream`, so a worker runs
unchanged with ``--broker kafka://host:port``. The messages are the same (feed batches of JSON
Lines, effect batches, dead letters, built by the NATS module's functions); what differs is
where they go and how a repeat is recognised:

``tw.events`` (``EVENTS_PARTITIONS`` partitions, or ``?partitions=N`` in the URL)
    Partition ``k`` holds what NATS puts on ``tw.events.p<k>``: the events of callers with
    ``crc32(caller) % partitions == k``. A message's position is its offset + 1, so the
    checkpoint's "last sequence" means the same on both brokers (0: nothing read yet).
``tw.effects`` (compacted) and ``tw.dlq``
    Effects and dead letters, each with its message id as the Kafka key and the NATS subject
    in a ``tw-subject`` header.

Kafka has no duplicate window: a worker that replays after a crash publishes the replayed
micro-batches again. They are the same messages under the same keys (the intent log makes the
replayed micro-batches the same ranges, see :mod:`telewarden.runners.live`), so exactly-once
holds per key: the effects topic is compacted by key, and a reader takes each key once
(:meth:`KafkaBroker.read_subject` with ``first_per_key``), which is what an idempotent
downstream does with any Kafka topic. A deployment that wants the repeats never written uses
Kafka transactions around each micro-batch (the positions then live in the transaction); that
needs a broker with transactions and is not done here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlparse

import polars as pl
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from telewarden.adapters.brokers.nats_jetstream import (
    BATCH_BYTES,
    BATCH_EVENTS,
    COUNT_HEADER,
    FORMAT_HEADER,
    HEADER_ROOM,
    NDJSON,
    EventMessage,
    Fetched,
    Outgoing,
    PartitionReader,
    feed_events,
)
from telewarden.core.errors import ConfigurationError

EVENTS_TOPIC = "tw.events"
EFFECTS_TOPIC = "tw.effects"
DLQ_TOPIC = "tw.dlq"
EVENTS_PARTITIONS = 16
"""Partitions of a new events topic (a Kafka topic's partitions are fixed when it is made)."""
MAX_MESSAGE_BYTES = 1_000_000
"""Kafka's default largest message (``message.max.bytes``)."""
SUBJECT_HEADER = "tw-subject"
ACK_TIMEOUT_S = 60.0


def topic_of(subject: str) -> str:
    """The topic that carries a NATS subject of the live loop."""
    for topic in (EFFECTS_TOPIC, DLQ_TOPIC, EVENTS_TOPIC):
        if subject == topic or subject.startswith(topic + "."):
            return topic
    raise ValueError(f"no Kafka topic carries subject {subject!r}")


def _matches(subject: str, pattern: str) -> bool:
    """NATS subject matching for the patterns the loop reads (``a.b.>``, ``a.*.c``, exact)."""
    parts, wanted = subject.split("."), pattern.split(".")
    for i, token in enumerate(wanted):
        if token == ">":
            return len(parts) > i
        if i >= len(parts) or (token != "*" and token != parts[i]):
            return False
    return len(parts) == len(wanted)


class KafkaBroker:
    """A connection to a Kafka-protocol broker with the live loop's three topics."""

    def __init__(self, bootstrap: str, producer: AIOKafkaProducer, partitions: int) -> None:
        self.bootstrap = bootstrap
        self.producer = producer
        self.partitions = partitions

    @classmethod
    async def connect(cls, url: str) -> KafkaBroker:
        """Connect (``kafka://host:port[?partitions=N]``) and make sure the topics exist."""
        parsed = urlparse(url)
        if parsed.scheme != "kafka" or not parsed.hostname:
            raise ConfigurationError(f"not a Kafka URL: {url!r} (kafka://host:port)")
        bootstrap = f"{parsed.hostname}:{parsed.port or 9092}"
        try:
            partitions = int(parse_qs(parsed.query).get("partitions", [EVENTS_PARTITIONS])[0])
        except ValueError as exc:
            raise ConfigurationError(f"partitions in {url!r} must be a whole number") from exc
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            max_request_size=MAX_MESSAGE_BYTES + HEADER_ROOM,
            linger_ms=2,
            request_timeout_ms=int(ACK_TIMEOUT_S * 1000),
        )
        try:
            await asyncio.wait_for(producer.start(), 15)
            broker = cls(bootstrap, producer, partitions)
            await broker.ensure_topics()
        except (KafkaError, OSError, TimeoutError) as exc:
            await producer.stop()
            raise ConfigurationError(f"cannot reach Kafka at {url}: {exc}") from exc
        return broker

    @property
    def max_body_bytes(self) -> int:
        """The largest body a message may have (headers kept aside)."""
        return MAX_MESSAGE_BYTES - HEADER_ROOM

    async def ensure_topics(self) -> None:
        """Create the events, effects and dead-letter topics when missing."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [
                NewTopic(EVENTS_TOPIC, self.partitions, 1),
                NewTopic(EFFECTS_TOPIC, 1, 1, topic_configs={"cleanup.policy": "compact"}),
                NewTopic(DLQ_TOPIC, 1, 1),
            ]
            missing = [t for t in wanted if t.name not in existing]
            if missing:
                # Another worker may make them meanwhile.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
        finally:
            await admin.close()

    async def close(self) -> None:
        """Flush and close the connection."""
        await self.producer.stop()

    def _check_partition(self, partition: int) -> None:
        if not 0 <= partition < self.partitions:
            raise ConfigurationError(
                f"partition {partition} is not one of the {self.partitions} partitions of "
                f"{EVENTS_TOPIC} (set ?partitions=N in the broker URL, the same for every worker "
                "and the feed)"
            )

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
        """Publish events to their partitions in batch messages (as JetStream's feed does)."""
        self._check_partition(partitions - 1)

        async def send(message: EventMessage) -> Any:
            headers = [
                (FORMAT_HEADER, NDJSON.encode()),
                (COUNT_HEADER, str(message.count).encode()),
            ]
            return await self.producer.send(
                EVENTS_TOPIC,
                message.body,
                key=message.msg_id.encode(),
                partition=int(message.subject.rpartition(".p")[2]),
                headers=headers,
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

    async def partition_reader(self, partition: int, after_seq: int) -> KafkaPartitionReader:
        """A reader of one partition's events with position above ``after_seq``."""
        self._check_partition(partition)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            group_id=None,
            fetch_max_bytes=16 * MAX_MESSAGE_BYTES,
            max_partition_fetch_bytes=4 * MAX_MESSAGE_BYTES,
        )
        await consumer.start()
        tp = TopicPartition(EVENTS_TOPIC, partition)
        consumer.assign([tp])
        consumer.seek(tp, after_seq)  # position = offset + 1: the next offset is after_seq
        return KafkaPartitionReader(consumer, tp, after_seq)

    async def publish_all(self, messages: Sequence[Outgoing]) -> None:
        """Publish every message keyed by its id, then wait once for all acknowledgements."""
        pending = []
        for message in messages:
            headers = [(SUBJECT_HEADER, message.subject.encode())]
            headers += [(k, v.encode()) for k, v in (message.headers or {}).items()]
            pending.append(
                await self.producer.send(
                    topic_of(message.subject),
                    message.body,
                    key=message.msg_id.encode(),
                    headers=headers,
                )
            )
        await _acknowledged(pending)

    async def read_subject(
        self, topic: str, subject: str, *, first_per_key: bool = True
    ) -> list[tuple[dict[str, str], bytes]]:
        """Every message of ``subject`` in ``topic`` with its headers, the key as
        ``Nats-Msg-Id`` (tests and reconciliation); with ``first_per_key`` each key once, as
        an idempotent reader takes them."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        out: list[tuple[dict[str, str], bytes]] = []
        seen: set[bytes] = set()
        try:
            parts = consumer.partitions_for_topic(topic) or set()
            if not parts:
                await consumer.force_metadata_update()
                parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            done = {tp for tp in tps if ends[tp] == 0}
            while len(done) < len(tps):
                batches = await consumer.getmany(*tps, timeout_ms=1000, max_records=10_000)
                if not batches:
                    break
                for tp, records in batches.items():
                    for record in records:
                        if record.offset + 1 >= ends[tp]:
                            done.add(tp)
                        headers = {k: v.decode() for k, v in record.headers}
                        if not _matches(headers.get(SUBJECT_HEADER, topic), subject):
                            continue
                        key = record.key or b""
                        if first_per_key and key in seen:
                            continue
                        seen.add(key)
                        headers["Nats-Msg-Id"] = key.decode()
                        out.append((headers, record.value or b""))
        finally:
            await consumer.stop()
        return out


async def _acknowledged(pending: list[asyncio.Future[Any]]) -> None:
    if pending:
        await asyncio.wait_for(asyncio.gather(*pending), ACK_TIMEOUT_S)


class KafkaPartitionReader(PartitionReader):
    """One partition of ``tw.events`` handed out in micro-batches (as on JetStream)."""

    def __init__(self, consumer: AIOKafkaConsumer, tp: TopicPartition, after_seq: int = 0) -> None:
        super().__init__(consumer, after_seq)
        self._tp = tp

    async def _fetch(self, timeout: float) -> bool:
        batches = await self._sub.getmany(
            self._tp, timeout_ms=int(timeout * 1000), max_records=self.fetch_messages
        )
        records = batches.get(self._tp, [])
        for record in records:
            seq = record.offset + 1
            if seq <= self._last:
                continue
            headers = {k: v.decode() for k, v in record.headers}
            batch = headers.get(FORMAT_HEADER) == NDJSON
            count = int(headers.get(COUNT_HEADER, 1)) if batch else 1
            self._pending.append(
                Fetched(seq, record.value or b"", record.timestamp / 1000.0, batch, count)
            )
            self._last = seq
        return bool(records)

    async def close(self) -> None:
        """Stop reading."""
        await self._sub.stop()
