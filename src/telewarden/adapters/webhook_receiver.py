"""A reference webhook receiver: what a partner platform runs to take telewarden's cascade.

It checks the signature and the replay window, answers a repeated idempotency key with the
answer it gave the first time (so a sender's re-send after a crash has no second effect), and
records what it saw. Tests and ``bench/disposal.py`` run it on 127.0.0.1 with an injected
failure rate; a platform can copy it as the shape of its own endpoint.

Examples
--------
>>> receiver = WebhookReceiver(b"0123456789abcdef").start()
>>> receiver.url.startswith("http://127.0.0.1:")
True
>>> receiver.stop()
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from telewarden.core.disposal.cascade import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)

__all__ = ["ReceiverLog", "WebhookReceiver"]


@dataclass(slots=True)
class ReceiverLog:
    """What the receiver saw (guarded by the receiver's lock)."""

    requests: int = 0
    failed_on_purpose: int = 0
    bad_signatures: int = 0
    accepted: dict[str, str] = field(default_factory=dict)
    """Idempotency key -> SHA-256 of the first body taken with it (each key acted on once)."""
    repeats: int = 0
    """Re-sends of a key already taken (answered from the record, no second effect)."""
    repeat_body_mismatches: int = 0
    """Re-sends whose body differs from the first: a sender bug, must stay 0."""
    actions: dict[str, int] = field(default_factory=dict)


class WebhookReceiver:
    """Threaded HTTP receiver on 127.0.0.1 (an ephemeral port unless given).

    Parameters
    ----------
    secret
        The shared signing secret.
    fail_ratio
        Share of requests answered 503 before looking at them (seeded, reproducible).
    latency_s
        Delay before each answer, to model a real platform.
    window_s
        Replay window for the timestamp.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        fail_ratio: float = 0.0,
        latency_s: float = 0.0,
        window_s: int = 300,
        seed: int = 7,
        port: int = 0,
    ) -> None:
        self.secret = secret
        self.fail_ratio = fail_ratio
        self.latency_s = latency_s
        self.window_s = window_s
        self.log = ReceiverLog()
        self.lock = threading.Lock()
        self._rng = random.Random(seed)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where to POST."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def start(self) -> WebhookReceiver:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _take(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.log.requests += 1
            if self._rng.random() < self.fail_ratio:
                self.log.failed_on_purpose += 1
                return 503, {"error": "busy"}
        if not verify_signature(
            self.secret, body, headers, now=time.time(), window_s=self.window_s
        ):
            with self.lock:
                self.log.bad_signatures += 1
            return 401, {"error": "bad signature or stale timestamp"}
        key = headers.get(IDEMPOTENCY_HEADER, "")
        digest = hashlib.sha256(body).hexdigest()
        payload = json.loads(body)
        action = "restricted" if payload.get("type") == "disposed" else "restored"
        with self.lock:
            first = self.log.accepted.get(key)
            if first is not None:
                self.log.repeats += 1
                if first != digest:
                    self.log.repeat_body_mismatches += 1
                return 200, {"ack": action, "repeat": True}
            self.log.accepted[key] = digest
            self.log.actions[action] = self.log.actions.get(action, 0) + 1
        return 200, {"ack": action}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                # Header names are case-insensitive on the wire (urllib sends "Idempotency-key").
                headers = {
                    name: self.headers.get(name, "")
                    for name in (TIMESTAMP_HEADER, SIGNATURE_HEADER, IDEMPOTENCY_HEADER)
                }
                status, answer = receiver._take(headers, body)
                # The platform acts first and answers after: a sender that dies while waiting
                # has had its message taken, and re-sends it under the same key.
                if receiver.latency_s:
                    time.sleep(receiver.latency_s)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return  # quiet: the receiver keeps its own log

        return Handler
