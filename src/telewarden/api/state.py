"""Per-process state of the service: the context, the hot-path screener, the decision buffer.

The screener holds every opt-in and list entry in memory (``services.screening.load_screener``)
and is loaded once, then swapped when the store's change counter moves: a change through this
process marks it stale at once; changes through another process or worker (the CLI, the second
uvicorn worker) are seen within ``change_poll_s``. Decisions of single screens are appended to a
buffer that a background thread writes to the decision log in bulk every ``flush_s``, so the hot
path never waits for a database commit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telewarden.api.decision_buffer import DecisionBuffer
from telewarden.core.screening import (
    ContentFinding,
    ContentInspector,
    Screener,
)
from telewarden.core.service_ports import ServiceStore
from telewarden.services.context import AppContext

__all__ = ["ApiConfig", "ApiState", "DecisionBuffer", "ScreenerCache"]

log = logging.getLogger("telewarden.api")


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """Limits and behaviour of one service process."""

    max_in_flight: int = 512
    """Requests handled at once; more are answered 503 with Retry-After (load shedding)."""
    max_body_bytes: int = 16 * 1024 * 1024
    """Larger request bodies are answered 413."""
    max_batch_events: int = 100_000
    """Events in one batch request; more are answered 413."""
    change_poll_s: float = 1.0
    """How often the hot path asks the store whether another process changed its state."""
    auth_cache_s: float = 10.0
    """How long a verified key or session is trusted without a store look-up."""
    flush_s: float = 0.5
    """How often buffered single-screen decisions are written to the decision log."""
    preload: bool = True
    """Load the screener when the process starts, so the first screen is not the slow one."""
    number_features: str | None = None
    """A features file (``numbers features`` output) for ``/v1/numbers/{msisdn}/score``;
    None: the route answers 503."""
    log_decisions: bool = True
    """Whether single screens are written to the decision log at all."""
    access_log: bool = True
    """One JSON line per request on the ``telewarden.api.access`` logger."""


class ScreenerCache:
    """The screener of the hot path, reloaded when the store's change counter moves."""

    def __init__(self, ctx: AppContext, service: ServiceStore, poll_s: float) -> None:
        self.ctx = ctx
        self.service = service
        self.poll_s = poll_s
        self.version = 0
        """Raised at every reload; reported by /v1/health."""
        self._lock = threading.Lock()
        self._screener: Screener | None = None
        self._counter = -1
        self._checked = 0.0
        self._stale = True
        self._inspector: ContentInspector | None = None
        self._inspector_loaded = False
        self._inspector_lock = threading.Lock()

    def invalidate(self) -> None:
        """This process changed the store: reload before the next screen."""
        self._stale = True

    def _content(self, allowed: bool) -> ContentInspector | None:
        if not allowed:
            return None
        return _LazyInspector(self)

    def inspector(self) -> ContentInspector | None:
        """The SMS content inspector, loaded on the first SMS body (not at every reload)."""
        if not self._inspector_loaded:
            with self._inspector_lock:
                if not self._inspector_loaded:
                    from telewarden.services.screening import shipped_content_inspector

                    factory = self.ctx.inspector_factory or shipped_content_inspector
                    self._inspector = factory()
                    self._inspector_loaded = True
        return self._inspector

    def get(self) -> Screener:
        """The current screener (loading or reloading it when due)."""
        screener = self._screener
        now = time.monotonic()
        if screener is not None and not self._stale and now - self._checked < self.poll_s:
            return screener
        with self._lock:
            counter = self.service.change_counter()
            self._checked = time.monotonic()
            if self._screener is None or self._stale or counter != self._counter:
                from telewarden.services.screening import load_screener, measures_now

                t0 = time.perf_counter()
                self._stale = False
                policy = self.ctx.effective_policy()
                self._screener = load_screener(
                    self.ctx.store,
                    policy,
                    content=self._content(policy.content_inspection),
                    measures=measures_now(self.ctx),
                )
                self._counter = counter
                self.version += 1
                log.info(
                    "screener loaded",
                    extra={"version": self.version, "seconds": round(time.perf_counter() - t0, 3)},
                )
            return self._screener


