"""`telewarden decisions`: retention of the decision log (parsing and rendering only)."""

from __future__ import annotations

import typer

from telewarden.cli.common import ACTOR_HELP, open_store, resolve_actor, stdout

app = typer.Typer(help="Retention of the decision log.", no_args_is_help=True)


@app.callback()
def decisions() -> None:
    """Retention of the decision log."""


@app.command("purge")
def purge(
    older_than: int | None = typer.Option(
        None,
        "--older-than",
        min=1,
        help="Days to keep (default: the decision_retention_days setting, 180).",
    ),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Delete logged decisions older than the retention period; the purge is audited."""
    from telewarden.adapters.clock import SystemClock
    from telewarden.services.decisions import purge_decisions
    from telewarden.settings import load_settings

    days = older_than if older_than is not None else load_settings().decision_retention_days
    store = open_store()
    try:
        report = purge_decisions(
            store, SystemClock(), older_than_days=days, actor=resolve_actor(actor)
        )
    finally:
        store.close()
    stdout().print(
        f"deleted {report.deleted:,} decisions logged before {report.older_than:%Y-%m-%d %H:%M} UTC"
    )
