"""Batch screening of a file: every row is screened or quarantined, and the counts reconcile."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from telewarden.adapters.files.quarantine import read_quarantine
from telewarden.core.errors import InvalidInputError
from telewarden.core.ports import FixedClock
from telewarden.core.screening import (
    ListEntry,
    MatchKind,
    NumberList,
    Screener,
)
from telewarden.services.screen_file import default_quarantine_path, screen_file

EVENTS = (
    "caller,callee,ingress,at,channel\n"
    "+85223456789,13800138000,international,2026-11-28T10:00:00Z,call\n"
    "+8613800138001,13800138000,international,,call\n"
    "110,13800138000,international,,call\n"
    "13900139000,13800138000,domestic,,call\n"
    "13900139000,,domestic,,call\n"
    "17012345678,13800138000,domestic,,sms\n"
    "garbage,13800138000,domestic,,call\n"
    "13900139000,13800138000,domestic,noon,call\n"
)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_screens_a_file_writes_verdicts_and_quarantines_bad_rows(
    tmp_path: Path, suffix: str
) -> None:
    source = tmp_path / "events.csv"
    source.write_text(EVENTS)
    output = tmp_path / f"verdicts{suffix}"
    deny = NumberList([ListEntry("+8617012", MatchKind.PREFIX, "miit", "range")])
    totals: list[int] = []
    progressed: list[int] = []
    run = screen_file(
        Screener(deny=deny),
        source,
        output,
        chunk_rows=3,
        on_total=totals.append,
        progress=progressed.append,
        clock=FixedClock(dt.datetime(2026, 11, 28, tzinfo=dt.UTC)),
    )
    summary = run.summary
    assert totals == [8]
    assert sum(progressed) == summary.rows_read == 8
    assert (summary.screened, summary.quarantined) == (6, 2)
    assert summary.rows_read == summary.screened + summary.quarantined
    assert sum(summary.by_verdict.values()) == sum(summary.by_reason.values()) == 6
    assert sum(count for _, count in run.by_pair) == 6
    verdicts = pl.read_csv(output) if suffix == ".csv" else pl.read_parquet(output)
    by_line = dict(zip(verdicts["line"].to_list(), verdicts["reason"].to_list(), strict=True))
    assert by_line == {
        2: "cross_border_default_block",
        3: "spoofed_domestic_on_international",
        4: "service_number_impersonation",
        5: "domestic",
        7: "deny_listed_prefix",
        8: "unparseable_caller_id",
    }
    assert run.quarantine_path == default_quarantine_path(output)
    assert [(q.line, q.reason.split(" ")[0]) for q in read_quarantine(run.quarantine_path)] == [
        (6, "missing"),
        (9, "at"),
    ]


def test_a_clean_file_leaves_no_quarantine_file(tmp_path: Path) -> None:
    source = tmp_path / "events.csv"
    source.write_text("caller,callee\n13900139000,13800138000\n")
    run = screen_file(Screener(), source, tmp_path / "v.csv")
    assert run.quarantine_path is None
    assert not default_quarantine_path(tmp_path / "v.csv").exists()
    assert run.summary.by_verdict == {"allow": 1}


def test_refuses_to_overwrite_its_own_input(tmp_path: Path) -> None:
    source = tmp_path / "events.csv"
    source.write_text("caller,callee\n13900139000,13800138000\n")
    with pytest.raises(InvalidInputError, match="is the input"):
        screen_file(Screener(), source, source)
    with pytest.raises(InvalidInputError, match="is the input"):
        screen_file(Screener(), source, tmp_path / "v.csv", quarantine=source)
    assert source.read_text().startswith("caller,callee")
