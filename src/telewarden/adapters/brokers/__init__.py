"""Message brokers the live loop runs on beyond one machine: NATS JetStream (the default) and
any Kafka-protocol broker, behind the same seams (feed, partition reader, effect sink)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telewarden.adapters.brokers.kafka import KafkaBroker
    from telewarden.adapters.brokers.nats_jetstream import JetStream


async def connect_broker(url: str) -> JetStream | KafkaBroker:
    """The broker at ``url``: ``kafka://host:port[?partitions=N]`` or a NATS URL."""
    if url.startswith("kafka://"):
        from telewarden.adapters.brokers.kafka import KafkaBroker

        return await KafkaBroker.connect(url)
    from telewarden.adapters.brokers.nats_jetstream import JetStream

    return await JetStream.connect(url)
