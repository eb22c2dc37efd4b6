"""Benchmark: the 55 Sichuan features over synthetic contest tables (voc, sms, app, user).

Usage::

    uv run python bench/features.py            # 10M call records (run once: shared machine)
    uv run python bench/features.py --small    # 1M

Generates the contest's four raw tables with numpy (seeded), in the column names and types the
contest's CSV files give when read with type inference (``TABLE_COLUMNS`` of
``telewarden.core.features.sichuan``): numbers, counterparts and IMEIs as 64-digit hex hashes
(sha256 width, as the contest and ``SichuanMapper(salt=...)`` write them), ``calltype_id`` and
``call_dur`` as integers, timestamps as ``YYYY-mm-dd HH:MM:SS`` text, ``flow`` and ``arpu_*``
as floats, ``month_id`` as ``YYYY-MM`` text, city, county and app names as Chinese text.
Sizes for ``R`` call records (``R`` = 10M, or 1M with ``--small``):

- ``user``: one row per number, ``R / 50`` numbers (200,000 at 10M); every number has a user
  row, as in the contest, where the user table defines the population. Months before a card's
  activation are missing (20 % of cards are activated inside the eight months), 3 % of rows
  have every month missing (the published file: 133 of 4,867), 30 % of cards pay the same
  ARPU every month (skewness 0 in pandas' convention);
- ``voc``: ``R`` rows over 98.8 % of the numbers (the published file: 60 of 4,867 numbers have
  no calls), heavy-tailed per number (50 on average), 2M distinct counterparts per 10M rows,
  0.1 % of rows without a counterpart;
- ``sms``: ``1.35 R`` rows over 99 % of the numbers: the published file's total SMS count is
  1.35 times its total call count;
- ``app``: ``0.3 R`` rows (number, app, month, MB) over 90 % of the numbers (the published
  file: 633 of 6,106 numbers without app rows), 800 app names, eight months, 1 % of ``flow``
  and of ``busi_name`` missing.

So a 10M run aggregates 26.5M rows in all; rows/s below counts the call (voc) rows only.
The tables are written to temporary Parquet files, then each engine runs in its own fresh
subprocess so that peak memory is per engine:

- ``polars``: ``telewarden.core.features.sichuan.sichuan_features`` (what telewarden ships);
- ``duckdb``: the same 55 features as one hand-tuned DuckDB SQL query;
- ``pandas``: a straightforward pandas version (groupby / nunique / drop_duplicates, row-wise
  statistics over the ARPU months).

Each reports the aggregation's wall time and CPU time (all threads; reading the Parquet files
is left out), rows/s and the peak resident memory the aggregation added. On a shared machine
the wall time mostly measures the neighbours, so the CPU-time ratios are the steadier figure.
All engines get the same thread budget (2, the machine's cores). The outputs are compared
number by number for all 55 features: the run fails if any feature differs beyond 1e-9
relative.
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
from typing import Any

import numpy as np

THREADS = "2"
TABLES = ("voc", "sms", "app", "user")
SMS_PER_CALL = 1.35
APP_PER_CALL = 0.3
CALLS_PER_NUMBER = 50
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

DUCKDB_SQL = """
WITH calls AS (
    SELECT phone_no_m, opposite_no_m, calltype_id, call_dur::DOUBLE AS call_dur,
           city_name, county_name, imei_m, hour(ts) AS h, day(ts) AS d
    FROM (SELECT *, try_strptime(start_datetime, '%Y-%m-%d %H:%M:%S') AS ts FROM voc)
),
voc_main AS (
    SELECT phone_no_m,
        count(*) AS opposite_count,
        count(*) FILTER (WHERE calltype_id = 1) AS voccalltype1,
        count(DISTINCT imei_m) FILTER (WHERE calltype_id = 1) AS imeis,
        count(DISTINCT city_name) FILTER (WHERE calltype_id = 1) AS city_name_call,
        count(DISTINCT county_name) FILTER (WHERE calltype_id = 1) AS county_name_call,
        avg(call_dur) AS call_dur_mean, median(call_dur) AS call_dur_median,
        max(call_dur) AS call_dur_max, min(call_dur) AS call_dur_min,
        count(DISTINCT city_name) AS city_name_nunique,
        count(DISTINCT county_name) AS county_name_nunique,
        count(DISTINCT calltype_id) AS calltype_id_unique
    FROM calls GROUP BY phone_no_m
),
pairs AS (
    SELECT phone_no_m, count(*) AS n, sum(call_dur) AS s
    FROM calls WHERE opposite_no_m IS NOT NULL GROUP BY phone_no_m, opposite_no_m
),
pair_stats AS (
    -- the pairs also give the distinct counterparts, cheaper than a count(DISTINCT)
    SELECT phone_no_m, count(*) AS opposite_unique,
        avg(n) AS phone2opposite_mean, median(n) AS phone2opposite_median,
        max(n) AS phone2opposite_max,
        avg(s) AS phone2oppo_sum_mean, median(s) AS phone2oppo_sum_median,
        max(s) AS phone2oppo_sum_max
    FROM pairs GROUP BY phone_no_m
),
-- a mode is the most frequent value, the smallest on a tie: maximise n * 100 - value
voc_hour AS (
    SELECT phone_no_m, arg_max(h, n * 100 - h) AS voc_hour_mode,
           max(n) AS voc_hour_mode_count, count(*) AS voc_hour_nunique
    FROM (SELECT phone_no_m, h, count(*) AS n FROM calls WHERE h IS NOT NULL GROUP BY ALL)
    GROUP BY phone_no_m
),
voc_day AS (
    SELECT phone_no_m, arg_max(d, n * 100 - d) AS voc_day_mode,
           max(n) AS voc_day_mode_count, count(*) AS voc_day_nunique
    FROM (SELECT phone_no_m, d, count(*) AS n FROM calls WHERE d IS NOT NULL GROUP BY ALL)
    GROUP BY phone_no_m
),
voc_f AS (
    SELECT m.phone_no_m,
        m.opposite_count, coalesce(p.opposite_unique, 0) AS opposite_unique,
        nullif(m.voccalltype1, 0) AS voccalltype1,
        CASE WHEN m.voccalltype1 > 0 THEN m.imeis END AS imeis,
        CASE WHEN m.voccalltype1 > 0 THEN m.voccalltype1 / m.opposite_count END AS voc_calltype1,
        CASE WHEN m.voccalltype1 > 0 THEN m.city_name_call END AS city_name_call,
        CASE WHEN m.voccalltype1 > 0 THEN m.county_name_call END AS county_name_call,
        p.phone2opposite_mean, p.phone2opposite_median, p.phone2opposite_max,
        p.phone2oppo_sum_mean, p.phone2oppo_sum_median, p.phone2oppo_sum_max,
        m.call_dur_mean, m.call_dur_median, m.call_dur_max, m.call_dur_min,
        m.city_name_nunique, m.county_name_nunique, m.calltype_id_unique,
        hm.voc_hour_mode, hm.voc_hour_mode_count, hm.voc_hour_nunique,
        dm.voc_day_mode, dm.voc_day_mode_count, dm.voc_day_nunique
    FROM voc_main m
    LEFT JOIN pair_stats p USING (phone_no_m)
    LEFT JOIN voc_hour hm USING (phone_no_m)
    LEFT JOIN voc_day dm USING (phone_no_m)
),
texts AS (
    SELECT phone_no_m, opposite_no_m, calltype_id, hour(ts) AS h, day(ts) AS d
    FROM (SELECT *, try_strptime(request_datetime, '%Y-%m-%d %H:%M:%S') AS ts FROM sms)
),
sms_main AS (
    SELECT phone_no_m, count(*) AS sms_count, count(DISTINCT opposite_no_m) AS sms_nunique,
           count(*) FILTER (WHERE calltype_id = 2) AS calltype_2
    FROM texts GROUP BY phone_no_m
),
sms_hour AS (
    SELECT phone_no_m, arg_max(h, n * 100 - h) AS hour_mode,
           max(n) AS hour_mode_count, count(*) AS hour_nunique
    FROM (SELECT phone_no_m, h, count(*) AS n FROM texts WHERE h IS NOT NULL GROUP BY ALL)
    GROUP BY phone_no_m
),
sms_day AS (
    SELECT phone_no_m, arg_max(d, n * 100 - d) AS day_mode,
           max(n) AS day_mode_count, count(*) AS day_nunique
    FROM (SELECT phone_no_m, d, count(*) AS n FROM texts WHERE d IS NOT NULL GROUP BY ALL)
    GROUP BY phone_no_m
),
sms_f AS (
    SELECT m.phone_no_m, m.sms_count, m.sms_nunique, m.sms_count / m.sms_nunique AS sms_rate,
        nullif(m.calltype_2, 0) AS calltype_2,
        CASE WHEN m.calltype_2 > 0 THEN m.calltype_2 / m.sms_count END AS calltype_rate,
        h.hour_mode, h.hour_mode_count, h.hour_nunique,
        d.day_mode, d.day_mode_count, d.day_nunique
    FROM sms_main m LEFT JOIN sms_hour h USING (phone_no_m) LEFT JOIN sms_day d USING (phone_no_m)
),
app_f AS (
    SELECT phone_no_m, count(DISTINCT busi_name) AS busi_count,
        avg(flow) AS flow_mean, median(flow) AS flow_median,
        min(flow) AS flow_min, max(flow) AS flow_max, var_samp(flow) AS flow_var,
        coalesce(sum(flow), 0) AS flow_sum, count(DISTINCT month_id) AS month_ids,
        coalesce(sum(flow), 0) / nullif(count(DISTINCT month_id), 0) AS flow_month
    FROM app GROUP BY phone_no_m
),
arpu AS (
    SELECT phone_no_m, l, len(l)::DOUBLE AS n, list_avg(l) AS mean, list_var_samp(l) AS var
    FROM (
        SELECT phone_no_m, list_filter(
            [arpu_201908, arpu_201909, arpu_201910, arpu_201911,
             arpu_201912, arpu_202001, arpu_202002, arpu_202003], lambda x: x IS NOT NULL) AS l
        FROM users
    )
),
moments AS (
    SELECT *, list_sum(list_transform(l, lambda x: (x - mean) ^ 2)) AS m2,
        list_sum(list_transform(l, lambda x: (x - mean) ^ 3)) AS m3
    FROM arpu
),
user_f AS (
    SELECT phone_no_m, mean AS arpu_mean, var AS arpu_var,
        list_max(l) AS arpu_max, list_min(l) AS arpu_min, list_median(l) AS arpu_median,
        coalesce(list_sum(l), 0) AS arpu_sum,
        -- pandas: bias-corrected, null under three values, 0 for a (numerically) constant row
        CASE WHEN n < 3 THEN NULL WHEN abs(m2) < 1e-14 THEN 0
             ELSE n * sqrt(n - 1) / (n - 2) * m3 / pow(m2, 1.5) END AS arpu_skew,
        sqrt(var) / sqrt(n) AS arpu_sem, list_median(l) AS arpu_quantile
    FROM moments
),
numbers AS (
    SELECT phone_no_m FROM voc_f UNION SELECT phone_no_m FROM sms_f
    UNION SELECT phone_no_m FROM app_f UNION SELECT phone_no_m FROM user_f
)
SELECT * FROM numbers
LEFT JOIN voc_f USING (phone_no_m) LEFT JOIN sms_f USING (phone_no_m)
LEFT JOIN app_f USING (phone_no_m) LEFT JOIN user_f USING (phone_no_m)
ORDER BY phone_no_m
"""


def _hex_ids(rng: np.random.Generator, n: int, width: int = 64) -> Any:
    """``n`` random lowercase hex strings of ``width`` digits (a Polars Series)."""
    import polars as pl
    import pyarrow as pa

    digits = rng.integers(0, 16, size=(n, width), dtype=np.uint8)
    ascii_codes = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[digits]
    return pl.from_arrow(pa.array(ascii_codes.view(f"S{width}").ravel()).cast(pa.string()))


def _names(prefix: str, n: int) -> Any:
    import polars as pl

    return pl.Series([f"{prefix}{i:03d}" for i in range(n)])


def _stamps(rng: np.random.Generator, rows: int) -> Any:
    """Contest timestamps as text, uniform over 2019-08-01 .. 2020-03-31 (244 days)."""
    import polars as pl

    seconds = rng.integers(0, 244 * 86_400, size=rows).astype("timedelta64[s]")
    start = np.datetime64("2019-08-01T00:00:00") + seconds
    return pl.Series(start.astype("datetime64[us]")).dt.strftime(TIMESTAMP_FORMAT)


def _pick(rng: np.random.Generator, weights: np.ndarray, rows: int) -> np.ndarray:
    return rng.choice(len(weights), size=rows, p=weights / weights.sum())


def generate(rows: int, folder: Path, seed: int = 5) -> dict[str, int]:
    """Write the four contest tables for ``rows`` call records to ``folder/<table>.parquet``."""
    import polars as pl

    from telewarden.core.features.sichuan import ARPU_COLUMNS, TABLE_COLUMNS

    rng = np.random.default_rng(seed)
    numbers = max(rows // CALLS_PER_NUMBER, 10)
    counterparts = max(rows // 5, 10)
    number_ids = _hex_ids(rng, numbers)
    counterpart_ids = _hex_ids(rng, counterparts)
    imei_ids = _hex_ids(rng, numbers * 3)
    cities, counties, apps = _names("城市", 21), _names("区县", 183), _names("应用", 800)

    # Heavy-tailed activity: a few numbers make many calls, as fraud cards and couriers do.
    voc_weights = (rng.pareto(1.5, numbers) + 1) * (rng.random(numbers) >= 0.012)
    phone = _pick(rng, voc_weights, rows)
    opposite = pl.Series(rng.integers(0, counterparts, size=rows))
    opposite = opposite.set(pl.Series(rng.random(rows) < 0.001), None)
    voc = pl.DataFrame(
        {
            "phone_no_m": number_ids.gather(phone),
            "opposite_no_m": counterpart_ids.gather(opposite),
            "calltype_id": rng.choice([1, 2, 3], size=rows, p=[0.55, 0.44, 0.01]),
            "start_datetime": _stamps(rng, rows),
            "call_dur": rng.geometric(1 / 60, size=rows).astype(np.int64),
            "city_name": cities.gather(rng.integers(0, len(cities), size=rows)),
            "county_name": counties.gather(rng.integers(0, len(counties), size=rows)),
            "imei_m": imei_ids.gather(phone * 3 + rng.integers(0, 3, size=rows)),
        }
    )

    sms_rows = int(rows * SMS_PER_CALL)
    sms_weights = (rng.pareto(1.5, numbers) + 1) * (rng.random(numbers) >= 0.01)
    sms = pl.DataFrame(
        {
            "phone_no_m": number_ids.gather(_pick(rng, sms_weights, sms_rows)),
            "opposite_no_m": counterpart_ids.gather(rng.integers(0, counterparts, size=sms_rows)),
            "calltype_id": rng.choice([1, 2], size=sms_rows, p=[0.35, 0.65]),
            "request_datetime": _stamps(rng, sms_rows),
        }
    )

    app_rows = int(rows * APP_PER_CALL)
    app_weights = (rng.pareto(3.0, numbers) + 1) * (rng.random(numbers) >= 0.10)
    popularity = 1 / np.arange(1, len(apps) + 1)  # Zipf: a few apps carry most rows
    flow = pl.Series(np.round(rng.lognormal(1.5, 2.0, size=app_rows), 3))
    busi = apps.gather(_pick(rng, popularity, app_rows))
    month_ids = pl.Series([f"{c[5:9]}-{c[9:]}" for c in ARPU_COLUMNS])  # arpu_201908 -> 2019-08
    app = pl.DataFrame(
        {
            "phone_no_m": number_ids.gather(_pick(rng, app_weights, app_rows)),
            "busi_name": busi.set(pl.Series(rng.random(app_rows) < 0.01), None),
            "flow": flow.set(pl.Series(rng.random(app_rows) < 0.01), None),
            "month_id": month_ids.gather(rng.integers(0, len(month_ids), size=app_rows)),
        }
    )

    # ARPU in yuan with cents; a card activated in month k has no ARPU before it.
    months = len(ARPU_COLUMNS)
    base = np.round(rng.lognormal(3.8, 0.8, size=numbers), 2)
    arpu = np.round(base[:, None] * rng.lognormal(0, 0.3, size=(numbers, months)), 2)
    flat = rng.random(numbers) < 0.30
    arpu[flat] = base[flat, None]
    first = np.where(rng.random(numbers) < 0.20, rng.integers(1, months, size=numbers), 0)
    arpu[np.arange(months)[None, :] < first[:, None]] = np.nan
    arpu[rng.random(numbers) < 0.03] = np.nan
    user = pl.DataFrame(
        {
            "phone_no_m": number_ids,
            "city_name": cities.gather(rng.integers(0, len(cities), size=numbers)),
            "county_name": counties.gather(rng.integers(0, len(counties), size=numbers)),
            "idcard_cnt": rng.integers(1, 6, size=numbers),
            **{c: pl.Series(arpu[:, k]).fill_nan(None) for k, c in enumerate(ARPU_COLUMNS)},
        }
    )
    sizes = {}
    for name, frame in (("voc", voc), ("sms", sms), ("app", app), ("user", user)):
        assert set(TABLE_COLUMNS[name]) <= set(frame.columns), name
        frame.write_parquet(folder / f"{name}.parquet")
        sizes[name] = frame.height
    return sizes


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_engine(engine: str, folder: Path, out: Path) -> None:
    """Child process: time one engine's aggregation and save its result."""
    paths = {t: folder / f"{t}.parquet" for t in TABLES}
    if engine == "polars":
        import polars as pl

        from telewarden.core.features.sichuan import sichuan_features

        frames = {t: pl.read_parquet(p) for t, p in paths.items()}
        before = _peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        result = sichuan_features(*(frames[t].lazy() for t in TABLES)).collect()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        result.write_parquet(out)
    elif engine == "duckdb":
        import duckdb
        import pyarrow.parquet as pq

        con = duckdb.connect()
        con.execute(f"SET threads = {THREADS}")
        arrow = {t: pq.read_table(p) for t, p in paths.items()}
        for t in TABLES:
            # "user" is an SQL keyword
            con.register("users" if t == "user" else t, arrow[t])
        before = _peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        result_arrow = con.execute(DUCKDB_SQL).to_arrow_table()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        pq.write_table(result_arrow, out)
    elif engine == "pandas":
        import pandas as pd

        dfs = {t: pd.read_parquet(p) for t, p in paths.items()}
        before = _peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        result_pd = pandas_features(dfs["voc"], dfs["sms"], dfs["app"], dfs["user"])
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        result_pd.rename_axis("phone_no_m").reset_index().to_parquet(out)
    else:
        raise SystemExit(f"unknown engine {engine}")
    peak = max(_peak_mb() - before, 0.0)
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "added_peak_mb": peak}))


