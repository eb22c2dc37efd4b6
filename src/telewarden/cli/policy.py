"""`telewarden policy show|set|history`: the versioned screening policy (``PolicySettings``).

``set`` takes a dotted key and a value (JSON when it parses, else text); the service validates
the whole document and stores it as a new version, audited with before and after.
"""

from __future__ import annotations

import json

import typer

from telewarden.cli.common import ACTOR_HELP, open_store, print_json, resolve_actor, stdout

app = typer.Typer(help="Show and change the screening policy.", no_args_is_help=True)


@app.command("show")
def show(
    as_json: bool = typer.Option(False, "--json", help="Print the policy as JSON."),
) -> None:
    """Show the policy in force and its version."""
    from telewarden.services.policy import policy_in_force

    store = open_store()
    try:
        version, policy = policy_in_force(store)
    finally:
        store.close()
    document = policy.model_dump(mode="json")
    if as_json:
        print_json({"version": version, "policy": document})
        return
    from rich.table import Table

    label = f"v{version}" if version else "built-in defaults"
    table = Table(title=f"Screening policy ({label})")
    table.add_column("Key")
    table.add_column("Value")
    for key, value in document.items():
        if isinstance(value, dict) and value:
            for sub, subvalue in value.items():
                table.add_row(f"{key}.{sub}", json.dumps(subvalue, ensure_ascii=False))
        else:
            table.add_row(key, json.dumps(value, ensure_ascii=False))
    stdout().print(table)


@app.command("set")
def set_(
    key: str = typer.Argument(
        ..., help="Dotted key, e.g. region_overrides.广东.cross_border_block_calls"
    ),
    value: str = typer.Argument(..., help='New value; JSON (false, 3, ["MM"]) or text.'),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    legal_basis: str | None = typer.Option(
        None,
        "--legal-basis",
        help="Required to open content_inspection: the lawful basis and legal review reference "
        '(e.g. "AFL Art. 25/32; legal review ref LR-2026-14"); stored and audited.',
    ),
) -> None:
    """Change one policy setting; the whole policy is validated and stored as a new version."""
    from telewarden.services.policy import set_policy_value

    store = open_store()
    try:
        change = set_policy_value(
            store, key, value, actor=resolve_actor(actor), legal_basis=legal_basis
        )
    finally:
        store.close()
    out = stdout()
    if change.translated_from is not None:
        spelled = change.key.split(".")[1]
        out.print(f"{change.translated_from} is stored as {spelled}, as the number data spells it")
    if not change.changed:
        out.print(f"{change.key} already has that value; policy unchanged")
        return
    shown = json.dumps(change.value, ensure_ascii=False)
    out.print(f"policy v{change.version}: {change.key} = {shown}")


@app.command("history")
def history(
    limit: int = typer.Option(20, "--limit", min=1, help="How many changes to show."),
    as_json: bool = typer.Option(False, "--json", help="Print the changes as JSON."),
) -> None:
    """Show the audit log of policy changes, newest first."""
    from telewarden.services.policy import changed_keys, policy_history

    store = open_store()
    try:
        records = policy_history(store, limit=limit)
    finally:
        store.close()
    if as_json:
        print_json(
            [
                {
                    "at": r.at.isoformat(),
                    "actor": r.actor,
                    "version": r.entity_key,
                    "before": r.before,
                    "after": r.after,
                }
                for r in records
            ]
        )
        return
    from rich.table import Table

    table = Table(title="Policy changes")
    for column in ("At (UTC)", "Actor", "Version", "Changed"):
        table.add_column(column)
    for r in records:
        changed = ", ".join(changed_keys(r))
        table.add_row(r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.entity_key, changed)
    stdout().print(table)
