"""`telewarden serve`, `telewarden users add|list`, `telewarden keys create|list|revoke`.

The service itself lives in ``telewarden.api``; this module only parses and renders. Users and
keys are written straight to the configured store, audited with the ``--actor``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from telewarden.adapters.clock import SystemClock
    from telewarden.adapters.storage.sql import SqlStore
    from telewarden.core.service_ports import ServiceStore

from telewarden.cli.common import ACTOR_HELP, open_store, print_json, resolve_actor, stdout

users = typer.Typer(help="People who log in to the API and console.", no_args_is_help=True)
keys = typer.Typer(help="Integrators' API keys (screening only).", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    max_in_flight: Annotated[
        int, typer.Option(help="Requests per worker at once; more get 503.", min=1)
    ] = 512,
    access_log: Annotated[bool, typer.Option(help="One JSON log line per request.")] = True,
) -> None:
    """Serve the REST API and the console (health at /v1/health, OpenAPI at /openapi.json)."""
    import uvicorn

    from telewarden.api.main import context_from_settings

    # Migrate once here rather than racing in every worker.
    context_from_settings().store.close()  # type: ignore[attr-defined]
    os.environ["TELEWARDEN_API_MAX_IN_FLIGHT"] = str(max_in_flight)
    os.environ["TELEWARDEN_API_ACCESS_LOG"] = "1" if access_log else "0"
    stdout().print(
        f"telewarden API on http://{host}:{port}/v1  console http://{host}:{port}/console  "
        f"OpenAPI http://{host}:{port}/openapi.json",
        highlight=False,
    )
    uvicorn.run(
        "telewarden.api.main:app_from_settings",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
    )


def _service() -> tuple[ServiceStore, SystemClock]:
    from telewarden.adapters.clock import SystemClock
    from telewarden.adapters.service_store import service_store_for

    clock = SystemClock()
    store = open_store()
    _opened.append(store)
    return service_store_for(store, clock), clock


_opened: list[SqlStore] = []
"""Stores opened by this process's account commands, closed by ``_close_stores``."""


def _close_stores() -> None:
    while _opened:
        _opened.pop().close()


@users.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[
        str, typer.Option(help="integrator, analyst, supervisor, auditor or admin.")
    ] = "analyst",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
) -> None:
    """Create a user; the password is asked for (or read from stdin) and stored hashed."""
    from telewarden.services.accounts import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    service, clock = _service()
    try:
        user = create_user(service, clock, username, password, role, actor=resolve_actor(actor))
    finally:
        _close_stores()
    stdout().print(f"user {user.username} ({user.role.value}) created")


@users.command("list")
def list_users(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every user and role."""
    service, _ = _service()
    try:
        found = service.list_users()
    finally:
        _close_stores()
    if as_json:
        print_json(
            [{"username": u.username, "role": u.role.value, "disabled": u.disabled} for u in found]
        )
        return
    for u in found:
        stdout().print(f"{u.username}\t{u.role.value}" + ("\tdisabled" if u.disabled else ""))


@keys.command("create")
def create_key(
    name: Annotated[str, typer.Argument(help="Who the key is for, e.g. sbc-guangzhou-1.")],
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
) -> None:
    """Create an integrator key; its secret is printed this once."""
    from telewarden.services.accounts import create_key as create

    service, clock = _service()
    try:
        new = create(service, clock, name, actor=resolve_actor(actor))
    finally:
        _close_stores()
    stdout().print(f"key {new.key.key_id} ({new.key.name}): {new.secret}")


@keys.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every key (never its secret)."""
    service, _ = _service()
    try:
        found = service.list_keys()
    finally:
        _close_stores()
    rows = [
        {
            "key_id": k.key_id,
            "name": k.name,
            "created_at": k.created_at.isoformat(),
            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        }
        for k in found
    ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "live"
        stdout().print(f"{r['key_id']}\t{r['name']}\t{state}")


@keys.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id shown by `keys list`.")],
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
) -> None:
    """Revoke a key; running services refuse it within their auth cache time (10 s)."""
    from telewarden.services.accounts import revoke_key as revoke

    service, clock = _service()
    try:
        key = revoke(service, clock, key_id, actor=resolve_actor(actor))
    finally:
        _close_stores()
    stdout().print(f"key {key.key_id} ({key.name}) revoked")
