"""The batch job's tables on disk: contest tables as Parquet partitioned by day, and outputs.

Layout of an input directory (what ``telewarden batch prepare`` writes and both engines read):

.. code-block:: text

    INPUT/voc/day=2026-03-01/*.parquet     calls, one folder per Beijing day of start_datetime
    INPUT/sms/day=2026-03-01/*.parquet     SMS, by day of request_datetime
    INPUT/app/month=2026-03/*.parquet      data usage, by month (the table is monthly)
    INPUT/user/*.parquet                   one row per subscriber (a snapshot, not partitioned)
    INPUT/known/*.parquet                  optional: node, label of numbers already judged
    INPUT/records/calls/day=2026-03-01/    optional: canonical calls, sms, usage (by UTC day)
    INPUT/records/subscribers/               and subscribers, for the windowed signals

A table may also be a single ``INPUT/voc.parquet`` file. Partition columns are folder names
only: the feature columns come from the files (the columns of ``TABLE_COLUMNS``), so a day can
be added, replaced or dropped by moving a folder. Outputs (``features``, ``graph``, ``scores``)
are Parquet folders written under a temporary name and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from telewarden.adapters.records_io import read_table
from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import KEY, TABLE_COLUMNS
from telewarden.core.records import CELLS_SCHEMA, TABLES
from telewarden.core.sichuan import ARPU_MONTHS, SichuanMapper

CONTEST_TABLES: tuple[str, ...] = ("voc", "sms", "app", "user")
PARTITION_COLUMNS: Mapping[str, str | None] = {
    "voc": "day",
    "sms": "day",
    "app": "month",
    "user": None,
    "known": None,
}
"""Each table's partition folder key (``None``: not partitioned)."""

INPUT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    **TABLE_COLUMNS,
    "user": (KEY, *ARPU_MONTHS),
    "known": ("node", "label"),
}
"""The columns the engines read from each table."""

OUTPUTS: tuple[str, ...] = ("features", "graph", "scores", "signals")

RECORD_TABLES: Mapping[str, str | None] = {
    "calls": "start_at",
    "sms": "sent_at",
    "usage": "start_at",
    "subscribers": None,
}
"""Canonical tables the windowed signals read, with the time column they are partitioned by."""

RECORDS = "records"
"""Sub-folder of the input holding the canonical tables."""


def signals_end(last_call: dt.datetime | None) -> dt.datetime:
    """Where the signal windows end: one second after the last call (as ``telewarden detect``);
    the epoch when there is no call."""
    if last_call is None:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return last_call + dt.timedelta(seconds=1)


def scan_records(directory: Path) -> dict[str, pl.LazyFrame]:
    """The canonical tables under ``directory/records`` (empty when there are none)."""
    found: dict[str, pl.LazyFrame] = {}
    for name in RECORD_TABLES:
        location = table_location(directory / RECORDS, name)
        if location is None:
            continue
        pattern = location if location.is_file() else location / "**" / "*.parquet"
        frame = pl.scan_parquet(pattern, hive_partitioning=location.is_dir())
        wanted = list(TABLES[name].schema)
        missing = [c for c in wanted if c not in frame.collect_schema().names()]
        if missing:
            raise InvalidInputError(f"{location}: missing column(s) {', '.join(missing)}")
        found[name] = frame.select(wanted)
    return found


def table_location(directory: Path, name: str) -> Path | None:
    """The table's folder (or single file) under ``directory``, or None when absent."""
    folder = directory / name
    if folder.is_dir() and any(folder.rglob("*.parquet")):
        return folder
    single = directory / f"{name}.parquet"
    return single if single.is_file() else None


def scan_table(directory: Path, name: str) -> pl.LazyFrame | None:
    """The table as a LazyFrame of its :data:`INPUT_COLUMNS`, or None when absent.

    Raises
    ------
    InvalidInputError
        When the table lacks a required column.
    """
    location = table_location(directory, name)
    if location is None:
        return None
    pattern = location if location.is_file() else location / "**" / "*.parquet"
    frame = pl.scan_parquet(pattern, hive_partitioning=location.is_dir())
    present = frame.collect_schema().names()
    wanted = INPUT_COLUMNS[name]
    if name == "user":
        # the user table may lack months (a carrier with less history): missing months are null
        if KEY not in present:
            raise InvalidInputError(f"{location}: missing column {KEY}")
        return frame.select(
            KEY,
            *(pl.col(c) if c in present else pl.lit(None, pl.Float64).alias(c) for c in wanted[1:]),
        )
    missing = [c for c in wanted if c not in present]
    if missing:
        raise InvalidInputError(f"{location}: missing column(s) {', '.join(missing)}")
    return frame.select(wanted)


def input_tables(directory: Path) -> dict[str, pl.LazyFrame]:
    """Every table present under ``directory`` (at least one contest table is required)."""
    if not directory.is_dir():
        raise InvalidInputError(f"no such directory: {directory}")
    found = {
        name: frame
        for name in (*CONTEST_TABLES, "known")
        if (frame := scan_table(directory, name)) is not None
    }
    if not any(name in found for name in CONTEST_TABLES):
        raise InvalidInputError(
            f"{directory}: no contest table (voc/, sms/, app/ or user/ of Parquet files)"
        )
    return found


