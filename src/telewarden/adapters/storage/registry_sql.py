"""``SqlModelRegistry``: the model registry over the screening store's engine.

It shares the engine, and so the audit chain, of the ``SqlStore`` it is built beside: a
registration and a promotion or rollback are each one transaction with one audit record.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Engine, func, insert, select

from telewarden.adapters.storage.registry_models import (
    ModelServingRow,
    ModelVersionRow,
    ScoreSummaryRow,
    ShadowRunRow,
)
from telewarden.adapters.storage.sql import append_audit
from telewarden.core.errors import NotFoundError
from telewarden.core.ports import Clock
from telewarden.core.registry import (
    DataRef,
    Disagreement,
    ModelKind,
    ModelVersion,
    ScoreSummary,
    ServingAction,
    ServingEvent,
    ShadowRun,
    serving_audit,
    version_audit,
)

__all__ = ["SqlModelRegistry"]


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class SqlModelRegistry:
    """The registry in SQL (SQLite or PostgreSQL).

    Parameters
    ----------
    engine : Engine
        The migrated engine of the screening store (``SqlStore.engine``).
    clock : Clock
        Kept for symmetry with the other SQL stores (events carry their own times).
    """

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    @staticmethod
    def _version(row: Any) -> ModelVersion:
        return ModelVersion(
            ModelKind(row.kind),
            row.version,
            row.path,
            row.sha256,
            row.registered_by,
            _utc(row.registered_at),
            tuple(
                DataRef(d["name"], int(d["rows"]), d.get("ids", "")) for d in json.loads(row.data)
            ),
            {k: float(v) for k, v in json.loads(row.metrics).items()},
            row.card,
            row.note,
        )

    def add_version(self, version: ModelVersion) -> ModelVersion:
        """Store ``version`` as the next number of its kind (one transaction, audited)."""
        with self.engine.begin() as conn:
            last = conn.execute(
                select(func.max(ModelVersionRow.version)).where(
                    ModelVersionRow.kind == str(version.kind)
                )
            ).scalar()
            stored = ModelVersion(
                version.kind,
                int(last or 0) + 1,
                version.path,
                version.sha256,
                version.registered_by[:64],
                version.registered_at,
                version.data,
                dict(version.metrics),
                version.card,
                version.note[:256],
            )
            conn.execute(
                insert(ModelVersionRow),
                {
                    "kind": str(stored.kind),
                    "version": stored.version,
                    "path": stored.path,
                    "sha256": stored.sha256,
                    "registered_by": stored.registered_by,
                    "registered_at": stored.registered_at,
                    "data": _dumps(
                        [{"name": d.name, "rows": d.rows, "ids": d.ids} for d in stored.data]
                    ),
                    "metrics": _dumps(dict(stored.metrics)),
                    "card": stored.card,
                    "note": stored.note,
                },
            )
            append_audit(conn, [version_audit(stored)])
        return stored

    def get_version(self, kind: ModelKind, version: int) -> ModelVersion:
        """One version; NotFoundError when unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(ModelVersionRow).where(
                    ModelVersionRow.kind == str(kind), ModelVersionRow.version == version
                )
            ).first()
        if row is None:
            raise NotFoundError(f"no {kind} model version {version}")
        return self._version(row)

    def list_versions(self, kind: ModelKind | None = None) -> list[ModelVersion]:
        """Every version (of ``kind``), oldest first."""
        query = select(ModelVersionRow).order_by(ModelVersionRow.id)
        if kind is not None:
            query = query.where(ModelVersionRow.kind == str(kind))
        with self.engine.connect() as conn:
            return [self._version(r) for r in conn.execute(query).all()]

    def serving_history(self, kind: ModelKind) -> list[ServingEvent]:
        """Promotions and rollbacks of ``kind``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ModelServingRow)
                .where(ModelServingRow.kind == str(kind))
                .order_by(ModelServingRow.id)
            ).all()
        return [
            ServingEvent(
                ModelKind(r.kind),
                ServingAction(r.action),
                r.version,
                r.previous,
                r.actor,
                _utc(r.at),
                r.reason,
            )
            for r in rows
        ]

    def add_serving_event(self, event: ServingEvent) -> None:
        """Record a promotion or rollback in one transaction with its audit record."""
        if event.version is not None:
            self.get_version(event.kind, event.version)
        with self.engine.begin() as conn:
            conn.execute(
                insert(ModelServingRow),
                {
                    "kind": str(event.kind),
                    "action": str(event.action),
                    "version": event.version,
                    "previous": event.previous,
                    "actor": event.actor[:64],
                    "at": event.at,
                    "reason": event.reason[:512],
                },
            )
            append_audit(conn, [serving_audit(event)])

    def add_shadow_run(self, run: ShadowRun) -> int:
        """Store a shadow run; its id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(ShadowRunRow).returning(ShadowRunRow.id),
                {
                    "kind": str(run.kind),
                    "candidate": run.candidate,
                    "current": run.current,
                    "source": run.source[:256],
                    "actor": run.actor[:64],
                    "at": run.at,
                    "rows": run.rows,
                    "agree": run.agree,
                    "current_verdicts": _dumps(dict(run.current_verdicts)),
                    "candidate_verdicts": _dumps(dict(run.candidate_verdicts)),
                    "disagreements": _dumps(
                        [
                            {
                                "line": d.line,
                                "text": d.text,
                                "current": d.current,
                                "candidate": d.candidate,
                                "current_score": d.current_score,
                                "candidate_score": d.candidate_score,
                            }
                            for d in run.disagreements
                        ]
                    ),
                },
            )
            return int(result.scalar_one())

    def list_shadow_runs(self, kind: ModelKind, *, limit: int = 20) -> list[ShadowRun]:
        """The newest shadow runs of ``kind`` first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ShadowRunRow)
                .where(ShadowRunRow.kind == str(kind))
                .order_by(ShadowRunRow.id.desc())
                .limit(limit)
            ).all()
        return [
            ShadowRun(
                ModelKind(r.kind),
                r.candidate,
                r.current,
                r.source,
                r.actor,
                _utc(r.at),
                r.rows,
                r.agree,
                json.loads(r.current_verdicts),
                json.loads(r.candidate_verdicts),
                tuple(Disagreement(**d) for d in json.loads(r.disagreements)),
                r.id,
            )
            for r in rows
        ]

    def add_summary(self, summary: ScoreSummary) -> None:
        """Store one day's verdict counts and score histogram of a version."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(ScoreSummaryRow),
                {
                    "kind": str(summary.kind),
                    "version": summary.version,
                    "day": summary.day.isoformat(),
                    "source": summary.source[:16],
                    "verdicts": _dumps(dict(summary.verdicts)),
                    "histogram": _dumps(list(summary.histogram)),
                },
            )

    def summaries(self, kind: ModelKind, version: int | None) -> list[ScoreSummary]:
        """The summaries of one version of ``kind``, oldest day first."""
        query = select(ScoreSummaryRow).where(ScoreSummaryRow.kind == str(kind))
        query = query.where(
            ScoreSummaryRow.version.is_(None)
            if version is None
            else ScoreSummaryRow.version == version
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(ScoreSummaryRow.day, ScoreSummaryRow.id)).all()
        return [
            ScoreSummary(
                ModelKind(r.kind),
                r.version,
                dt.date.fromisoformat(r.day),
                r.source,
                json.loads(r.verdicts),
                tuple(json.loads(r.histogram)),
            )
            for r in rows
        ]
