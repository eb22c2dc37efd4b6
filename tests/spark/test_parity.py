"""Conformance of the Spark engine to the embedded one: same input, same features and scores.

Both engines run the whole batch job (``telewarden.services.batch.run_batch``) on the same
day-partitioned Parquet input: seeded random contest tables built to hit every NaN rule of
``shared/docs/sichuan-features.md``, and the tables of a small simulated carrier. Keys, counts,
distinct counts, modes, minima, maxima, ratios of counts and the ARPU statistics must be equal;
means, medians, variances, sums of decimals and scores within 1e-9 (relative above 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from telewarden.adapters.batch_tables import (
    prepare_from_records,
    read_output,
    write_contest_tables,
)
from telewarden.cli.batch import app as batch_app
from telewarden.core.features.sichuan import ARPU_COLUMNS, FEATURE_NAMES, KEY
from telewarden.services.batch import run_batch

TOLERANCE = 1e-9
APPROXIMATE = {
    c
    for c in FEATURE_NAMES
    if c.endswith(("_mean", "_median", "_var", "_sum")) or c == "flow_month"
} | {"score", "duration_cv", "gap_mean_s", "gap_cv", "data_mb", "card_age_days", "dormant_days"}
"""Columns computed by floating-point sums whose order differs between engines, and durations in
days (Polars may divide seconds by 86,400 as a product with the reciprocal: last-bit
differences); signals by their name without the window suffix."""


def _approximate(column: str) -> bool:
    base = column.rsplit("_", 1)[0] if column.endswith(("_1h", "_24h", "_7d")) else column
    return base in APPROXIMATE


def assert_parity(embedded: pl.DataFrame, spark: pl.DataFrame, key: str) -> None:
    """Equal keys and exact columns; approximate columns within :data:`TOLERANCE`."""
    embedded, spark = embedded.sort(key), spark.sort(key).select(embedded.columns)
    assert embedded[key].to_list() == spark[key].to_list(), "different keys"
    for column in embedded.columns:
        a, b = embedded[column], spark[column]
        if a.dtype.is_numeric() and b.dtype.is_numeric() and a.dtype != b.dtype:
            # the engines' integer widths differ (UInt32 counts in Polars, longs in Spark)
            a, b = a.cast(pl.Float64), b.cast(pl.Float64)
        if _approximate(column):
            x, y = a.cast(pl.Float64).to_numpy(), b.cast(pl.Float64).to_numpy()
            same_missing = np.isnan(x) == np.isnan(y)
            close = np.abs(x - y) <= TOLERANCE * np.maximum(1.0, np.abs(x))
            bad = ~(same_missing & (close | np.isnan(x)))
            assert not bad.any(), f"{column}: {x[bad][:3]} vs {y[bad][:3]}"
        else:
            # Polars writes a missing feature as null and Spark as null too; NaN is NaN in both
            assert a.equals(b, null_equal=True) or (
                a.dtype == pl.Float64
                and np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True)
                and (a.is_null() == b.is_null()).all()
            ), f"{column} differs: {a.head(5).to_list()} vs {b.head(5).to_list()}"


def test_the_parity_check_catches_a_difference() -> None:
    frame = pl.DataFrame({KEY: ["a", "b"], "opposite_count": [1.0, 2.0], "flow_mean": [1.0, 2.0]})
    assert_parity(frame, frame.reverse(), KEY)
    with pytest.raises(AssertionError, match="opposite_count"):
        assert_parity(frame, frame.with_columns(opposite_count=pl.Series([1.0, 3.0])), KEY)
    with pytest.raises(AssertionError, match="flow_mean"):
        assert_parity(frame, frame.with_columns(flow_mean=pl.Series([1.0, 2.0 + 1e-6])), KEY)
    with pytest.raises(AssertionError, match="opposite_count"):
        assert_parity(frame, frame.with_columns(opposite_count=pl.Series([1.0, None])), KEY)


def _stamps(rng: np.random.Generator, n: int) -> list[str | None]:
    seconds = rng.integers(0, 3 * 86_400, n)  # few day folders: each is a Spark task
    base = np.datetime64("2020-01-01T00:00:00")
    text: list[str | None] = [
        str(base + np.timedelta64(int(s), "s")).replace("T", " ") for s in seconds
    ]
    for i in rng.choice(n, n // 40, replace=False):
        text[i] = None if i % 2 else "2020-13-45 99:00:00"  # missing, and not a timestamp
    return text


def _maybe(rng: np.random.Generator, values: list[Any], missing: float) -> list[Any]:
    return [None if rng.random() < missing else v for v in values]


def random_tables(seed: int, prefix: str) -> dict[str, pl.DataFrame]:
    """Contest tables with the NaN rules' cases in them, by construction.

    Numbers ``{prefix}q*`` call only incoming and forwarded (no outgoing: NaN voccalltype1,
    imeis, ...), ``{prefix}r*`` only send SMS (NaN calltype_2), ``{prefix}z*`` have SMS without
    any counterpart (sms_rate infinite), ``{prefix}m*`` app rows without a month (flow_month
    NaN); some numbers have a user row only, some every ARPU month missing, some the same ARPU
    every month (skewness 0), and one call row has no number at all.
    """
    rng = np.random.default_rng(seed)
    plain = [f"{prefix}n{i:02d}" for i in range(30)]
    no_out = [f"{prefix}q{i}" for i in range(4)]
    pool = [f"{prefix}o{i:02d}" for i in range(25)] + plain[:10]
    n = 700
    phones = list(rng.choice(plain, n - 60)) + list(rng.choice(no_out, 60))
    calltype = list(rng.integers(1, 4, n - 60)) + list(rng.integers(2, 4, 60))
    voc = pl.DataFrame(
        {
            KEY: phones,
            "opposite_no_m": _maybe(rng, list(rng.choice(pool, n)), 0.05),
            "calltype_id": [int(c) for c in calltype],
            "start_datetime": _stamps(rng, n),
            "call_dur": _maybe(rng, [int(d) for d in rng.integers(0, 900, n)], 0.02),
            "city_name": _maybe(rng, list(rng.choice(["成都", "绵阳", "乐山"], n)), 0.05),
            "county_name": _maybe(
                rng, list(rng.choice(["武侯区", "涪城区", "市中区", "锦江区"], n)), 0.05
            ),
            "imei_m": _maybe(rng, list(rng.choice([f"i{i}" for i in range(12)], n)), 0.1),
        }
    )
    voc = pl.concat([voc, voc.head(1).with_columns(pl.lit(None, pl.String).alias(KEY))])
    sms_only_sent = [f"{prefix}r{i}" for i in range(3)]
    no_counterpart = [f"{prefix}z{i}" for i in range(2)]
    m = 900
    senders = list(rng.choice(plain[5:], m - 60)) + list(rng.choice(sms_only_sent, 40))
    senders += list(rng.choice(no_counterpart, 20))
    sms = pl.DataFrame(
        {
            KEY: senders,
            "opposite_no_m": [
                None if p.startswith(f"{prefix}z") else v
                for p, v in zip(senders, _maybe(rng, list(rng.choice(pool, m)), 0.05), strict=True)
            ],
            "calltype_id": [
                1 if p.startswith(f"{prefix}r") else int(c)
                for p, c in zip(senders, rng.integers(1, 3, m), strict=True)
            ],
            "request_datetime": _stamps(rng, m),
        }
    )
    no_month = [f"{prefix}m{i}" for i in range(2)]
    k = 400
    app_phones = list(rng.choice(plain[:25], k - 20)) + list(rng.choice(no_month, 20))
    app = pl.DataFrame(
        {
            KEY: app_phones,
            "busi_name": _maybe(rng, list(rng.choice([f"app{i}" for i in range(15)], k)), 0.02),
            "flow": _maybe(rng, [round(float(f), 3) for f in rng.exponential(40, k)], 0.02),
            "month_id": [
                None if p.startswith(f"{prefix}m") else v
                for p, v in zip(
                    app_phones, rng.choice(["2019-12", "2020-01", "2020-02"], k), strict=True
                )
            ],
        }
    ).with_columns(
        # a number whose flows are all equal: variance exactly 0 in both engines
        pl.when(pl.col(KEY) == plain[0]).then(12.345).otherwise(pl.col("flow")).alias("flow")
    )
    users = [*plain[::2], f"{prefix}u0", f"{prefix}u1", f"{prefix}u2"]
    arpu: dict[str, list[float | None]] = {}
    for month in ARPU_COLUMNS:
        arpu[month] = _maybe(rng, [round(float(v), 2) for v in rng.gamma(2, 30, len(users))], 0.3)
    user = pl.DataFrame({KEY: users, **arpu}).with_columns(
        *(
            pl.when(pl.col(KEY) == f"{prefix}u0")
            .then(None)
            .when(pl.col(KEY) == f"{prefix}u1")
            .then(58.3)
            .otherwise(pl.col(c))
            .alias(c)
            for c in ARPU_COLUMNS
        )
    )
    return {"voc": voc, "sms": sms, "app": app, "user": user}


def _combined_random_tables() -> dict[str, pl.DataFrame]:
    parts = [random_tables(seed, f"s{seed}") for seed in (1, 2, 3)]
    return {name: pl.concat([p[name] for p in parts]) for name in parts[0]}


def test_random_tables_hit_the_nan_rules(tmp_path: Path) -> None:
    """The generator's cases are real: the embedded engine shows each NaN rule on them."""
    write_contest_tables(_combined_random_tables(), tmp_path / "in")
    run_batch(tmp_path / "in", tmp_path / "out")
    features = read_output(tmp_path / "out", "features")
    row = {r[KEY]: r for r in features.iter_rows(named=True)}
    assert row["s1q0"]["opposite_count"] > 0 and row["s1q0"]["voccalltype1"] is None
    assert row["s1r0"]["sms_count"] > 0 and row["s1r0"]["calltype_rate"] is None
    assert row["s1z0"]["sms_nunique"] == 0 and row["s1z0"]["sms_rate"] == float("inf")
    assert row["s1m0"]["month_ids"] == 0 and row["s1m0"]["flow_month"] is None
    assert row["s1u0"]["arpu_mean"] is None and row["s1u0"]["arpu_sum"] == 0
    assert row["s1u1"]["arpu_skew"] == 0 and row["s1n00"]["flow_var"] == 0
    assert features[KEY].null_count() == 0


