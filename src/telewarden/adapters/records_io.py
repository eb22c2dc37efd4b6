"""Reading and writing the canonical record tables as Parquet or CSV files.

Writers stream: ``TableWriter`` appends chunk after chunk (Parquet row groups through
``pyarrow.parquet.ParquetWriter``, CSV with one header), so a simulation of any length is
written with the memory of one chunk. Readers validate: a missing required column is an
``InvalidInputError``; a row whose value cannot be parsed, whose enumerated value is unknown,
or whose required field is empty is quarantined with its line number and reason, never
dropped silently, and ``read == accepted + quarantined`` always holds.

Line numbers: for CSV the header is line 1 and the first record line 2 (records with embedded
newlines are not supported); for Parquet the "line" is the 1-based row number.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from telewarden.core.errors import InvalidInputError, MalformedRecordError
from telewarden.core.records import (
    TABLES,
    CampaignKind,
    ExposureKind,
    Ingress,
    OptInScope,
    RecordKind,
    ReleaseCause,
    TableSpec,
    empty_frame,
)
from telewarden.core.sichuan import SichuanMapper

__all__ = [
    "ENUM_COLUMNS",
    "QUARANTINE_SCHEMA",
    "ReadResult",
    "SichuanWriter",
    "TableWriter",
    "iter_table",
    "read_dir",
    "read_table",
    "table_path",
    "write_table",
]

Format = Literal["parquet", "csv"]

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {"line": pl.Int64(), "reason": pl.String()}

ENUM_COLUMNS: dict[str, frozenset[str]] = {
    "release_cause": frozenset(c.value for c in ReleaseCause),
    "ingress": frozenset(i.value for i in Ingress),
    "scope": frozenset(s.value for s in OptInScope),
    "campaign_kind": frozenset(k.value for k in CampaignKind),
    "record_kind": frozenset(k.value for k in RecordKind),
    "exposure_record_kind": frozenset(k.value for k in RecordKind),
    "exposure_kind": frozenset(k.value for k in ExposureKind),
}
"""Columns holding ``StrEnum`` values, with their allowed values (checked on read)."""

_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
)


def table_path(directory: Path, name: str, fmt: Format = "parquet") -> Path:
    """Where table ``name`` lives in ``directory`` (``calls.parquet`` / ``calls.csv``)."""
    spec = TABLES[name]
    return directory / (spec.file if fmt == "parquet" else spec.csv_file)


def _arrow_schema(spec: TableSpec) -> pa.Schema:
    return empty_frame(spec.schema).to_arrow().schema


class TableWriter:
    """Append chunks of canonical tables to files in one directory.

    Parameters
    ----------
    directory : Path
        Created if missing.
    fmt : {"parquet", "csv"}
        File format for every table.

    Use as a context manager; ``counts`` holds the rows written per table.
    """

    def __init__(self, directory: Path, fmt: Format = "parquet") -> None:
        if fmt not in ("parquet", "csv"):
            raise InvalidInputError(f"unknown format {fmt!r} (parquet or csv)")
        self.directory = directory
        self.fmt: Format = fmt
        self.counts: dict[str, int] = {}
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self._csv: dict[str, io.BufferedWriter] = {}
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, frame: pl.DataFrame) -> None:
        """Append ``frame`` (which must have exactly table ``name``'s schema)."""
        spec = TABLES[name]
        if frame.schema != pl.Schema(spec.schema):
            raise InvalidInputError(
                f"{name}: frame schema {dict(frame.schema)} differs from {dict(spec.schema)}"
            )
        path = table_path(self.directory, name, self.fmt)
        first = name not in self.counts
        self.counts[name] = self.counts.get(name, 0) + frame.height
        if self.fmt == "parquet":
            if first:
                self._parquet[name] = pq.ParquetWriter(
                    path, _arrow_schema(spec), compression="zstd"
                )
            if frame.height:
                table = frame.to_arrow().cast(_arrow_schema(spec))
                self._parquet[name].write_table(table)
        else:
            if first:
                self._csv[name] = path.open("wb")
            frame.write_csv(self._csv[name], include_header=first)

    def close(self) -> None:
        """Finish every file (a table that got no rows still gets a valid empty file)."""
        for writer in self._parquet.values():
            writer.close()
        for handle in self._csv.values():
            handle.close()
        self._parquet.clear()
        self._csv.clear()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_table(frame: pl.DataFrame, directory: Path, name: str, fmt: Format = "parquet") -> Path:
    """Write one whole table; return its path."""
    with TableWriter(directory, fmt) as writer:
        writer.write(name, frame)
    return table_path(directory, name, fmt)


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A validated table and the rows that were set aside.

    Attributes
    ----------
    frame : pl.DataFrame
        Accepted rows, with exactly the canonical schema.
    quarantine : pl.DataFrame
        ``line`` and ``reason`` of each rejected row (first reason only).
    read : int
        Rows read from the file.
    """

    frame: pl.DataFrame
    quarantine: pl.DataFrame
    read: int
    errors: list[MalformedRecordError] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Rows accepted."""
        return self.frame.height


def _parse(column: pl.Series, dtype: pl.DataType) -> pl.Series:
    """Parse a string column into ``dtype``; unparseable values become null."""
    if dtype == pl.String():
        return column
    if isinstance(dtype, pl.Datetime):
        parsed = [
            column.str.to_datetime(fmt, time_unit="us", strict=False) for fmt in _DATETIME_FORMATS
        ]
        aware = [
            p.dt.convert_time_zone("UTC")
            if isinstance(p.dtype, pl.Datetime) and p.dtype.time_zone
            else p.dt.replace_time_zone("UTC")
            for p in parsed
        ]
        return pl.select(pl.coalesce(aware)).to_series().alias(column.name)
    if dtype == pl.Boolean():
        lowered = column.str.to_lowercase()
        return (
            pl.select(
                pl.when(lowered.is_in(["true", "1"]))
                .then(True)
                .when(lowered.is_in(["false", "0"]))
                .then(False)
            )
            .to_series()
            .alias(column.name)
        )
    return column.cast(dtype, strict=False)


NON_NEGATIVE = frozenset({"duration_s", "flow_mb", "loss_cny"})
"""Numeric columns whose negative values are quarantined (a duration or a volume)."""


def _validate(
    raw: pl.DataFrame,
    spec: TableSpec,
    first_line: int,
    lines: pl.Series | None = None,
    rejected: pl.DataFrame | None = None,
) -> ReadResult:
    """Check columns, parse values, quarantine bad rows.

    ``lines`` holds each row's source line (default: consecutive from ``first_line``);
    ``rejected`` the ``line``, ``reason`` of rows the reader already set aside.
    """
    missing = [c for c in spec.required if c not in raw.columns]
    if missing:
        raise InvalidInputError(f"{spec.name}: missing required column(s) {', '.join(missing)}")
    n = raw.height
    reasons = pl.Series("reason", [None] * n, dtype=pl.String)
    columns: dict[str, pl.Series] = {}
    for name, dtype in spec.schema.items():
        if name not in raw.columns:
            columns[name] = pl.Series(name, [None] * n, dtype=dtype)
            continue
        col = raw[name]
        if col.dtype == pl.String() and dtype != pl.String():
            parsed = _parse(col, dtype)
            bad = col.is_not_null() & (col.str.len_chars() > 0) & parsed.is_null()
            reason = pl.concat_str(
                [pl.lit(f"{name}: cannot parse "), col.str.slice(0, 40), pl.lit(f" as {dtype}")]
            )
            reasons = _first_reason(reasons, bad, reason)
            col = parsed
        elif col.dtype != dtype:
            if isinstance(col.dtype, pl.Datetime) and isinstance(dtype, pl.Datetime):
                # A real datetime column: naive is taken as UTC, any zone converted to UTC.
                zoned = (
                    col.dt.convert_time_zone("UTC")
                    if col.dtype.time_zone
                    else col.dt.replace_time_zone("UTC")
                )
                col = zoned.cast(dtype)
            cast = col.cast(dtype, strict=False)
            bad = col.is_not_null() & cast.is_null()
            reasons = _first_reason(reasons, bad, pl.lit(f"{name}: cannot convert to {dtype}"))
            col = cast
        if col.dtype.is_float():
            bad = col.is_not_null() & ~col.is_finite()
            reasons = _first_reason(reasons, bad, pl.lit(f"{name}: not a finite number"))
        if name in NON_NEGATIVE:
            bad = col.is_not_null() & (col < 0)
            reasons = _first_reason(reasons, bad, pl.lit(f"{name}: negative"))
        if name in ENUM_COLUMNS:
            allowed = sorted(ENUM_COLUMNS[name])
            bad = col.is_not_null() & ~col.is_in(allowed)
            reason = pl.concat_str([pl.lit(f"{name}: unknown value "), col.str.slice(0, 40)])
            reasons = _first_reason(reasons, bad, reason)
        if name in spec.required:
            reasons = _first_reason(reasons, col.is_null(), pl.lit(f"{name}: required but empty"))
        columns[name] = col.alias(name)
    frame = pl.DataFrame(columns, schema=dict(spec.schema))
    ok = reasons.is_null()
    if lines is None:
        lines = pl.int_range(first_line, first_line + n, eager=True, dtype=pl.Int64)
    quarantine = pl.DataFrame({"line": lines.filter(~ok), "reason": reasons.filter(~ok)})
    if rejected is not None and rejected.height:
        quarantine = pl.concat([rejected, quarantine]).sort("line")
        n += rejected.height
    errors = [
        MalformedRecordError(int(line), str(reason)) for line, reason in quarantine.iter_rows()
    ][:1000]
    return ReadResult(frame=frame.filter(ok), quarantine=quarantine, read=n, errors=errors)


def _first_reason(reasons: pl.Series, bad: pl.Series, reason: pl.Expr) -> pl.Series:
    return (
        pl.select(pl.when(reasons.is_null() & bad).then(reason).otherwise(reasons))
        .to_series()
        .alias("reason")
    )


def _check_parquet_types(path: Path, raw: pl.DataFrame, spec: TableSpec) -> None:
    """Invalid input when a column's type cannot hold the canonical one (a list, a struct)."""
    for name, dtype in raw.schema.items():
        if name in spec.schema and dtype.is_nested():
            raise InvalidInputError(
                f"{path}: column {name!r} has type {dtype}, expected {spec.schema[name]}"
            )


def _read_csv(path: Path, spec: TableSpec, encoding: str | None) -> ReadResult:
    """A CSV through the strict reader: true lines, ragged and unterminated rows quarantined."""
    from telewarden.adapters.files.table import LINE
    from telewarden.adapters.files.table import read_table as read_strict

    table = read_strict(
        path,
        required=spec.required,
        optional=[c for c in spec.schema if c not in spec.required],
        encoding=encoding,
    )
    rejected = pl.DataFrame(
        {"line": [r.line for r in table.rejected], "reason": [r.reason for r in table.rejected]},
        schema=QUARANTINE_SCHEMA,
    )
    frame = table.frame
    return _validate(frame.drop(LINE), spec, 2, frame.get_column(LINE), rejected)


def read_table(path: Path, name: str | None = None, encoding: str | None = None) -> ReadResult:
    """Read and validate one table file (Parquet or CSV, by suffix).

    Parameters
    ----------
    path : Path
        ``.parquet`` or ``.csv`` file.
    name : str, optional
        Canonical table name; by default the file stem (``calls.csv`` -> ``calls``).
    """
    table = name or path.stem
    if table not in TABLES:
        raise InvalidInputError(f"unknown table {table!r} (known: {', '.join(sorted(TABLES))})")
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")
    spec = TABLES[table]
    if path.suffix == ".parquet":
        try:
            raw = pl.read_parquet(path)
        except Exception as exc:  # pyarrow/polars raise many kinds for a damaged file
            raise InvalidInputError(f"{path}: not a readable Parquet file ({exc})") from exc
        _check_parquet_types(path, raw, spec)
        return _validate(raw, spec, first_line=1)
    if path.suffix == ".csv":
        return _read_csv(path, spec, encoding)
    raise InvalidInputError(f"{path}: expected a .parquet or .csv file")


def iter_table(
    path: Path, name: str | None = None, batch_rows: int = 500_000
) -> Iterator[ReadResult]:
    """Read and validate a large table file batch by batch.

    Parquet batches hold ``batch_rows`` rows; CSV batches follow pyarrow's 16 MB read blocks.

    Line numbers in each batch's quarantine are those of the whole file, so reconciliation
    holds over the sum of the batches. Memory is one batch.
    """
    table = name or path.stem
    if table not in TABLES:
        raise InvalidInputError(f"unknown table {table!r} (known: {', '.join(sorted(TABLES))})")
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")
    spec = TABLES[table]
    if path.suffix == ".parquet":
        try:
            source = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises many kinds for a damaged file
            raise InvalidInputError(f"{path}: not a readable Parquet file ({exc})") from exc
        batches: Iterator[pa.RecordBatch] = source.iter_batches(batch_size=batch_rows)
        first_line = 1
    elif path.suffix == ".csv":
        header = pa_csv.open_csv(path).schema.names
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=1 << 24),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())),
        )
        batches = iter(reader)
        first_line = 2
    else:
        raise InvalidInputError(f"{path}: expected a .parquet or .csv file")
    for batch in batches:
        raw = pl.from_arrow(batch)
        assert isinstance(raw, pl.DataFrame)
        yield _validate(raw, spec, first_line=first_line)
        first_line += batch.num_rows