def _pandas_mode(df: Any, column: str, name: str) -> Any:
    """Most frequent value per number (smallest on a tie), its count and the distinct count."""
    counts = df.groupby(["phone_no_m", column]).size().rename("n").reset_index()
    counts = counts.sort_values(["phone_no_m", "n", column], ascending=[True, False, True])
    mode = counts.drop_duplicates("phone_no_m").set_index("phone_no_m")
    return mode[column].rename(f"{name}_mode"), mode["n"].rename(f"{name}_mode_count")


def pandas_voc_features(voc: Any) -> Any:
    """A straightforward pandas version of the 26 voc features."""
    import pandas as pd

    at = pd.to_datetime(voc.start_datetime, format=TIMESTAMP_FORMAT, errors="coerce")
    df = voc.assign(h=at.dt.hour, d=at.dt.day)
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
        mode, count = _pandas_mode(df, col, name)
        out[mode.name], out[count.name] = mode, count
    return out


def pandas_sms_features(sms: Any) -> Any:
    """A straightforward pandas version of the 11 SMS features."""
    import pandas as pd

    at = pd.to_datetime(sms.request_datetime, format=TIMESTAMP_FORMAT, errors="coerce")
    df = sms.assign(h=at.dt.hour, d=at.dt.day)
    g = df.groupby("phone_no_m")
    out = pd.DataFrame(
        {
            "sms_count": g.size(),
            "sms_nunique": g.opposite_no_m.nunique(),
            "hour_nunique": g.h.nunique(),
            "day_nunique": g.d.nunique(),
        }
    )
    out["sms_rate"] = out.sms_count / out.sms_nunique
    out["calltype_2"] = df[df.calltype_id == 2].groupby("phone_no_m").size()
    out["calltype_rate"] = out.calltype_2 / out.sms_count
    for col, name in (("h", "hour"), ("d", "day")):
        mode, count = _pandas_mode(df, col, name)
        out[mode.name], out[count.name] = mode, count
    return out


