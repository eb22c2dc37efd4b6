"""The files the number use cases read and write: features, labels, edges, record folders.

What belongs here: reading a features file (ours or the published Sichuan one) with its bad
rows set aside, a labels file, a contact-edges file and a folder of canonical records, and
writing a result table through a temporary file that is renamed into place. Every reader turns
a missing or unreadable file into an :class:`~telewarden.core.errors.InvalidInputError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from telewarden.adapters.files.output import atomic_path
from telewarden.adapters.files.table import (
    LINE,
    ParquetTable,
    Table,
    file_format,
    iter_csv_blocks,
    read_table,
)
from telewarden.adapters.records_io import read_table as read_records_table
from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import KEY

RECORD_TABLES = ("calls", "sms", "usage", "subscribers", "cells", "truth_cards")
"""Tables a records folder may hold; ``calls`` is required."""


def read_lined(path: Path, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every column of a CSV or Parquet table as text, with each row's source line.

    Returns the usable rows (the ``LINE`` column first) and ``line``, ``reason`` of the rows the
    strict reader set aside (unterminated quotes, wrong field counts).
    """
    return _lined(read_table(path, required=(), keep_all=True, encoding=encoding, multiline=False))


def _lined(table: Table) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`read_lined`'s result for a table already read (a whole file or one block)."""
    frame = table.whole()
    if LINE not in frame.columns:
        frame = pl.DataFrame({LINE: pl.Series([], dtype=pl.Int64)})
    # A real datetime column (Parquet) becomes the contest's own text form: cast to text it
    # would carry fractional seconds, and every row would fail the YYYY-mm-dd HH:MM:SS check.
    frame = frame.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S"))
    frame = frame.with_columns(pl.exclude(LINE).cast(pl.String))
    rejected = pl.DataFrame(
        {"line": [r.line for r in table.rejected], "reason": [r.reason for r in table.rejected]},
        schema={"line": pl.Int64, "reason": pl.String},
    )
    return frame, rejected


def read_frame(path: Path, encoding: str | None = None) -> pl.DataFrame:
    """A CSV or Parquet table, every column as text; a malformed row is invalid input."""
    frame, rejected = read_lined(path, encoding)
    if rejected.height:
        line, reason = rejected.row(0)
        raise InvalidInputError(f"{path}: line {line}: {reason}")
    return frame.drop(LINE)


