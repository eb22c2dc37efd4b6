"""The nightly batch job: features, contact graph and scores of every number, on either engine.

``run_batch`` reads the contest tables of an input folder (Parquet partitioned by day, see
:mod:`telewarden.adapters.batch_tables`), computes the 55 Sichuan features, the contact-graph
features over the call table and the scores of the number scorer, and, when the input also
holds canonical records, the windowed signals (1 h / 24 h / 7 d, ending one second after the
last call); it writes ``features``, ``graph``, ``scores`` and ``signals`` Parquet folders under
the output. Two engines run the same feature
definitions (:mod:`telewarden.core.features.definitions`) and the same scorer:

- ``polars`` (default): embedded, one machine, no JVM;
- ``spark``: the same job as Spark transformations (``telewarden.adapters.spark``), in local
  mode or on a cluster (``master``); needs the ``spark`` extra and Java 17. ``pyspark`` is
  imported only inside :func:`run_batch` when this engine is chosen.

The two give equal counts, modes and keys, and means, variances and scores within 1e-9
(``tests/spark/test_parity.py``).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

from telewarden.adapters.batch_tables import (
    input_tables,
    scan_records,
    signals_end,
    voc_edges,
    write_output,
)
from telewarden.core.errors import ConfigurationError, InvalidInputError
from telewarden.core.features.graph import graph_features
from telewarden.core.features.sichuan import sichuan_features
from telewarden.core.features.signals import windowed_signals

if TYPE_CHECKING:
    from telewarden.core.models.number_scorer import NumberScorer

Engine = Literal["polars", "spark"]
ENGINES: tuple[str, ...] = ("polars", "spark")


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What a batch run read, wrote and how long it took."""

    engine: str
    input_rows: dict[str, int]
    numbers: int
    graph_nodes: int
    flagged: int
    seconds: float
    output: Path
    outputs: tuple[str, ...] = field(default=("features", "graph", "scores"))
    signal_rows: int = 0
    """Subscribers with windowed signals (0 without canonical records in the input)."""

    @property
    def rows_per_s(self) -> float:
        """Input rows (all tables) per second of the whole run."""
        return sum(self.input_rows.values()) / self.seconds if self.seconds else 0.0


def _load_scorer(model: Path | None) -> NumberScorer:
    # LightGBM loads with the model, not when `telewarden --help` imports this module.
    from telewarden.adapters.number_model import load_model

    return load_model(model)


def _run_polars(input_dir: Path, output: Path, scorer: NumberScorer) -> BatchReport:
    started = time.perf_counter()
    tables = input_tables(input_dir)
    rows = {name: int(t.select(pl.len()).collect().item()) for name, t in tables.items()}
    features = sichuan_features(
        tables.get("voc"), tables.get("sms"), tables.get("app"), tables.get("user")
    ).collect()
    write_output(features, output, "features")
    graph_nodes = 0
    outputs: tuple[str, ...] = ("features", "scores")
    if "voc" in tables:
        graph = graph_features(voc_edges(tables["voc"]), tables.get("known")).collect()
        write_output(graph.sort("node"), output, "graph")
        graph_nodes = graph.height
        outputs = ("features", "graph", "scores")
    scores = scorer.score_many(features)
    write_output(scores, output, "scores")
    records = scan_records(input_dir)
    signal_rows = 0
    if "calls" in records:
        signal_frame = _signals_polars(records)
        write_output(signal_frame, output, "signals")
        signal_rows = signal_frame.height
        outputs = (*outputs, "signals")
    return BatchReport(
        engine="polars",
        input_rows=rows,
        numbers=features.height,
        graph_nodes=graph_nodes,
        flagged=int(scores["flagged"].sum()),
        seconds=time.perf_counter() - started,
        output=output,
        outputs=outputs,
        signal_rows=signal_rows,
    )


def _signals_polars(records: dict[str, pl.LazyFrame]) -> pl.DataFrame:
    calls = records["calls"]
    last = calls.select(pl.col("start_at").max()).collect().item()
    return (
        windowed_signals(
            calls,
            signals_end(last if isinstance(last, dt.datetime) else None),
            sms=records.get("sms"),
            usage=records.get("usage"),
            subscribers=records.get("subscribers"),
        )
        .collect()
        .sort("msisdn")
    )


def _run_spark(
    input_location: str, output_location: str, scorer: NumberScorer, master: str | None
) -> BatchReport:
    try:
        from telewarden.adapters.spark.job import run_spark_job
        from telewarden.adapters.spark.session import spark_session
    except ImportError as exc:
        raise ConfigurationError(
            "the spark engine needs the spark extra: pip install 'telewarden[spark]' "
            f"(and a Java 17 runtime) [{exc}]"
        ) from exc
    started = time.perf_counter()
    try:
        spark = spark_session(master)
    except Exception as exc:  # the JVM failing to start surfaces as many kinds
        raise ConfigurationError(f"could not start Spark (master {master}): {exc}") from exc
    result = run_spark_job(spark, input_location, output_location, scorer)
    outputs = (
        ("features", "graph", "scores") if "voc" in result.input_rows else ("features", "scores")
    )
    return BatchReport(
        engine="spark",
        input_rows=result.input_rows,
        numbers=result.numbers,
        graph_nodes=result.graph_nodes,
        flagged=result.flagged,
        seconds=time.perf_counter() - started,
        output=Path(output_location),
        outputs=outputs,
        signal_rows=result.signal_rows,
    )


def run_batch(
    input_location: str | Path,
    output_location: str | Path,
    *,
    engine: str = "polars",
    master: str | None = None,
    model: Path | None = None,
    scorer: NumberScorer | None = None,
) -> BatchReport:
    """Run the batch job on ``engine`` and report what it did.

    Parameters
    ----------
    input_location, output_location : str or Path
        Input folder of contest tables; output folder (for Spark also a cluster URI).
    engine : str
        ``polars`` or ``spark``.
    master : str or None
        Spark master URL (``local[*]`` when None and the engine is Spark); ignored by Polars.
    model : Path or None
        Scorer file; the shipped model by default. ``scorer`` (an object) takes precedence.

    Raises
    ------
    InvalidInputError
        Unknown engine, no input folder or no contest table in it, a table missing a column.
    ConfigurationError
        The Spark engine without pyspark or Java.
    """
    if engine not in ENGINES:
        raise InvalidInputError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if engine == "polars":
        if "://" in str(input_location) or "://" in str(output_location):
            raise InvalidInputError("the polars engine reads and writes local folders only")
        input_tables(Path(input_location))  # bad input fails before the model loads
        chosen = scorer if scorer is not None else _load_scorer(model)
        return _run_polars(Path(input_location), Path(output_location), chosen)
    if "://" not in str(input_location) and not Path(input_location).is_dir():
        raise InvalidInputError(f"no such directory: {input_location}")
    chosen = scorer if scorer is not None else _load_scorer(model)
    return _run_spark(str(input_location), str(output_location), chosen, master or "local[*]")
