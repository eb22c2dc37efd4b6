"""The demo job screens simulated traffic and scores every verdict against ground truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from telewarden.cli.main import app
from telewarden.core.screening import ContentFinding, PolicySettings
from telewarden.services.demo import (
    LEGIT_DOMESTIC,
    LEGIT_INTERNATIONAL,
    DemoReport,
    enterprise_registry,
    run_demo,
)
from telewarden.services.screening import simulated_traffic_policy


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


class _CountingInspector:
    """Calls every text with a link a scam, and counts how often it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def inspect(self, text: str) -> ContentFinding:
        self.asked.append(text)
        scam = "http" in text or ".com" in text or ".cn" in text
        return ContentFinding(
            verdict="scam" if scam else "ok", score=1.0 if scam else 0.0, detail=""
        )


def test_sms_content_is_inspected_once_per_distinct_text_and_scams_are_blocked(
    tiny_records: Path,
) -> None:
    inspector = _CountingInspector()
    report = run_demo(tiny_records, policy=simulated_traffic_policy(), content=inspector)
    texts = pl.read_parquet(tiny_records / "sms.parquet")["text"].drop_nulls()
    assert sorted(inspector.asked) == sorted(texts.unique().to_list())
    assert report.content_inspection
    assert report.sms.reasons.get("content_scam", 0) > 0


def test_the_legal_gate_keeps_content_out_of_the_decision(tiny_records: Path) -> None:
    inspector = _CountingInspector()
    report = run_demo(
        tiny_records, policy=PolicySettings(content_inspection=False), content=inspector
    )
    assert inspector.asked == []
    assert not report.content_inspection
    assert report.sms.reasons.get("content_scam", 0) == 0


def test_registered_enterprise_senders_pass_content_rules(tiny_records: Path) -> None:
    class _Paranoid:
        def inspect(self, text: str) -> ContentFinding:
            return ContentFinding(verdict="scam", score=1.0, detail="everything is a scam")

    opened = simulated_traffic_policy()  # the demo's own gate, on synthetic traffic
    without = run_demo(tiny_records, policy=opened, content=_Paranoid())
    with_registry = run_demo(
        tiny_records, policy=opened, content=_Paranoid(), allow=enterprise_registry()
    )
    assert with_registry.registered_senders > 0
    assert with_registry.sms.reasons.get("allow_listed", 0) > 0
    blocked_without = without.sms.category(LEGIT_DOMESTIC).blocked
    assert with_registry.sms.category(LEGIT_DOMESTIC).blocked < blocked_without
    # rented ports used for smishing are not in the registry, so they stay blocked
    assert (
        with_registry.sms.category("smishing_port").blocked
        == without.sms.category("smishing_port").blocked
    )
