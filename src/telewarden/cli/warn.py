"""`telewarden warn`: early warning of the subscribers a flagged number, sender or link reached.

``warn run`` is the batch path over a records folder (issue #14); ``warn list`` and
``warn outcome`` read the stored warnings and record what came of them (audited).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from telewarden.cli.common import open_store, stderr, stdout

if TYPE_CHECKING:
    from telewarden.core.ports import Flag
    from telewarden.services.warning import WarningRunReport

app = typer.Typer(
    help="Warn the subscribers exposed to flagged fraud numbers.", no_args_is_help=True
)


@app.command("run")
def run(
    records: Annotated[
        Path, typer.Option("--records", help="Records folder (calls, sms, subscribers).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the queue, warnings, SMS outbox, call list.")
    ] = Path("warnings-out"),
    flags: Annotated[
        Path | None,
        typer.Option(help="CSV of flags (subject,kind,source,at,reason[,fraud_type,campaign])."),
    ] = None,
    detect: Annotated[
        bool, typer.Option(help="Also raise flags with the call detectors and SMS intelligence.")
    ] = True,
    webhook: Annotated[
        str | None, typer.Option(help="App push endpoint: each warning is POSTed as JSON.")
    ] = None,
    store: Annotated[bool, typer.Option(help="Store (and audit) the warnings.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Find the exposed subscribers, score them and write the warnings (batch path)."""
    from telewarden.adapters.warning_sinks import WebhookSink, read_flags
    from telewarden.core.warning import WarningSink
    from telewarden.services.warning import run_warnings

    given: list[Flag] = []
    if flags is not None:
        given, rejected = read_flags(flags)
        for line, reason in rejected[:5]:
            stderr().print(f"[yellow]flag file line {line} set aside:[/] {reason}")
        if len(rejected) > 5:
            stderr().print(f"[yellow]{len(rejected) - 5} more flag rows set aside[/]")
    extra: list[WarningSink] = [WebhookSink(webhook)] if webhook else []
    warning_store = None
    if store:
        from telewarden.adapters.storage.warnings import SqlWarningStore

        warning_store = SqlWarningStore(open_store())
    with stderr().status("reading records, raising flags, replaying in event time"):
        report = run_warnings(
            records,
            out=out,
            store=warning_store,
            extra_sinks=extra,
            flags=given,
            detect=detect,
            actor="cli",
        )
    if as_json:
        typer.echo(json.dumps(_summary(report), indent=2, ensure_ascii=False))
        return
    _render(report)


def _summary(report: WarningRunReport) -> dict[str, object]:
    return {
        "records": report.records,
        "quarantined": report.quarantined,
        "flags_by_source": report.flags_by_source,
        "assessed": report.assessed,
        "decisions": report.decisions,
        "warnings": len(report.warnings),
        "by_band": report.by_band,
        "by_fraud_type": report.by_fraud_type,
        "deliveries": report.deliveries,
        "push_refused": report.refused.get("push", 0),
        "stored": report.stored,
        "outputs": {k: str(v) for k, v in report.outputs.items()},
        "duration_s": round(report.duration_s, 1),
    }


def _render(report: WarningRunReport) -> None:
    from rich.table import Table

    console = stdout()
    flags = sum(report.flags_by_source.values())
    sources = ", ".join(f"{k} {v}" for k, v in sorted(report.flags_by_source.items()))
    console.print(
        f"{report.records['calls']:,} calls and {report.records['sms']:,} SMS read "
        f"(quarantined: {sum(report.quarantined.values())}); {flags} flags ({sources})"
    )
    decisions = ", ".join(f"{k} {v:,}" for k, v in sorted(report.decisions.items()))
    console.print(f"{report.assessed:,} exposures assessed: {decisions}")
    table = Table(title="Warned, highest risk first (all assessments: queue.csv)")
    for column in ("msisdn", "fraud type", "risk", "band", "why"):
        table.add_column(column)
    for entry in [e for e in report.queue if e.decision == "warn"][:10]:
        table.add_row(
            entry.msisdn, entry.fraud_type, f"{entry.risk:.3f}", entry.band, entry.reasons[0]
        )
    console.print(table)
    bands = ", ".join(f"{k} {v}" for k, v in sorted(report.by_band.items()))
    console.print(
        f"{len(report.warnings):,} warnings ({bands}); delivered: "
        + ", ".join(f"{k} {v:,}" for k, v in report.deliveries.items())
        + (f"; push refused {report.refused['push']}" if report.refused.get("push") else "")
        + f"; stored {report.stored:,} in {report.duration_s:.1f} s"
    )
    for name, path in report.outputs.items():
        console.print(f"  {name}: {path}")


@app.command("list")
def list_warnings(
    msisdn: Annotated[str | None, typer.Option(help="Only this subscriber.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The newest stored warnings."""
    from rich.table import Table

    from telewarden.adapters.storage.warnings import SqlWarningStore

    warnings = SqlWarningStore(open_store()).list_warnings(msisdn=msisdn, limit=limit)
    if as_json:
        typer.echo(json.dumps([w.as_dict() for w in warnings], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{len(warnings)} warning(s)")
    for column in ("id", "msisdn", "fraud type", "band", "risk", "send at", "channels"):
        table.add_column(column)
    for w in warnings:
        table.add_row(
            w.warning_id,
            w.msisdn,
            w.fraud_type,
            w.band,
            f"{w.risk:.3f}",
            w.send_at.isoformat(timespec="seconds"),
            ",".join(w.channels),
        )
    stdout().print(table)


@app.command("outcome")
def outcome(
    warning_id: Annotated[str, typer.Argument(help="The warning id (see `warn list`).")],
    result: Annotated[
        str,
        typer.Argument(help="reached, safe, loss_reported, unreachable or disputed (an appeal)."),
    ],
    note: Annotated[str, typer.Option(help="Free text (who called, what was said).")] = "",
    actor: Annotated[str, typer.Option(help="Who records it (audit log).")] = "cli",
) -> None:
    """Record what came of a warning; the change is audited."""
    from telewarden.adapters.storage.warnings import SqlWarningStore
    from telewarden.core.errors import InvalidInputError
    from telewarden.core.warning import Outcome

    parsed = Outcome.from_str(result)
    if parsed is Outcome.UNKNOWN:
        raise InvalidInputError(
            f"unknown outcome {result!r} (reached, safe, loss_reported, unreachable, disputed)"
        )
    store = SqlWarningStore(open_store())
    store.record_outcome(warning_id, parsed, note=note, actor=actor)
    history = ", ".join(str(o.outcome) for o in store.outcomes_for(warning_id))
    stdout().print(f"warning {warning_id}: {parsed} recorded (history: {history})")
