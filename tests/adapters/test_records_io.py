"""Reading and writing canonical tables: round trips, streaming, quarantine of bad rows."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from telewarden.adapters.records_io import (
    SichuanWriter,
    TableWriter,
    iter_table,
    read_dir,
    read_table,
    write_table,
)
from telewarden.core import records as r
from telewarden.core.errors import InvalidInputError
from telewarden.core.sichuan import (
    APP_COLUMNS,
    SMS_COLUMNS,
    USER_COLUMNS,
    VOC_COLUMNS,
    SichuanMapper,
)
from telewarden.core.sim import Simulation, default_campaigns, preset

AT = dt.datetime(2026, 3, 2, 1, 30, 5, 250, tzinfo=dt.UTC)
CALLS = r.frame_from_records(
    [
        r.CallRecord(1, "+8613800000001", "95588", AT, 4, 75, True, "normal_clearing", "on_net",
                     "onnet", "c1", "353280110000001", "460000000000001"),
        r.CallRecord(2, "+85291234567", "+8613800000001", AT, 30, 0, False, "no_answer",
                     "international", "intl-gw-1", None, None, None, "c1", None),
    ],
    r.CALLS_SCHEMA,
)  # fmt: skip


@pytest.mark.parametrize("fmt", ["parquet", "csv"], ids=["parquet", "csv"])
def test_round_trip_keeps_every_value(tmp_path: Path, fmt: str) -> None:
    path = write_table(CALLS, tmp_path, "calls", fmt)  # type: ignore[arg-type]
    result = read_table(path)
    assert result.frame.equals(CALLS)
    assert (result.read, result.accepted, result.quarantine.height) == (2, 2, 0)


def test_writer_streams_chunks_into_one_file(tmp_path: Path) -> None:
    with TableWriter(tmp_path) as writer:
        for _ in range(3):
            writer.write("calls", CALLS)
        writer.write("sms", r.empty_frame(r.SMS_SCHEMA))
    assert writer.counts == {"calls": 6, "sms": 0}
    assert read_table(tmp_path / "calls.parquet").accepted == 6
    assert read_table(tmp_path / "sms.parquet").frame.schema == pl.Schema(r.SMS_SCHEMA)


def test_writer_rejects_a_frame_with_the_wrong_schema(tmp_path: Path) -> None:
    with TableWriter(tmp_path) as writer, pytest.raises(InvalidInputError, match="schema"):
        writer.write("calls", CALLS.drop("attestation"))


def test_malformed_csv_rows_are_quarantined_with_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    CALLS.write_csv(path)
    lines = path.read_text().splitlines()
    header, good = lines[0], lines[1]
    bad_time = good.replace("2026-03-02T01:30:05.000250+0000", "yesterday")
    bad_ingress = good.replace("on_net", "carrier_pigeon")
    no_caller = good.replace("+8613800000001", "", 1)
    bad_duration = good.replace(",75,", ",long,")
    path.write_text("\n".join([header, good, bad_time, bad_ingress, no_caller, bad_duration]))
    result = read_table(path)
    assert result.read == result.accepted + result.quarantine.height == 5
    reasons = dict(result.quarantine.iter_rows())
    assert set(reasons) == {3, 4, 5, 6}
    assert reasons[3].startswith("start_at: cannot parse yesterday")
    assert "unknown value carrier_pigeon" in reasons[4]
    assert reasons[5] == "caller: required but empty"
    assert reasons[6].startswith("duration_s: cannot parse long")
    assert [e.line for e in result.errors] == [3, 4, 5, 6]


@pytest.mark.parametrize("fmt", ["parquet", "csv"], ids=["parquet", "csv"])
def test_batched_reading_reconciles_and_keeps_file_line_numbers(tmp_path: Path, fmt: str) -> None:
    bad = CALLS.with_columns(pl.lit("carrier_pigeon").alias("ingress"))
    frame = pl.concat([CALLS, CALLS, bad, CALLS])  # rows 5-6 are bad
    path = write_table(frame, tmp_path, "calls", fmt)  # type: ignore[arg-type]
    parts = list(iter_table(path, batch_rows=3))
    assert sum(p.read for p in parts) == 8
    assert sum(p.accepted for p in parts) == 6
    lines = pl.concat([p.quarantine for p in parts])["line"].to_list()
    offset = 1 if fmt == "csv" else 0  # the CSV header is line 1
    assert lines == [5 + offset, 6 + offset]
    whole = read_table(path)
    assert whole.quarantine["line"].to_list() == lines


def test_missing_required_column_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    CALLS.drop("callee").write_csv(path)
    with pytest.raises(InvalidInputError, match="callee"):
        read_table(path)


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    CALLS.drop("attestation", "imsi").write_csv(path)
    result = read_table(path)
    assert result.accepted == 2 and result.frame["imsi"].null_count() == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("calls.txt", "x", "expected a .parquet or .csv"),
        ("weather.csv", "a\n1", "unknown table"),
        ("calls.parquet", "not parquet", "not a readable Parquet"),
    ],
    ids=["suffix", "table", "damaged"],
)
def test_unreadable_files_are_input_errors(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        read_table(path)


def _simulate(directory: Path, seed: int = 7) -> None:
    config = replace(
        preset("tiny"), subscribers=300, hours=2, seed=seed, campaigns=default_campaigns(0.05)
    )
    sim = Simulation(config)
    with TableWriter(directory) as writer:
        for chunk in sim.chunks():
            writer.write("calls", chunk.calls)
            writer.write("truth_events", chunk.truth_events)
        writer.write("subscribers", sim.subscribers())


def test_same_seed_writes_byte_identical_parquet(tmp_path: Path) -> None:
    _simulate(tmp_path / "a")
    _simulate(tmp_path / "b")
    _simulate(tmp_path / "c", seed=8)
    digest = {
        d: hashlib.sha256((tmp_path / d / "calls.parquet").read_bytes()).hexdigest()
        for d in ("a", "b", "c")
    }
    assert digest["a"] == digest["b"] != digest["c"]


def test_read_dir_reads_every_table_present(tmp_path: Path) -> None:
    _simulate(tmp_path)
    tables = read_dir(tmp_path)
    assert set(tables) == {"calls", "truth_events", "subscribers"}
    assert all(t.quarantine.is_empty() for t in tables.values())


def test_sichuan_writer_writes_the_four_contest_tables(tmp_path: Path) -> None:
    config = replace(preset("tiny"), subscribers=300, hours=2, campaigns=default_campaigns(0.05))
    sim = Simulation(config)
    writer = SichuanWriter(tmp_path, SichuanMapper(sim.subscribers(), sim.cells()))
    for chunk in sim.chunks():
        writer.add(chunk.calls, chunk.sms, chunk.usage)
    counts = writer.finish(sim.subscribers(), sim.truth_cards(), config.start_at)
    expected = {"user": USER_COLUMNS, "voc": VOC_COLUMNS, "sms": SMS_COLUMNS, "app": APP_COLUMNS}
    for name, columns in expected.items():
        frame = pl.read_csv(tmp_path / f"{name}.csv", infer_schema=False)
        assert tuple(frame.columns) == columns, name
        assert frame.height == counts[name] > 0, name
    user = pl.read_csv(tmp_path / "user.csv")
    assert user["label"].sum() == sim.truth_cards().filter(pl.col("on_net")).height
