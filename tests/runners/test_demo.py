"""The demo job screens simulated traffic and scores every verdict against ground truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from telewarden.cli.main import app
from telewarden.core.screening import PolicySettings
from telewarden.runners.demo import LEGIT_DOMESTIC, LEGIT_INTERNATIONAL, DemoReport, run_demo


@pytest.fixture(scope="module")
def tiny_records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    result = CliRunner().invoke(app, ["sim", "--preset", "tiny", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def report(tiny_records: Path) -> DemoReport:
    return run_demo(tiny_records)


def test_every_simulated_event_is_counted_once(tiny_records: Path, report: DemoReport) -> None:
    assert (
        report.calls.events
        == pl.scan_parquet(tiny_records / "calls.parquet").select(pl.len()).collect().item()
    )
    assert (
        report.sms.events
        == pl.scan_parquet(tiny_records / "sms.parquet").select(pl.len()).collect().item()
    )
    for channel in (report.calls, report.sms):
        for counts in channel.categories.values():
            assert counts.events == counts.blocked + counts.labelled + counts.allowed
        assert sum(channel.reasons.values()) == channel.events


def test_default_policy_stops_spoofed_calls_and_spares_domestic_traffic(report: DemoReport) -> None:
    spoofed = report.calls.category("spoofed_cli")
    assert spoofed.events > 0
    assert spoofed.blocked == spoofed.events
    assert report.calls.category(LEGIT_DOMESTIC).blocked == 0
    assert report.sms.category(LEGIT_DOMESTIC).blocked == 0


def test_opted_in_subscribers_get_labelled_cross_border_calls(report: DemoReport) -> None:
    intl = report.calls.category(LEGIT_INTERNATIONAL)
    assert intl.labelled > 0
    assert intl.allowed == 0  # cross-border calls are never delivered unlabelled


def test_switching_the_cross_border_default_off_lets_the_calls_through(tiny_records: Path) -> None:
    policy = PolicySettings(cross_border_block_calls=False)
    report = run_demo(tiny_records, policy=policy)
    assert report.calls.reasons.get("cross_border_default_block", 0) == 0
