"""``SqlReportStore``: subscriber reports and their labels over the screening store's engine.

It shares the engine, and so the audit chain, of the ``SqlStore`` it is built beside: an
import is one transaction with one audit record, a label one row and one audit record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, func, insert, select

from telewarden.adapters.storage.report_models import ReportLabelRow, ReportRow
from telewarden.adapters.storage.sql import append_audit
from telewarden.core.errors import NotFoundError
from telewarden.core.ports import AuditRecord, Clock
from telewarden.core.reports import (
    Label,
    LabelSource,
    Report,
    ReportKind,
    ReportLabel,
    StoredReport,
)

__all__ = ["SqlReportStore"]

_CHUNK = 5_000


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class SqlReportStore:
    """Reports and labels in SQL (SQLite or PostgreSQL).

    Parameters
    ----------
    engine : Engine
        The migrated engine of the screening store (``SqlStore.engine``).
    clock : Clock
        Source of import and audit timestamps.
    """

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def add_reports(self, reports: Iterable[Report], *, actor: str, source_name: str) -> int:
        """Store ``reports`` in one transaction with one audit record; how many were stored."""
        now = self.clock.now()
        count = 0
        with self.engine.begin() as conn:
            batch: list[dict[str, Any]] = []
            for r in reports:
                batch.append(
                    {
                        "kind": str(r.kind),
                        "text": r.text,
                        "msisdn": r.msisdn,
                        "reporter": r.reporter[:64],
                        "reported_at": r.reported_at,
                        "claimed_type": r.claimed_type[:64],
                        "source": (r.source or source_name)[:128],
                        "line": r.line,
                        "imported_at": now,
                    }
                )
                if len(batch) >= _CHUNK:
                    conn.execute(insert(ReportRow), batch)
                    count += len(batch)
                    batch = []
            if batch:
                conn.execute(insert(ReportRow), batch)
                count += len(batch)
            append_audit(
                conn,
                [
                    AuditRecord(
                        now, actor, "reports", source_name[:128], "import", None, {"rows": count}
                    )
                ],
            )
        return count

    @staticmethod
    def _report(row: Any, labels: Sequence[ReportLabel]) -> StoredReport:
        report = Report(
            ReportKind.from_str(row.kind),
            row.reporter,
            _utc(row.reported_at),
            text=row.text,
            msisdn=row.msisdn,
            claimed_type=row.claimed_type,
            source=row.source,
            line=row.line,
        )
        return StoredReport(row.id, report, _utc(row.imported_at), tuple(labels))

    @staticmethod
    def _label(row: Any) -> ReportLabel:
        return ReportLabel(
            row.report_id,
            Label.from_str(row.label),
            LabelSource.from_str(row.source),
            row.actor,
            _utc(row.labelled_at),
            row.note,
        )

    def _labels_of(self, conn: Any, ids: Sequence[int]) -> dict[int, list[ReportLabel]]:
        out: dict[int, list[ReportLabel]] = {i: [] for i in ids}
        for start in range(0, len(ids), _CHUNK):
            part = list(ids[start : start + _CHUNK])
            rows = conn.execute(
                select(ReportLabelRow)
                .where(ReportLabelRow.report_id.in_(part))
                .order_by(ReportLabelRow.id)
            ).all()
            for row in rows:
                out[row.report_id].append(self._label(row))
        return out

    def get_report(self, report_id: int) -> StoredReport:
        """The report with its labels; NotFoundError when unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(select(ReportRow).where(ReportRow.id == report_id)).first()
            if row is None:
                raise NotFoundError(f"no report {report_id}")
            return self._report(row, self._labels_of(conn, [report_id])[report_id])

    def list_reports(
        self, *, kind: ReportKind | None = None, labelled: bool | None = None, limit: int = 50
    ) -> list[StoredReport]:
        """The newest reports first, optionally of one kind or (un)labelled only."""
        query = select(ReportRow).order_by(ReportRow.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(ReportRow.kind == str(kind))
        if labelled is not None:
            has = select(ReportLabelRow.id).where(ReportLabelRow.report_id == ReportRow.id)
            query = query.where(has.exists() if labelled else ~has.exists())
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            labels = self._labels_of(conn, [r.id for r in rows])
        return [self._report(r, labels[r.id]) for r in rows]

    def iter_reports(self, ids: Sequence[int] | None = None) -> Iterator[StoredReport]:
        """Every report (or those of ``ids``) with its labels, oldest first, in chunks."""
        last = 0
        while True:
            query = select(ReportRow).where(ReportRow.id > last).order_by(ReportRow.id)
            if ids is not None:
                query = query.where(ReportRow.id.in_(list(ids)))
            with self.engine.connect() as conn:
                rows = conn.execute(query.limit(_CHUNK)).all()
                labels = self._labels_of(conn, [r.id for r in rows])
            if not rows:
                return
            for r in rows:
                yield self._report(r, labels[r.id])
            last = rows[-1].id

    def add_label(self, label: ReportLabel) -> None:
        """Record a label, audited with its actor; NotFoundError for an unknown report."""
        with self.engine.begin() as conn:
            found = conn.execute(
                select(ReportRow.id).where(ReportRow.id == label.report_id)
            ).first()
            if found is None:
                raise NotFoundError(f"no report {label.report_id}")
            previous = conn.execute(
                select(ReportLabelRow.label, ReportLabelRow.source)
                .where(ReportLabelRow.report_id == label.report_id)
                .order_by(ReportLabelRow.id.desc())
                .limit(1)
            ).first()
            after = {"label": str(label.label), "source": str(label.source), "note": label.note}
            conn.execute(
                insert(ReportLabelRow),
                {
                    "report_id": label.report_id,
                    "label": str(label.label),
                    "source": str(label.source),
                    "actor": label.actor[:64],
                    "labelled_at": label.labelled_at,
                    "note": label.note[:256],
                },
            )
            append_audit(
                conn,
                [
                    AuditRecord(
                        self.clock.now(),
                        label.actor,
                        "report_label",
                        str(label.report_id),
                        "update" if previous else "create",
                        {"label": previous.label, "source": previous.source} if previous else None,
                        after,
                    )
                ],
            )

    def count_reports(self) -> dict[str, int]:
        """Reports by kind (``sms``, ``msisdn``) and by current label (``unlabelled`` for none)."""
        out: dict[str, int] = {"sms": 0, "msisdn": 0, "scam": 0, "ham": 0, "unlabelled": 0}
        newest = (
            select(ReportLabelRow.report_id, func.max(ReportLabelRow.id).label("last"))
            .group_by(ReportLabelRow.report_id)
            .subquery()
        )
        with self.engine.connect() as conn:
            for kind, n in conn.execute(
                select(ReportRow.kind, func.count()).group_by(ReportRow.kind)
            ):
                out[kind] = int(n)
            labelled = 0
            for label, n in conn.execute(
                select(ReportLabelRow.label, func.count())
                .join(newest, newest.c.last == ReportLabelRow.id)
                .group_by(ReportLabelRow.label)
            ):
                out[label] = int(n)
                labelled += int(n)
        out["unlabelled"] = out["sms"] + out["msisdn"] - labelled
        return out