@pytest.mark.slow
def test_spark_engine_equals_the_embedded_engine_on_random_tables(
    spark: Any, tmp_path: Path
) -> None:
    tables = _combined_random_tables()
    write_contest_tables(tables, tmp_path / "in")
    known = pl.DataFrame({"node": ["s1o01", "s1o02", "s2n03", "s3o04"], "label": [1, 0, 1, 0]})
    known.write_parquet(tmp_path / "in" / "known.parquet")
    embedded = run_batch(tmp_path / "in", tmp_path / "polars")
    on_spark = run_batch(tmp_path / "in", tmp_path / "spark", engine="spark", master="local[2]")
    assert on_spark.input_rows == embedded.input_rows
    assert (on_spark.numbers, on_spark.graph_nodes, on_spark.flagged) == (
        embedded.numbers,
        embedded.graph_nodes,
        embedded.flagged,
    )
    for name, key in (("features", KEY), ("graph", "node"), ("scores", KEY)):
        assert_parity(
            read_output(tmp_path / "polars", name), read_output(tmp_path / "spark", name), key
        )


@pytest.mark.slow
def test_spark_engine_equals_the_embedded_engine_on_a_simulated_carrier(
    spark: Any, tmp_path: Path
) -> None:
    from telewarden.cli.sim import app as sim_app

    runner = CliRunner()
    sim = runner.invoke(
        sim_app,
        [
            "--preset",
            "tiny",
            "--hours",
            "12",
            "--subscribers",
            "600",
            "--out",
            str(tmp_path / "sim"),
        ],
    )
    assert sim.exit_code == 0, sim.output
    prepare_from_records(tmp_path / "sim", tmp_path / "in")
    assert any((tmp_path / "in" / "voc").glob("day=*"))  # partitioned by day
    embedded = run_batch(tmp_path / "in", tmp_path / "polars")
    # through the command, as an operator runs it
    result = runner.invoke(
        batch_app,
        ["run", "--engine", "spark", "--master", "local[2]", "--input", str(tmp_path / "in"),
         "--output", str(tmp_path / "spark")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{embedded.numbers:,} numbers" in result.output
    assert embedded.signal_rows > 0 and "signals" in embedded.outputs
    outputs = (("features", KEY), ("graph", "node"), ("scores", KEY), ("signals", "msisdn"))
    for name, key in outputs:
        assert_parity(
            read_output(tmp_path / "polars", name), read_output(tmp_path / "spark", name), key
        )