def pandas_app_features(app: Any) -> Any:
    """A straightforward pandas version of the 9 app features."""
    g = app.groupby("phone_no_m")
    out = g.flow.agg(["mean", "median", "min", "max", "var", "sum"]).add_prefix("flow_")
    out["busi_count"] = g.busi_name.nunique()
    out["month_ids"] = g.month_id.nunique()
    out["flow_month"] = out.flow_sum / out.month_ids
    return out


def pandas_user_features(user: Any) -> Any:
    """A straightforward pandas version of the 9 ARPU features (row-wise over the months)."""
    import pandas as pd

    from telewarden.core.features.sichuan import ARPU_COLUMNS

    arpu = user.set_index("phone_no_m")[list(ARPU_COLUMNS)].astype(float)
    high, low = arpu.max(axis=1), arpu.min(axis=1)
    # pandas 3 calls a constant row's skewness NaN; the published file (older pandas) has 0
    constant = (high == low) & (arpu.count(axis=1) >= 3)
    return pd.DataFrame(
        {
            "arpu_mean": arpu.mean(axis=1),
            "arpu_var": arpu.var(axis=1),
            "arpu_max": high,
            "arpu_min": low,
            "arpu_median": arpu.median(axis=1),
            "arpu_sum": arpu.sum(axis=1),
            "arpu_skew": arpu.skew(axis=1).mask(constant, 0.0),
            "arpu_sem": arpu.sem(axis=1),
            "arpu_quantile": arpu.quantile(0.5, axis=1),
        }
    )


