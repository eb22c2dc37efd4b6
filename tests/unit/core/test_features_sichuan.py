"""The 55 Sichuan features against tables whose expected values were worked out by hand.

Each expected figure below is derived in the comment beside it from the rows of the tiny
tables, never by calling the feature code.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from telewarden.core.features.sichuan import (
    ARPU_COLUMNS,
    FEATURE_NAMES,
    KEY,
    SichuanAccumulator,
    align_to_published,
    sichuan_features,
    sms_features,
)

NAN = None  # Polars renders a missing feature as null; the CSV writer leaves it empty.

VOC = pl.LazyFrame(
    {
        "phone_no_m": ["A", "A", "A", "A", "A", "B"],
        "opposite_no_m": ["X", "X", "Y", "Z", "X", "W"],
        "calltype_id": [1, 1, 2, 1, 2, 2],
        "start_datetime": [
            "2020-01-03 08:15:00",
            "2020-01-03 09:00:00",
            "2020-01-04 08:30:00",
            "2020-01-04 09:45:00",
            "2020-01-05 21:00:00",
            "2020-02-29 23:59:59",
        ],
        "call_dur": [10, 20, 30, 100, 40, 0],
        "city_name": ["c1", "c1", "c2", "c1", "c2", "c3"],
        "county_name": ["k1", "k2", "k3", "k1", "k3", "k4"],
        "imei_m": ["i1", "i2", "i3", "i1", None, "i9"],
    }
)
SMS = pl.LazyFrame(
    {
        "phone_no_m": ["A", "A", "A", "A", "C"],
        "opposite_no_m": ["P", "P", "Q", "R", "S"],
        "calltype_id": [1, 2, 1, 2, 1],
        "request_datetime": [
            "2020-01-03 10:00:00",
            "2020-01-03 10:30:00",
            "2020-01-07 22:00:00",
            "2020-01-07 22:05:00",
            "2020-03-01 00:00:00",
        ],
    }
)
APP = pl.LazyFrame(
    {
        "phone_no_m": ["A", "A", "A", "A"],
        "busi_name": ["w", "w", "q", None],
        "flow": [1.0, 3.0, 8.0, 0.0],
        "month_id": ["2020-01", "2020-02", "2020-02", "2020-03"],
    }
)


def _user() -> pl.LazyFrame:
    rows: dict[str, list[object]] = {"phone_no_m": ["A", "B", "C", "D"]}
    a = [10.0, 20.0, 60.0, None, None, None, None, None]
    b = [5.0] * 8
    c = [None, None, None, None, None, None, None, 7.0]
    d = [None] * 8
    for i, col in enumerate(ARPU_COLUMNS):
        rows[col] = [a[i], b[i], c[i], d[i]]
    return pl.LazyFrame(
        rows, schema={"phone_no_m": pl.String, **dict.fromkeys(ARPU_COLUMNS, pl.Float64)}
    )


@pytest.fixture(scope="module")
def features() -> dict[str, dict[str, float | None]]:
    out = sichuan_features(VOC, SMS, APP, _user()).collect()
    return {row["phone_no_m"]: row for row in out.iter_rows(named=True)}


EXPECTED_A = {
    "opposite_count": 5.0,  # five call rows
    "opposite_unique": 3.0,  # X, Y, Z
    "voccalltype1": 3.0,  # rows 1, 2, 4 are outgoing
    "imeis": 2.0,  # i1, i2 among outgoing calls (i3 is on an incoming call)
    "voc_calltype1": 0.6,  # 3 / 5
    "city_name_call": 1.0,  # only c1 on outgoing calls
    "county_name_call": 2.0,  # k1, k2 on outgoing calls
    "phone2opposite_mean": 5 / 3,  # calls per counterpart X 3, Y 1, Z 1
    "phone2opposite_median": 1.0,
    "phone2opposite_max": 3.0,
    "phone2oppo_sum_mean": 200 / 3,  # seconds per counterpart X 70, Y 30, Z 100
    "phone2oppo_sum_median": 70.0,
    "phone2oppo_sum_max": 100.0,
    "call_dur_mean": 40.0,  # (10 + 20 + 30 + 100 + 40) / 5
    "call_dur_median": 30.0,
    "call_dur_max": 100.0,
    "call_dur_min": 10.0,
    "city_name_nunique": 2.0,
    "county_name_nunique": 3.0,
    "calltype_id_unique": 2.0,
    "voc_hour_mode": 8.0,  # hours 8, 9, 8, 9, 21: tie of 8 and 9, the smaller wins
    "voc_hour_mode_count": 2.0,
    "voc_hour_nunique": 3.0,
    "voc_day_mode": 3.0,  # days 3, 3, 4, 4, 5: tie, the smaller wins
    "voc_day_mode_count": 2.0,
    "voc_day_nunique": 3.0,
    "sms_count": 4.0,
    "sms_nunique": 3.0,  # P, Q, R
    "sms_rate": 4 / 3,
    "calltype_2": 2.0,  # two received
    "calltype_rate": 0.5,
    "hour_mode": 10.0,  # hours 10, 10, 22, 22: tie, the smaller wins
    "hour_mode_count": 2.0,
    "hour_nunique": 2.0,
    "day_mode": 3.0,  # days 3, 3, 7, 7
    "day_mode_count": 2.0,
    "day_nunique": 2.0,
    "busi_count": 2.0,  # w, q; the unnamed row is not a business
    "flow_mean": 3.0,  # (1 + 3 + 8 + 0) / 4
    "flow_median": 2.0,  # sorted 0, 1, 3, 8: (1 + 3) / 2
    "flow_min": 0.0,
    "flow_max": 8.0,
    "flow_var": 38 / 3,  # squared deviations 4 + 0 + 25 + 9 = 38, over n - 1 = 3
    "flow_sum": 12.0,
    "month_ids": 3.0,
    "flow_month": 4.0,  # 12 / 3
    "arpu_mean": 30.0,  # months 10, 20, 60; five missing
    "arpu_var": 700.0,  # (400 + 100 + 900) / 2
    "arpu_max": 60.0,
    "arpu_min": 10.0,
    "arpu_median": 20.0,
    "arpu_sum": 90.0,
    # m2 = 1400, m3 = -8000 - 1000 + 27000 = 18000; n sqrt(n-1)/(n-2) m3 / m2^1.5
    "arpu_skew": 3 * math.sqrt(2) * 18000 / 1400**1.5,
    "arpu_sem": math.sqrt(700 / 3),
    "arpu_quantile": 20.0,
}


def _check(row: dict[str, float | None], expected: dict[str, float | None]) -> None:
    for name, want in expected.items():
        got = row[name]
        if want is None:
            assert got is None or math.isnan(got), f"{name}: want missing, got {got}"
        else:
            assert got == pytest.approx(want, rel=1e-12), f"{name}: want {want}, got {got}"


def test_columns_are_the_55_in_published_order(
    features: dict[str, dict[str, float | None]],
) -> None:
    assert len(FEATURE_NAMES) == 55
    assert list(next(iter(features.values()))) == ["phone_no_m", *FEATURE_NAMES]
    assert set(EXPECTED_A) == set(FEATURE_NAMES)


def test_every_feature_of_a_busy_number_matches_the_hand_computation(
    features: dict[str, dict[str, float | None]],
) -> None:
    _check(features["A"], EXPECTED_A)


def test_number_with_only_incoming_calls_has_missing_outgoing_features(
    features: dict[str, dict[str, float | None]],
) -> None:
    _check(
        features["B"],
        {
            "opposite_count": 1.0,
            "voccalltype1": NAN,  # no outgoing call: missing, never 0
            "imeis": NAN,
            "voc_calltype1": NAN,
            "city_name_call": NAN,
            "county_name_call": NAN,
            "phone2oppo_sum_max": 0.0,
            "voc_hour_mode": 23.0,
            "voc_day_mode": 29.0,
            "sms_count": NAN,  # no SMS rows at all
            "busi_count": NAN,  # no app rows at all
            "arpu_var": 0.0,  # eight equal months
            "arpu_skew": 0.0,  # constant series: the published file (pandas < 3) says 0
            "arpu_sem": 0.0,
            "arpu_sum": 40.0,
        },
    )


def test_number_with_no_received_sms_has_missing_received_features(
    features: dict[str, dict[str, float | None]],
) -> None:
    _check(
        features["C"],
        {
            "opposite_count": NAN,  # no calls at all
            "sms_count": 1.0,
            "sms_rate": 1.0,
            "calltype_2": NAN,
            "calltype_rate": NAN,
            "hour_mode": 0.0,
            "day_mode": 1.0,
            "arpu_mean": 7.0,  # a single month
            "arpu_var": NAN,  # ddof = 1 over one value
            "arpu_skew": NAN,  # fewer than three values
            "arpu_sem": NAN,
        },
    )


def test_number_with_every_month_missing_sums_arpu_to_zero(
    features: dict[str, dict[str, float | None]],
) -> None:
    _check(features["D"], {"arpu_mean": NAN, "arpu_median": NAN, "arpu_sum": 0.0})


def test_calls_and_sms_without_counterparts_count_zero_distinct_counterparts() -> None:
    voc = (
        VOC.collect()
        .head(2)
        .with_columns(
            pl.lit("E").alias("phone_no_m"), pl.lit(None, pl.String).alias("opposite_no_m")
        )
    )
    sms = (
        SMS.collect()
        .head(1)
        .with_columns(
            pl.lit("E").alias("phone_no_m"), pl.lit(None, pl.String).alias("opposite_no_m")
        )
    )
    out = sichuan_features(voc=voc.lazy(), sms=sms.lazy()).collect().row(0, named=True)
    # distinct counts skip missing values, as pandas' nunique does: 0, not missing
    _check(out, {"opposite_count": 2.0, "opposite_unique": 0.0, "sms_nunique": 0.0})
    # no (number, counterpart) pair: the per-counterpart statistics are missing
    _check(out, {"phone2opposite_mean": NAN, "phone2oppo_sum_max": NAN})
    assert out["sms_rate"] == math.inf  # 1 SMS / 0 counterparts, as pandas divides


def test_distinct_counterparts_stay_with_their_number() -> None:
    # Numbers are grouped by categorical code in several branches of one query; on Polars
    # before 1.32 the branches could code them differently and swap A's and B's counts.
    sms = pl.LazyFrame(
        {
            "phone_no_m": ["A", "B", "B"],
            "opposite_no_m": [None, "x", "y"],
            "calltype_id": [1, 1, 1],
            "request_datetime": [
                "2020-01-01 01:00:00",
                "2020-01-02 02:00:00",
                "2020-01-02 02:00:00",
            ],
        }
    )
    out = sms_features(sms).collect().sort(KEY)
    assert out.select(KEY, "sms_count", "sms_nunique").rows() == [("A", 1, 0), ("B", 2, 2)]


def test_modes_weigh_the_count_before_the_value_at_the_ends_of_the_range() -> None:
    stamps = ["2020-01-31 23:00:00", "2020-01-31 23:30:00", "2020-01-01 00:00:00"]
    voc = (
        VOC.collect()
        .head(3)
        .with_columns(pl.lit("G").alias("phone_no_m"), pl.Series("start_datetime", stamps))
    )
    out = sichuan_features(voc=voc.lazy()).collect().row(0, named=True)
    # hours 23, 23, 0 and days 31, 31, 1: the value seen twice wins over the smaller one
    _check(out, {"voc_hour_mode": 23.0, "voc_hour_mode_count": 2.0, "voc_hour_nunique": 2.0})
    _check(out, {"voc_day_mode": 31.0, "voc_day_mode_count": 2.0, "voc_day_nunique": 2.0})


def test_rows_without_a_number_give_no_row() -> None:
    sms = SMS.collect().with_columns(
        pl.when(pl.col("phone_no_m") == "C")
        .then(None)
        .otherwise(pl.col("phone_no_m"))
        .alias("phone_no_m")
    )
    out = sichuan_features(voc=VOC, sms=sms.lazy()).collect()
    assert out["phone_no_m"].to_list() == ["A", "B"]


def test_arpu_given_as_text_with_missing_markers_is_read() -> None:
    rows: dict[str, list[object]] = {"phone_no_m": ["E"]}
    for i, col in enumerate(ARPU_COLUMNS):
        rows[col] = ["\\N" if i else "12.5"]
    out = sichuan_features(user=pl.LazyFrame(rows)).collect().row(0, named=True)
    _check(out, {"arpu_mean": 12.5, "arpu_sum": 12.5, "arpu_var": NAN})


def test_mode_ties_break_to_the_smallest_value_whatever_the_row_order() -> None:
    voc = VOC.reverse()
    out = sichuan_features(voc=voc).collect().row(0, named=True)
    assert out["phone_no_m"] == "A"
    assert (out["voc_hour_mode"], out["voc_day_mode"]) == (8.0, 3.0)


def test_alignment_fills_app_features_like_the_published_file(
    features: dict[str, dict[str, float | None]],
) -> None:
    aligned = align_to_published(sichuan_features(VOC, SMS, APP, _user())).collect()
    row_b = aligned.filter(pl.col("phone_no_m") == "B").row(0, named=True)
    row_a = aligned.filter(pl.col("phone_no_m") == "A").row(0, named=True)
    _check(row_b, {"busi_count": 0.0, "flow_sum": 0.0, "month_ids": 0.0, "flow_var": NAN})
    _check(row_a, {k: EXPECTED_A[k] for k in ("busi_count", "flow_sum", "flow_var")})


def test_incremental_batches_give_the_batch_features() -> None:
    voc, sms, app, user = (t.collect() for t in (VOC, SMS, APP, _user()))
    acc = SichuanAccumulator()
    acc.update(voc=voc.head(2), user=user)
    refreshed = acc.update(voc=voc.slice(2), sms=sms.head(1))
    # the second batch touched A (calls, SMS) and B (a call), not C or D
    assert refreshed["phone_no_m"].to_list() == ["A", "B"]
    acc.update(sms=sms.slice(1), app=app)
    batch = sichuan_features(VOC, SMS, APP, _user()).collect()
    assert acc.features().equals(batch)
    _check(refreshed.row(0, named=True), {"opposite_count": 5.0, "sms_count": 1.0})


@pytest.mark.data
def test_feature_order_matches_the_published_header(shared_data: Path) -> None:
    header = (shared_data / "sichuan" / "features.csv").read_text().split("\n", 1)[0]
    assert header.split(",")[2:-1] == list(FEATURE_NAMES)
