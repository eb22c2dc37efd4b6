"""Canonical record types: schemas, record classes and the table registry agree."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from telewarden.core import records as r


@pytest.mark.parametrize("name", sorted(r.TABLES), ids=sorted(r.TABLES))
def test_record_type_fields_match_schema_columns(name: str) -> None:
    spec = r.TABLES[name]
    fields = [f.name for f in dataclasses.fields(spec.record_type)]
    assert fields == list(spec.schema)
    assert set(spec.required) <= set(spec.schema)
    assert spec.file == f"{name}.parquet"


@pytest.mark.parametrize("name", sorted(r.TABLES), ids=sorted(r.TABLES))
def test_every_timestamp_column_is_utc_and_named_at(name: str) -> None:
    for column, dtype in r.TABLES[name].schema.items():
        if isinstance(dtype, pl.Datetime):
            assert column.endswith("at"), column
            assert dtype.time_zone == "UTC"


def test_frame_from_records_keeps_schema_and_nulls() -> None:
    at = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    call = r.CallRecord(
        7, "+8613812345678", "95588", at, 4, 0, False, "no_answer", "on_net", "onnet"
    )
    frame = r.frame_from_records([call], r.CALLS_SCHEMA)
    assert frame.schema == pl.Schema(r.CALLS_SCHEMA)
    assert frame["imei"].null_count() == 1
    assert frame["start_at"][0] == at


def test_record_is_immutable() -> None:
    rec = r.OptInRecord("+8613812345678", r.OptInScope.BOTH, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.scope = "sms"  # type: ignore[misc]


def test_empty_frame_for_no_records() -> None:
    assert r.frame_from_records([], r.SMS_SCHEMA).schema == pl.Schema(r.SMS_SCHEMA)


def test_truth_tables_are_marked() -> None:
    assert set(r.TRUTH_TABLES) == {
        "truth_cards",
        "truth_events",
        "truth_victims",
        "truth_campaigns",
    }