def pandas_features(voc: Any, sms: Any, app: Any, user: Any) -> Any:
    """The 55 features per number: the four tables' features, outer-joined on the number."""
    import pandas as pd

    from telewarden.core.features.sichuan import FEATURE_NAMES

    parts = [
        pandas_voc_features(voc),
        pandas_sms_features(sms),
        pandas_app_features(app),
        pandas_user_features(user),
    ]
    return pd.concat(parts, axis=1, join="outer")[list(FEATURE_NAMES)].sort_index()


def _compare(paths: dict[str, Path]) -> str:
    import polars as pl

    from telewarden.core.features.sichuan import FEATURE_NAMES, KEY

    frames = {
        name: pl.read_parquet(p)
        .select(KEY, *(pl.col(c).cast(pl.Float64) for c in FEATURE_NAMES))
        .sort(KEY)
        for name, p in paths.items()
    }
    ref = frames.pop("polars")
    for name, frame in frames.items():
        if frame[KEY].to_list() != ref[KEY].to_list():
            raise SystemExit(f"{name}: different numbers than polars")
        for col in FEATURE_NAMES:
            a, b = ref[col].to_numpy(), frame[col].to_numpy()
            if not np.allclose(a, b, rtol=1e-9, equal_nan=True):
                bad = ~np.isclose(a, b, rtol=1e-9, equal_nan=True)
                raise SystemExit(
                    f"{name}: column {col} differs from polars in {bad.sum()} numbers, "
                    f"e.g. {ref[KEY].filter(pl.Series(bad))[0]}: {a[bad][0]} vs {b[bad][0]}"
                )
    return (
        f"outputs agree ({ref.height:,} numbers x {len(FEATURE_NAMES)} features, "
        f"engines: polars, {', '.join(frames)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--small", action="store_true", help="1M call records instead of 10M")
    parser.add_argument("--rows", type=int, default=None, help="call records (voc rows)")
    parser.add_argument(
        "--engines", default="polars,duckdb,pandas", help="comma-separated; polars is required"
    )
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        _run_engine(args.engine, args.input, args.output)
        return
    rows = args.rows or (1_000_000 if args.small else 10_000_000)
    engines = args.engines.split(",")
    env = dict(os.environ, POLARS_MAX_THREADS=THREADS, OMP_NUM_THREADS=THREADS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        sizes = generate(rows, folder)
        print(
            f"generated {', '.join(f'{n:,} {t}' for t, n in sizes.items())} rows "
            f"({sum(sizes.values()):,} in all) in {time.perf_counter() - started:.1f} s"
        )
        results: dict[str, dict[str, float]] = {}
        outputs: dict[str, Path] = {}
        for engine in engines:
            outputs[engine] = folder / f"out-{engine}.parquet"
            command = [sys.executable, __file__, "--engine", engine]
            command += ["--input", str(folder), "--output", str(outputs[engine])]
            proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"{engine} failed:\n{proc.stderr}")
            results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
            r = results[engine]
            print(
                f"{engine:7s} wall {r['seconds']:7.2f} s {rows / r['seconds']:>10,.0f} voc rows/s | "
                f"cpu {r['cpu_seconds']:7.2f} s {rows / r['cpu_seconds']:>11,.0f} rows/cpu-s | "
                f"peak +{r['added_peak_mb']:,.0f} MB"
            )
        print(_compare(outputs))
        for kind in ("seconds", "cpu_seconds"):
            label = "wall" if kind == "seconds" else "cpu"
            ratios = []
            if "duckdb" in results:
                ratio = results["polars"][kind] / results["duckdb"][kind]
                ratios.append(f"polars / duckdb {ratio:.2f} (goal <= 1.5)")
            if "pandas" in results:
                ratio = results["pandas"][kind] / results["polars"][kind]
                ratios.append(f"pandas / polars {ratio:.2f} (goal >= 5)")
            print(f"{label}: {'; '.join(ratios)}")


if __name__ == "__main__":
    main()
