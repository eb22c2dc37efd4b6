"""`telewarden optin add|remove|show`: subscribers' cross-border opt-ins and opt-outs.

Every change is effective at the next screen and is written to the audit log with its actor.
"""

from __future__ import annotations

import typer

from telewarden.cli.common import (
    ACTOR_HELP,
    open_store,
    print_json,
    resolve_actor,
    stdout,
)

app = typer.Typer(
    help="Subscribers' opt-ins to cross-border calls and SMS (blocked by default).",
    no_args_is_help=True,
)


@app.command("add")
def add(
    msisdn: str = typer.Argument(..., help="Subscriber number (any common format)."),
    scope: str = typer.Option("both", "--scope", help="calls, sms or both."),
    opt_out: bool = typer.Option(
        False, "--opt-out", help="Record an explicit opt-out instead of an opt-in."
    ),
    source: str = typer.Option("cli", "--source", help="Channel the request came through."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Opt a subscriber in to cross-border traffic (or out, with --opt-out)."""
    from telewarden.adapters.clock import SystemClock
    from telewarden.services.optins import opt_in, parse_scope, subscriber

    subscriber(msisdn)  # validate before opening the store
    parse_scope(scope)
    store = open_store()
    try:
        change = opt_in(
            store,
            SystemClock(),
            msisdn,
            scope=scope,
            opted_in=not opt_out,
            source=source,
            actor=resolve_actor(actor),
        )
    finally:
        store.close()
    what = "opted out of" if opt_out else "opted in to"
    replaced = " (replaces the earlier record)" if change.replaced else ""
    stdout().print(
        f"{change.optin.msisdn} {what} cross-border {change.optin.scope.value}{replaced}"
    )


@app.command("remove")
def remove(
    msisdn: str = typer.Argument(..., help="Subscriber number."),
    scope: str | None = typer.Option(None, "--scope", help="Only this scope (default: all)."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Delete a subscriber's opt-in records; the cross-border default applies again."""
    from telewarden.services.optins import parse_scope, remove_optins, subscriber

    e164 = subscriber(msisdn)
    if scope is not None:
        parse_scope(scope)
    store = open_store()
    try:
        removed = remove_optins(store, msisdn, scope, actor=resolve_actor(actor))
    finally:
        store.close()
    stdout().print(f"removed {removed} opt-in record(s) of {e164}")


@app.command("show")
def show(
    msisdn: str = typer.Argument(..., help="Subscriber number."),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON."),
) -> None:
    """Show a subscriber's opt-in and opt-out records."""
    from telewarden.core.ports import optin_to_dict
    from telewarden.services.optins import optins_of, subscriber

    subscriber(msisdn)
    store = open_store()
    try:
        e164, records = optins_of(store, msisdn)
    finally:
        store.close()
    if as_json:
        print_json({"msisdn": e164, "optins": [optin_to_dict(r) for r in records]})
        return
    out = stdout()
    if not records:
        out.print(f"{e164}: no opt-in records; the cross-border default applies")
        return
    from rich.table import Table

    table = Table(title=f"Opt-ins of {e164}")
    for column in ("Scope", "Choice", "Since (UTC)", "Source"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.scope.value,
            "opted in" if r.opted_in else "opted out",
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.source,
        )
    out.print(table)


@app.command("history")
def history(
    msisdn: str = typer.Argument(..., help="Subscriber number."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many records."),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON."),
) -> None:
    """Show the audited changes of a subscriber's opt-ins (stored under the number's hash)."""
    from telewarden.services.optins import optin_history

    store = open_store()
    try:
        e164, records = optin_history(store, msisdn, limit=limit)
    finally:
        store.close()
    if as_json:
        print_json(
            {
                "msisdn": e164,
                "history": [
                    {
                        "at": r.at.isoformat(),
                        "actor": r.actor,
                        "action": r.action,
                        "entity_key": r.entity_key,
                        "before": r.before,
                        "after": r.after,
                    }
                    for r in records
                ],
            }
        )
        return
    out = stdout()
    if not records:
        out.print(f"{e164}: no audited opt-in changes")
        return
    from rich.table import Table

    table = Table(title=f"Opt-in changes of {e164}")
    for column in ("At (UTC)", "Actor", "Action", "Scope", "Choice after"):
        table.add_column(column)
    for r in records:
        after = r.after or {}
        table.add_row(
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.actor,
            r.action,
            r.entity_key.rsplit(":", 1)[-1],
            "-" if not after else ("opted in" if after.get("opted_in") else "opted out"),
        )
    out.print(table)
