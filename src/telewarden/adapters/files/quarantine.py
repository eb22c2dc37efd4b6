"""The quarantine file: one CSV row per rejected input row, with its line number and reason."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from telewarden.core.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class QuarantinedRow:
    """An input row that could not be used.

    ``line`` is the 1-based line in a CSV file (the header is line 1) or the 1-based row in a
    Parquet file; ``raw`` holds the row's fields as they were read.
    """

    line: int
    reason: str
    raw: dict[str, Any] | list[str]


class QuarantineWriter:
    """Writes ``line,reason,raw`` rows (``raw`` as JSON) to a CSV file, created on first use.

    This is the project's one quarantine format: every reader's rejected rows end here. The
    rows go to a temporary file renamed onto ``path`` when the writer closes.

    Nothing is written, and no file appears, when every row was good; a file left at ``path``
    by an earlier run is removed first, so the quarantine file always describes this run.
    """

    HEADER = ("line", "reason", "raw")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._handle: IO[str] | None = None
        self._writer: Any = None
        self._atomic: Any = None
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise InvalidInputError(f"cannot replace quarantine file {path}: {exc}") from exc

    def write(self, rows: list[QuarantinedRow]) -> None:
        """Append rows, creating the file and its header the first time."""
        if not rows:
            return
        if self._writer is None:
            from telewarden.adapters.files.output import atomic_file

            self._atomic = atomic_file(self.path)
            self._handle = self._atomic.__enter__()
            self._writer = csv.writer(self._handle)
            self._writer.writerow(self.HEADER)
        for row in rows:
            self._writer.writerow(
                (row.line, row.reason, json.dumps(row.raw, ensure_ascii=False, default=str))
            )
        self.count += len(rows)

    def close(self) -> None:
        """Flush and close the file if one was opened."""
        if self._atomic is not None:
            self._atomic.__exit__(None, None, None)
            self._atomic = None
            self._handle = None

    def abandon(self, error: BaseException) -> None:
        """Drop the rows written so far: no file appears (a run that failed part-way, ``error``)."""
        if self._atomic is not None:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            self._atomic = None
            self._handle = None

    def __enter__(self) -> QuarantineWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_rejected(path: Path, rejected: Iterable[QuarantinedRow]) -> list[QuarantinedRow]:
    """The rejected rows in line order, written to the quarantine file ``path`` (which then
    describes this run: no file when there are none)."""
    rows = sorted(rejected, key=lambda r: r.line)
    with QuarantineWriter(path) as bad:
        bad.write(rows)
    return rows


def read_quarantine(path: Path) -> list[QuarantinedRow]:
    """Read a quarantine file back (tests, and operators re-feeding fixed rows)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            QuarantinedRow(int(r["line"]), r["reason"], json.loads(r["raw"]))
            for r in csv.DictReader(handle)
        ]


def check_quarantine_share(
    rows_read: int, quarantined: int, max_share: float | None, quarantine: Path | None
) -> None:
    """Invalid input when every row, or more than ``max_share`` of them, was quarantined.

    A run that reads nothing usable must not exit 0 with counts that merely reconcile.

    Examples
    --------
    >>> check_quarantine_share(10, 3, 0.5, None)
    >>> check_quarantine_share(10, 6, 0.5, Path("q.csv"))
    Traceback (most recent call last):
    ...
    telewarden.core.errors.InvalidInputError: 6 of 10 rows quarantined (60.0%), more than --max-quarantine-share 0.5 (see q.csv)
    """  # noqa: E501
    see = f" (see {quarantine})" if quarantine is not None else ""
    if rows_read and quarantined >= rows_read:
        raise InvalidInputError(f"every one of the {rows_read} rows was quarantined{see}")
    if max_share is not None and rows_read and quarantined / rows_read > max_share:
        raise InvalidInputError(
            f"{quarantined} of {rows_read} rows quarantined ({quarantined / rows_read:.1%}), "
            f"more than --max-quarantine-share {max_share:g}{see}"
        )
