"""The live loop's per-day partial aggregates give exactly the batch Sichuan features."""

from __future__ import annotations

import datetime as dt
import pickle
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from telewarden.core.errors import InvalidInputError
from telewarden.core.features.partials import FeaturePartials
from telewarden.core.features.sichuan import KEY, SMS_FEATURES, VOC_FEATURES, sichuan_features

_START = dt.datetime(2026, 2, 20, 0, 0)
_FMT = "%Y-%m-%d %H:%M:%S"


def _rows(seed: int, n_voc: int, n_sms: int, days: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Contest rows with the awkward cases: missing counterparts, handsets and places, repeated
    durations (even and odd counts for the medians), ties for the modes, several days."""
    rng = random.Random(seed)
    numbers = [f"n{i}" for i in range(25)]
    others = [f"o{i}" for i in range(12)] + numbers[:5]

    def when() -> str:
        return (_START + dt.timedelta(seconds=rng.randrange(days * 86_400))).strftime(_FMT)

    voc = pl.DataFrame(
        {
            "phone_no_m": [rng.choice(numbers) for _ in range(n_voc)],
            "opposite_no_m": [rng.choice([*others, None]) for _ in range(n_voc)],
            "calltype_id": [rng.choice([1, 1, 2, 3]) for _ in range(n_voc)],
            "start_datetime": [when() for _ in range(n_voc)],
            "call_dur": [rng.choice([0, 5, 5, 30, 61, 200, None]) for _ in range(n_voc)],
            "city_name": [rng.choice(["成都", "绵阳", None]) for _ in range(n_voc)],
            "county_name": [rng.choice(["武侯区", "青羊区", "涪城区", None]) for _ in range(n_voc)],
            "imei_m": [rng.choice(["i1", "i2", "i3", None]) for _ in range(n_voc)],
        },
        schema_overrides={"call_dur": pl.Int64},
    )
    sms = pl.DataFrame(
        {
            "phone_no_m": [rng.choice(numbers) for _ in range(n_sms)],
            "opposite_no_m": [rng.choice([*others, None]) for _ in range(n_sms)],
            "calltype_id": [rng.choice([1, 2, 2]) for _ in range(n_sms)],
            "request_datetime": [when() for _ in range(n_sms)],
        }
    )
    return voc.sort("start_datetime"), sms.sort("request_datetime")


def _in_window(frame: pl.DataFrame, column: str, since: dt.date | None) -> pl.LazyFrame:
    day = pl.col(column).str.to_datetime(_FMT).dt.date()
    return frame.lazy().filter(day >= since) if since is not None else frame.lazy()


def _batch_features(voc: pl.DataFrame, sms: pl.DataFrame, since: dt.date | None) -> pl.DataFrame:
    out = sichuan_features(
        _in_window(voc, "start_datetime", since), _in_window(sms, "request_datetime", since)
    ).collect()
    return out.select(KEY, *VOC_FEATURES, *SMS_FEATURES)


def _fed(voc: pl.DataFrame, sms: pl.DataFrame, window: int, rng: random.Random) -> FeaturePartials:
    """The rows in random batches (time order kept), compacted at random moments."""
    partials = FeaturePartials(window)
    i = j = 0
    while i < voc.height or j < sms.height:
        a, b = rng.randint(0, 90), rng.randint(0, 60)
        partials.add(voc=voc.slice(i, a), sms=sms.slice(j, b))
        i, j = i + a, j + b
        if rng.random() < 0.3:
            partials.compact()
        elif rng.random() < 0.3:
            partials.tidy(fan_in=3)
    return partials


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("window", [1, 3, 30])
def test_partials_equal_the_batch_features_over_the_window(seed: int, window: int) -> None:
    voc, sms = _rows(seed, 700, 400, days=6)
    partials = _fed(voc, sms, window, random.Random(seed))
    want = _batch_features(voc, sms, partials.window_start())
    assert_frame_equal(partials.features(), want, check_exact=True)
    some = want[KEY].to_list()[::3]
    assert_frame_equal(
        partials.features(some), want.filter(pl.col(KEY).is_in(some)), check_exact=True
    )


def test_days_that_left_the_window_are_dropped_at_compaction() -> None:
    voc, sms = _rows(1, 2_000, 1_000, days=10)
    partials = _fed(voc, sms, 30, random.Random(1))
    partials.compact()
    held_month = partials.held_rows()
    short = _fed(voc, sms, 2, random.Random(1))
    short.compact()
    assert short.window_start() == dt.date(2026, 2, 28)
    assert short.held_rows() < held_month / 3
    assert short.history_days() == 10


def test_a_checkpointed_partials_carries_on_as_if_never_stopped() -> None:
    voc, sms = _rows(2, 800, 500, days=4)
    whole = FeaturePartials(2)
    whole.add(voc=voc, sms=sms)
    first = FeaturePartials(2)
    first.add(voc=voc.head(300), sms=sms.head(200))
    resumed = FeaturePartials(2)
    resumed.restore(pickle.loads(pickle.dumps(first.state())))
    resumed.add(voc=voc.slice(300), sms=sms.slice(200))
    assert_frame_equal(resumed.features(), whole.features(), check_exact=True)
    with pytest.raises(ValueError, match="cover 2 days"):
        FeaturePartials(30).restore(first.state())


def test_zoned_times_count_as_the_local_wall_clock_and_bad_times_are_refused() -> None:
    voc, _ = _rows(3, 50, 0, days=2)
    zoned = voc.with_columns(
        pl.col("start_datetime").str.to_datetime(_FMT).dt.replace_time_zone("Asia/Shanghai")
    )
    as_text, as_zoned = FeaturePartials(), FeaturePartials()
    as_text.add(voc=voc)
    as_zoned.add(voc=zoned)
    assert_frame_equal(as_text.features(), as_zoned.features(), check_exact=True)
    broken = voc.with_columns(pl.lit("yesterday").alias("start_datetime"))
    with pytest.raises(InvalidInputError, match="not a YYYY-mm-dd HH:MM:SS time"):
        FeaturePartials().add(voc=broken)
