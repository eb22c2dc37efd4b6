"""``MemoryReportStore``: subscriber reports and labels in memory (tests, demos, plug-ins).

Behaves like ``SqlReportStore`` (same ids from 1, same newest-first listing, same audit
records) and writes its audit records into the ``MemoryStore`` it is given, so the hash chain
is shared with the other memory twins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from telewarden.adapters.memory import MemoryStore
from telewarden.core.errors import NotFoundError
from telewarden.core.ports import AuditRecord
from telewarden.core.reports import Report, ReportKind, ReportLabel, StoredReport

__all__ = ["MemoryReportStore"]


class MemoryReportStore:
    """Reports and labels in dictionaries.

    Parameters
    ----------
    store : MemoryStore
        Where audit records go (its clock stamps imports and audit records).
    """

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._reports: dict[int, StoredReport] = {}

    def add_reports(self, reports: Iterable[Report], *, actor: str, source_name: str) -> int:
        """Store ``reports`` with one audit record; how many were stored."""
        now = self.store.clock.now()
        added = list(reports)
        start = len(self._reports) + 1
        for offset, report in enumerate(added):
            if not report.source:
                report = Report(
                    report.kind,
                    report.reporter,
                    report.reported_at,
                    text=report.text,
                    msisdn=report.msisdn,
                    claimed_type=report.claimed_type,
                    source=source_name,
                    line=report.line,
                )
            self._reports[start + offset] = StoredReport(start + offset, report, now)
        self.store.append_audit(
            [AuditRecord(now, actor, "reports", source_name, "import", None, {"rows": len(added)})]
        )
        return len(added)

    def get_report(self, report_id: int) -> StoredReport:
        """The report with its labels; NotFoundError when unknown."""
        if report_id not in self._reports:
            raise NotFoundError(f"no report {report_id}")
        return self._reports[report_id]

    def list_reports(
        self, *, kind: ReportKind | None = None, labelled: bool | None = None, limit: int = 50
    ) -> list[StoredReport]:
        """The newest reports first, optionally of one kind or (un)labelled only."""
        out = []
        for stored in sorted(self._reports.values(), key=lambda r: -r.id):
            if kind is not None and stored.report.kind is not kind:
                continue
            if labelled is not None and bool(stored.labels) is not labelled:
                continue
            out.append(stored)
            if len(out) >= limit:
                break
        return out

    def iter_reports(self, ids: Sequence[int] | None = None) -> Iterator[StoredReport]:
        """Every report (or those of ``ids``) with its labels, oldest first."""
        wanted = None if ids is None else set(ids)
        for report_id in sorted(self._reports):
            if wanted is None or report_id in wanted:
                yield self._reports[report_id]

    def add_label(self, label: ReportLabel) -> None:
        """Record a label, audited with its actor; NotFoundError for an unknown report."""
        stored = self.get_report(label.report_id)
        previous = stored.labels[-1] if stored.labels else None
        self._reports[label.report_id] = StoredReport(
            stored.id, stored.report, stored.imported_at, (*stored.labels, label)
        )
        self.store.append_audit(
            [
                AuditRecord(
                    self.store.clock.now(),
                    label.actor,
                    "report_label",
                    str(label.report_id),
                    "update" if previous else "create",
                    {"label": str(previous.label), "source": str(previous.source)}
                    if previous
                    else None,
                    {"label": str(label.label), "source": str(label.source), "note": label.note},
                )
            ]
        )

    def count_reports(self) -> dict[str, int]:
        """Reports by kind (``sms``, ``msisdn``) and by current label (``unlabelled`` for none)."""
        out = {"sms": 0, "msisdn": 0, "scam": 0, "ham": 0, "unlabelled": 0}
        for stored in self._reports.values():
            out[str(stored.report.kind)] += 1
            out[str(stored.label) if stored.label else "unlabelled"] += 1
        return out
