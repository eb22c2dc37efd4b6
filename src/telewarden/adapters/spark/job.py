"""The batch job on Spark: day-partitioned Parquet tables in, features, graph and scores out.

The input layout is that of :mod:`telewarden.adapters.batch_tables` (one folder per table,
``day=`` / ``month=`` partition folders). Paths may be local folders or URIs the cluster can
read (``hdfs://``, ``s3a://``); local outputs are written under a temporary name and renamed
into place, URI outputs are overwritten by Spark's own committer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from telewarden.adapters.batch_tables import (
    CONTEST_TABLES,
    INPUT_COLUMNS,
    RECORD_TABLES,
    RECORDS,
    replace_folder,
    signals_end,
)
from telewarden.adapters.spark.features import graph_features, sichuan_features, voc_edges
from telewarden.adapters.spark.scoring import score_features
from telewarden.adapters.spark.signals import windowed_signals
from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import KEY
from telewarden.core.models.number_scorer import NumberScorer
from telewarden.core.records import TABLES


@dataclass(slots=True)
class SparkJobResult:
    """What the job read and wrote."""

    input_rows: dict[str, int] = field(default_factory=dict)
    numbers: int = 0
    graph_nodes: int = 0
    flagged: int = 0
    signal_rows: int = 0


def _is_uri(location: str) -> bool:
    return "://" in location


def _exists(spark: SparkSession, location: str) -> bool:
    if not _is_uri(location):
        path = Path(location)
        return (path.is_dir() and any(path.rglob("*.parquet"))) or path.is_file()
    jvm = spark.sparkContext._jvm  # the Hadoop file system answers for any URI scheme
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # noqa: SLF001
    hadoop_path = jvm.org.apache.hadoop.fs.Path(location)  # type: ignore[union-attr]
    return bool(hadoop_path.getFileSystem(conf).exists(hadoop_path))


def _read(spark: SparkSession, base: str, name: str) -> tuple[DataFrame, str] | None:
    for location in (f"{base}/{name}", f"{base}/{name}.parquet"):
        if _exists(spark, location):
            return spark.read.parquet(location), location
    return None


def read_records(spark: SparkSession, input_location: str) -> dict[str, DataFrame]:
    """The canonical tables under ``INPUT/records`` (for the windowed signals)."""
    found: dict[str, DataFrame] = {}
    for name in RECORD_TABLES:
        read = _read(spark, f"{input_location.rstrip('/')}/{RECORDS}", name)
        if read is None:
            continue
        frame, location = read
        wanted = list(TABLES[name].schema)
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise InvalidInputError(f"{location}: missing column(s) {', '.join(missing)}")
        found[name] = frame.select(*wanted)
    return found


def read_table(spark: SparkSession, input_location: str, name: str) -> DataFrame | None:
    """The table's :data:`INPUT_COLUMNS` from ``INPUT/name/`` or ``INPUT/name.parquet``."""
    read = _read(spark, input_location.rstrip("/"), name)
    if read is None:
        return None
    frame, location = read
    wanted = INPUT_COLUMNS[name]
    if name == "user":
        if KEY not in frame.columns:
            raise InvalidInputError(f"{location}: missing column {KEY}")
        return frame.select(
            KEY,
            *(
                F.col(c) if c in frame.columns else F.lit(None).cast("double").alias(c)
                for c in wanted[1:]
            ),
        )
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"{location}: missing column(s) {', '.join(missing)}")
    return frame.select(*wanted)


def _write(frame: DataFrame, output_location: str, name: str) -> str:
    base = output_location.rstrip("/")
    final = f"{base}/{name}"
    if _is_uri(base):
        frame.write.mode("overwrite").parquet(final)
        return final
    Path(base).mkdir(parents=True, exist_ok=True)
    staging = Path(base) / f".{name}.{uuid.uuid4().hex}.tmp"
    frame.write.parquet(str(staging))
    replace_folder(staging, Path(final))
    return final


def run_spark_job(
    spark: SparkSession, input_location: str, output_location: str, scorer: NumberScorer
) -> SparkJobResult:
    """Features, graph features and scores of every number in the input.

    Writes ``features`` (``phone_no_m`` + 55), ``graph`` (``node`` + graph features),
    ``scores`` (``phone_no_m``, ``score``, ``flagged``, ``reasons``) and, when the input holds
    canonical records, ``signals`` (``msisdn`` + the windowed signals) under the output.
    """
    tables = {name: read_table(spark, input_location, name) for name in (*CONTEST_TABLES, "known")}
    present = {name: t for name, t in tables.items() if t is not None}
    if not any(name in present for name in CONTEST_TABLES):
        raise InvalidInputError(
            f"{input_location}: no contest table (voc/, sms/, app/ or user/ of Parquet files)"
        )
    result = SparkJobResult(input_rows={name: t.count() for name, t in present.items()})
    features = sichuan_features(
        present.get("voc"), present.get("sms"), present.get("app"), present.get("user")
    )
    features_at = _write(features, output_location, "features")
    if "voc" in present:
        graph = graph_features(voc_edges(present["voc"]), present.get("known"))
        graph_at = _write(graph, output_location, "graph")
        result.graph_nodes = spark.read.parquet(graph_at).count()
    # Score what was written rather than the plan that wrote it: Spark would recompute every
    # aggregate otherwise.
    written = spark.read.parquet(features_at)
    result.numbers = written.count()
    scores_at = _write(score_features(written, scorer), output_location, "scores")
    result.flagged = spark.read.parquet(scores_at).where(F.col("flagged")).count()
    records = read_records(spark, input_location)
    if "calls" in records:
        last = records["calls"].agg(F.max("start_at")).first()
        last_call = None if last is None or last[0] is None else last[0]
        if last_call is not None:
            # Spark hands back a naive datetime in the driver's local time zone
            last_call = last_call.astimezone(dt.UTC)
        signals = windowed_signals(
            records["calls"],
            signals_end(last_call),
            sms=records.get("sms"),
            usage=records.get("usage"),
            subscribers=records.get("subscribers"),
        )
        signals_at = _write(signals, output_location, "signals")
        result.signal_rows = spark.read.parquet(signals_at).count()
    return result
