"""`telewarden reports import|label|list|show|outcomes|export`: the carrier's own outcomes as data.

Only parsing and rendering: the use cases are in ``telewarden.services.reports``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from telewarden.cli.common import (
    ACTOR_HELP,
    open_store,
    print_json,
    resolve_actor,
    stderr,
    stdout,
)
from telewarden.cli.reading import EncodingOption, MaxQuarantineShareOption

if TYPE_CHECKING:
    from telewarden.adapters.storage.reports_sql import SqlReportStore
    from telewarden.adapters.storage.sql import SqlStore
    from telewarden.core.reports import StoredReport

app = typer.Typer(
    help="Subscriber reports, analysts' labels and case outcomes.", no_args_is_help=True
)


@contextmanager
def report_store() -> Iterator[tuple[SqlReportStore, SqlStore]]:
    """The report store beside the configured screening store (closed afterwards)."""
    from telewarden.adapters.storage.reports_sql import SqlReportStore

    store = open_store()
    try:
        yield SqlReportStore(store.engine, store.clock), store
    finally:
        store.close()


def report_summary(stored: StoredReport) -> dict[str, Any]:
    """A report with its labels as JSON-ready data."""
    r = stored.report
    return {
        "id": stored.id,
        "kind": str(r.kind),
        "text": r.text,
        "msisdn": r.msisdn,
        "reporter": r.reporter,
        "reported_at": r.reported_at.isoformat(),
        "claimed_type": r.claimed_type,
        "source": r.source,
        "line": r.line,
        "imported_at": stored.imported_at.isoformat(),
        "label": str(stored.label) if stored.label else None,
        "labels": [
            {
                "label": str(lab.label),
                "source": str(lab.source),
                "actor": lab.actor,
                "labelled_at": lab.labelled_at.isoformat(),
                "note": lab.note,
            }
            for lab in stored.labels
        ],
    }


@app.command("import")
def import_reports(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV, TSV or JSONL: reporter, reported_at (ISO 8601 with zone), text and/or "
            "msisdn, claimed_type."
        ),
    ],
    quarantine: Annotated[
        Path | None, typer.Option(help="Rejected rows (default: <file stem>.quarantine.csv).")
    ] = None,
    source: str | None = typer.Option(None, "--source", help="Source name (default: file name)."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    encoding: EncodingOption = None,
    max_quarantine_share: MaxQuarantineShareOption = None,
) -> None:
    """Import subscriber reports strictly: bad rows quarantined, counts reconciled, audited."""
    from telewarden.services.reports import import_reports as run_import

    with report_store() as (reports, _):
        run = run_import(
            reports,
            path,
            actor=resolve_actor(actor),
            quarantine=quarantine,
            encoding=encoding,
            max_quarantine_share=max_quarantine_share,
            source=source,
        )
    counts = {
        "rows_read": run.rows_read,
        "imported": run.imported,
        "sms": run.sms,
        "msisdn": run.msisdn,
        "quarantined": run.quarantined,
        "quarantine": str(run.quarantine) if run.quarantined else None,
    }
    if as_json:
        print_json(counts)
        return
    console = stdout()
    console.print(
        f"{run.rows_read} rows read: {run.imported} imported ({run.sms} SMS, {run.msisdn} "
        f"numbers), {run.quarantined} quarantined"
    )
    for bad in run.rejected[:10]:
        console.print(f"  line {bad.line}: {bad.reason}")
    if run.quarantined:
        console.print(f"quarantined rows: {run.quarantine}")


@app.command("label")
def label(
    report_id: Annotated[int, typer.Argument(help="The report's id (see `reports list`).")],
    label_value: Annotated[str, typer.Option("--label", help="scam or ham.")],
    note: str = typer.Option("", "--note", help="Why (kept with the label)."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Record an analyst's label for a report (kept with its source and time; audited)."""
    from telewarden.adapters.clock import SystemClock
    from telewarden.services.reports import label_report

    with report_store() as (reports, _):
        given = label_report(
            reports,
            report_id,
            label_value,
            actor=resolve_actor(actor),
            clock=SystemClock(),
            note=note,
        )
    stdout().print(
        f"report {report_id}: {given.label} by {given.actor} at {given.labelled_at.isoformat()}"
    )


