"""The service's one ASGI middleware: load shedding, body size limit, metrics, access log.

Written as plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, which costs a task and a
stream per request on the hot path.

Load shedding: at most ``max_in_flight`` requests are handled at once per process; the next one
is answered ``503`` with ``Retry-After: 1`` at once, before its body is read, so an overloaded
service stays responsive instead of queueing until every caller times out.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["InFlight", "Metrics", "ServiceMiddleware"]

access = logging.getLogger("telewarden.api.access")
_UNBOUNDED = ("/metrics", "/v1/health")
"""Never shed: the load balancer and Prometheus must still see an overloaded process."""


class Metrics:
    """The Prometheus series of one process (its own registry, so tests can build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "telewarden_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "telewarden_http_request_seconds",
            "Time to answer, by route template.",
            ["route"],
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "telewarden_http_in_flight", "Requests being handled.", registry=self.registry
        )
        self.shed = Counter(
            "telewarden_http_shed_total",
            "Requests refused with 503 because the process was at its in-flight limit.",
            registry=self.registry,
        )
        self.verdicts = Counter(
            "telewarden_verdicts_total",
            "Verdicts given, by endpoint kind, verdict and reason.",
            ["kind", "verdict", "reason"],
            registry=self.registry,
        )


class InFlight:
    """Requests being handled by this process (shared by the middleware and /v1/health)."""

    value: int = 0


class _TooLarge(Exception):
    pass


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class ServiceMiddleware:
    """Sheds load, limits bodies, counts and times requests, writes the JSON access log."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        in_flight: InFlight,
        max_in_flight: int,
        max_body_bytes: int,
        access_log: bool,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_in_flight = max_in_flight
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if self.in_flight.value >= self.max_in_flight and path not in _UNBOUNDED:
            self.metrics.shed.inc()
            self.metrics.requests.labels("shed", method, "503").inc()
            await _send_json(
                send, 503, {"detail": "overloaded: retry later"}, [(b"retry-after", b"1")]
            )
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _send_json(
                send, 413, {"detail": f"body larger than {self.max_body_bytes} bytes"}, []
            )
            return
        self.in_flight.value += 1
        self.metrics.in_flight.inc()
        started = time.perf_counter()
        status = 500
        response_started = False
        received = 0
        limit = self.max_body_bytes

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            if response_started:
                raise
            status = 413
            await _send_json(send, 413, {"detail": f"body larger than {limit} bytes"}, [])
        finally:
            self.in_flight.value -= 1
            self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.latency.labels(template).observe(elapsed)
            if self.access_log:
                access.info(
                    "request",
                    extra={
                        "method": method,
                        "path": path,
                        "route": template,
                        "status": status,
                        "ms": round(elapsed * 1000, 3),
                    },
                )
