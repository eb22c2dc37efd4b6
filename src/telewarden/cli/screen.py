"""`telewarden screen call|sms|file`: verdicts for one call, one SMS, or a file of events.

The helpers the store-backed command groups share live in ``telewarden.cli.common``. Heavy libraries (SQLAlchemy, Polars, Rich tables) are imported inside the commands so that
``telewarden --help`` and a single screen start quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from telewarden.cli.common import (
    ACTOR_HELP,
    app_context,
    open_store,
    parse_at,
    parse_attestation,
    parse_ingress,
    print_json,
    resolve_actor,
    stderr,
    stdout,
)
from telewarden.cli.reading import EncodingOption, MaxQuarantineShareOption

if TYPE_CHECKING:
    from rich.console import Console

    from telewarden.core.screening import (
        Decision,
    )

app = typer.Typer(help="Screen one call, one SMS, or a file of events.", no_args_is_help=True)

# -- rendering ---------------------------------------------------------------------------------

_VERDICT_STYLE = {"allow": "green", "allow_labelled": "yellow", "block": "bold red"}


def render_decision(decision: Decision, console: Console) -> None:
    """A panel with the verdict and what an integrator needs, then the rule trace."""
    from rich.panel import Panel
    from rich.table import Table

    style = _VERDICT_STYLE.get(decision.verdict.value, "")
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("Verdict", f"[{style}]{decision.verdict.value}[/]")
    summary.add_row("Reason", decision.reason.value)
    summary.add_row("Rule", decision.rule)
    origin = decision.origin
    if decision.origin_zh and decision.origin_zh != origin:
        origin = f"{origin} ({decision.origin_zh})"
    summary.add_row("Origin", origin)
    caller = decision.caller
    summary.add_row(
        "Caller",
        f"{caller.raw} -> {caller.e164 or 'unparseable'} ({caller.kind.value})",
    )
    summary.add_row("Callee", f"{decision.callee.raw} -> {decision.callee.e164 or 'unparseable'}")
    sip = f"{decision.sip_status} {decision.sip_reason}" if decision.sip_status else "none"
    summary.add_row("SIP", sip)
    summary.add_row("Message", decision.message)
    console.print(Panel(summary, title="Screening verdict", border_style=style or "white"))
    trace = Table(title="Decision trace", show_lines=False)
    trace.add_column("Priority", justify="right")
    trace.add_column("Rule")
    trace.add_column("Fired")
    trace.add_column("Detail")
    for line in decision.trace:
        trace.add_row(
            str(line.priority), line.rule, "[bold]yes[/]" if line.fired else "no", line.detail
        )
    console.print(trace)


# -- commands ----------------------------------------------------------------------------------


def _screen_one(
    caller: str,
    callee: str,
    channel_name: str,
    ingress: str | None,
    at: str | None,
    attestation: str | None,
    text: str | None,
    as_json: bool,
    actor: str | None,
) -> None:
    from telewarden.core.screening import Channel, ScreeningEvent
    from telewarden.services.screening import screen_one

    # A withheld or garbled caller ID is traffic, not a usage error: the screener gives it a
    # verdict with an explicit reason.
    event = ScreeningEvent(
        caller=caller,
        callee=callee,
        channel=Channel(channel_name),
        ingress=parse_ingress(ingress),
        at=parse_at(at),
        attestation=parse_attestation(attestation),
        text=text,
    )
    store = open_store()
    try:
        decision = screen_one(app_context(store), event, actor=resolve_actor(actor))
    finally:
        store.close()
    if as_json:
        print_json(decision.to_dict())
    else:
        render_decision(decision, stdout())


@app.command("call")
def call(
    caller: str = typer.Option(..., "--caller", help="Calling number (caller ID) as received."),
    callee: str = typer.Option(..., "--callee", help="Called subscriber number."),
    ingress: str | None = typer.Option(
        None, "--ingress", help="Where the call entered: international or domestic."
    ),
    at: str | None = typer.Option(None, "--at", help="Event time, ISO-8601 (default: now)."),
    attestation: str | None = typer.Option(
        None, "--attestation", help="STIR/SHAKEN attestation A, B or C, when present."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Screen one call before it is answered; print the verdict and log it."""
    _screen_one(caller, callee, "call", ingress, at, attestation, None, as_json, actor)


