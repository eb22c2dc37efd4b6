"""Event, list, verdict and quarantine files: line numbers, reasons, and reconciled counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from telewarden.adapters.files.events import EventFileReader, parse_time
from telewarden.adapters.files.lists import ListFileReader, normalise_prefix
from telewarden.adapters.files.quarantine import QuarantinedRow, QuarantineWriter, read_quarantine
from telewarden.adapters.files.verdicts import VerdictWriter, verdict_frame
from telewarden.core.errors import InvalidInputError
from telewarden.core.numbers import NumberIntel
from telewarden.core.screening import Channel, Ingress, MatchKind, Screener, ScreeningEvent


def _read_events(
    path: Path, chunk_rows: int = 2
) -> tuple[list[ScreeningEvent], list[int], list[QuarantinedRow]]:
    reader = EventFileReader(path, chunk_rows=chunk_rows)
    events, lines, bad = [], [], []
    for chunk in reader:
        events += chunk.events
        lines += chunk.lines
        bad += chunk.quarantined
    assert reader.rows_read == len(events) + len(bad)
    return events, lines, bad


def test_reads_a_csv_of_events_with_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "caller,callee,ingress,at,channel,text\n"
        "+85223456789,13800138000,international,2026-11-28T10:00:00+08:00,call,\n"
        "10690000,13800138000,domestic,,SMS,hello\n"
        "110,13800138000,,,,\n",
        encoding="utf-8",
    )
    events, lines, bad = _read_events(path)
    assert bad == []
    assert lines == [2, 3, 4]
    first, second, third = events
    assert first.ingress is Ingress.INTERNATIONAL
    assert first.at == dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
    assert (second.channel, second.text, second.at) == (Channel.SMS, "hello", None)
    assert (third.channel, third.ingress) == (Channel.CALL, Ingress.UNKNOWN)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        pytest.param(",13800138000,,,", "missing caller", id="missing-caller"),
        pytest.param("110,,,,", "missing callee", id="missing-callee"),
        pytest.param("110,120,satellite,,", "unknown ingress", id="bad-ingress"),
        pytest.param("110,120,,,fax", "unknown channel", id="bad-channel"),
        pytest.param("110,120,,yesterday,", "not an ISO-8601 time", id="bad-time"),
    ],
)
def test_quarantines_a_malformed_event_row_with_its_line_and_reason(
    tmp_path: Path, row: str, reason: str
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(f"caller,callee,ingress,at,channel\n110,120,,,\n{row}\n110,120,,,\n")
    events, lines, bad = _read_events(path)
    assert lines == [2, 4]
    assert len(events) == 2
    (only,) = bad
    assert only.line == 3
    assert reason in only.reason


def test_ragged_rows_and_quoted_newlines_keep_true_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "caller,callee,channel,text\n"
        '10690000,13800138000,sms,"two\nlines"\n'
        "110,120,call,,extra,fields\n"
        "\n"
        "110,120,fax,\n"
        "+85223456789,13800138000,call,\n"
    )
    events, lines, bad = _read_events(path)
    assert lines == [2, 7]
    assert events[0].text == "two\nlines"
    assert [(b.line, b.reason.split(" ")[0]) for b in bad] == [(4, "6"), (6, "unknown")]


def test_reads_parquet_with_a_typed_time_column(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pl.DataFrame(
        {
            "caller": ["+85223456789", None],
            "callee": ["13800138000", "13800138000"],
            "at": [dt.datetime(2026, 11, 28, 10, 0), None],
            "ingress": ["international", "domestic"],
        }
    ).write_parquet(path)
    events, lines, bad = _read_events(path)
    assert lines == [1]
    assert events[0].at == dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    assert [(b.line, b.reason) for b in bad] == [(2, "missing caller")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "e.csv", "caller,ingress\n110,domestic\n", "missing required column", id="no-callee"
        ),
        pytest.param("e.csv", "", "empty", id="empty"),
        pytest.param("e.json", "{}", "unknown file type", id="extension"),
        pytest.param("e.parquet", "not parquet", "not a readable Parquet", id="corrupt"),
    ],
)
def test_unusable_files_are_invalid_input(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        EventFileReader(path)


def test_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        EventFileReader(tmp_path / "absent.csv")


def test_parse_time_reads_offsets_and_assumes_utc_without_one() -> None:
    assert parse_time("2026-11-28T10:00:00Z") == dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        parse_time("28/11/2026")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("+8617012", "+8617012", id="e164"),
        pytest.param("17012*", "+8617012", id="national-star"),
        pytest.param("0086 170-12", "+8617012", id="double-zero"),
        pytest.param("010", "+8610", id="trunk-zero"),
        pytest.param("+86abc", None, id="letters"),
        pytest.param("+0123", None, id="leading-zero"),
    ],
)
def test_normalise_prefix(raw: str, expected: str | None) -> None:
    assert normalise_prefix(raw) == expected


def test_list_file_normalises_numbers_and_quarantines_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "deny.csv"
    path.write_text(
        "pattern,match,source,reason\n"
        "13800138000,,police,fraud\n"
        "+86 170 12*,,miit,virtual range\n"
        "0086 138-0013-8001,exact,,\n"
        "not-a-number,,x,y\n"
        "+86,prefix,x,y\n"
        "138*,sideways,x,y\n"
        ",,x,y\n"
        "+85223456789,exact,hk,\n"
    )
    reader = ListFileReader(path, NumberIntel(), default_source="deny.csv", chunk_rows=3)
    chunks = list(reader)
    entries = [e for c in chunks for e in c.entries]
    bad = [q for c in chunks for q in c.quarantined]
    assert reader.rows_read == len(entries) + len(bad) == 8
    assert [(e.pattern, e.match, e.source) for e in entries] == [
        ("+8613800138000", MatchKind.EXACT, "police"),
        ("+8617012", MatchKind.PREFIX, "miit"),
        ("+8613800138001", MatchKind.EXACT, "deny.csv"),
        ("+85223456789", MatchKind.EXACT, "hk"),
    ]
    assert [(q.line, q.reason.split(":")[0]) for q in bad] == [
        (5, "not a valid number"),
        (6, "prefix +86 is shorter than 3 digits"),
        (7, "unknown match 'sideways' (use exact or prefix)"),
        (8, "missing pattern"),
    ]


def test_list_file_without_header_uses_the_column_order(tmp_path: Path) -> None:
    path = tmp_path / "deny.csv"
    path.write_text("13800138000,exact,police,fraud\n17012*\n")
    entries = [
        e for c in ListFileReader(path, NumberIntel(), default_source="f") for e in c.entries
    ]
    assert [(e.pattern, e.source, e.reason) for e in entries] == [
        ("+8613800138000", "police", "fraud"),
        ("+8617012", "f", ""),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_verdict_files_round_trip(tmp_path: Path, suffix: str) -> None:
    events = [
        ScreeningEvent("+85223456789", "13800138000", ingress=Ingress.INTERNATIONAL),
        ScreeningEvent("13900139000", "13800138000", ingress=Ingress.DOMESTIC),
    ]
    decisions = Screener().decide_many(events)
    path = tmp_path / f"verdicts{suffix}"
    with VerdictWriter(path) as writer:
        writer.write(verdict_frame([2, 3], events[:1] + events[1:], decisions))
        writer.write(verdict_frame([4], events[:1], decisions[:1]))
    frame = pl.read_csv(path) if suffix == ".csv" else pl.read_parquet(path)
    assert frame["line"].to_list() == [2, 3, 4]
    assert frame["verdict"].to_list() == ["block", "allow", "block"]
    assert frame["origin"][0] == "Hong Kong"


def test_an_empty_run_still_writes_a_verdict_file_with_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.csv"
    VerdictWriter(path).close()
    assert path.read_text().startswith("line,caller,callee")


def test_quarantine_file_appears_only_when_needed_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    with QuarantineWriter(path) as writer:
        writer.write([])
    assert not path.exists()
    rows = [QuarantinedRow(3, "missing callee", {"caller": "110", "callee": None})]
    with QuarantineWriter(path) as writer:
        writer.write(rows)
    assert read_quarantine(path) == rows
    with QuarantineWriter(path) as writer:
        writer.write([])
    assert not path.exists(), "a stale quarantine file from an earlier run must not remain"


def test_parquet_is_streamed_in_batches_with_file_wide_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    callers = ["110", "120", "+85223456789", None, "13900139000"]
    pl.DataFrame({"Caller": callers, "callee": ["13800138000"] * 5}).write_parquet(
        path, row_group_size=2
    )
    reader = EventFileReader(path, chunk_rows=2)
    assert reader.rows_read == 5
    chunks = list(reader)
    assert [len(c.events) + len(c.quarantined) for c in chunks] == [2, 2, 1]
    assert [line for c in chunks for line in c.lines] == [1, 2, 3, 5]
    assert [(q.line, q.reason) for c in chunks for q in c.quarantined] == [(4, "missing caller")]


def test_a_parquet_file_without_a_required_column_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pl.DataFrame({"caller": ["110"]}).write_parquet(path)
    with pytest.raises(InvalidInputError, match="missing required column"):
        EventFileReader(path)


def test_list_file_in_parquet_reports_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "allow.parquet"
    pl.DataFrame(
        {"pattern": ["95588", "bogus", "+8610 1234 5678"], "reason": ["bank", None, "gov"]}
    ).write_parquet(path)
    chunks = list(ListFileReader(path, NumberIntel(), default_source="allow.parquet"))
    assert [e.reason for c in chunks for e in c.entries] == ["bank", "gov"]
    bad = [q for c in chunks for q in c.quarantined]
    assert [(q.line, q.raw) for q in bad] == [
        (2, {"pattern": "bogus", "match": None, "source": None, "reason": None})
    ]


@pytest.mark.parametrize("suffix", ["csv", "parquet"], ids=["csv", "parquet"])
def test_frame_reader_accepts_and_quarantines_exactly_what_the_row_reader_does(
    tmp_path: Path, suffix: str
) -> None:
    import random

    rng = random.Random(3)
    values: dict[str, list[str | None]] = {
        "caller": ["13800138000", "+85291234567", "", None, "abc", " 110 "],
        "callee": ["13900139000", "120", "", None],
        "channel": ["call", "SMS", "voice", "fax", "", None, " text "],
        "ingress": ["intl", "domestic", "bogus", "", None, "IGW"],
        "at": ["2026-11-28T10:00:00+08:00", "yesterday", "", None, "2026-11-28 10:00"],
        "text": ["hi", None, ""],
        "attestation": ["a", "B", "z", None, ""],
    }
    rows = [{k: rng.choice(v) for k, v in values.items()} for _ in range(2000)]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(values, pl.String))
    path = tmp_path / f"events.{suffix}"
    frame.write_csv(path) if suffix == "csv" else frame.write_parquet(path)

    by_rows, rows_quarantined = [], []
    for chunk in EventFileReader(path, chunk_rows=300):
        by_rows += [
            (line, e.caller, e.callee, e.channel.value, e.ingress.value, e.attestation, e.text)
            for line, e in zip(chunk.lines, chunk.events, strict=True)
        ]
        rows_quarantined += [(q.line, q.reason) for q in chunk.quarantined]
    by_frames, frames_quarantined = [], []
    for part in EventFileReader(path, chunk_rows=300).iter_frames():
        by_frames += part.frame.select(
            "line", "caller", "callee", "channel", "ingress", "attestation", "text"
        ).rows()
        frames_quarantined += [(q.line, q.reason) for q in part.quarantined]

    assert by_rows and rows_quarantined  # the mix exercises both outcomes
    assert by_frames == by_rows
    assert frames_quarantined == rows_quarantined
    assert len(by_rows) + len(rows_quarantined) == len(rows)
