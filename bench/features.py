"""Benchmark: the 26 call (voc) features of the Sichuan set over synthetic call records.

Usage::

    uv run python bench/features.py            # 10M call records (run once: shared machine)
    uv run python bench/features.py --small    # 1M

Generates contest-schema ``voc`` rows with numpy (seeded), writes them to a temporary Parquet
file, then runs each engine in its own fresh subprocess so that peak memory is per engine:

- ``polars``: ``telewarden.core.features.sichuan.voc_features`` (what telewarden ships);
- ``duckdb``: the same aggregation as one hand-tuned DuckDB SQL query;
- ``pandas``: a straightforward pandas version (groupby / nunique / drop_duplicates).

Each reports the aggregation's wall time and CPU time (all threads; reading the Parquet file is
left out), rows/s and the peak resident memory the aggregation added. On a shared machine the
wall time mostly measures the neighbours, so the CPU-time ratios are the steadier figure. All engines get the same thread
budget (2, the machine's cores). The outputs are compared number by number: the run fails if
any feature differs beyond 1e-9 relative.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

THREADS = "2"

DUCKDB_SQL = """
WITH calls AS (
    SELECT phone_no_m, opposite_no_m, calltype_id, call_dur, city_name, county_name, imei_m,
           hour(start_datetime) AS h, day(start_datetime) AS d
    FROM voc
),
main AS (
    SELECT phone_no_m,
        count(*) AS opposite_count,
        count(DISTINCT opposite_no_m) AS opposite_unique,
        count(*) FILTER (WHERE calltype_id = 1) AS voccalltype1,
        count(DISTINCT imei_m) FILTER (WHERE calltype_id = 1) AS imeis,
        count(DISTINCT city_name) FILTER (WHERE calltype_id = 1) AS city_name_call,
        count(DISTINCT county_name) FILTER (WHERE calltype_id = 1) AS county_name_call,
        avg(call_dur) AS call_dur_mean, median(call_dur) AS call_dur_median,
        max(call_dur) AS call_dur_max, min(call_dur) AS call_dur_min,
        count(DISTINCT city_name) AS city_name_nunique,
        count(DISTINCT county_name) AS county_name_nunique,
        count(DISTINCT calltype_id) AS calltype_id_unique,
        count(DISTINCT h) AS voc_hour_nunique, count(DISTINCT d) AS voc_day_nunique
    FROM calls GROUP BY phone_no_m
),
pairs AS (
    SELECT phone_no_m, count(*) AS n, sum(call_dur) AS s
    FROM calls WHERE opposite_no_m IS NOT NULL GROUP BY phone_no_m, opposite_no_m
),
pair_stats AS (
    SELECT phone_no_m,
        avg(n) AS phone2opposite_mean, median(n) AS phone2opposite_median,
        max(n) AS phone2opposite_max,
        avg(s) AS phone2oppo_sum_mean, median(s) AS phone2oppo_sum_median,
        max(s) AS phone2oppo_sum_max
    FROM pairs GROUP BY phone_no_m
),
hours AS (
    SELECT phone_no_m, h, count(*) AS n FROM calls GROUP BY phone_no_m, h
),
hour_mode AS (
    -- most frequent hour, the smallest on a tie: maximise n * 100 - h
    SELECT phone_no_m, arg_max(h, n * 100 - h) AS voc_hour_mode, max(n) AS voc_hour_mode_count
    FROM hours GROUP BY phone_no_m
),
days AS (
    SELECT phone_no_m, d, count(*) AS n FROM calls GROUP BY phone_no_m, d
),
day_mode AS (
    SELECT phone_no_m, arg_max(d, n * 100 - d) AS voc_day_mode, max(n) AS voc_day_mode_count
    FROM days GROUP BY phone_no_m
)
SELECT m.phone_no_m,
    m.opposite_count, m.opposite_unique,
    nullif(m.voccalltype1, 0) AS voccalltype1,
    CASE WHEN m.voccalltype1 > 0 THEN m.imeis END AS imeis,
    CASE WHEN m.voccalltype1 > 0 THEN m.voccalltype1 / m.opposite_count END AS voc_calltype1,
    CASE WHEN m.voccalltype1 > 0 THEN m.city_name_call END AS city_name_call,
    CASE WHEN m.voccalltype1 > 0 THEN m.county_name_call END AS county_name_call,
    p.phone2opposite_mean, p.phone2opposite_median, p.phone2opposite_max,
    p.phone2oppo_sum_mean, p.phone2oppo_sum_median, p.phone2oppo_sum_max,
    m.call_dur_mean, m.call_dur_median, m.call_dur_max, m.call_dur_min,
    m.city_name_nunique, m.county_name_nunique, m.calltype_id_unique,
    hm.voc_hour_mode, hm.voc_hour_mode_count, m.voc_hour_nunique,
    dm.voc_day_mode, dm.voc_day_mode_count, m.voc_day_nunique
