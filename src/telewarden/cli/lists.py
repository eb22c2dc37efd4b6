"""`telewarden lists import|add|remove|show|count`: deny and allow lists of numbers and prefixes.

``import`` loads millions of rows: chunks of 50,000 staged and then merged into the store in one
transaction, a progress bar, a quarantine file for malformed rows, and counts that reconcile
(read = imported + quarantined).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from telewarden.cli.common import ACTOR_HELP, open_store, print_json, resolve_actor, stderr, stdout
from telewarden.cli.reading import EncodingOption, MaxQuarantineShareOption

app = typer.Typer(help="Deny and allow lists of numbers and prefixes.", no_args_is_help=True)


@app.command("import")
def import_list(
    kind: Annotated[str, typer.Argument(help="deny or allow.")],
    path: Annotated[Path, typer.Argument(help="CSV or Parquet: pattern[,match,source,reason].")],
    source: str | None = typer.Option(
        None, "--source", help="Source for rows without one (default: the file name)."
    ),
    quarantine: Annotated[
        Path | None,
        typer.Option(help="Rejected rows (default: <file stem>.quarantine.csv)."),
    ] = None,
    chunk_rows: int = typer.Option(50_000, "--chunk-rows", min=1, help="Rows per insert batch."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    encoding: EncodingOption = None,
    max_quarantine_share: MaxQuarantineShareOption = None,
) -> None:
    """Import a list file; existing patterns are replaced, malformed rows quarantined."""
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from telewarden.services.lists import import_list as run_import
    from telewarden.services.lists import list_kind

    chosen = list_kind(kind)
    err = stderr()
    store = open_store()
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task(f"importing {chosen.value} list", total=None, rate="")
            started = time.perf_counter()

            def on_total(rows: int) -> None:
                err.print(
                    f"read {rows:,} rows from {path} in {time.perf_counter() - started:.2f} s"
                )
                bar.update(task, total=rows)

            def on_progress(rows: int) -> None:
                elapsed = time.perf_counter() - started
                rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else ""
                bar.update(task, completed=rows, rate=rate)

            run = run_import(
                store,
                chosen,
                path,
                actor=resolve_actor(actor),
                source=source,
                quarantine=quarantine,
                chunk_rows=chunk_rows,
                on_total=on_total,
                on_progress=on_progress,
                on_merge=lambda: bar.update(task, description="merging into the store"),
                encoding=encoding,
                max_quarantine_share=max_quarantine_share,
            )
    finally:
        store.close()
    report, total_s, quarantine = run.report, run.total_s, run.quarantine
    if as_json:
        print_json(
            report.as_dict()
            | {
                "reconciles": report.reconciles,
                "quarantine": str(quarantine) if report.quarantined else None,
                "total_s": round(total_s, 3),
            }
        )
        return
    out = stdout()
    out.print(
        f"read {report.rows_read:,} = imported {report.accepted:,} "
        f"+ quarantined {report.quarantined:,}"
        + ("" if report.reconciles else "  [bold red](counts do not reconcile)[/]")
    )
    out.print(
        f"imported {report.accepted:,} = new {report.inserted:,} + replaced {report.updated:,} "
        f"+ repeated in the file {report.duplicates:,}"
    )
    out.print(f"{chosen.value} list now holds {report.total_after:,} entries")
    if report.quarantined:
        out.print(f"quarantine: {quarantine}")
    rate = report.rows_read / total_s if total_s else 0.0
    out.print(f"throughput: {report.rows_read:,} rows in {total_s:.2f} s = {rate:,.0f} rows/s")


@app.command("add")
def add(
    kind: str = typer.Argument(..., help="deny or allow."),
    pattern: str = typer.Argument(..., help="A number, or a prefix such as +8617012 or 17012*."),
    match: str | None = typer.Option(None, "--match", help="exact or prefix (default: by '*')."),
    reason: str = typer.Option("", "--reason", help="Why the entry is listed."),
    source: str = typer.Option("cli", "--source", help="Where the entry comes from."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Add or replace one list entry."""
    from telewarden.services.lists import add_entry, list_kind

    chosen = list_kind(kind)
    store = open_store()
    try:
        entry, replaced = add_entry(
            store,
            chosen,
            pattern,
            match=match,
            reason=reason,
            source=source,
            actor=resolve_actor(actor),
        )
    finally:
        store.close()
    verb = "replaced" if replaced else "added"
    stdout().print(f"{verb} {entry.match.value} {entry.pattern} on the {chosen.value} list")


@app.command("remove")
def remove(
    kind: str = typer.Argument(..., help="deny or allow."),
    pattern: str = typer.Argument(..., help="The entry's number or prefix."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Remove one list entry."""
    from telewarden.services.lists import list_kind, remove_entry

    chosen = list_kind(kind)
    store = open_store()
    try:
        removed = remove_entry(store, chosen, pattern, actor=resolve_actor(actor))
    finally:
        store.close()
    stdout().print(f"removed {removed.match.value} {removed.pattern} from the {chosen.value} list")


@app.command("show")
def show(
    kind: str = typer.Argument(..., help="deny or allow."),
    starting_with: str = typer.Option(
        "", "--starting-with", help="Only patterns starting with this (E.164 form, e.g. +86170)."
    ),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many entries."),
    as_json: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
) -> None:
    """Show list entries in pattern order."""
    from telewarden.core.ports import entry_to_dict
    from telewarden.services.lists import list_kind, show_entries

    chosen = list_kind(kind)
    store = open_store()
    try:
        entries, total = show_entries(store, chosen, starting_with=starting_with, limit=limit)
    finally:
        store.close()
    if as_json:
        print_json([entry_to_dict(chosen, e) for e in entries])
        return
    from rich.table import Table

    table = Table(title=f"{chosen.value} list: {len(entries):,} of {total:,} entries")
    for column in ("Pattern", "Match", "Source", "Reason"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.pattern, e.match.value, e.source, e.reason)
    stdout().print(table)


@app.command("count")
def count(
    kind: str | None = typer.Argument(None, help="deny or allow (default: both)."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Count list entries."""
    from telewarden.services.lists import KINDS, count_entries, list_kind

    kinds = [list_kind(kind)] if kind is not None else [list_kind(k) for k in KINDS]
    store = open_store()
    try:
        counts = count_entries(store, kinds)
    finally:
        store.close()
    if as_json:
        print_json(counts)
        return
    out = stdout()
    for name, n in counts.items():
        out.print(f"{name}: {n:,}")
