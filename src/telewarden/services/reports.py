"""Reports and outcomes as data: import subscriber reports, label them, derive case labels.

``import_reports`` reads a report file strictly through the one message reader
(:mod:`telewarden.adapters.files.messages`): a row that cannot be used goes to the quarantine
file with its line and reason, and the counts reconcile (rows read = imported + quarantined).
The stored reports are claims; ``label_report`` records an analyst's ``scam``/``ham``
(every label with its source, actor and time, audited). ``outcome_labels`` turns the disposal
store's decisions (police feedback, appeals, analysts' decisions on cases) into labels of the
case's MSISDN, read from the audit chain so each keeps its time and actor.
``export_training`` writes the labelled SMS reports as a ``label<TAB>text`` file for
``telewarden sms train``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telewarden.adapters.files.messages import MessageFormat, detect_format, open_messages
from telewarden.adapters.files.output import atomic_file, refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import (
    QuarantinedRow,
    check_quarantine_share,
    write_rejected,
)
from telewarden.core.errors import InvalidInputError, NotFoundError
from telewarden.core.ports import AuditRecord, Clock
from telewarden.core.reports import (
    Label,
    LabelSource,
    OutcomeLabel,
    Report,
    ReportKind,
    ReportLabel,
    ReportStore,
)

__all__ = [
    "REPORT_COLUMNS",
    "ExportReport",
    "ReportImport",
    "export_training",
    "import_reports",
    "case_outcome_labels",
    "label_report",
    "outcome_labels",
    "parse_report_row",
    "write_outcome_labels",
]

REPORT_COLUMNS = ("text", "msisdn", "reporter", "reported_at", "claimed_type")
"""Columns of a report file: ``reporter`` and ``reported_at`` are required, and at least one
of ``text`` and ``msisdn`` per row; ``claimed_type`` is optional."""

MAX_TEXT_CHARS = 5_000
"""Longer bodies are quarantined: a concatenated SMS is at most a few thousand characters."""
_MSISDN_RE = re.compile(r"^\+[1-9]\d{6,14}$")
_MSISDN_STRIP = str.maketrans("", "", " -().")


@dataclass(slots=True)
class ReportImport:
    """What an import read and stored; ``rows_read == imported + quarantined``."""

    source: Path
    quarantine: Path
    rows_read: int = 0
    imported: int = 0
    quarantined: int = 0
    sms: int = 0
    msisdn: int = 0
    rejected: list[QuarantinedRow] = field(default_factory=list)


def _cell(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return "" if value is None else str(value).strip()


def parse_report_row(fields: dict[str, Any], *, source: str, line: int) -> Report | str:
    """One row as a :class:`Report`, or the reason it cannot be used.

    Examples
    --------
    >>> r = parse_report_row(
    ...     {"msisdn": "+86 138 0013 8000", "reporter": "s1", "reported_at": "2026-12-01T08:00Z"},
    ...     source="f.csv", line=2,
    ... )
    >>> r.kind, r.msisdn, r.reported_at.isoformat()
    (<ReportKind.MSISDN: 'msisdn'>, '+8613800138000', '2026-12-01T08:00:00+00:00')
    >>> parse_report_row({"text": "hi", "reporter": "s1", "reported_at": "2026-12-01"},
    ...     source="f.csv", line=3)
    'reported_at 2026-12-01 has no time zone (write it as ISO 8601 with Z or +hh:mm)'
    """
    reporter = _cell(fields, "reporter")
    if not reporter:
        return "empty reporter"
    if len(reporter) > 64:
        return "reporter longer than 64 characters"
    raw_at = _cell(fields, "reported_at")
    try:
        at = dt.datetime.fromisoformat(raw_at)
    except ValueError:
        return f"reported_at {raw_at!r} is not an ISO 8601 time"
    if at.tzinfo is None:
        return f"reported_at {raw_at} has no time zone (write it as ISO 8601 with Z or +hh:mm)"
    text = _cell(fields, "text") or None
    if text is not None and len(text) > MAX_TEXT_CHARS:
        return f"text longer than {MAX_TEXT_CHARS} characters"
    raw_msisdn = _cell(fields, "msisdn")
    msisdn = raw_msisdn.translate(_MSISDN_STRIP) or None
    if msisdn is not None and not _MSISDN_RE.match(msisdn):
        return f"msisdn {raw_msisdn!r} is not E.164 (+ country code and up to 15 digits)"
    if text is None and msisdn is None:
        return "neither text nor msisdn"
    claimed = _cell(fields, "claimed_type")
    if len(claimed) > 64:
        return "claimed_type longer than 64 characters"
    return Report(
        ReportKind.SMS if text is not None else ReportKind.MSISDN,
        reporter,
        at.astimezone(dt.UTC),
        text=text,
        msisdn=msisdn,
        claimed_type=claimed,
        source=source,
        line=line,
    )


def import_reports(
    store: ReportStore,
    path: Path,
    *,
    actor: str,
    fmt: MessageFormat | None = None,
    quarantine: Path | None = None,
    encoding: str | None = None,
    max_quarantine_share: float | None = None,
    source: str | None = None,
) -> ReportImport:
    """Import a report file (CSV, TSV or JSONL with the columns of :data:`REPORT_COLUMNS`).

    Bad rows go to ``quarantine`` (default ``<file stem>.quarantine.csv``) with their line and
    reason. When every row, or more than ``max_quarantine_share`` of them, is quarantined,
    nothing is stored and InvalidInputError says why.
    """
    fmt = detect_format(path, fmt)
    quarantine = quarantine or path.with_name(f"{path.stem}.quarantine.csv")
    refuse_inputs_as_outputs([path], [quarantine])
    run = ReportImport(path, quarantine)
    name = source or path.name
    reports: list[Report] = []
    # ``reporter`` is the one column every report has; the reader insists on it.
    with open_messages(path, fmt, "reporter", encoding) as table:
        if table.header and not {"text", "msisdn"} & set(table.header):
            raise InvalidInputError(f"{path}: needs a text or an msisdn column (or both)")
        for row in table.rows:
            parsed = parse_report_row(row.fields, source=name, line=row.line)
            if isinstance(parsed, str):
                table.rejected.append(QuarantinedRow(row.line, parsed, row.fields))
            else:
                reports.append(parsed)
        run.rejected = write_rejected(quarantine, table.rejected)
    run.quarantined = len(run.rejected)
    run.rows_read = len(reports) + run.quarantined
    check_quarantine_share(run.rows_read, run.quarantined, max_quarantine_share, quarantine)
    run.imported = store.add_reports(reports, actor=actor, source_name=name)
    run.sms = sum(r.kind is ReportKind.SMS for r in reports)
    run.msisdn = run.imported - run.sms
    return run


def label_report(
    store: ReportStore, report_id: int, label: str, *, actor: str, clock: Clock, note: str = ""
) -> ReportLabel:
    """An analyst's label (``scam`` or ``ham``) for one report, stored and audited."""
    given = ReportLabel(
        report_id, Label.parse(label), LabelSource.ANALYST, actor, clock.now(), note
    )
    store.add_label(given)
    return given


