"""`telewarden accounts import` and `telewarden cascade run|status|reconcile|endpoint`.

Linked internet accounts come from partner platforms; when a card is disposed of, each platform
holding an account on it gets a signed webhook (see ``docs/disposal.md``, cascade protocol).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from telewarden.cli.common import ACTOR_HELP, open_store, print_json, resolve_actor, stdout

app = typer.Typer(
    help="Notify platforms of linked accounts (signed webhooks).", no_args_is_help=True
)
accounts_app = typer.Typer(help="Internet accounts linked to numbers.", no_args_is_help=True)


@accounts_app.callback()
def _accounts_group() -> None:
    # Keeps `accounts` a group: Typer turns a group with one command into that command.
    pass


if TYPE_CHECKING:
    from telewarden.adapters.storage.disposal_sql import SqlDisposalStore


def _store() -> SqlDisposalStore:
    from telewarden.adapters.storage.disposal_sql import SqlDisposalStore

    return SqlDisposalStore(open_store())


@accounts_app.command("import")
def import_accounts(
    path: Annotated[Path, typer.Argument(help="CSV or Parquet with platform, account, msisdn.")],
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Load linked accounts reported by partner platforms (later rows of an account win)."""
    from telewarden.services.disposal_intake import FileReport, accounts_from_file

    report = FileReport()
    store = _store()
    try:
        taken = store.import_accounts(
            accounts_from_file(path, report), actor=resolve_actor(actor), source_name=path.name
        )
        held = store.count_accounts()
    finally:
        store.store.close()
    stdout().print(
        f"{taken:,} accounts taken of {report.rows_read:,} rows ({report.quarantined:,} malformed); "
        f"{held:,} held"
    )
    for problem in report.problems:
        stdout().print(f"  {problem}")


@app.command("endpoint")
def endpoint(
    platform: str = typer.Argument(...),
    url: str = typer.Argument(..., help="Where the platform takes webhooks (http or https)."),
    secret_env: str = typer.Option(
        ..., "--secret-env", help="Environment variable holding the shared signing secret."
    ),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Set a platform's webhook URL and signing secret (read from the environment, not argv)."""
    import os

    from telewarden.core.disposal.ports import Endpoint
    from telewarden.core.errors import InvalidInputError

    secret = os.environ.get(secret_env, "")
    if len(secret) < 16:
        raise InvalidInputError(f"${secret_env} must hold a secret of at least 16 characters")
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError("the endpoint URL starts with http:// or https://")
    store = _store()
    try:
        store.set_endpoint(Endpoint(platform.lower(), url, secret), actor=resolve_actor(actor))
    finally:
        store.store.close()
    stdout().print(f"{platform}: webhooks go to {url}")


@app.command("run")
def run(
    until_idle: bool = typer.Option(False, "--until-idle", help="Stop when nothing is pending."),
    batch: int = typer.Option(100, "--batch", min=1),
    lease_s: float = typer.Option(60.0, "--lease-s", help="Seconds a claimed message is ours."),
    max_attempts: int = typer.Option(12, "--max-attempts", min=1),
    backoff_s: float = typer.Option(2.0, "--backoff-s", help="First retry delay (doubles)."),
    backoff_cap_s: float = typer.Option(3600.0, "--backoff-cap-s"),
    timeout_s: float = typer.Option(10.0, "--timeout-s"),
    poll_s: float = typer.Option(1.0, "--poll-s", help="Sleep when nothing is due."),
) -> None:
    """Deliver the outbox as signed webhooks, retrying with backoff; dead letters after the last try."""
    from telewarden.adapters.clock import SystemClock
    from telewarden.adapters.webhooks import UrllibTransport
    from telewarden.services.cascade import DeliveryConfig, run_worker

    config = DeliveryConfig(
        batch=batch,
        lease=dt.timedelta(seconds=lease_s),
        max_attempts=max_attempts,
        backoff_base_s=backoff_s,
        backoff_cap_s=backoff_cap_s,
        timeout_s=timeout_s,
    )
    store = _store()
    try:
        report = run_worker(
            store, UrllibTransport(), SystemClock(), config, until_idle=until_idle, poll_s=poll_s
        )
    except KeyboardInterrupt:
        stdout().print("stopped")
        return
    finally:
        store.store.close()
    stdout().print(
        f"{report.attempts:,} attempts: {report.delivered:,} delivered, {report.failed:,} to retry, "
        f"{report.dead:,} dead-lettered"
    )


@app.command("status")
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Outbox messages by state."""
    store = _store()
    try:
        counts = store.outbox_counts()
    finally:
        store.store.close()
    if as_json:
        print_json(counts)
    else:
        stdout().print(", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) or "outbox empty")


@app.command("requeue-dead")
def requeue_dead(actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP)) -> None:
    """Send the dead letters again (once the platform's endpoint works), attempts reset."""
    from telewarden.adapters.clock import SystemClock

    store = _store()
    try:
        count = store.requeue_dead(at=SystemClock().now(), actor=resolve_actor(actor))
    finally:
        store.store.close()
    stdout().print(f"{count:,} dead letters back in the outbox")


@app.command("reconcile")
def reconcile(as_json: bool = typer.Option(False, "--json")) -> None:
    """Cards disposed, accounts notified, acknowledged, acted on, failed; exit 1 if it does not add up."""
    store = _store()
    try:
        report = store.reconcile()
    finally:
        store.store.close()
    if as_json:
        print_json(report.as_dict())
    else:
        for name, value in report.as_dict().items():
            stdout().print(f"{name:>20}: {value}")
    if not report.reconciles:
        raise typer.Exit(1)


if __name__ == "__main__":
    # A worker process (`python -m telewarden.cli.cascade run`) loads this group only, so a
    # supervisor restarting it after a crash gets it back in well under a second.
    import sys

    from telewarden.core.errors import TelewardenError

    try:
        app(standalone_mode=True)
    except TelewardenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
