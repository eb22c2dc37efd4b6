"""The demo job: simulate a carrier day, screen every call and SMS, score the verdicts against truth.

This is what the README's first command runs. It needs nothing but the package: the simulator
makes the traffic, the screening core decides, and the simulator's ground truth says which
decisions were right. Later stages (SMS content, card detection) plug in here as they land.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from telewarden.core.detectors.evaluation import DetectionResult, evaluate_detection
from telewarden.core.detectors.streaming import DetectorConfig, detect_stream
from telewarden.core.records import CampaignKind, RecordKind
from telewarden.core.screening import (
    Channel,
    ContentInspector,
    Ingress,
    OptIn,
    OptInBook,
    OptInScope,
    PolicySettings,
    Screener,
    ScreeningEvent,
    Verdict,
)

LEGIT_DOMESTIC = "legitimate domestic"
LEGIT_INTERNATIONAL = "legitimate cross-border"
"""Categories of traffic with no ground-truth fraud label, split by where it entered."""


@dataclass
class CategoryCount:
    """Verdict counts for one category of traffic."""

    events: int = 0
    blocked: int = 0
    labelled: int = 0
    allowed: int = 0

    def add(self, verdicts: pl.Series) -> None:
        """Count a column of verdict strings into this category."""
        self.events += verdicts.len()
        self.blocked += int((verdicts == Verdict.BLOCK.value).sum())
        self.labelled += int((verdicts == Verdict.ALLOW_LABELLED.value).sum())
        self.allowed += int((verdicts == Verdict.ALLOW.value).sum())


@dataclass
class ChannelReport:
    """Per-category verdict counts and reason counts for one channel."""

    categories: dict[str, CategoryCount] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    decide_s: float = 0.0

    @property
    def events(self) -> int:
        """Every event of this channel that was screened."""
        return sum(c.events for c in self.categories.values())

    def category(self, name: str) -> CategoryCount:
        """The counts of one category (zero when it never occurred)."""
        return self.categories.get(name, CategoryCount())


@dataclass
class DemoReport:
    """Everything the demo measured; the CLI renders it."""

    out: Path
    calls: ChannelReport
    sms: ChannelReport
    opted_in_subscribers: int
    content_inspection: bool
    total_s: float


def _ingress(value: str | None) -> Ingress:
    # The simulator distinguishes on-net from other domestic traffic; screening only needs to
    # know whether the event came through an international gateway.
    return Ingress.INTERNATIONAL if value == "international" else Ingress.DOMESTIC


def load_optins(frame: pl.DataFrame) -> OptInBook:
    """Build the opt-in book from the simulator's ``optins`` table."""
    book = OptInBook()
    for msisdn, scope, at in frame.select("msisdn", "scope", "opted_in_at").iter_rows():
        book.set(OptIn(msisdn=msisdn, scope=OptInScope(scope), opted_in=True, at=at, source="sim"))
    return book


def _categorise(frame: pl.DataFrame, truth: pl.DataFrame, kind: RecordKind) -> pl.Series:
    """Label each record with its fraud campaign kind, or a legitimate category."""
    labels = truth.filter(pl.col("record_kind") == kind.value).select(
        pl.col("record_id").alias("id"), pl.col("campaign_kind").alias("category")
    )
    joined = frame.select("id", "ingress").join(labels.unique("id"), on="id", how="left")
    return joined.select(
        pl.when(pl.col("category").is_not_null())
        .then(pl.col("category"))
        .when(pl.col("ingress") == "international")
        .then(pl.lit(LEGIT_INTERNATIONAL))
        .otherwise(pl.lit(LEGIT_DOMESTIC))
    ).to_series()