def write_frame(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV or Parquet (by suffix) to a temporary file, then rename it."""
    with atomic_path(path) as temporary:
        try:
            if path.suffix == ".parquet":
                frame.write_parquet(temporary)
            else:
                frame.write_csv(temporary)
        except OSError as exc:
            raise InvalidInputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def quarantine_path(output: Path) -> Path:
    """``scores.csv`` -> ``scores.quarantine.csv`` next to it."""
    return output.with_name(output.stem + ".quarantine.csv")


@dataclass(frozen=True, slots=True)
class FeaturesFile:
    """A features file as read: usable rows, set-aside rows and the key column's own name."""

    frame: pl.DataFrame
    """The key as ``phone_no_m`` text, every other column a number."""
    quarantine: pl.DataFrame
    """``line`` (header = line 1) and ``reason`` of each row set aside."""
    key_column: str
    """``phone_no_m`` or ``msisdn``: the name the file used, for answering in kind."""

    @property
    def rows_read(self) -> int:
        """Rows in the file: accepted plus quarantined."""
        return self.frame.height + self.quarantine.height


def read_features(path: Path, encoding: str | None = None) -> FeaturesFile:
    """A features file (ours or the published one) and its quarantined rows.

    The key becomes text and every other column a finite number; a row with an empty key or a
    value that is not a finite number (NaN and inf are refused) is set aside with its true line
    and reason (read = accepted + quarantined).
    """
    lined, rejected = read_lined(path, encoding)
    return _accept(path, lined, rejected)


def _accept(path: Path, lined: pl.DataFrame, rejected: pl.DataFrame) -> FeaturesFile:
    """Rows read with their ``LINE``: good rows as numbers, bad ones quarantined with a reason.

    Columns may be text (CSV) or already numbers (Parquet); a number column skips the round
    trip through text, which gives the same values (Polars prints floats exactly).
    """
    raw = lined.drop(LINE)
    key = KEY if KEY in raw.columns else "msisdn" if "msisdn" in raw.columns else None
    if key is None:
        raise InvalidInputError(f"{path}: needs a {KEY} or msisdn column")
    frame = raw.rename({key: KEY}) if key != KEY else raw
    numeric = [c for c in frame.columns if c != KEY]
    as_number = {c for c in numeric if frame.schema[c].is_numeric()}
    keep = [c for c in frame.columns if c not in as_number]
    text = frame.with_columns(pl.col(*keep).cast(pl.String)) if keep else frame
    bad: dict[str, pl.Expr] = {}
    for col in numeric:
        value = pl.col(col)
        if col in as_number:
            bad[col] = value.is_not_null() & ~value.cast(pl.Float64).is_finite()
        else:
            number = value.cast(pl.Float64, strict=False)
            bad[col] = (
                value.is_not_null() & (value != "") & (number.is_null() | ~number.is_finite())
            )
    empty_key = pl.col(KEY).is_null() | (pl.col(KEY) == "")
    if not text.select(pl.any_horizontal(empty_key, *bad.values()).any()).item():
        # Nothing to set aside (the usual chunk): skip building a reason per row.
        marked = text.with_columns(
            pl.lit(None, pl.String).alias("_reason"), lined.get_column(LINE).alias("_line")
        )
    else:
        reason: pl.Expr = pl.lit(None, pl.String)
        for col in reversed(numeric):
            message = pl.lit(f"{col} is not a finite number")
            reason = pl.when(bad[col]).then(message).otherwise(reason)
        reason = pl.when(empty_key).then(pl.lit(f"{key} is empty")).otherwise(reason)
        marked = text.with_columns(reason.alias("_reason"), lined.get_column(LINE).alias("_line"))
    quarantine = pl.concat(
        [
            rejected,
            marked.filter(pl.col("_reason").is_not_null()).select(
                pl.col("_line").alias("line"), pl.col("_reason").alias("reason")
            ),
        ]
    ).sort("line")
    good = marked.filter(pl.col("_reason").is_null()).drop("_reason", "_line")
    good = good.with_columns(pl.col(c).cast(pl.Float64, strict=False) for c in numeric)
    good = good.with_columns(
        *(pl.col(c).cast(pl.Int64) for c in ("node", "label") if c in good.columns)
    )
    return FeaturesFile(good, quarantine, key)


def read_edges(path: Path | None) -> pl.DataFrame | None:
    """Contact edges ``src``, ``dst`` (integers when every id is one, else text), or None."""
    if path is None:
        return None
    raw = read_frame(path)
    if not {"src", "dst"} <= set(raw.columns):
        raise InvalidInputError(f"{path}: edges need src and dst columns")
    edges = raw.select("src", "dst")
    as_int = edges.with_columns(pl.col("src", "dst").cast(pl.Int64, strict=False))
    if as_int.null_count().sum_horizontal()[0] == 0:
        return as_int
    return edges.with_columns(pl.col("src", "dst").cast(pl.String))


def read_labels(features: pl.DataFrame, labels: Path | None) -> pl.Series:
    """The label of every row of ``features``: its ``label`` column, or from a labels file.

    A labels file needs the key (``phone_no_m`` or ``msisdn``) and ``label``; other columns (a
    contest user table's text) are ignored. A row of ``features`` without a label is an error.
    """
    if labels is None:
        if "label" not in features.columns:
            raise InvalidInputError("no labels: pass --labels or a features file with `label`")
        return features["label"]
    raw = read_frame(labels)
    key = KEY if KEY in raw.columns else "msisdn"
    if key not in raw.columns or "label" not in raw.columns:
        raise InvalidInputError(f"{labels}: needs {KEY} (or msisdn) and label columns")
    frame = raw.select(
        pl.col(key).cast(pl.String).alias(KEY),
        pl.col("label").cast(pl.String).cast(pl.Int64, strict=False),
    )
    joined = features.select(KEY).join(frame, on=KEY, how="left")
    if joined["label"].null_count():
        raise InvalidInputError(f"{joined['label'].null_count()} numbers have no label")
    return joined["label"]


def read_records(directory: Path) -> dict[str, pl.DataFrame]:
    """The canonical tables of a records folder (``calls`` required), Parquet before CSV."""
    if not directory.is_dir():
        raise InvalidInputError(f"no such directory: {directory}")
    found: dict[str, pl.DataFrame] = {}
    for name in RECORD_TABLES:
        for suffix in (".parquet", ".csv"):
            path = directory / f"{name}{suffix}"
            if path.is_file():
                result = read_records_table(path, name)
                if result.quarantine.height:  # a detector run has no quarantine file: refuse
                    line, reason = result.quarantine.row(0)
                    raise InvalidInputError(
                        f"{path}: {result.quarantine.height} malformed rows, the first at "
                        f"line {line}: {reason}"
                    )
                found[name] = result.frame
                break
    if "calls" not in found:
        raise InvalidInputError(f"{directory}: no calls.parquet or calls.csv")
    return found


def iter_features(
    path: Path, chunk_rows: int = 100_000, encoding: str | None = None
) -> Iterator[FeaturesFile]:
    """A features file read strictly (as :func:`read_features`) and handed out in chunks.

    Memory is bounded by a chunk whatever the file's size: a Parquet file is read one record
    batch at a time, a CSV file ``chunk_rows`` lines at a time by the strict reader (each
    block with the file's header and its rows' true line numbers). Scoring holds one chunk's
    matrices and contributions at a time. Quarantined rows come with the chunk they were
    found in.
    """
    if file_format(path) == "parquet":
        yield from _iter_parquet_features(path, chunk_rows, encoding)
        return
    for block in iter_csv_blocks(path, chunk_rows, keep_all=True, encoding=encoding):
        lined, rejected = _lined(block)
        yield _accept(path, lined, rejected)


def _iter_parquet_features(
    path: Path, chunk_rows: int, encoding: str | None
) -> Iterator[FeaturesFile]:
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    table = ParquetTable(path, (), (), keep_all=True, keep_numbers=True)
    no_rejects = pl.DataFrame(schema={"line": pl.Int64, "reason": pl.String})
    any_chunk = False
    for frame in table.frames(chunk_rows):
        any_chunk = True
        # As read_lined: a real datetime column becomes the contest's own text form.
        frame = frame.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S"))
        yield _accept(path, frame, no_rejects)
    if not any_chunk:
        yield read_features(path, encoding)
