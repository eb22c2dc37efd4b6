"""The decision buffer: single-screen decisions written to the decision log in bulk.

Decisions of single screens are appended to a list on the hot path; a background thread writes
them to the decision log every ``flush_s`` (``ApiConfig``), so a screen never waits for a
database commit, and a failing write is counted and logged rather than failing the screen.
"""

from __future__ import annotations

import logging
import threading

from telewarden.core.ports import Clock
from telewarden.core.screening import Decision, ScreeningEvent
from telewarden.core.service_ports import LoggedDecision, ServiceStore

__all__ = ["DecisionBuffer"]

log = logging.getLogger("telewarden.api")


class DecisionBuffer:
    """Single-screen decisions waiting to be written to the decision log in bulk."""

    def __init__(self, service: ServiceStore, flush_s: float) -> None:
        self.service = service
        self.flush_s = flush_s
        self._items: list[LoggedDecision] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.failed = 0

    def add(self, event: ScreeningEvent, decision: Decision, actor: str, clock: Clock) -> None:
        """Queue one decision (list append: no I/O on the hot path)."""
        self._items.append(LoggedDecision(event, decision, actor, clock.now()))
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_s):
            self.flush()

    def flush(self) -> int:
        """Write what is queued; the number written."""
        with self._lock:
            items, self._items = self._items, []
            if not items:
                return 0
            try:
                self.service.log_decisions(items)
            except Exception:  # the log must not take the screening path down with it
                self.failed += len(items)
                log.exception("decision log write failed", extra={"decisions": len(items)})
                return 0
            self.written += len(items)
            return len(items)

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
