"""``UrllibTransport``: the webhook transport over the standard library's ``urllib``.

No HTTP client library is needed for one signed POST at a time; a network failure or a
timeout becomes a ``WebhookResponse`` with status 0 so the worker treats it like any other
failed attempt. ``FunctionTransport`` is the in-memory twin for tests (httpx's MockTransport).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from telewarden.core.disposal.ports import WebhookResponse

__all__ = ["FunctionTransport", "UrllibTransport"]


class UrllibTransport:
    """POSTs with ``urllib.request``; never raises for network trouble."""

    def post(
        self, url: str, body: bytes, headers: dict[str, str], *, timeout_s: float
    ) -> WebhookResponse:
        """POST ``body`` to ``url`` and return the status and body."""
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
                return WebhookResponse(response.status, response.read())
        except urllib.error.HTTPError as exc:
            return WebhookResponse(exc.code, exc.read() or b"", f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return WebhookResponse(0, b"", f"{type(exc).__name__}: {exc}")


class FunctionTransport:
    """Hands each POST to ``handler(url, body, headers)``; for tests and embedding."""

    def __init__(self, handler: Callable[[str, bytes, dict[str, str]], WebhookResponse]) -> None:
        self.handler = handler

    def post(
        self, url: str, body: bytes, headers: dict[str, str], *, timeout_s: float
    ) -> WebhookResponse:
        """Call the handler."""
        return self.handler(url, body, headers)
