"""Message tables for the SMS use cases: read TSV, CSV or JSONL rows, write them back with results.

One reader serves ``sms classify`` and ``sms train``. It streams the file and shares the strict
rules of :mod:`telewarden.adapters.files.text` with the table reader: strict UTF-8 (BOM
dropped) or the user's ``--encoding``, true line numbers, unterminated quotes and wrong field
counts quarantined, duplicate column names refused. A row that cannot be used is set aside as a
:class:`~telewarden.adapters.files.quarantine.QuarantinedRow` (true line number, reason and the
fields as read), so the callers write the project's one quarantine format and their counts
reconcile: rows read = rows used + rows quarantined.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO, cast

from telewarden.adapters.files.output import atomic_file
from telewarden.adapters.files.quarantine import QuarantinedRow
from telewarden.adapters.files.text import Record, choose_encoding, iter_records
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
def open_messages(
    path: Path, fmt: MessageFormat, text_column: str, encoding: str | None = None
) -> Iterator[MessageTable]:
    """Open a message file; invalid input when it is missing, empty or lacks ``text_column``."""
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")
    with path.open("rb") as raw:
        sample = raw.read(1 << 20)
    codec = choose_encoding(path, sample, encoding)
    with path.open(encoding=codec, newline="") as handle:
        lines = _decoded_lines(path, handle, codec)
        table = MessageTable([], iter(()))
        if fmt is MessageFormat.JSONL:
            table.rows = _jsonl_rows(lines, text_column, table.rejected)
        else:
            table.header, table.rows = _table_rows(lines, path, fmt, text_column, table.rejected)
        yield table


def _decoded_lines(path: Path, handle: TextIO, codec: str) -> Iterator[str]:
    """The file's lines; a byte the codec cannot decode is invalid input naming its line."""
    line = 0
    try:
        for line, text in enumerate(handle, start=1):  # noqa: B007
            yield text.removeprefix("\ufeff") if line == 1 else text
    except UnicodeDecodeError:
        hint = "pass --encoding gb18030 if it is GB18030/GBK" if "utf" in codec else ""
        raise InvalidInputError(
            f"{path}: line {line + 1} is not valid {codec.removesuffix('-sig')}; "
            f"{hint or 'pass the right --encoding'}"
        ) from None


def _table_rows(
    lines: Iterator[str],
    path: Path,
    fmt: MessageFormat,
    text_column: str,
    rejected: list[QuarantinedRow],
) -> tuple[list[str], Iterator[MessageRow]]:
    tsv = fmt is MessageFormat.TSV
    first = next(lines, None)
    if first is None or not first.strip():
        raise InvalidInputError(f"{path}: empty file")
    parsed = list(iter_records([first], delimiter="\t" if tsv else ",", quoting=not tsv))
    if len(parsed) != 1 or not isinstance(parsed[0], Record):
        raise InvalidInputError(f"{path}: unreadable header")
    header = parsed[0].fields
    seen: dict[str, str] = {}
    for name in header:
        if name.strip().lower() in seen:
            raise InvalidInputError(
                f"{path}: columns {seen[name.strip().lower()]!r} and {name!r} collide "
                "(names are compared ignoring case and spaces); rename one"
            )
        seen[name.strip().lower()] = name
    if text_column not in header:
        raise InvalidInputError(
            f"{path}: no column {text_column!r} (columns: {', '.join(header)}); use --text-column"
        )
    records = iter_records(
        lines, delimiter="\t" if tsv else ",", quoting=not tsv, width=len(header), first_line=2
    )
    return header, _records(records, header, rejected)


def _records(
    records: Iterator[Record | QuarantinedRow], header: list[str], rejected: list[QuarantinedRow]
) -> Iterator[MessageRow]:
    for record in records:
        if isinstance(record, QuarantinedRow):
            rejected.append(record)
        elif not record.fields:
            rejected.append(QuarantinedRow(record.line, "blank line", []))
        else:
            yield MessageRow(record.line, dict(zip(header, record.fields, strict=True)))


def _jsonl_rows(
    lines: Iterator[str], text_column: str, rejected: list[QuarantinedRow]
) -> Iterator[MessageRow]:
    for line, raw in enumerate(lines, start=1):
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
            if any("\r" in v for v in values):
                # With "\n" line ends the csv module leaves a lone "\r" unquoted, and every
                # reader then splits the row there: quote such a row whole.
                csv.writer(self.out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(values)
                return
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
    with atomic_file(path) as handle:
        yield cast(TextIO, handle)
