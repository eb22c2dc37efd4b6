"""``MemoryWarningStore``: the in-memory twin of ``SqlWarningStore``.

It writes its audit records into a :class:`MemoryStore`'s audit log, so ``audit_log`` shows
warnings and outcomes exactly as the SQL store does.
"""

from __future__ import annotations

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.storage.protocol import private_audit_document
from telewarden.core.errors import NotFoundError
from telewarden.core.warning import Outcome, OutcomeRecord, WarningNotice

__all__ = ["MemoryWarningStore"]


class MemoryWarningStore:
    """The ``WarningStore`` held in memory, audited through ``store``."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._warnings: dict[str, WarningNotice] = {}
        self._order: list[str] = []
        self._outcomes: dict[str, list[OutcomeRecord]] = {}

    def save_warnings(self, warnings: list[WarningNotice], *, actor: str) -> int:
        """Store new warnings, skipping ids already stored; one audit record per warning."""
        added = 0
        for w in warnings:
            if w.warning_id in self._warnings:
                continue
            self._warnings[w.warning_id] = w
            self._order.append(w.warning_id)
            self.store._record(
                actor=actor,
                entity="warning",
                key=w.warning_id,
                action="create",
                before=None,
                after=private_audit_document(self.store.keyring, w.as_dict(), w.msisdn),
            )
            added += 1
        return added

    def get_warning(self, warning_id: str) -> WarningNotice | None:
        """One warning, None when unknown."""
        return self._warnings.get(warning_id)

    def list_warnings(self, *, msisdn: str | None = None, limit: int = 50) -> list[WarningNotice]:
        """The newest warnings first (by decision time), optionally of one subscriber."""
        ordered = sorted(
            enumerate(self._order),
            key=lambda p: (self._warnings[p[1]].created_at, p[0]),
            reverse=True,
        )
        out = [self._warnings[i] for _, i in ordered]
        if msisdn is not None:
            out = [w for w in out if w.msisdn == msisdn]
        return out[:limit]

    def count_warnings(self) -> int:
        """Every stored warning."""
        return len(self._warnings)

    def record_outcome(
        self, warning_id: str, outcome: Outcome, *, note: str, actor: str
    ) -> OutcomeRecord:
        """Record an outcome, audited; ``NotFoundError`` for an unknown warning."""
        if warning_id not in self._warnings:
            raise NotFoundError(f"no warning {warning_id!r}")
        record = OutcomeRecord(warning_id, outcome, note, actor, self.store.clock.now())
        self._outcomes.setdefault(warning_id, []).append(record)
        self.store._record(
            actor=actor,
            entity="warning_outcome",
            key=warning_id,
            action="create",
            before=None,
            after={"outcome": str(outcome), "note": note},
        )
        return record

    def outcomes_for(self, warning_id: str) -> list[OutcomeRecord]:
        """The outcomes of one warning, oldest first."""
        return list(self._outcomes.get(warning_id, []))
