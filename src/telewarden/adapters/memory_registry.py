"""``MemoryModelRegistry``: model versions, serving history and shadow runs in memory.

Behaves like ``SqlModelRegistry`` (versions from 1 per kind, shadow-run ids from 1, the same
audit records) and writes its audit records into the ``MemoryStore`` it is given, so the hash
chain is shared with the other memory twins.
"""

from __future__ import annotations

import dataclasses

from telewarden.adapters.memory import MemoryStore
from telewarden.core.errors import NotFoundError
from telewarden.core.registry import (
    ModelKind,
    ModelVersion,
    ScoreSummary,
    ServingEvent,
    ShadowRun,
    serving_audit,
    version_audit,
)

__all__ = ["MemoryModelRegistry"]


class MemoryModelRegistry:
    """The registry in lists.

    Parameters
    ----------
    store : MemoryStore
        Where audit records go.
    """

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._versions: list[ModelVersion] = []
        self._events: list[ServingEvent] = []
        self._runs: list[ShadowRun] = []
        self._summaries: list[ScoreSummary] = []

    def add_version(self, version: ModelVersion) -> ModelVersion:
        """Store ``version`` as the next number of its kind (audited)."""
        number = 1 + sum(1 for v in self._versions if v.kind is version.kind)
        stored = dataclasses.replace(version, version=number)
        self._versions.append(stored)
        self.store.append_audit([version_audit(stored)])
        return stored

    def get_version(self, kind: ModelKind, version: int) -> ModelVersion:
        """One version; NotFoundError when unknown."""
        for v in self._versions:
            if v.kind is kind and v.version == version:
                return v
        raise NotFoundError(f"no {kind} model version {version}")

    def list_versions(self, kind: ModelKind | None = None) -> list[ModelVersion]:
        """Every version (of ``kind``), oldest first."""
        return [v for v in self._versions if kind is None or v.kind is kind]

    def serving_history(self, kind: ModelKind) -> list[ServingEvent]:
        """Promotions and rollbacks of ``kind``, oldest first."""
        return [e for e in self._events if e.kind is kind]

    def add_serving_event(self, event: ServingEvent) -> None:
        """Record a promotion or rollback (audited)."""
        if event.version is not None:
            self.get_version(event.kind, event.version)
        self._events.append(event)
        self.store.append_audit([serving_audit(event)])

    def add_shadow_run(self, run: ShadowRun) -> int:
        """Store a shadow run; its id (from 1)."""
        stored = dataclasses.replace(run, id=len(self._runs) + 1)
        self._runs.append(stored)
        return stored.id

    def list_shadow_runs(self, kind: ModelKind, *, limit: int = 20) -> list[ShadowRun]:
        """The newest shadow runs of ``kind`` first."""
        return [r for r in reversed(self._runs) if r.kind is kind][:limit]

    def add_summary(self, summary: ScoreSummary) -> None:
        """Store one day's verdict counts and score histogram of a version."""
        self._summaries.append(summary)

    def summaries(self, kind: ModelKind, version: int | None) -> list[ScoreSummary]:
        """The summaries of one version of ``kind``, oldest day first."""
        found = [s for s in self._summaries if s.kind is kind and s.version == version]
        return sorted(found, key=lambda s: s.day)
