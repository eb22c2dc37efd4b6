"""List use cases: import a deny/allow list file, add, remove and look up entries.

An import reads the file in chunks, sets malformed rows aside in the quarantine file with their
line and reason, and merges the rest into the store in one transaction; the report reconciles
(read = accepted + quarantined; accepted = inserted + updated + repeated).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from telewarden.adapters.files.lists import ListFileReader, parse_pattern
from telewarden.adapters.files.output import refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import QuarantineWriter, check_quarantine_share
from telewarden.core.errors import InvalidInputError, NotFoundError
from telewarden.core.numbers import NumberIntel
from telewarden.core.ports import ImportReport, ListStore
from telewarden.core.screening import ListEntry, ListKind

__all__ = [
    "KINDS",
    "ListImportRun",
    "add_entry",
    "count_entries",
    "import_list",
    "list_kind",
    "remove_entry",
    "show_entries",
]

KINDS = ("deny", "allow")


def list_kind(raw: str) -> ListKind:
    """``deny`` or ``allow`` (any case), else InvalidInputError."""
    if raw.strip().lower() not in KINDS:
        raise InvalidInputError(f"list must be deny or allow, not {raw!r}")
    return ListKind(raw.strip().lower())


def default_quarantine(path: Path) -> Path:
    """``lists/deny.csv`` -> ``lists/deny.quarantine.csv``."""
    return path.with_name(f"{path.stem}.quarantine.csv")


@dataclass(frozen=True, slots=True)
class ListImportRun:
    """The reconciled report of an import, where its bad rows went, and how long it took."""

    report: ImportReport
    quarantine: Path
    read_s: float
    total_s: float


def import_list(
    store: ListStore,
    kind: ListKind,
    path: Path,
    *,
    actor: str,
    source: str | None = None,
    quarantine: Path | None = None,
    chunk_rows: int = 50_000,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_merge: Callable[[], None] | None = None,
    encoding: str | None = None,
    max_quarantine_share: float | None = None,
) -> ListImportRun:
    """Import a list file; existing patterns are replaced, malformed rows quarantined.

    ``on_total`` gets the row count once the file is read, ``on_progress`` the rows read so far
    (a total, not an increment), ``on_merge`` is called when the staged rows are merged.
    When every row, or more than ``max_quarantine_share`` of them, is quarantined, nothing is
    imported (the store's transaction is rolled back) and InvalidInputError says why.
    """
    quarantine = quarantine or default_quarantine(path)
    refuse_inputs_as_outputs([path], [quarantine])
    t0 = time.perf_counter()
    reader = ListFileReader(
        path,
        NumberIntel(),
        default_source=source or path.name,
        chunk_rows=chunk_rows,
        encoding=encoding,
    )
    read_s = time.perf_counter() - t0
    if on_total is not None:
        on_total(reader.rows_read)
    report = ImportReport(kind=kind)
    with QuarantineWriter(quarantine) as bad:

        def chunks() -> Iterator[list[ListEntry]]:
            for chunk in reader:
                report.rows_read += chunk.rows_read
                report.quarantined += len(chunk.quarantined)
                bad.write(chunk.quarantined)
                if not chunk.entries and on_progress is not None:
                    on_progress(report.rows_read)
                yield chunk.entries
            # Raised inside the store's transaction, so a rejected file imports nothing.
            check_quarantine_share(
                report.rows_read, report.quarantined, max_quarantine_share, quarantine
            )
            # Staged rows are now merged into the indexed table in one statement.
            if on_merge is not None:
                on_merge()

        def advance(_rows: int) -> None:
            if on_progress is not None:
                on_progress(report.rows_read)

        store.import_entries(
            kind, chunks(), actor=actor, source_name=path.name, progress=advance, report=report
        )
    return ListImportRun(report, quarantine, read_s, time.perf_counter() - t0)


def add_entry(
    store: ListStore,
    kind: ListKind,
    pattern: str,
    *,
    match: str | None = None,
    reason: str = "",
    source: str = "cli",
    actor: str,
) -> tuple[ListEntry, bool]:
    """Add or replace one entry; the entry as stored and whether it replaced one."""
    parsed = parse_pattern(NumberIntel(cache_size=16), pattern, match, source, reason, "cli")
    if isinstance(parsed, str):
        raise InvalidInputError(parsed)
    previous = store.add_entry(kind, parsed, actor=actor)
    return parsed, previous is not None


def remove_entry(store: ListStore, kind: ListKind, pattern: str, *, actor: str) -> ListEntry:
    """Remove the entry for ``pattern`` (as a number or as a prefix); NotFoundError when absent."""
    numbers = NumberIntel(cache_size=16)
    candidates = []
    for match in ("exact", "prefix"):
        parsed = parse_pattern(numbers, pattern, match, None, None, "cli")
        if not isinstance(parsed, str):
            candidates.append(parsed.pattern)
    for candidate in dict.fromkeys(candidates):
        removed = store.remove_entry(kind, candidate, actor=actor)
        if removed is not None:
            return removed
    raise NotFoundError(f"{pattern!r} is not on the {kind.value} list")


def show_entries(
    store: ListStore, kind: ListKind, *, starting_with: str = "", limit: int = 50
) -> tuple[list[ListEntry], int]:
    """Up to ``limit`` entries in pattern order, and the list's size."""
    return (
        store.list_entries(kind, starting_with=starting_with, limit=limit),
        store.count_entries(kind),
    )


def count_entries(store: ListStore, kinds: list[ListKind]) -> dict[str, int]:
    """Entries per list."""
    return {k.value: store.count_entries(k) for k in kinds}
