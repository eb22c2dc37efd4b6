"""The one strict table reader: a CSV or Parquet file as a string-typed Polars frame with the
source line of each row, and the rows rejected while parsing.

A CSV file is decoded strictly (UTF-8, or the ``encoding`` the user names; see
:mod:`telewarden.adapters.files.text`). A plain file (no quote character, every line with the
header's field count) is parsed whole by Polars; any other is split by
:func:`~telewarden.adapters.files.text.iter_records`, which knows each record's true line and
quarantines unterminated quotes and wrong field counts instead of padding, truncating or
swallowing rows. Duplicate column names, also when they differ only in case, are refused.
A Parquet file is streamed one record batch at a time; a column whose type cannot hold the
expected text (a list or struct) is refused, and real datetime columns are kept as datetimes.
"""

from __future__ import annotations

import codecs
import dataclasses
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from telewarden.adapters.files.quarantine import QuarantinedRow
from telewarden.adapters.files.text import (
    Record,
    choose_encoding,
    decode,
    iter_records,
    split_lines,
)
from telewarden.core.errors import InvalidInputError

LINE = "__line"
"""Name of the column holding each row's 1-based source line (CSV) or row (Parquet)."""

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(slots=True)
class Table:
    """The usable rows (``frame``, with ``LINE``) and the rows rejected while parsing."""

    frame: pl.DataFrame
    rejected: list[QuarantinedRow] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Every data row in the file, usable or not."""
        return self.frame.height + len(self.rejected)

    def whole(self) -> pl.DataFrame:
        """Every usable row in one frame."""
        parts = list(self.frames(1 << 20))
        return pl.concat(parts) if parts else self.frame

    def frames(self, chunk_rows: int) -> Iterator[pl.DataFrame]:
        """The usable rows in slices of at most ``chunk_rows``."""
        for offset in range(0, self.frame.height, chunk_rows):
            yield self.frame.slice(offset, chunk_rows)


class ParquetTable(Table):
    """A Parquet file read one record batch at a time, so memory stays bounded by a chunk.

    The row count comes from the file footer; ``frame`` is empty and unused.
    """

    __slots__ = ("path", "required", "optional", "keep_numbers", "_file", "_rows", "_columns")

    def __init__(
        self,
        path: Path,
        required: Sequence[str],
        optional: Sequence[str],
        *,
        keep_all: bool = False,
        keep_numbers: bool = False,
    ) -> None:
        import pyarrow.parquet as pq

        super().__init__(pl.DataFrame())
        self.path, self.required, self.optional = path, required, optional
        self.keep_numbers = keep_numbers
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
            raise InvalidInputError(f"{path}: not a readable Parquet file: {exc}") from exc
        self._rows = int(self._file.metadata.num_rows)
        schema = self._file.schema_arrow
        names = _column_names(path, schema.names)
        missing = [c for c in required if c not in names]
        if missing:
            found = ", ".join(names) or "none"
            raise InvalidInputError(
                f"{path}: missing required column(s) {', '.join(missing)} (found: {found})"
            )
        if keep_all:
            optional = [*optional, *(n for n in names if n not in (*required, *optional))]
            self.optional = optional
        self._columns = [names[c] for c in (*required, *optional) if c in names]
        for column in self._columns:
            kind = schema.field(column).type
            if not _scalar_arrow_type(kind):
                raise InvalidInputError(
                    f"{path}: column {column!r} has type {kind}, expected text, a number or a time"
                )

    @property
    def rows_read(self) -> int:
        """Rows in the file, from its footer."""
        return self._rows

    def _batches(self, chunk_rows: int) -> Iterator[Any]:
        # One row group at a time: pyarrow's iter_batches kept about 60 MB more resident per
        # 100,000-row batch of 56 columns over a whole file; reading row groups stays flat.
        for group in range(self._file.num_row_groups):
            table = self._file.read_row_group(group, columns=self._columns)
            yield from table.to_batches(max_chunksize=chunk_rows)

    def frames(self, chunk_rows: int) -> Iterator[pl.DataFrame]:
        """Record batches of at most ``chunk_rows`` rows, with their 1-based row numbers.

        Memory is bounded by one row group (as the file's writer chose it) plus a chunk."""
        first = 1
        try:
            for batch in self._batches(chunk_rows):
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)
                lines = pl.int_range(first, first + frame.height, dtype=pl.Int64, eager=True)
                frame = frame.with_columns(lines.alias(LINE))
                first += frame.height
                yield _select(self.path, frame, self.required, self.optional, self.keep_numbers)
        except InvalidInputError:
            raise
        except Exception as exc:  # a truncated or corrupt row group
            raise InvalidInputError(f"{self.path}: unreadable at row {first}: {exc}") from exc


