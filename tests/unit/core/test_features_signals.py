"""Windowed signals over canonical records, against hand-worked traffic."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from telewarden.core.features.signals import SIGNAL_NAMES, signals, windowed_signals
from telewarden.core.records import CALLS_SCHEMA, SUBSCRIBERS_SCHEMA, USAGE_SCHEMA

T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
END = T0 + dt.timedelta(hours=1)


def _call(
    caller: str,
    callee: str,
    minutes: float,
    answered: bool = True,
    duration_s: int = 60,
    ring_s: int = 5,
    cell: str | None = "c1",
    imei: str | None = "i-a",
    imsi: str | None = "s-a",
    ingress: str = "on_net",
) -> dict[str, object]:
    return {
        "id": 0,
        "caller": caller,
        "callee": callee,
        "start_at": T0 + dt.timedelta(minutes=minutes),
        "ring_s": ring_s,
        "duration_s": duration_s if answered else 0,
        "answered": answered,
        "release_cause": "normal_clearing",
        "ingress": ingress,
        "trunk": "t",
        "cell_id": cell,
        "imei": imei,
        "imsi": imsi,
        "callee_cell_id": None,
        "attestation": None,
    }


def _calls(rows: list[dict[str, object]]) -> pl.LazyFrame:
    return pl.DataFrame(rows, schema=CALLS_SCHEMA).lazy()


ROWS = [
    # history (before the window): a and x spoke yesterday
    _call("x", "a", -24 * 60, imei="i-x", imsi="s-x"),
    # window: a calls x, y, z, y; y calls back
    _call("a", "x", 0, duration_s=5),  # answered, 5 s: short
    _call("a", "y", 10, answered=False, ring_s=30),
    _call("a", "z", 20, duration_s=700, cell="c2"),  # long
    _call("a", "y", 40, duration_s=15),
    _call("y", "a", 50, imei="i-y", imsi="s-y"),
    # a second SIM in a's handset
    _call("b", "q", 30, imei="i-a", imsi="s-b"),
    # international inbound to a, not answered
    _call(
        "+85512345678",
        "a",
        45,
        answered=False,
        cell=None,
        imei=None,
        imsi=None,
        ingress="international",
    ),
]


@pytest.fixture(scope="module")
def row_a() -> dict[str, object]:
    out = signals(_calls(ROWS), END, 3600).collect()
    return out.filter(pl.col("msisdn") == "a").row(0, named=True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("out_calls", 4),
        ("max_calls_10min", 1),  # 10:00, 10:10, 10:20, 10:40 fall in four buckets
        ("out_share", 4 / 6),  # 4 out, 2 in (y's callback, the international call)
        ("callee_ratio", 3 / 4),  # x, y, z over 4 attempts
        ("strangers_share", 2 / 3),  # x is known from yesterday; y, z are new
        ("callback_rate", 1 / 3),  # only y called back after being called
        ("answer_rate", 3 / 4),
        ("mean_ring_s", (5 + 30 + 5 + 5) / 4),
        ("mean_duration_s", (5 + 700 + 15) / 3),
        ("short_share", 1 / 3),
        ("long_share", 1 / 3),
        ("gap_mean_s", (600 + 600 + 1200) / 3),
        ("night_share", 0.0),
        ("active_hours", 1),
        ("cells", 2),
        ("top_cell_share", 3 / 4),
        ("imeis", 1),
        ("max_sims_on_imei", 2),  # s-a and s-b on i-a
        ("inbound_answered", 1),
        ("intl_in_calls", 1),
    ],
    ids=lambda v: str(v),
)
def test_signal_matches_hand_computation(
    row_a: dict[str, object], name: str, expected: float
) -> None:
    assert row_a[name] == pytest.approx(expected)


def test_card_without_earlier_calls_has_no_dormancy(row_a: dict[str, object]) -> None:
    assert row_a["dormant_days"] is None  # a only received a call before the window


def test_gap_regularity_is_the_coefficient_of_variation(row_a: dict[str, object]) -> None:
    gaps = [600.0, 600.0, 1200.0]
    mean = sum(gaps) / 3
    sd = (sum((g - mean) ** 2 for g in gaps) / 2) ** 0.5
    assert row_a["gap_cv"] == pytest.approx(sd / mean)


def test_records_after_the_window_end_are_never_read() -> None:
    late = [*ROWS, _call("a", "w", 61), _call("a", "w", 90)]
    out = signals(_calls(late), END, 3600).collect()
    assert out.filter(pl.col("msisdn") == "a")["out_calls"][0] == 4


def test_dormant_card_reports_days_since_its_last_call() -> None:
    rows = [_call("d", "x", -3 * 24 * 60, imsi="s-d"), _call("d", "y", 5, imsi="s-d")]
    out = signals(_calls(rows), END, 3600).collect().row(0, named=True)
    assert out["dormant_days"] == pytest.approx(3 + 5 / (24 * 60))


def test_subscriber_table_gives_age_and_cards_per_id_and_outlet() -> None:
    subs = (
        pl.DataFrame(
            {
                "msisdn": ["a", "b", "c"],
                "id_doc_hash": ["doc1", "doc1", "doc2"],
                "activated_at": [T0 - dt.timedelta(days=2)] * 2 + [T0 - dt.timedelta(days=900)],
                "sales_outlet": ["o1", "o1", "o1"],
            }
        )
        .with_columns(
            *(
                pl.lit(None, t).alias(c)
                for c, t in SUBSCRIBERS_SCHEMA.items()
                if c not in ("msisdn", "id_doc_hash", "activated_at", "sales_outlet")
            )
        )
        .select(list(SUBSCRIBERS_SCHEMA))
    )
    usage = pl.DataFrame(
        {"msisdn": ["a"], "start_at": [T0], "app": ["w"], "flow_mb": [2.5], "cell_id": ["c1"]},
        schema=USAGE_SCHEMA,
    )
    out = signals(_calls(ROWS), END, 3600, subscribers=subs.lazy(), usage=usage.lazy()).collect()
    a = out.filter(pl.col("msisdn") == "a").row(0, named=True)
    assert a["card_age_days"] == pytest.approx(2 + 1 / 24)
    assert (a["cards_per_id"], a["outlet_day_cards"], a["data_mb"]) == (2, 2, 2.5)


def test_standard_windows_suffix_every_signal() -> None:
    out = windowed_signals(_calls(ROWS), END).collect()
    assert out.width == 1 + 3 * len(SIGNAL_NAMES)
    a = out.filter(pl.col("msisdn") == "a").row(0, named=True)
    # the 24 h window reaches yesterday's call only at its boundary: still history
    assert (a["out_calls_1h"], a["out_calls_24h"], a["out_calls_7d"]) == (4, 4, 4)
    assert a["inbound_answered_7d"] == 2  # yesterday's call from x now falls inside