def read_dir(directory: Path, names: Iterable[str] | None = None) -> Mapping[str, ReadResult]:
    """Read every canonical table present in ``directory`` (Parquet preferred over CSV)."""
    out: dict[str, ReadResult] = {}
    for name in names or TABLES:
        formats: tuple[Format, ...] = ("parquet", "csv")
        for fmt in formats:
            path = table_path(directory, name, fmt)
            if path.is_file():
                out[name] = read_table(path, name)
                break
    return out


class SichuanWriter:
    """Stream canonical chunks into the contest's four tables as CSV (``user``, ``voc``,
    ``sms``, ``app``); mapping rules are in ``telewarden.core.sichuan``.

    ``voc.csv`` and ``sms.csv`` grow chunk by chunk; ``app.csv`` (monthly sums) and
    ``user.csv`` (with ``label``) are written by ``finish``.
    """

    def __init__(self, directory: Path, mapper: SichuanMapper) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.mapper = mapper
        self.counts: dict[str, int] = {"voc": 0, "sms": 0, "app": 0, "user": 0}
        self._voc = (directory / "voc.csv").open("wb")
        self._sms = (directory / "sms.csv").open("wb")
        self._partials: list[pl.DataFrame] = []

    def add(self, calls: pl.DataFrame, sms: pl.DataFrame, usage: pl.DataFrame) -> None:
        """Map and append one chunk."""
        voc = self.mapper.to_voc(calls)
        voc.write_csv(self._voc, include_header=self.counts["voc"] == 0)
        self.counts["voc"] += voc.height
        rows = self.mapper.to_sms(sms)
        rows.write_csv(self._sms, include_header=self.counts["sms"] == 0)
        self.counts["sms"] += rows.height
        self._partials.append(SichuanMapper.app_partial(usage))
        if len(self._partials) >= 24:  # keep the monthly sums small
            merged = pl.concat(self._partials)
            self._partials = [
                merged.group_by("msisdn", "app", "month").agg(pl.col("flow_mb").sum())
            ]

    def finish(
        self, subscribers: pl.DataFrame, truth_cards: pl.DataFrame | None, month_at: dt.datetime
    ) -> dict[str, int]:
        """Write ``app.csv`` and ``user.csv``, close the files, return row counts."""
        self._voc.close()
        self._sms.close()
        partials = (
            pl.concat(self._partials)
            if self._partials
            else pl.DataFrame(
                schema={
                    "msisdn": pl.String,
                    "app": pl.String,
                    "month": pl.String,
                    "flow_mb": pl.Float64,
                }
            )
        )
        app = self.mapper.to_app(partials)
        app.write_csv(self.directory / "app.csv")
        user = self.mapper.to_user(subscribers, truth_cards, month_at)
        user.write_csv(self.directory / "user.csv")
        self.counts["app"] = app.height
        self.counts["user"] = user.height
        return self.counts


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` through a temporary file renamed into place.

    A run killed mid-write never leaves a half-written file under the final name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp)
    tmp.replace(path)
    return path