@app.command("list")
def list_reports(
    kind: str | None = typer.Option(None, "--kind", help="sms or msisdn."),
    unlabelled: bool = typer.Option(False, "--unlabelled", help="Only reports with no label."),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The newest reports, with their current label and the counts by kind and label."""
    from telewarden.core.errors import InvalidInputError
    from telewarden.core.reports import ReportKind

    chosen = None
    if kind is not None:
        chosen = ReportKind.from_str(kind)
        if chosen is ReportKind.UNKNOWN:
            raise InvalidInputError(f"--kind must be sms or msisdn, not {kind!r}")
    with report_store() as (reports, _):
        rows = reports.list_reports(
            kind=chosen, labelled=False if unlabelled else None, limit=limit
        )
        counts = reports.count_reports()
    if as_json:
        print_json({"counts": counts, "reports": [report_summary(r) for r in rows]})
        return
    console = stdout()
    console.print(", ".join(f"{k} {v}" for k, v in counts.items()))
    for r in rows:
        what = r.report.text if r.report.text is not None else r.report.msisdn
        shown = (what or "")[:30]
        console.print(
            f"{r.id:>6}  {r.report.kind:<6} {str(r.label or '-'):<5} "
            f"{r.report.reported_at:%Y-%m-%d %H:%M}  {shown}",
            markup=False,
        )


@app.command("show")
def show(
    report_id: Annotated[int, typer.Argument(help="The report's id.")],
) -> None:
    """One report with every label it was given (JSON)."""
    with report_store() as (reports, _):
        print_json(report_summary(reports.get_report(report_id)))


@app.command("outcomes")
def outcomes(
    limit: int = typer.Option(100_000, "--limit", min=1, help="Audit records to read."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Also write the newest label of each number as CSV for `numbers train --labels`.",
        ),
    ] = None,
) -> None:
    """Labels of numbers from case outcomes: police feedback, appeals, case decisions."""
    from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
    from telewarden.services.reports import case_outcome_labels

    with report_store() as (_, store):
        labels = case_outcome_labels(store, SqlDisposalStore(store), limit=limit)
    rows = [
        {
            "msisdn": o.msisdn,
            "label": str(o.label),
            "source": str(o.source),
            "actor": o.actor,
            "labelled_at": o.labelled_at.isoformat(),
            "case": o.case_id,
        }
        for o in labels
    ]
    if output is not None:
        from telewarden.services.reports import write_outcome_labels

        written = write_outcome_labels(labels, output)
        stderr().print(f"{written} numbers -> {output}")
    if as_json:
        print_json(rows)
        return
    console = stdout()
    console.print(f"{len(rows)} outcome labels")
    for row in rows:
        console.print(
            f"  {row['labelled_at']}  {row['msisdn']}  {row['label']:<4} {row['source']} "
            f"({row['actor']}, case {row['case']})",
            markup=False,
        )


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="Training file (TSV).")],
    trust_reporters: bool = typer.Option(
        False,
        "--trust-reporters",
        help="Also write unlabelled SMS reports, as scam (source 'subscriber').",
    ),
) -> None:
    """Write the labelled SMS reports as a file for `telewarden sms train --input`."""
    from telewarden.services.reports import export_training

    with report_store() as (reports, _):
        done = export_training(reports, output, trust_reporters=trust_reporters)
    stdout().print(
        f"{done.scam} scam, {done.ham} ham ({done.from_reporters} on the reporters' word; "
        f"{done.skipped_unlabelled} unlabelled skipped) -> {output}"
    )
