"""Message tables for the SMS use cases: read TSV, CSV or JSONL rows, write them back with results.

One reader serves ``sms classify`` and ``sms train``. A row that cannot be used is set aside as a
:class:`~telewarden.adapters.files.quarantine.QuarantinedRow` (true line number, reason and the
fields as read), so the callers write the project's one quarantine format and their counts
reconcile: rows read = rows used + rows quarantined.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from telewarden.adapters.files.quarantine import QuarantinedRow
from telewarden.core.errors import InvalidInputError

__all__ = [
    "MessageFormat",
    "MessageRow",
    "MessageTable",
    "MessageWriter",
    "count_data_lines",
    "detect_format",
    "open_messages",
    "replace_atomically",
]

# Message bodies can be long; the csv module's default limit (128 KiB) would reject them.
csv.field_size_limit(sys.maxsize)


class MessageFormat(StrEnum):
    """Table formats of message files."""

    TSV = "tsv"
    CSV = "csv"
    JSONL = "jsonl"


def detect_format(path: Path, given: MessageFormat | None = None) -> MessageFormat:
    """``given``, else the format named by the file suffix (CSV when the suffix says nothing)."""
    if given is not None:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("tsv", "txt", "tab"):
        return MessageFormat.TSV
    if suffix in ("jsonl", "ndjson", "json"):
        return MessageFormat.JSONL
    return MessageFormat.CSV


@dataclass(slots=True)
class MessageRow:
    """One usable row: its 1-based line in the file (the header is line 1) and its fields."""

    line: int
    fields: dict[str, Any]


@dataclass(slots=True)
class MessageTable:
    """The header (empty for JSONL), the usable rows (lazily) and the rows set aside so far.

    ``rejected`` fills while ``rows`` is consumed; callers may append their own rejections
    (an unknown label, say) so that one list holds every quarantined row.
    """

    header: list[str]
    rows: Iterator[MessageRow]
    rejected: list[QuarantinedRow] = field(default_factory=list)


@contextmanager
def open_messages(path: Path, fmt: MessageFormat, text_column: str) -> Iterator[MessageTable]:
    """Open a message file; invalid input when it is missing, empty or lacks ``text_column``."""
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        table = MessageTable([], iter(()))
        if fmt is MessageFormat.JSONL:
            table.rows = _jsonl_rows(handle, text_column, table.rejected)
        else:
            table.header, table.rows = _table_rows(handle, path, fmt, text_column, table.rejected)
        yield table


def _table_rows(
    handle: TextIO,
    path: Path,
    fmt: MessageFormat,
    text_column: str,
    rejected: list[QuarantinedRow],
) -> tuple[list[str], Iterator[MessageRow]]:
    reader = (
        csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if fmt is MessageFormat.TSV
        else csv.reader(handle)
    )
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInputError(f"{path}: empty file") from None
    except csv.Error as exc:
        raise InvalidInputError(f"{path}: unreadable header: {exc}") from None
    if text_column not in header:
        raise InvalidInputError(
            f"{path}: no column {text_column!r} (columns: {', '.join(header)}); use --text-column"
        )
    return header, _records(reader, header, rejected)


def _records(
    reader: Any, header: list[str], rejected: list[QuarantinedRow]
) -> Iterator[MessageRow]:
    # A quoted CSV field may span lines, so a record's line is where the reader stood before it.
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            rejected.append(QuarantinedRow(start, f"unreadable row: {exc}", []))
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not values:
            rejected.append(QuarantinedRow(line, "blank line", []))
        elif len(values) != len(header):
            rejected.append(
                QuarantinedRow(line, f"{len(values)} fields, header has {len(header)}", values)
            )
        else:
            yield MessageRow(line, dict(zip(header, values, strict=True)))


def _jsonl_rows(
    handle: TextIO, text_column: str, rejected: list[QuarantinedRow]
) -> Iterator[MessageRow]:
    for line, raw in enumerate(handle, start=1):
        if not raw.strip():
            rejected.append(QuarantinedRow(line, "blank line", []))
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            rejected.append(QuarantinedRow(line, f"invalid JSON: {exc.msg}", [raw.rstrip("\n")]))
            continue
        if not isinstance(obj, dict):
            rejected.append(QuarantinedRow(line, "not a JSON object", [raw.rstrip("\n")]))
        elif not isinstance(obj.get(text_column), str):
            rejected.append(QuarantinedRow(line, f"no string field {text_column!r}", obj))
        else:
            yield MessageRow(line, obj)


def count_data_lines(path: Path, fmt: MessageFormat) -> int:
    """Physical lines after the header: the total a progress bar counts towards."""
    with path.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return max(lines - (0 if fmt is MessageFormat.JSONL else 1), 0)


_TSV_CLEAN = re.compile(r"[\t\r\n]")


class MessageWriter:
    """Writes rows in the input's format: the input's columns, then the ``added`` ones.

    TSV is written without quoting (tabs and line breaks inside fields become spaces), CSV with
    the csv module's quoting, JSONL as one object per line with the added keys merged in.
    """

    def __init__(
        self, out: TextIO, fmt: MessageFormat, header: list[str], added: tuple[str, ...]
    ) -> None:
        self.out, self.fmt, self.header = out, fmt, header
        self.added = [c for c in added if c not in header]
        self._csv = csv.writer(out, lineterminator="\n") if fmt is MessageFormat.CSV else None
        if fmt is not MessageFormat.JSONL:
            self._write_values([*header, *self.added])

    def _write_values(self, values: list[str]) -> None:
        if self._csv is not None:
            self._csv.writerow(values)
        else:
            line = "\t".join(values)
            # One check of the joined line instead of a regex per field: only a line with a tab,
            # CR or LF inside a field needs the fields cleaned one by one.
            if line.count("\t") != len(values) - 1 or "\n" in line or "\r" in line:
                line = "\t".join(_TSV_CLEAN.sub(" ", v) for v in values)
            self.out.write(line + "\n")

    def write(self, fields: dict[str, Any], extra: dict[str, Any]) -> None:
        """Write one input row with its added values (which win over same-named input columns)."""
        merged = {**fields, **extra}
        if self.fmt is MessageFormat.JSONL:
            self.out.write(json.dumps(merged, ensure_ascii=False) + "\n")
            return
        self._write_values(
            [str(merged[c]) for c in self.header] + [str(extra[c]) for c in self.added]
        )


@contextmanager
def replace_atomically(path: Path) -> Iterator[TextIO]:
    """A text file written beside ``path`` and renamed onto it only when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
