"""The cascade worker: deliver outbox messages as signed webhooks, with retries and dead letters.

One pass (:func:`deliver_due`) leases due messages, POSTs each with its signature, timestamp and
idempotency key, and records the outcome: a 200 with ``{"ack": action}`` is delivered; anything
else is retried after an exponential backoff, and after ``max_attempts`` the message goes to the
dead-letter table. A worker killed between the POST and the record leaves the lease to run out;
the next worker re-sends with the same idempotency key, which the platform answers from its
record of that key: at-least-once sending, exactly-once effect.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from telewarden.core.disposal.cascade import (
    IDEMPOTENCY_HEADER,
    backoff_s,
    canonical_body,
    sign,
)
from telewarden.core.disposal.ports import CascadeStore, OutboxItem, WebhookTransport
from telewarden.core.ports import Clock

__all__ = ["DeliveryConfig", "DeliveryReport", "deliver_due", "run_worker"]


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """Knobs of the worker."""

    batch: int = 100
    lease: dt.timedelta = dt.timedelta(seconds=60)
    """How long a claimed message is this worker's; longer than ``batch`` sends can take."""
    max_attempts: int = 12
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 3600.0
    timeout_s: float = 10.0


@dataclass(slots=True)
class DeliveryReport:
    """Counts of one or more passes."""

    attempts: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    passes: int = 0

    def add(self, other: DeliveryReport) -> None:
        """Accumulate ``other``."""
        self.attempts += other.attempts
        self.delivered += other.delivered
        self.failed += other.failed
        self.dead += other.dead
        self.passes += other.passes


def _ack(body: bytes) -> str:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return "received"
    if isinstance(document, dict):
        return str(document.get("ack") or "received")
    return "received"


def _deliver(
    store: CascadeStore,
    transport: WebhookTransport,
    clock: Clock,
    item: OutboxItem,
    config: DeliveryConfig,
    endpoints: dict[str, tuple[str, bytes]],
    report: DeliveryReport,
) -> None:
    message = item.message
    attempts = item.attempts + 1
    report.attempts += 1
    target = endpoints.get(message.platform)
    if target is None:
        status, error, body = 0, f"no endpoint for platform {message.platform!r}", b""
    else:
        url, secret = target
        payload = canonical_body(message.payload)
        headers = sign(secret, payload, timestamp=int(clock.now().timestamp()))
        headers[IDEMPOTENCY_HEADER] = message.key
        response = transport.post(url, payload, headers, timeout_s=config.timeout_s)
        status, error, body = response.status, response.error, response.body
    now = clock.now()
    if status == 200:
        store.mark_delivered(message.key, at=now, ack=_ack(body), attempts=attempts)
        report.delivered += 1
        return
    error = error or f"HTTP {status}"
    if attempts >= config.max_attempts:
        store.dead_letter(message.key, at=now, error=error, attempts=attempts)
        report.dead += 1
        return
    wait = backoff_s(attempts, base_s=config.backoff_base_s, cap_s=config.backoff_cap_s)
    store.mark_failed(
        message.key,
        at=now,
        error=error,
        attempts=attempts,
        retry_at=now + dt.timedelta(seconds=wait),
    )
    report.failed += 1


def deliver_due(
    store: CascadeStore,
    transport: WebhookTransport,
    clock: Clock,
    config: DeliveryConfig | None = None,
) -> DeliveryReport:
    """One pass: lease the due messages and try each once."""
    config = config or DeliveryConfig()
    report = DeliveryReport(passes=1)
    items = store.claim(now=clock.now(), limit=config.batch, lease=config.lease)
    if not items:
        return report
    endpoints = {name: (e.url, e.secret.encode("utf-8")) for name, e in store.endpoints().items()}
    for item in items:
        _deliver(store, transport, clock, item, config, endpoints, report)
    return report


def run_worker(
    store: CascadeStore,
    transport: WebhookTransport,
    clock: Clock,
    config: DeliveryConfig | None = None,
    *,
    until_idle: bool = False,
    poll_s: float = 1.0,
    should_stop: Callable[[], bool] = lambda: False,
    on_pass: Callable[[DeliveryReport], None] | None = None,
) -> DeliveryReport:
    """Deliver until stopped; with ``until_idle``, stop once nothing is pending at all."""
    total = DeliveryReport()
    while not should_stop():
        report = deliver_due(store, transport, clock, config)
        total.add(report)
        if on_pass is not None:
            on_pass(report)
        if report.attempts:
            continue
        if until_idle and store.outbox_counts().get("pending", 0) == 0:
            break
        time.sleep(poll_s)
    return total