FROM main m
LEFT JOIN pair_stats p USING (phone_no_m)
LEFT JOIN hour_mode hm USING (phone_no_m)
LEFT JOIN day_mode dm USING (phone_no_m)
"""


def generate(rows: int, path: Path, seed: int = 5) -> None:
    """Write ``rows`` contest-schema voc rows to ``path`` (Parquet)."""
    import polars as pl

    rng = np.random.default_rng(seed)
    numbers = max(rows // 50, 10)
    # Heavy-tailed activity: a few numbers make many calls, as fraud cards and couriers do.
    weights = rng.pareto(1.5, numbers) + 1
    phone = rng.choice(numbers, size=rows, p=weights / weights.sum())
    opposite = rng.integers(0, rows // 5, size=rows)
    start = np.datetime64("2019-08-01T00:00:00") + rng.integers(0, 240 * 86_400, size=rows).astype(
        "timedelta64[s]"
    )
    imei = phone * 3 + rng.integers(0, 3, size=rows)
    frame = pl.DataFrame(
        {
            "phone_no_m": pl.Series(phone).cast(pl.String),
            "opposite_no_m": pl.Series(opposite).cast(pl.String),
            "calltype_id": rng.choice([1, 2, 3], size=rows, p=[0.55, 0.44, 0.01]),
            "start_datetime": pl.Series(start.astype("datetime64[us]")),
            "call_dur": rng.geometric(1 / 60, size=rows).astype(np.int64),
            "city_name": pl.Series(rng.integers(0, 20, size=rows)).cast(pl.String),
            "county_name": pl.Series(rng.integers(0, 180, size=rows)).cast(pl.String),
            "imei_m": pl.Series(imei).cast(pl.String),
        }
    )
    frame.write_parquet(path)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_engine(engine: str, path: Path, out: Path) -> None:
    """Child process: time one engine's aggregation and save its result."""
    if engine == "polars":
        import polars as pl

        from telewarden.core.features.sichuan import voc_features

        frame = pl.read_parquet(path)
        before = _peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        result = voc_features(frame.lazy()).collect()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        result.write_parquet(out)
    elif engine == "duckdb":
        import duckdb
        import pyarrow.parquet as pq

        con = duckdb.connect()
        con.execute(f"SET threads = {THREADS}")
        voc = pq.read_table(path)
        con.register("voc", voc)
        before = _peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        result_arrow = con.execute(DUCKDB_SQL).to_arrow_table()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        pq.write_table(result_arrow, out)
    elif engine == "pandas":
        import pandas as pd

        df = pd.read_parquet(path)
        before = _peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        result_pd = pandas_voc_features(df)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        result_pd.reset_index().to_parquet(out)
    else:
        raise SystemExit(f"unknown engine {engine}")
    peak = max(_peak_mb() - before, 0.0)
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "added_peak_mb": peak}))