def _screen_table(
    screener: Screener,
    path: Path,
    truth: pl.DataFrame,
    kind: RecordKind,
    progress: Callable[[int], None],
    chunk_rows: int = 200_000,
) -> ChannelReport:
    report = ChannelReport()
    channel = Channel.CALL if kind is RecordKind.CALL else Channel.SMS
    columns = (
        ("caller", "callee", "start_at", "attestation")
        if kind is RecordKind.CALL
        else ("sender", "recipient", "sent_at", "text")
    )
    for frame in _chunks(path, chunk_rows):
        rows = frame.select(*columns, "ingress").iter_rows()
        if kind is RecordKind.CALL:
            events = [
                ScreeningEvent(a, b, channel, _ingress(ing), at, attestation=att)
                for a, b, at, att, ing in rows
            ]
        else:
            events = [
                ScreeningEvent(a, b, channel, _ingress(ing), at, text=text)
                for a, b, at, text, ing in rows
            ]
        started = time.perf_counter()
        decisions = screener.decide_many(events)
        report.decide_s += time.perf_counter() - started
        verdicts = pl.Series("verdict", [d.verdict.value for d in decisions])
        reasons = pl.Series("reason", [d.reason.value for d in decisions])
        categories = _categorise(frame, truth, kind)
        scored = pl.DataFrame({"category": categories, "verdict": verdicts})
        for (name,), group in scored.group_by("category"):
            report.categories.setdefault(str(name), CategoryCount()).add(group["verdict"])
        for reason, count in reasons.value_counts().iter_rows():
            report.reasons[reason] = report.reasons.get(reason, 0) + count
        progress(frame.height)
    return report


def _chunks(path: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    lazy = pl.scan_parquet(path)
    total = lazy.select(pl.len()).collect().item()
    for offset in range(0, total, chunk_rows):
        yield lazy.slice(offset, chunk_rows).collect()


def count_rows(path: Path) -> int:
    """Rows in a Parquet file, from its metadata."""
    return int(pl.scan_parquet(path).select(pl.len()).collect().item())


def run_demo(
    records: Path,
    *,
    policy: PolicySettings | None = None,
    content: ContentInspector | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Screen the simulator output in ``records`` and score every verdict against ground truth.

    Parameters
    ----------
    records : Path
        A folder written by ``telewarden sim`` in Parquet (calls, sms, optins, truth_events).
    policy : PolicySettings, optional
        Defaults to the embedded defaults (cross-border blocked by default for calls and SMS).
    content : ContentInspector, optional
        SMS content classifier; used only when ``policy.content_inspection`` is on.
    """
    started = time.perf_counter()
    policy = policy or PolicySettings()
    optins = pl.read_parquet(records / "optins.parquet")
    truth = pl.read_parquet(records / "truth_events.parquet")
    screener = Screener(policy, optins=load_optins(optins), content=content)
    calls_path, sms_path = records / "calls.parquet", records / "sms.parquet"
    if on_total is not None:
        on_total(count_rows(calls_path) + count_rows(sms_path))
    step = progress or (lambda _n: None)
    calls = _screen_table(screener, calls_path, truth, RecordKind.CALL, step)
    sms = _screen_table(screener, sms_path, truth, RecordKind.SMS, step)
    return DemoReport(
        out=records,
        calls=calls,
        sms=sms,
        opted_in_subscribers=optins["msisdn"].n_unique(),
        content_inspection=policy.content_inspection and content is not None,
        total_s=time.perf_counter() - started,
    )


def detect_cards(
    records: Path, progress: Callable[[int], None] | None = None
) -> tuple[DetectionResult, float]:
    """Replay the simulated calls through the label-free detectors and score them against truth.

    Returns the per-campaign figures and the seconds the replay took.
    """
    calls = pl.read_parquet(records / "calls.parquet")
    subscribers = pl.read_parquet(records / "subscribers.parquet")
    truth_cards = pl.read_parquet(records / "truth_cards.parquet")
    started = time.perf_counter()
    alerts = list(detect_stream(calls, subscribers, DetectorConfig(), on_progress=progress))
    elapsed = time.perf_counter() - started
    return evaluate_detection(alerts, calls, truth_cards), elapsed


CALL_FRAUD_KINDS = (
    CampaignKind.SPOOFED_CLI,
    CampaignKind.WANGIRI,
    CampaignKind.ROBOCALL,
    CampaignKind.CALL_CENTRE,
    CampaignKind.SIM_BANK,
)
SMS_FRAUD_KINDS = (CampaignKind.SMISHING_INTL, CampaignKind.SMISHING_PORT)