def _scalar_arrow_type(kind: object) -> bool:
    import pyarrow.types as pat

    return bool(
        pat.is_string(kind)
        or pat.is_large_string(kind)
        or pat.is_integer(kind)
        or pat.is_floating(kind)
        or pat.is_boolean(kind)
        or pat.is_timestamp(kind)
        or pat.is_date(kind)
        or pat.is_dictionary(kind)
        or pat.is_null(kind)
        or pat.is_decimal(kind)
    )


def _column_names(path: Path, names: Sequence[str]) -> dict[str, str]:
    """Lower-cased, stripped name -> the file's name; duplicates are invalid input."""
    found: dict[str, str] = {}
    for name in names:
        key = name.strip().lower()
        if key in found:
            raise InvalidInputError(
                f"{path}: columns {found[key]!r} and {name!r} collide (names are compared "
                "ignoring case and spaces); rename one"
            )
        found[key] = name
    return found


def file_format(path: Path) -> str:
    """``csv`` or ``parquet`` from the file extension; anything else is invalid input."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise InvalidInputError(
        f"{path}: unknown file type {suffix or '(none)'!r}; use .csv or .parquet"
    )


def read_table(
    path: Path,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    headerless_names: Sequence[str] | None = None,
    encoding: str | None = None,
    multiline: bool = True,
    keep_all: bool = False,
) -> Table:
    """Read ``path`` keeping ``required`` and ``optional`` columns as strings (or datetimes).

    Parameters
    ----------
    path : Path
        A ``.csv`` or ``.parquet`` file.
    required, optional : sequence of str
        Column names (case-insensitive). A missing required column is invalid input; a missing
        optional one is filled with nulls.
    headerless_names : sequence of str, optional
        For CSV only: when the first field of the first line is not ``required[0]``, the file
        has no header and its columns are, in order, these names (trailing ones optional).
    encoding : str, optional
        The CSV's text encoding (``--encoding``); by default strict UTF-8.
    multiline : bool
        Whether a quoted CSV field may span lines (message text may; a number never does).
    keep_all : bool
        Keep every column of the file (after ``required`` and ``optional``), not only those.
    """
    fmt = file_format(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    if fmt == "parquet":
        return ParquetTable(path, required, optional, keep_all=keep_all)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    text = decode(path, data, encoding)
    if keep_all:
        header = _header(path, text.split("\n", 1)[0]) if text.strip() else []
        optional = [*optional, *(h for h in header if h not in (*required, *optional))]
    return _read_csv(path, text, required, optional, headerless_names, multiline)


_LINE_SAFE_CODECS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "ascii", "latin-1")
"""Codecs in which a ``\n`` byte is always a line feed (never part of a multi-byte character),
so a file can be cut at line feeds before it is decoded."""

_SAMPLE = 1 << 20


def iter_csv_blocks(
    path: Path,
    block_lines: int,
    *,
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
    encoding: str | None = None,
    keep_all: bool = False,
) -> Iterator[Table]:
    """A CSV file read ``block_lines`` physical lines at a time, each block a :class:`Table`.

    Memory is bounded by a block, not by the file. Each block is parsed as
    :func:`read_table` parses a whole file (``multiline=False``: a record never spans a line
    feed, so a block boundary is a record boundary), with the header of the file and the true
    line numbers of its rows and rejects; blocks together give the rows of the whole file.
    A codec in which a line feed byte may belong to a character (UTF-16) is read whole.
    """
    if file_format(path) != "csv":
        raise InvalidInputError(f"{path}: not a CSV file")
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    with handle:
        codec = choose_encoding(path, handle.read(_SAMPLE), encoding)
        handle.seek(0)
        if codecs.lookup(codec).name not in _LINE_SAFE_CODECS:
            yield read_table(
                path,
                required=required,
                optional=optional,
                encoding=encoding,
                multiline=False,
                keep_all=keep_all,
            )
            return
        first = handle.readline()
        header_line = _decode_block(path, first, codec, 1).removeprefix("\ufeff")
        header_line = header_line.rstrip("\n")
        if keep_all:
            header = _header(path, header_line) if header_line.strip() else []
            optional = [*optional, *(h for h in header if h not in (*required, *optional))]
        line = 2
        any_block = False
        while True:
            block = [raw for _, raw in zip(range(block_lines), handle, strict=False)]
            while block and not block[-1].strip():
                # The reader takes a blank line as a record of empty fields only at the end
                # of its text: a block never ends on one unless the file does.
                more = handle.readline()
                if not more:
                    break
                block.append(more)
            if not block and any_block:
                return
            any_block = True
            body = _decode_block(path, b"".join(block), codec.replace("-sig", ""), line)
            table = _read_csv(path, header_line + "\n" + body, required, optional, None, False)
            yield _shifted(table, line - 2)
            line += len(block)
            if not block:
                return


def _decode_block(path: Path, data: bytes, codec: str, first_line: int) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        raise InvalidInputError(
            f"{path}: line {line} is not valid {codec}: pass the right --encoding"
        ) from None


def _shifted(table: Table, by: int) -> Table:
    """The table with every row's and reject's line moved on by ``by``."""
    if not by:
        return table
    frame = (
        table.frame.with_columns(pl.col(LINE) + by) if LINE in table.frame.columns else table.frame
    )
    rejected = [dataclasses.replace(r, line=r.line + by) for r in table.rejected]
    return Table(frame, rejected)


def _select(
    path: Path,
    frame: pl.DataFrame,
    required: Sequence[str],
    optional: Sequence[str],
    keep_numbers: bool = False,
) -> pl.DataFrame:
    names = _column_names(path, [c for c in frame.columns if c != LINE])
    frame = frame.rename({name: key for key, name in names.items()})
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = ", ".join(c for c in frame.columns if c != LINE) or "none"
        raise InvalidInputError(
            f"{path}: missing required column(s) {', '.join(missing)} (found: {found})"
        )
    exprs: list[pl.Expr] = [pl.col(LINE)]
    for name in (*required, *optional):
        if name not in frame.columns:
            exprs.append(pl.lit(None, dtype=pl.String).alias(name))
        elif isinstance(frame.schema[name], pl.Datetime):
            exprs.append(pl.col(name))
        elif keep_numbers and frame.schema[name].is_numeric():
            exprs.append(pl.col(name))  # a Parquet number column stays a number
        else:
            text = pl.col(name).cast(pl.String).str.strip_chars()
            exprs.append(pl.when(text == "").then(None).otherwise(text).alias(name))
    return frame.select(exprs)


def _looks_headerless(first_line: str, first_name: str) -> bool:
    first_field = first_line.split(",", 1)[0].strip().strip('"').strip().lower()
    return first_field != first_name


def _plain(body: str, width: int) -> bool:
    """Whether Polars may parse ``body``: no quotes, no blank line, every line ``width`` fields."""
    if '"' in body or "\r" in body or "\x00" in body:
        return False
    lines = body.rstrip("\n").split("\n")
    commas = width - 1
    return all(line and line.count(",") == commas for line in lines)


def _read_csv(
    path: Path,
    text: str,
    required: Sequence[str],
    optional: Sequence[str],
    headerless_names: Sequence[str] | None,
    multiline: bool,
) -> Table:
    if not text.strip():
        raise InvalidInputError(f"{path}: the file is empty")
    first_line = text.split("\n", 1)[0]
    headerless = headerless_names is not None and _looks_headerless(first_line, required[0])
    if headerless:
        assert headerless_names is not None
        header = list(headerless_names)
        body_start = 1
    else:
        header = _header(path, first_line)
        body_start = 2
    body = text if headerless else text[len(first_line) + 1 :]
    if not headerless and body.strip() and _plain(body, len(header)):
        try:
            frame = pl.read_csv(
                io.BytesIO(body.encode("utf-8")),
                has_header=False,
                new_columns=header,
                infer_schema=False,
            )
        except Exception:  # Polars disagrees with the plain check: the exact path decides
            frame = None
        if frame is not None and frame.width == len(header):
            frame = frame.with_row_index(LINE, offset=body_start).with_columns(
                pl.col(LINE).cast(pl.Int64)
            )
            return Table(_select(path, frame, required, optional))
    return _read_records(path, body, header, body_start, required, optional, headerless, multiline)


def _header(path: Path, first_line: str) -> list[str]:
    records = list(iter_records([first_line]))
    if len(records) != 1 or not isinstance(records[0], Record) or not records[0].fields:
        raise InvalidInputError(f"{path}: no readable header line")
    return [h.strip().lower() for h in records[0].fields]


def _read_records(
    path: Path,
    body: str,
    header: list[str],
    first_line: int,
    required: Sequence[str],
    optional: Sequence[str],
    headerless: bool,
    multiline: bool,
) -> Table:
    _column_names(path, header)
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in header]
    lines: list[int] = []
    rejected: list[QuarantinedRow] = []
    for record in iter_records(
        split_lines(body),
        width=width,
        min_width=1 if headerless else None,
        multiline=multiline,
        first_line=first_line,
    ):
        if isinstance(record, QuarantinedRow):
            rejected.append(record)
            continue
        if not record.fields:  # a blank line holds no row
            continue
        fields = record.fields + [""] * (width - len(record.fields))
        for values, value in zip(columns, fields, strict=True):
            values.append(value)
        lines.append(record.line)
    frame = pl.DataFrame(
        {LINE: pl.Series(lines, dtype=pl.Int64)}
        | {
            name: pl.Series(values, dtype=pl.String)
            for name, values in zip(header, columns, strict=True)
        }
    )
    return Table(_select(path, frame, required, optional), rejected)