_OUTCOMES = {
    ("case", "case_confirmed"): Label.SCAM,
    ("case", "case_cleared"): Label.HAM,
    ("appeal", "appeal_rejected"): Label.SCAM,
    ("appeal", "appeal_upheld"): Label.HAM,
}


def outcome_labels(records: list[AuditRecord], msisdn_of: dict[str, str]) -> list[OutcomeLabel]:
    """Labels of case MSISDNs from the disposal decisions in ``records`` (the audit log).

    A confirmed case or a rejected appeal is ``scam``, a cleared case or an upheld appeal
    ``ham``. The source is ``police_feedback`` for decisions applied by ``telewarden police
    feedback``, ``appeal`` for appeal decisions and ``case_decision`` for the others. Records of
    cases not in ``msisdn_of`` (purged) are skipped. Oldest first.
    """
    out: list[OutcomeLabel] = []
    for r in sorted(records, key=lambda r: r.at):
        label = _OUTCOMES.get((r.entity, r.action))
        after = r.after or {}
        case_id = str(after.get("case", r.entity_key))
        if label is None or case_id not in msisdn_of:
            continue
        detail = str(after.get("detail", ""))
        if r.entity == "appeal":
            source = LabelSource.APPEAL
        elif detail.startswith("police feedback:"):
            source = LabelSource.POLICE_FEEDBACK
        else:
            source = LabelSource.CASE_DECISION
        out.append(OutcomeLabel(msisdn_of[case_id], label, source, r.actor, r.at, case_id, detail))
    return out


