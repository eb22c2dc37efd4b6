"""The files the number use cases read and write: features, labels, edges, record folders.

What belongs here: reading a features file (ours or the published Sichuan one) with its bad
rows set aside, a labels file, a contact-edges file and a folder of canonical records, and
writing a result table through a temporary file that is renamed into place. Every reader turns
a missing or unreadable file into an :class:`~telewarden.core.errors.InvalidInputError`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from telewarden.adapters.records_io import read_table
from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import KEY

RECORD_TABLES = ("calls", "sms", "usage", "subscribers", "cells", "truth_cards")
"""Tables a records folder may hold; ``calls`` is required."""


def read_frame(path: Path) -> pl.DataFrame:
    """A CSV (every column as text) or Parquet table."""
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True)
    except Exception as exc:  # polars raises many kinds for a damaged file
        raise InvalidInputError(f"{path}: not a readable table ({exc})") from exc


def write_frame(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV or Parquet (by suffix) to a temporary file, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    temporary = Path(name)
    try:
        if path.suffix == ".parquet":
            frame.write_parquet(temporary)
        else:
            frame.write_csv(temporary)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


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


def _feature_key(path: Path, columns: Sequence[str]) -> str:
    key = KEY if KEY in columns else "msisdn" if "msisdn" in columns else None
    if key is None:
        raise InvalidInputError(f"{path}: needs a {KEY} or msisdn column")
    return key


def _screen_features(raw: pl.DataFrame, key: str, first_line: int) -> FeaturesFile:
    """Split raw text rows into usable ones (numbers cast) and quarantined ones.

    ``first_line`` is the file line of ``raw``'s first row (2 for a whole file: the header is
    line 1).
    """
    frame = raw.rename({key: KEY}) if key != KEY else raw
    numeric = [c for c in frame.columns if c != KEY]
    text = frame.with_columns(pl.all().cast(pl.String))
    reason: pl.Expr = pl.lit(None, pl.String)
    for col in reversed(numeric):
        value = pl.col(col)
        bad = value.is_not_null() & (value != "") & value.cast(pl.Float64, strict=False).is_null()
        reason = pl.when(bad).then(pl.lit(f"{col} is not a number")).otherwise(reason)
    reason = (
        pl.when(pl.col(KEY).is_null() | (pl.col(KEY) == ""))
        .then(pl.lit(f"{key} is empty"))
        .otherwise(reason)
    )
    marked = text.with_columns(
        reason.alias("_reason"),
        pl.int_range(first_line, pl.len() + first_line, dtype=pl.Int64).alias("_line"),
    )
    quarantine = marked.filter(pl.col("_reason").is_not_null()).select(
        pl.col("_line").alias("line"), pl.col("_reason").alias("reason")
    )
    good = marked.filter(pl.col("_reason").is_null()).drop("_reason", "_line")
    good = good.with_columns(pl.col(c).cast(pl.Float64, strict=False) for c in numeric)
    good = good.with_columns(
        *(pl.col(c).cast(pl.Int64) for c in ("node", "label") if c in good.columns)
    )
    return FeaturesFile(good, quarantine, key)


def read_features(path: Path) -> FeaturesFile:
    """A features file (ours or the published one) and its quarantined rows.

    The key becomes text and every other column a number; a row with an empty key or a value
    that is not a number is set aside with its line and reason (read = accepted + quarantined).
    """
    raw = read_frame(path)
    return _screen_features(raw, _feature_key(path, raw.columns), 2)


def iter_features(path: Path, chunk_rows: int = 100_000) -> Iterator[FeaturesFile]:
    """A features file read in chunks of about ``chunk_rows`` rows, each as :func:`read_features`.

    Memory is bounded by a chunk, not by the file; quarantined rows keep their true file lines.
    """
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")
    try:
        lazy = (
            pl.scan_parquet(path)
            if path.suffix == ".parquet"
            else pl.scan_csv(path, infer_schema=False, truncate_ragged_lines=True)
        )
        key = _feature_key(path, lazy.collect_schema().names())
        line = 2
        for raw in lazy.collect_batches(chunk_size=chunk_rows):
            if raw.height == 0:
                continue
            yield _screen_features(raw, key, line)
            line += raw.height
    except InvalidInputError:
        raise
    except Exception as exc:  # polars raises many kinds for a damaged file
        raise InvalidInputError(f"{path}: not a readable table ({exc})") from exc


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
                found[name] = read_table(path, name).frame
                break
    if "calls" not in found:
        raise InvalidInputError(f"{directory}: no calls.parquet or calls.csv")
    return found
