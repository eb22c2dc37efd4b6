"""`telewarden optin add|remove|show`: subscribers' cross-border opt-ins and opt-outs.

Every change is effective at the next screen and is written to the audit log with its actor.
"""

from __future__ import annotations

import typer

from telewarden.cli.screen import (
    ACTOR_HELP,
    open_store,
    print_json,
    resolve_actor,
    stdout,
)
from telewarden.core.errors import InvalidInputError, NotFoundError

app = typer.Typer(
    help="Subscribers' opt-ins to cross-border calls and SMS (blocked by default).",
    no_args_is_help=True,
)

_SCOPES = ("calls", "sms", "both")


def _msisdn(raw: str) -> str:
    from telewarden.core.numbers import NumberIntel

    e164 = NumberIntel(cache_size=16).normalise(raw)
    if e164 is None:
        raise InvalidInputError(f"{raw!r} is not a subscriber number")
    return e164


def _scope(raw: str) -> str:
    scope = raw.strip().lower()
    if scope not in _SCOPES:
        raise InvalidInputError(f"--scope must be calls, sms or both, not {raw!r}")
    return scope


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
    from telewarden.core.screening import OptIn, OptInScope

    optin = OptIn(
        msisdn=_msisdn(msisdn),
        scope=OptInScope(_scope(scope)),
        opted_in=not opt_out,
        at=SystemClock().now(),
        source=source.strip()[:64] or "cli",
    )
    store = open_store()
    try:
        previous = store.set_optin(optin, actor=resolve_actor(actor))
    finally:
        store.close()
    what = "opted out of" if opt_out else "opted in to"
    change = "" if previous is None else " (replaces the earlier record)"
    stdout().print(f"{optin.msisdn} {what} cross-border {optin.scope.value}{change}")


@app.command("remove")
def remove(
    msisdn: str = typer.Argument(..., help="Subscriber number."),
    scope: str | None = typer.Option(None, "--scope", help="Only this scope (default: all)."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Delete a subscriber's opt-in records; the cross-border default applies again."""
    from telewarden.core.screening import OptInScope

    e164 = _msisdn(msisdn)
    chosen = OptInScope(_scope(scope)) if scope is not None else None
    store = open_store()
    try:
        removed = store.remove_optin(e164, chosen, actor=resolve_actor(actor))
    finally:
        store.close()
    if removed == 0:
        raise NotFoundError(
            f"{e164} has no opt-in record" + (f" for {chosen.value}" if chosen else "")
        )
    stdout().print(f"removed {removed} opt-in record(s) of {e164}")


@app.command("show")
def show(
    msisdn: str = typer.Argument(..., help="Subscriber number."),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON."),
) -> None:
    """Show a subscriber's opt-in and opt-out records."""
    from telewarden.adapters.storage.protocol import optin_to_dict

    e164 = _msisdn(msisdn)
    store = open_store()
    try:
        records = store.optins_for(e164)
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