def case_outcome_labels(audit: Any, cases: Any, *, limit: int = 100_000) -> list[OutcomeLabel]:
    """:func:`outcome_labels` of the newest ``limit`` case and appeal records of ``audit``
    (a store with ``audit_log``), the MSISDNs looked up in ``cases`` (a ``CaseStore``)."""
    records = [r for e in ("case", "appeal") for r in audit.audit_log(entity=e, limit=limit)]
    msisdn_of: dict[str, str] = {}
    for case_id in {str((r.after or {}).get("case", r.entity_key)) for r in records}:
        try:
            msisdn_of[case_id] = cases.get_case(case_id).msisdn
        except NotFoundError:  # purged under the retention rules: no label
            continue
    return outcome_labels(records, msisdn_of)


def write_outcome_labels(labels: list[OutcomeLabel], output: Path) -> int:
    """Write the newest outcome label of each MSISDN as a labels file for ``numbers train``.

    Columns ``msisdn,label,outcome,source,actor,labelled_at,case`` (``label`` 1 = scam,
    0 = ham; ``numbers train --labels`` reads ``msisdn`` and ``label``); returns the rows.
    """
    import csv

    newest: dict[str, OutcomeLabel] = {}
    for o in sorted(labels, key=lambda o: o.labelled_at):
        newest[o.msisdn] = o
    with atomic_file(output, "w") as handle:
        writer = csv.writer(handle)
        writer.writerow(["msisdn", "label", "outcome", "source", "actor", "labelled_at", "case"])
        for o in sorted(newest.values(), key=lambda o: o.msisdn):
            writer.writerow(
                [
                    o.msisdn,
                    1 if o.label is Label.SCAM else 0,
                    str(o.label),
                    str(o.source),
                    o.actor,
                    o.labelled_at.isoformat(),
                    o.case_id,
                ]
            )
    return len(newest)


@dataclass(slots=True)
class ExportReport:
    """Rows written by ``export_training``, by label and by where the label came from."""

    output: Path
    scam: int = 0
    ham: int = 0
    from_reporters: int = 0
    skipped_unlabelled: int = 0


def export_training(
    store: ReportStore, output: Path, *, trust_reporters: bool = False
) -> ExportReport:
    """Write labelled SMS reports as ``label<TAB>text<TAB>report<TAB>source<TAB>labelled_at``.

    The newest label of each report counts. Unlabelled reports are skipped, unless
    ``trust_reporters``: then each is written as ``scam`` with the source ``subscriber``
    (subscribers report what they believe is fraud; the analyst's labels are better).
    Tabs and line breaks inside a text are written as spaces.
    """
    export = ExportReport(output)

    def rows() -> Iterator[str]:
        for stored in store.iter_reports():
            text = stored.report.text
            if stored.report.kind is not ReportKind.SMS or text is None:
                continue
            if stored.labels:
                last = stored.labels[-1]
                label, source, at = last.label, str(last.source), last.labelled_at.isoformat()
            elif trust_reporters:
                label, source = Label.SCAM, "subscriber"
                at = stored.report.reported_at.isoformat()
                export.from_reporters += 1
            else:
                export.skipped_unlabelled += 1
                continue
            if label is Label.SCAM:
                export.scam += 1
            else:
                export.ham += 1
            flat = " ".join(text.split())
            yield f"{label}\t{flat}\t{stored.id}\t{source}\t{at}\n"

    with atomic_file(output, "w") as handle:
        handle.write("label\ttext\treport\tsource\tlabelled_at\n")
        for line in rows():
            handle.write(line)
        if export.scam + export.ham == 0:
            # Raised inside the block, so no file is left behind.
            raise NotFoundError(
                "no labelled SMS reports to export (label some, or pass --trust-reporters)"
            )
    return export
