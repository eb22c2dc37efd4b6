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
from telewarden.core.numbers import NumberIntel
from telewarden.core.records import CampaignKind, RecordKind
from telewarden.core.screening import (
    ContentFinding,
    ContentInspector,
    ListEntry,
    MatchKind,
    NumberList,
    OptIn,
    OptInBook,
    OptInScope,
    PolicySettings,
    Screener,
    Verdict,
    decide_frame,
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
    registered_senders: int
    content_inspection: bool
    total_s: float


def enterprise_registry() -> NumberList:
    """The carrier's registry of enterprise SMS ports and service numbers, as an allow list.

    A carrier leases each 106 port to a named enterprise and knows its own and the banks'
    service numbers; it registers them so their notices, codes and alerts are never held up by
    content rules (rented ports used for smishing are not registered). The simulated carrier's
    registry is the set of ports and service numbers its legitimate senders use.
    """
    from telewarden.core.sim.texts import BANK_PORTS, COURIER_PORTS, VERIFICATION_PORTS
    from telewarden.core.sim.traffic import SERVICE_NUMBERS

    intel = NumberIntel()
    registry = NumberList()
    ports = [(port, brand) for port, brand in (*BANK_PORTS, *COURIER_PORTS, *VERIFICATION_PORTS)]
    services = [(number, "service number") for number in SERVICE_NUMBERS]
    for raw, owner in (*ports, *services):
        e164 = intel.normalise(raw)
        if e164 is not None:
            registry.add(ListEntry(e164, MatchKind.EXACT, "enterprise registry", owner))
    return registry


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
    joined = frame.select("id", "ingress").join(
        labels.unique("id"), on="id", how="left", maintain_order="left"
    )
    return joined.select(
        pl.when(pl.col("category").is_not_null())
        .then(pl.col("category"))
        .when(pl.col("ingress") == "international")
        .then(pl.lit(LEGIT_INTERNATIONAL))
        .otherwise(pl.lit(LEGIT_DOMESTIC))
    ).to_series()


class MemoContentInspector:
    """A ``ContentInspector`` that answers from findings computed in one batch beforehand.

    Classifying each distinct text once, vectorised, is far cheaper than asking the model
    message by message; texts not in the memo go to ``fallback``.
    """

    def __init__(self, findings: dict[str, ContentFinding], fallback: ContentInspector) -> None:
        self.findings = findings
        self.fallback = fallback

    def inspect(self, text: str) -> ContentFinding:
        """Return the precomputed finding, or ask the fallback."""
        found = self.findings.get(text)
        return found if found is not None else self.fallback.inspect(text)


def memoise_findings(content: ContentInspector, texts: list[str]) -> MemoContentInspector:
    """Inspect each distinct text once, in one batch when the inspector offers ``inspect_many``."""
    unique = list(dict.fromkeys(texts))
    many = getattr(content, "inspect_many", None)
    found = many(unique) if callable(many) else [content.inspect(text) for text in unique]
    return MemoContentInspector(dict(zip(unique, found, strict=True)), content)


def _events(frame: pl.DataFrame, kind: RecordKind) -> pl.DataFrame:
    """Map a calls or SMS table to the screening event columns."""
    # The simulator distinguishes on-net from other domestic traffic; screening only needs to
    # know whether the event came through an international gateway.
    ingress = (
        pl.when(pl.col("ingress") == "international")
        .then(pl.lit("international"))
        .otherwise(pl.lit("domestic"))
    )
    if kind is RecordKind.CALL:
        return frame.select(
            "caller", "callee", pl.lit("call").alias("channel"), ingress.alias("ingress")
        )
    return frame.select(
        pl.col("sender").alias("caller"),
        pl.col("recipient").alias("callee"),
        pl.lit("sms").alias("channel"),
        ingress.alias("ingress"),
        "text",
    )


def _screen_table(
    screener: Screener,
    path: Path,
    truth: pl.DataFrame,
    kind: RecordKind,
    progress: Callable[[int], None],
    chunk_rows: int = 500_000,
) -> ChannelReport:
    report = ChannelReport()
    for frame in _chunks(path, chunk_rows):
        started = time.perf_counter()
        decided = decide_frame(screener, _events(frame, kind))
        report.decide_s += time.perf_counter() - started
        scored = pl.DataFrame(
            {"category": _categorise(frame, truth, kind), "verdict": decided["verdict"]}
        )
        for (name,), group in scored.group_by("category"):
            report.categories.setdefault(str(name), CategoryCount()).add(group["verdict"])
        for reason, count in decided["reason"].value_counts().iter_rows():
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
    allow: NumberList | None = None,
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
    allow : NumberList, optional
        Registered senders that always pass (see :func:`enterprise_registry`).
    """
    started = time.perf_counter()
    policy = policy or PolicySettings()
    optins = pl.read_parquet(records / "optins.parquet")
    truth = pl.read_parquet(records / "truth_events.parquet")
    calls_path, sms_path = records / "calls.parquet", records / "sms.parquet"
    if content is not None and policy.content_inspection:
        texts = pl.scan_parquet(sms_path).select("text").drop_nulls().unique().collect()
        content = memoise_findings(content, texts["text"].to_list())
    screener = Screener(policy, optins=load_optins(optins), allow=allow, content=content)
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
        registered_senders=len(allow) if allow is not None else 0,
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
