"""Benchmark: the batch job's 55 features and scoring on Spark (local mode) beside Polars.

Usage::

    uv run python bench/spark.py                  # 10M call records (several minutes)
    uv run python bench/spark.py --rows 2000000   # when 10M does not fit the time

The contest tables are those of ``bench/features.py`` (``generate``: ``R`` voc rows, 1.35 R
SMS, 0.3 R app rows, R / 50 numbers with a user row each), written once as Parquet. In the
same process, on the same files and the same two cores:

- ``polars``: ``telewarden.core.features.sichuan.sichuan_features`` (the embedded engine), then
  the shipped scorer's ``score_many`` over every number;
- ``spark``: ``telewarden.adapters.spark.features.sichuan_features`` written to Parquet in a
  ``local[2]`` session (session start-up not counted), then ``score_features`` over the written
  features (``mapInArrow``), written to Parquet.

Rates are voc rows per second for the features (as ``bench/features.py`` counts) and numbers
per second for scoring; per-core rates divide by the two cores both engines had. The Spark
features are checked against the Polars ones (keys equal, every value within 1e-9) and the
scores too, so a fast wrong engine cannot pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

THREADS = "2"
os.environ.setdefault("POLARS_MAX_THREADS", THREADS)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl  # noqa: E402

from features import generate  # noqa: E402  (bench/features.py, the table generator)
from telewarden.adapters.number_model import load_default_model  # noqa: E402
from telewarden.core.features.sichuan import FEATURE_NAMES, KEY, sichuan_features  # noqa: E402


def _close(a: pl.DataFrame, b: pl.DataFrame, columns: list[str]) -> str:
    a, b = a.sort(KEY), b.sort(KEY)
    if a[KEY].to_list() != b[KEY].to_list():
        raise SystemExit("spark and polars give different numbers")
    for column in columns:
        x, y = a[column].cast(pl.Float64).to_numpy(), b[column].cast(pl.Float64).to_numpy()
        same = np.isclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True)
        if not same.all():
            raise SystemExit(f"{column}: {int((~same).sum())} numbers differ beyond 1e-9")
    return f"{a.height:,} numbers x {len(columns)} columns agree within 1e-9"


def _line(name: str, rows: int, numbers: int, cores: int, feats_s: float, score_s: float) -> None:
    print(
        f"{name:6s} features {feats_s:8.1f} s {rows / feats_s:>10,.0f} voc rows/s "
        f"({rows / feats_s / cores:>9,.0f} per core) | scoring {score_s:7.1f} s "
        f"{numbers / score_s:>8,.0f} numbers/s ({numbers / score_s / cores:>7,.0f} per core)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="call records (voc rows)")
    args = parser.parse_args()
    rows = args.rows
    scorer = load_default_model()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        sizes = generate(rows, folder)
        total = sum(sizes.values())
        print(
            f"generated {', '.join(f'{n:,} {t}' for t, n in sizes.items())} rows "
            f"({total:,} in all) in {time.perf_counter() - started:.1f} s"
        )
        tables = {
            t: pl.scan_parquet(folder / f"{t}.parquet") for t in ("voc", "sms", "app", "user")
        }

        started = time.perf_counter()
        polars_features = sichuan_features(**tables).collect()
        polars_features_s = time.perf_counter() - started
        started = time.perf_counter()
        polars_scores = scorer.score_many(polars_features)
        polars_scoring_s = time.perf_counter() - started
        numbers = polars_features.height
        cores = int(THREADS)
        _line("polars", rows, numbers, cores, polars_features_s, polars_scoring_s)

        from telewarden.adapters.spark.features import sichuan_features as spark_features
        from telewarden.adapters.spark.job import read_table
        from telewarden.adapters.spark.scoring import score_features
        from telewarden.adapters.spark.session import spark_session

        spark = spark_session(f"local[{THREADS}]", "telewarden-bench", local_partitions=8)
        spark.sparkContext.setLogLevel("ERROR")
        frames = {t: read_table(spark, str(folder), t) for t in ("voc", "sms", "app", "user")}
        started = time.perf_counter()
        spark_features(**frames).write.parquet(str(folder / "spark-features"))
        spark_features_s = time.perf_counter() - started
        written = spark.read.parquet(str(folder / "spark-features"))
        started = time.perf_counter()
        score_features(written, scorer).write.parquet(str(folder / "spark-scores"))
        spark_scoring_s = time.perf_counter() - started
        spark.stop()

        on_spark = pl.read_parquet(folder / "spark-features" / "*.parquet")
        spark_scores = pl.read_parquet(folder / "spark-scores" / "*.parquet")
        print(f"features: {_close(polars_features, on_spark, list(FEATURE_NAMES))}")
        print(f"scores: {_close(polars_scores, spark_scores, ['score'])}")
        _line("spark", rows, numbers, cores, spark_features_s, spark_scoring_s)
        print(
            f"spark / polars time: features {spark_features_s / polars_features_s:.1f}x, "
            f"scoring {spark_scoring_s / polars_scoring_s:.1f}x"
        )


if __name__ == "__main__":
    main()
