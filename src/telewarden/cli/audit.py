"""`telewarden audit verify`: check the audit log's hash chain end to end."""

from __future__ import annotations

import typer

from telewarden.cli.common import open_store, print_json, stdout

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    # Keeps `audit` a group: Typer turns a group with one command into that command.
    pass


@app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json")) -> None:
    """Exit 0 when every audit row holds; otherwise exit 1 naming the first edited row."""
    from telewarden.services.audit import verify_audit

    store = open_store()
    try:
        report = verify_audit(store)
    finally:
        store.close()
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "head_hash": report.head_hash,
                "first_bad_id": report.first_bad_id,
                "problem": report.problem,
            }
        )
    elif report.ok:
        stdout().print(f"audit log intact: {report.entries:,} rows, head {report.head_hash}")
    else:
        typer.echo(
            f"audit log TAMPERED: row {report.first_bad_id}: {report.problem} "
            f"({report.entries - 1:,} rows before it hold)",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)