def pandas_voc_features(df: object) -> object:
    """A straightforward pandas version of the 26 voc features."""
    import pandas as pd

    assert isinstance(df, pd.DataFrame)
    df = df.assign(h=df.start_datetime.dt.hour, d=df.start_datetime.dt.day)
    g = df.groupby("phone_no_m")
    out = pd.DataFrame(
        {
            "opposite_count": g.size(),
            "opposite_unique": g.opposite_no_m.nunique(),
            "call_dur_mean": g.call_dur.mean(),
            "call_dur_median": g.call_dur.median(),
            "call_dur_max": g.call_dur.max(),
            "call_dur_min": g.call_dur.min(),
            "city_name_nunique": g.city_name.nunique(),
            "county_name_nunique": g.county_name.nunique(),
            "calltype_id_unique": g.calltype_id.nunique(),
            "voc_hour_nunique": g.h.nunique(),
            "voc_day_nunique": g.d.nunique(),
        }
    )
    go = df[df.calltype_id == 1].groupby("phone_no_m")
    out["voccalltype1"] = go.size()
    out["imeis"] = go.imei_m.nunique()
    out["city_name_call"] = go.city_name.nunique()
    out["county_name_call"] = go.county_name.nunique()
    out["voc_calltype1"] = out.voccalltype1 / out.opposite_count
    pairs = df.groupby(["phone_no_m", "opposite_no_m"]).call_dur.agg(["size", "sum"])
    pg = pairs.groupby(level=0)
    out["phone2opposite_mean"] = pg["size"].mean()
    out["phone2opposite_median"] = pg["size"].median()
    out["phone2opposite_max"] = pg["size"].max()
    out["phone2oppo_sum_mean"] = pg["sum"].mean()
    out["phone2oppo_sum_median"] = pg["sum"].median()
    out["phone2oppo_sum_max"] = pg["sum"].max()
    for col, name in (("h", "voc_hour"), ("d", "voc_day")):
        counts = df.groupby(["phone_no_m", col]).size().rename("n").reset_index()
        counts = counts.sort_values(["phone_no_m", "n", col], ascending=[True, False, True])
        mode = counts.drop_duplicates("phone_no_m").set_index("phone_no_m")
        out[f"{name}_mode"] = mode[col]
        out[f"{name}_mode_count"] = mode["n"]
    return out


def _compare(paths: dict[str, Path]) -> str:
    import polars as pl

    from telewarden.core.features.sichuan import KEY, VOC_FEATURES

    frames = {
        name: pl.read_parquet(p)
        .select(KEY, *(pl.col(c).cast(pl.Float64) for c in VOC_FEATURES))
        .sort(KEY)
        for name, p in paths.items()
    }
    ref = frames.pop("polars")
    for name, frame in frames.items():
        if frame[KEY].to_list() != ref[KEY].to_list():
            raise SystemExit(f"{name}: different numbers than polars")
        for col in VOC_FEATURES:
            a, b = ref[col].to_numpy(), frame[col].to_numpy()
            if not np.allclose(a, b, rtol=1e-9, equal_nan=True):
                raise SystemExit(f"{name}: column {col} differs from polars")
    return f"outputs agree ({ref.height:,} numbers x 26 features, engines: polars, {', '.join(frames)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--small", action="store_true", help="1M rows instead of 10M")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        _run_engine(args.engine, args.input, args.output)
        return
    rows = args.rows or (1_000_000 if args.small else 10_000_000)
    env = dict(os.environ, POLARS_MAX_THREADS=THREADS, OMP_NUM_THREADS=THREADS)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "voc.parquet"
        started = time.perf_counter()
        generate(rows, data)
        print(f"generated {rows:,} voc rows in {time.perf_counter() - started:.1f} s")
        results: dict[str, dict[str, float]] = {}
        outputs: dict[str, Path] = {}
        for engine in ("polars", "duckdb", "pandas"):
            outputs[engine] = Path(tmp) / f"{engine}.parquet"
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--engine",
                    engine,
                    "--input",
                    str(data),
                    "--output",
                    str(outputs[engine]),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if proc.returncode != 0:
                raise SystemExit(f"{engine} failed:\n{proc.stderr}")
            results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
            r = results[engine]
            print(
                f"{engine:7s} wall {r['seconds']:7.2f} s {rows / r['seconds']:>11,.0f} rows/s | "
                f"cpu {r['cpu_seconds']:7.2f} s {rows / r['cpu_seconds']:>11,.0f} rows/cpu-s | "
                f"peak +{r['added_peak_mb']:,.0f} MB"
            )
        print(_compare(outputs))
        for kind in ("seconds", "cpu_seconds"):
            pol, duck, pdn = (results[e][kind] for e in ("polars", "duckdb", "pandas"))
            label = "wall" if kind == "seconds" else "cpu"
            print(
                f"{label}: polars / duckdb {pol / duck:.2f} (goal <= 1.5); "
                f"pandas / polars {pdn / pol:.2f} (goal >= 5)"
            )


if __name__ == "__main__":
    main()
