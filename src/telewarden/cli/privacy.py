"""`telewarden privacy`: the keys under which subscriber numbers are logged (docs/privacy.md)."""

from __future__ import annotations

import typer

from telewarden.cli.common import ACTOR_HELP, open_store, print_json, resolve_actor, stdout

app = typer.Typer(help="Keys of the hashed subscriber numbers in the logs.", no_args_is_help=True)


@app.callback()
def privacy() -> None:
    """Keys of the hashed subscriber numbers in the logs."""


@app.command("new-key")
def new_key(
    key_id: str = typer.Option(
        ..., "--id", help="The new key's id: 1-8 lowercase letters or digits, unused in the ring."
    ),
) -> None:
    """Print a new random number key as ID:SECRET, for TELEWARDEN_NUMBER_KEY (rotation)."""
    import secrets

    from telewarden.core.privacy import NumberKey

    secret = secrets.token_hex(32)
    NumberKey(key_id, secret.encode("utf-8"))  # the id's checks, as the settings make them
    typer.echo(f"{key_id}:{secret}")


@app.command("keys")
def keys(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Show the ids of the current and retired number keys (never the secrets)."""
    from telewarden.settings import load_settings

    ring = load_settings().number_keyring()
    current, retired = ring.current.key_id, [k.key_id for k in ring.retired]
    if as_json:
        print_json({"current": current, "retired": retired})
        return
    stdout().print(f"current: {current}; retired: {', '.join(retired) if retired else 'none'}")


@app.command("rehash")
def rehash(
    batch_size: int = typer.Option(
        1000, "--batch-size", min=1, help="Decision-log rows per transaction."
    ),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Rewrite decision-log and audit rows still holding numbers in clear into keyed hashes."""
    from telewarden.services.privacy import rehash_clear_numbers

    store = open_store()
    try:
        counts = rehash_clear_numbers(store, actor=resolve_actor(actor), batch_size=batch_size)
    finally:
        store.close()
    rows = [c.as_dict() for c in counts]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        skipped = ", ".join(f"{n} {why}" for why, n in r["skipped"].items()) or "none"
        stdout().print(
            f"{r['table']}: read {r['read']:,} = rehashed {r['rehashed']:,} + already hashed "
            f"{r['already_hashed']:,} + skipped {sum(r['skipped'].values()):,} ({skipped}); "
            f"{r['batches']} transaction(s)",
            highlight=False,
        )