class _LazyInspector:
    """Stands for the SMS inspector until the first body needs it: loading the model costs
    seconds, and a call-only deployment should not pay it at start or at every reload."""

    def __init__(self, cache: ScreenerCache) -> None:
        self.cache = cache

    def inspect(self, text: str) -> ContentFinding:
        inspector = self.cache.inspector()
        if inspector is None:
            from telewarden.core.errors import ConfigurationError

            raise ConfigurationError("SMS content inspection is on but no SMS model is installed")
        return inspector.inspect(text)


class ApiState:
    """Everything one process of the service shares between requests, built on first use."""

    def __init__(
        self,
        ctx_factory: Callable[[], AppContext],
        config: ApiConfig,
        service_factory: Callable[[AppContext], ServiceStore] | None = None,
    ) -> None:
        self.config = config
        self._ctx_factory = ctx_factory
        self._service_factory = service_factory
        self._lock = threading.Lock()
        self._ready = False
        self.auth_cache: dict[str, tuple[object, float]] = {}
        self._sms: Any = None

    def _build(self) -> None:
        from telewarden.adapters.service_store import service_store_for

        ctx = self._ctx_factory()
        service = (
            self._service_factory(ctx)
            if self._service_factory is not None
            else service_store_for(ctx.store, ctx.clock)
        )
        self._ctx = ctx
        self._service = service
        from telewarden.adapters.service_store import disposal_store_for, warning_store_for

        self._disposal = ctx.cases if ctx.cases is not None else disposal_store_for(ctx.store)
        self._warnings = warning_store_for(ctx.store)
        self._screeners = ScreenerCache(ctx, service, self.config.change_poll_s)
        self._decisions = DecisionBuffer(service, self.config.flush_s)
        self._ready = True

    def _ensure(self) -> None:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self._build()

    @property
    def ctx(self) -> AppContext:
        """The application context (store, clock, gates)."""
        self._ensure()
        return self._ctx

    @property
    def service(self) -> ServiceStore:
        """Accounts, sessions and read models."""
        self._ensure()
        return self._service

    @property
    def screeners(self) -> ScreenerCache:
        """The hot-path screener."""
        self._ensure()
        return self._screeners

    @property
    def decisions(self) -> DecisionBuffer:
        """The decision log buffer."""
        self._ensure()
        return self._decisions

    @property
    def disposal_store(self) -> Any:
        """Cases, cards, credit listings and the cascade outbox (a ``DisposalStore``)."""
        self._ensure()
        return self._disposal

    @property
    def warning_store(self) -> Any:
        """The warnings sent (a ``WarningStore``)."""
        self._ensure()
        return self._warnings

    def disposal(self) -> Any:
        """The disposal use cases over this process's store and clock (``DisposalService``)."""
        from telewarden.services.disposal import DisposalService

        return DisposalService(self.disposal_store, self.ctx.clock)

    def credit(self) -> Any:
        """The ID-document use cases (``CreditService``); 503 without the carrier's hash key."""
        from telewarden.core.errors import ConfigurationError
        from telewarden.services.credit import CreditService

        if self.ctx.hash_key is None:
            raise ConfigurationError(
                "no hash key for ID documents: set TELEWARDEN_HASH_KEY (credit listings refused)"
            )
        return CreditService(self.disposal_store, self.ctx.clock, self.ctx.hash_key)

    def sms_classifier(self) -> Any:
        """The serving SMS classifier (the registry's promoted version, else the shipped one),
        loaded on first use and followed across promotions (ConfigurationError when absent)."""
        if self._sms is None:
            models = self.ctx.models  # outside the lock: ``ctx`` may take it
            with self._lock:
                if self._sms is None:
                    from telewarden.services.model_registry import ServingModels

                    self._sms = ServingModels(models)
        return self._sms.classifier()

    def changed(self) -> None:
        """A change went through this process: reload the screener before the next screen."""
        self.screeners.invalidate()

    def close(self) -> None:
        """Flush the decision buffer (called at shutdown)."""
        if self._ready:
            self._decisions.close()