def voc_edges(voc: pl.LazyFrame) -> pl.LazyFrame:
    """Directed contact edges (``src`` called ``dst``) from the call table.

    An outgoing row (``calltype_id`` 1) is the number calling its counterpart, an incoming row
    (2) the counterpart calling the number; forwarded calls (3) and rows without a counterpart
    make no edge. An on-net call appears on both sides of the contest table and gives the same
    edge twice, which the graph features count once.
    """
    calls = voc.select(
        pl.col(KEY).cast(pl.String),
        pl.col("opposite_no_m").cast(pl.String),
        pl.col("calltype_id").cast(pl.Int64, strict=False),
    ).filter(pl.col(KEY).is_not_null() & pl.col("opposite_no_m").is_not_null())
    outgoing = calls.filter(pl.col("calltype_id") == 1).select(
        pl.col(KEY).alias("src"), pl.col("opposite_no_m").alias("dst")
    )
    incoming = calls.filter(pl.col("calltype_id") == 2).select(
        pl.col("opposite_no_m").alias("src"), pl.col(KEY).alias("dst")
    )
    return pl.concat([outgoing, incoming])


def write_output(frame: pl.DataFrame, output: Path, name: str) -> Path:
    """Write ``frame`` as the Parquet folder ``output/name``, replacing it atomically."""
    output.mkdir(parents=True, exist_ok=True)
    final = output / name
    staging = output / f".{name}.{uuid.uuid4().hex}.tmp"
    staging.mkdir()
    frame.write_parquet(staging / "part-00000.parquet")
    replace_folder(staging, final)
    return final


def replace_folder(staging: Path, final: Path) -> None:
    """Move a finished ``staging`` folder to ``final``, dropping an older ``final``."""
    old = final.with_name(f".{final.name}.{uuid.uuid4().hex}.old")
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old)


def read_output(output: Path, name: str) -> pl.DataFrame:
    """An output folder as one frame (whichever engine wrote it)."""
    folder = output / name
    if not folder.is_dir():
        raise InvalidInputError(f"no output {name!r} under {output}")
    return pl.read_parquet(folder / "*.parquet")


def _write_partitioned(frame: pl.DataFrame, directory: Path, key: str | None) -> int:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    if key is None or frame.is_empty():
        kept = frame if key is None else frame.drop(key)
        kept.write_parquet(directory / "part-00000.parquet")
    else:
        frame.write_parquet(directory, partition_by=key)
    return frame.height


def write_contest_tables(tables: Mapping[str, pl.DataFrame], directory: Path) -> dict[str, int]:
    """Write contest tables in the input layout (partition keys derived from the rows).

    Returns the rows written per table.
    """
    counts: dict[str, int] = {}
    for name, frame in tables.items():
        key = PARTITION_COLUMNS.get(name)
        if name in ("voc", "sms"):
            stamp = "start_datetime" if name == "voc" else "request_datetime"
            frame = frame.with_columns(pl.col(stamp).cast(pl.String).str.slice(0, 10).alias("day"))
        elif name == "app":
            frame = frame.with_columns(pl.col("month_id").cast(pl.String).alias("month"))
        counts[name] = _write_partitioned(frame, directory / name, key)
    return counts


def prepare_from_records(records: Path, directory: Path) -> dict[str, int]:
    """Map canonical records (a ``telewarden sim`` folder) to contest tables in the input layout.

    The mapping is ``telewarden.core.sichuan.SichuanMapper`` (embedded, before either engine);
    malformed canonical rows are quarantined by the record reader and counted under
    ``<table>_quarantined``.

    The canonical calls, SMS, usage and subscribers are also copied, partitioned by UTC day,
    under ``records/`` for the windowed signals.

    Returns
    -------
    dict of str to int
        Rows written per table, and rows quarantined per canonical table.
    """
    if not records.is_dir():
        raise InvalidInputError(f"no such directory: {records}")
    found: dict[str, pl.DataFrame] = {}
    counts: dict[str, int] = {}
    for name in ("calls", "sms", "usage", "subscribers", "cells"):
        for suffix in (".parquet", ".csv"):
            path = records / f"{name}{suffix}"
            if path.is_file():
                result = read_table(path, name)
                found[name] = result.frame
                counts[f"{name}_quarantined"] = result.quarantine.height
                break
    if "calls" not in found or "subscribers" not in found:
        raise InvalidInputError(f"{records}: needs calls and subscribers (.parquet or .csv)")
    subs = found["subscribers"]
    mapper = SichuanMapper(subs, found.get("cells", pl.DataFrame(schema=CELLS_SCHEMA)))
    tables = {"voc": mapper.to_voc(found["calls"])}
    if "sms" in found:
        tables["sms"] = mapper.to_sms(found["sms"])
    if "usage" in found:
        tables["app"] = mapper.to_app(SichuanMapper.app_partial(found["usage"]))
    latest = subs["activated_at"].max()
    if not isinstance(latest, dt.datetime):
        raise InvalidInputError(f"{records}: no subscriber with an activation time")
    tables["user"] = mapper.to_user(subs, None, latest).drop("label")
    counts.update(write_contest_tables(tables, directory))
    for name, stamp in RECORD_TABLES.items():
        if name not in found:
            continue
        frame = found[name]
        if stamp is not None:
            frame = frame.with_columns(pl.col(stamp).dt.strftime("%Y-%m-%d").alias("day"))
        rows = _write_partitioned(
            frame, directory / RECORDS / name, None if stamp is None else "day"
        )
        counts[f"records/{name}"] = rows
    return counts
