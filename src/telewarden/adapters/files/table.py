"""Reading a CSV or Parquet file into a string-typed Polars frame with the source line of each row.

A CSV file is parsed whole by Polars; a Parquet file is streamed one record batch at a time.
When Polars' CSV row count disagrees with the file's physical lines (quoted
fields spanning lines, blank lines) or it rejects the file (rows with too many fields), the CSV
is re-read with the standard ``csv`` module, which knows each record's true line and lets a
ragged row be quarantined instead of failing the whole file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from telewarden.adapters.files.quarantine import QuarantinedRow
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

    def frames(self, chunk_rows: int) -> Iterator[pl.DataFrame]:
        """The usable rows in slices of at most ``chunk_rows``."""
        for offset in range(0, self.frame.height, chunk_rows):
            yield self.frame.slice(offset, chunk_rows)


class ParquetTable(Table):
    """A Parquet file read one record batch at a time, so memory stays bounded by a chunk.

    The row count comes from the file footer; ``frame`` is empty and unused.
    """

    __slots__ = ("path", "required", "optional", "_file", "_rows", "_columns")

    def __init__(self, path: Path, required: Sequence[str], optional: Sequence[str]) -> None:
        import pyarrow.parquet as pq

        super().__init__(pl.DataFrame())
        self.path, self.required, self.optional = path, required, optional
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
            raise InvalidInputError(f"{path}: not a readable Parquet file: {exc}") from exc
        self._rows = int(self._file.metadata.num_rows)
        names = {n.strip().lower(): n for n in self._file.schema_arrow.names}
        missing = [c for c in required if c not in names]
        if missing:
            found = ", ".join(names) or "none"
            raise InvalidInputError(
                f"{path}: missing required column(s) {', '.join(missing)} (found: {found})"
            )
        self._columns = [names[c] for c in (*required, *optional) if c in names]

    @property
    def rows_read(self) -> int:
        """Rows in the file, from its footer."""
        return self._rows

    def frames(self, chunk_rows: int) -> Iterator[pl.DataFrame]:
        """Record batches of at most ``chunk_rows`` rows, with their 1-based row numbers."""
        first = 1
        try:
            for batch in self._file.iter_batches(batch_size=chunk_rows, columns=self._columns):
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)
                lines = pl.int_range(first, first + frame.height, dtype=pl.Int64, eager=True)
                frame = frame.with_columns(lines.alias(LINE))
                first += frame.height
                yield _select(self.path, frame, self.required, self.optional)
        except InvalidInputError:
            raise
        except Exception as exc:  # a truncated or corrupt row group
            raise InvalidInputError(f"{self.path}: unreadable at row {first}: {exc}") from exc


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
        has no header and its columns are, in order, these names.
    """
    fmt = file_format(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    if fmt == "parquet":
        return ParquetTable(path, required, optional)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return _read_csv(path, data, required, optional, headerless_names)


def _select(
    path: Path, frame: pl.DataFrame, required: Sequence[str], optional: Sequence[str]
) -> pl.DataFrame:
    frame = frame.rename({c: c.strip().lower() for c in frame.columns if c != LINE})
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
        else:
            text = pl.col(name).cast(pl.String).str.strip_chars()
            exprs.append(pl.when(text == "").then(None).otherwise(text).alias(name))
    return frame.select(exprs)


def _physical_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def _looks_headerless(data: bytes, first_name: str) -> bool:
    first_line = data.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    first_field = first_line.split(",", 1)[0].strip().strip('"').strip().lower()
    return first_field.lstrip("\ufeff") != first_name


def _read_csv(
    path: Path,
    data: bytes,
    required: Sequence[str],
    optional: Sequence[str],
    headerless_names: Sequence[str] | None,
) -> Table:
    if not data.strip():
        raise InvalidInputError(f"{path}: the file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    headerless = headerless_names is not None and _looks_headerless(data, required[0])
    try:
        if headerless:
            assert headerless_names is not None
            frame = pl.read_csv(
                io.BytesIO(data), has_header=False, infer_schema=False, encoding="utf8-lossy"
            )
            if frame.width > len(headerless_names):
                raise ValueError("more fields than known columns")
            frame = frame.rename(dict(zip(frame.columns, headerless_names, strict=False)))
        else:
            frame = pl.read_csv(io.BytesIO(data), infer_schema=False, encoding="utf8-lossy")
    except Exception:  # ragged rows and other parse failures: the exact path below decides
        return _read_csv_exactly(path, data, required, optional, headerless_names, headerless)
    first_data_line = 1 if headerless else 2
    if frame.height + first_data_line - 1 != _physical_lines(data):
        return _read_csv_exactly(path, data, required, optional, headerless_names, headerless)
    frame = frame.with_row_index(LINE, offset=first_data_line).with_columns(
        pl.col(LINE).cast(pl.Int64)
    )
    return Table(_select(path, frame, required, optional))


def _read_csv_exactly(
    path: Path,
    data: bytes,
    required: Sequence[str],
    optional: Sequence[str],
    headerless_names: Sequence[str] | None,
    headerless: bool,
) -> Table:
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""))
    if headerless:
        assert headerless_names is not None
        header = list(headerless_names)
    else:
        try:
            header = [h.strip().lower() for h in next(reader)]
        except (StopIteration, csv.Error) as exc:
            raise InvalidInputError(f"{path}: no header line") from exc
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in header]
    lines: list[int] = []
    rejected: list[QuarantinedRow] = []
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rejected.append(QuarantinedRow(start, f"unreadable CSV: {exc}", []))
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not record or all(not f.strip() for f in record):
            continue
        if len(record) > width:
            rejected.append(
                QuarantinedRow(line, f"{len(record)} fields but the header has {width}", record)
            )
            continue
        record = record + [""] * (width - len(record))
        for values, value in zip(columns, record, strict=True):
            values.append(value)
        lines.append(line)
    frame = pl.DataFrame(
        {LINE: pl.Series(lines, dtype=pl.Int64)}
        | {
            name: pl.Series(values, dtype=pl.String)
            for name, values in zip(header, columns, strict=True)
        }
    )
    return Table(_select(path, frame, required, optional), rejected)