@app.command("sms")
def sms(
    sender: str = typer.Option(..., "--sender", "--caller", help="Sending number as received."),
    recipient: str = typer.Option(..., "--recipient", "--callee", help="Receiving subscriber."),
    text: str | None = typer.Option(None, "--text", help="Message body (inspected if allowed)."),
    ingress: str | None = typer.Option(
        None, "--ingress", help="Where the SMS entered: international or domestic."
    ),
    at: str | None = typer.Option(None, "--at", help="Event time, ISO-8601 (default: now)."),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Screen one SMS before it is delivered; print the verdict and log it."""
    _screen_one(sender, recipient, "sms", ingress, at, None, text, as_json, actor)


@app.command("file")
def screen_file_command(
    events: Annotated[Path, typer.Argument(help="Events, .csv or .parquet: caller, callee, ...")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Verdicts, .csv or .parquet.")],
    quarantine: Annotated[
        Path | None,
        typer.Option(help="Rejected rows (default: <output stem>.quarantine.csv)."),
    ] = None,
    chunk_rows: int = typer.Option(50_000, "--chunk-rows", min=1, help="Events per chunk."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    encoding: EncodingOption = None,
    max_quarantine_share: MaxQuarantineShareOption = None,
) -> None:
    """Screen a file of events; write a verdict per event and summarise by verdict and reason.

    Columns: caller, callee, and optionally ingress, at, channel (call|sms), text, attestation.
    Bad rows go to the quarantine file with their line number; read = screened + quarantined.
    """
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from telewarden.services.screen_file import LoadedState, screen_file_from_store

    err = stderr()
    store = open_store()
    try:

        def on_loaded(state: LoadedState) -> None:
            err.print(
                f"loaded policy v{state.policy_version}, {state.optins:,} opt-ins, "
                f"{state.deny:,} deny and {state.allow:,} allow entries in {state.load_s:.2f} s"
            )

        with Progress(
            TextColumn("screening"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=False,
        ) as bar:
            task = bar.add_task("screening", total=None, rate="")
            started = time.perf_counter()
            done = 0

            def advance(rows: int) -> None:
                nonlocal done
                done += rows
                elapsed = time.perf_counter() - started
                rate = f"{done / elapsed:,.0f} rows/s" if elapsed > 0 else ""
                bar.update(task, advance=rows, rate=rate)

            run = screen_file_from_store(
                app_context(store),
                events,
                output,
                actor=resolve_actor(actor),
                quarantine=quarantine,
                chunk_rows=chunk_rows,
                on_loaded=on_loaded,
                on_total=lambda total: bar.update(task, total=total),
                progress=advance,
                encoding=encoding,
                max_quarantine_share=max_quarantine_share,
            )
        summary = run.summary
    finally:
        store.close()
    if as_json:
        print_json(
            {
                "rows_read": summary.rows_read,
                "screened": summary.screened,
                "quarantined": summary.quarantined,
                "by_verdict": summary.by_verdict,
                "by_reason": summary.by_reason,
                "output": summary.output,
                "quarantine": str(run.quarantine_path) if run.quarantine_path else None,
                "duration_s": round(summary.duration_s, 3),
                "events_per_s": round(run.events_per_s),
                "decide_per_s": round(run.decide_per_s),
            }
        )
        return
    from rich.table import Table

    out = stdout()
    out.print(
        f"throughput: {summary.screened:,} events in {summary.duration_s:.2f} s = "
        f"{run.events_per_s:,.0f} events/s end to end "
        f"(policy alone {run.decide_per_s:,.0f}/s; reading the file took {run.read_s:.2f} s)"
    )
    out.print(
        f"read {summary.rows_read:,} = screened {summary.screened:,} "
        f"+ quarantined {summary.quarantined:,}"
    )
    out.print(f"verdicts: {summary.output}")
    if run.quarantine_path is not None:
        out.print(f"quarantine: {run.quarantine_path}")
    table = Table(title="Verdict summary")
    table.add_column("Verdict")
    table.add_column("Reason")
    table.add_column("Events", justify="right")
    table.add_column("Share", justify="right")
    for (verdict, reason), count in run.by_pair:
        share = count / summary.screened if summary.screened else 0.0
        style = _VERDICT_STYLE.get(verdict, "")
        table.add_row(f"[{style}]{verdict}[/]", reason, f"{count:,}", f"{share:.1%}")
    out.print(table)
