"""Early warning end to end on a small simulated day: both paths agree, and the figures hold."""

from __future__ import annotations

import polars as pl
import pytest

from telewarden.core.records import CallRecord, SmsRecord
from telewarden.services.warning import (
    EarlyWarning,
    _simulate,
    build_engine,
    detector_flags,
    evaluate_tables,
    replay,
)


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return _simulate("tiny", 3, None)  # tuning used seeds 1 and 7


def test_the_live_path_record_by_record_gives_the_batch_path_warnings(
    tables: dict[str, pl.DataFrame],
) -> None:
    calls, subscribers = tables["calls"], tables["subscribers"]
    flags = detector_flags(calls, subscribers)
    sms = tables["sms"].head(0)  # calls only: SMS intelligence is covered below
    batch = EarlyWarning(build_engine(subscribers))
    replay(batch, calls, sms, flags)

    live = EarlyWarning(build_engine(subscribers))
    known = calls.with_columns(
        (
            pl.col("start_at")
            + pl.duration(
                seconds=pl.col("ring_s")
                + pl.when(pl.col("answered")).then(pl.col("duration_s")).otherwise(0)
            )
        ).alias("known_at")
    )
    events: list[tuple[object, int, int, CallRecord | SmsRecord | object]] = [
        (f.at, 0, i, f) for i, f in enumerate(sorted(flags, key=lambda f: f.at))
    ]
    for i, row in enumerate(known.iter_rows(named=True)):
        at = row.pop("known_at")
        events.append((at, 1, i, CallRecord(**row)))
    ordered = sorted(events, key=lambda e: (e[0], e[1], e[2]))  # type: ignore[arg-type, return-value]
    for _at, kind, _i, item in ordered:
        if kind == 0:
            live.on_flag(item)  # type: ignore[arg-type]
        else:
            live.on_record(item)  # type: ignore[arg-type]
    assert batch.warnings, "the small day should produce warnings"
    assert [w.as_dict() for w in live.warnings] == [w.as_dict() for w in batch.warnings]


def test_on_a_small_unseen_day_victims_are_warned_in_time_and_nobody_wrongly(
    tables: dict[str, pl.DataFrame],
) -> None:
    evaluation, n_flags = evaluate_tables(tables)
    assert n_flags > 0
    assert evaluation.victims_with_loss > 0
    assert evaluation.warned_never_exposed == 0
    assert evaluation.duplicates_per_campaign == 0
    assert evaluation.warned_not_fraud == 0
    assert evaluation.share_warned_before_loss >= 0.6
    assert evaluation.median_lead_minutes is not None and evaluation.median_lead_minutes >= 5
    wangiri = next(k for k in evaluation.by_kind if k.kind == "wangiri")
    assert wangiri.warned_before_loss == wangiri.victims_with_loss
