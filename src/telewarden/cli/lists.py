"""`telewarden lists import|add|remove|show|count`: deny and allow lists of numbers and prefixes.

``import`` loads millions of rows: chunks of 50,000 staged and then merged into the store in one
transaction, a progress bar, a quarantine file for malformed rows, and counts that reconcile
(read = imported + quarantined).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from telewarden.cli.screen import ACTOR_HELP, open_store, print_json, resolve_actor, stderr, stdout
from telewarden.core.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from telewarden.core.screening import ListKind

app = typer.Typer(help="Deny and allow lists of numbers and prefixes.", no_args_is_help=True)

_KINDS = ("deny", "allow")


def _kind(raw: str) -> ListKind:
    from telewarden.core.screening import ListKind

    if raw.strip().lower() not in _KINDS:
        raise InvalidInputError(f"list must be deny or allow, not {raw!r}")
    return ListKind(raw.strip().lower())


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
) -> None:
    """Import a list file; existing patterns are replaced, malformed rows quarantined."""
    import time
    from collections.abc import Iterator

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from telewarden.adapters.files.lists import ListFileReader
    from telewarden.adapters.files.quarantine import QuarantineWriter
    from telewarden.adapters.storage.protocol import ImportReport
    from telewarden.core.numbers import NumberIntel
    from telewarden.core.screening import ListEntry

    list_kind = _kind(kind)
    quarantine = quarantine or path.with_name(f"{path.stem}.quarantine.csv")
    if quarantine.resolve() == path.resolve():
        raise InvalidInputError("--quarantine must not be the list file itself")
    err = stderr()
    t0 = time.perf_counter()
    reader = ListFileReader(
        path,
        NumberIntel(),
        default_source=source or path.name,
        chunk_rows=chunk_rows,
    )
    err.print(f"read {reader.rows_read:,} rows from {path} in {time.perf_counter() - t0:.2f} s")
    report = ImportReport(kind=list_kind)
    store = open_store()
    try:
        with (
            QuarantineWriter(quarantine) as bad,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
            ) as bar,
        ):
            task = bar.add_task(
                f"importing {list_kind.value} list", total=reader.rows_read, rate=""
            )
            started = time.perf_counter()

            def chunks() -> Iterator[list[ListEntry]]:
                for chunk in reader:
                    report.rows_read += chunk.rows_read
                    report.quarantined += len(chunk.quarantined)
                    bad.write(chunk.quarantined)
                    if not chunk.entries:
                        bar.update(task, completed=report.rows_read)
                    yield chunk.entries
                # Staged rows are now merged into the indexed table in one statement.
                bar.update(task, description="merging into the store")

            def advance(_rows: int) -> None:
                elapsed = time.perf_counter() - started
                rate = f"{report.rows_read / elapsed:,.0f} rows/s" if elapsed > 0 else ""
                bar.update(task, completed=report.rows_read, rate=rate)

            store.import_entries(
                list_kind,
                chunks(),
                actor=resolve_actor(actor),
                source_name=path.name,
                progress=advance,
                report=report,
            )
    finally:
        store.close()
    total_s = time.perf_counter() - t0
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
    out.print(f"{list_kind.value} list now holds {report.total_after:,} entries")
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
    from telewarden.adapters.files.lists import parse_pattern
    from telewarden.core.numbers import NumberIntel

    list_kind = _kind(kind)
    parsed = parse_pattern(NumberIntel(cache_size=16), pattern, match, source, reason, "cli")
    if isinstance(parsed, str):
        raise InvalidInputError(parsed)
    store = open_store()
    try:
        previous = store.add_entry(list_kind, parsed, actor=resolve_actor(actor))
    finally:
        store.close()
    verb = "replaced" if previous else "added"
    stdout().print(f"{verb} {parsed.match.value} {parsed.pattern} on the {list_kind.value} list")


@app.command("remove")
def remove(
    kind: str = typer.Argument(..., help="deny or allow."),
    pattern: str = typer.Argument(..., help="The entry's number or prefix."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Remove one list entry."""
    from telewarden.adapters.files.lists import parse_pattern
    from telewarden.core.numbers import NumberIntel

    list_kind = _kind(kind)
    numbers = NumberIntel(cache_size=16)
    candidates = []
    for match in ("exact", "prefix"):
        parsed = parse_pattern(numbers, pattern, match, None, None, "cli")
        if not isinstance(parsed, str):
            candidates.append(parsed.pattern)
    store = open_store()
    try:
        removed = None
        for candidate in dict.fromkeys(candidates):
            removed = store.remove_entry(list_kind, candidate, actor=resolve_actor(actor))
            if removed is not None:
                break
    finally:
        store.close()
    if removed is None:
        raise NotFoundError(f"{pattern!r} is not on the {list_kind.value} list")
    stdout().print(
        f"removed {removed.match.value} {removed.pattern} from the {list_kind.value} list"
    )


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
    from telewarden.adapters.storage.protocol import entry_to_dict

    list_kind = _kind(kind)
    store = open_store()
    try:
        entries = store.list_entries(list_kind, starting_with=starting_with, limit=limit)
        total = store.count_entries(list_kind)
    finally:
        store.close()
    if as_json:
        print_json([entry_to_dict(list_kind, e) for e in entries])
        return
    from rich.table import Table

    table = Table(title=f"{list_kind.value} list: {len(entries):,} of {total:,} entries")
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
    kinds = [_kind(kind)] if kind is not None else [_kind(k) for k in _KINDS]
    store = open_store()
    try:
        counts = {k.value: store.count_entries(k) for k in kinds}
    finally:
        store.close()
    if as_json:
        print_json(counts)
        return
    out = stdout()
    for name, n in counts.items():
        out.print(f"{name}: {n:,}")
