"""Replay a simulated day through the live loop and measure it against screening alone.

The simulator's ground truth says which calls and SMS were fraud, which card made them, who
fell victim and when they lost money. :func:`replay_records` runs the whole day through a
:class:`~telewarden.services.live_loop.LiveLoop` in micro-batches (event time, as a live
deployment would see it) and :func:`loop_report` compares its verdicts with those of screening
alone, per campaign kind: fraud events delivered, fraud calls after a card's first detection
and how many of them the loop blocked, legitimate traffic blocked, victims whose exposure was
prevented or who were warned before their loss, and time from a card's first fraud event to
its measure.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from telewarden.core.detectors.batch import BatchDetector
from telewarden.core.detectors.streaming import DetectorConfig
from telewarden.core.ports import Flag
from telewarden.core.screening import (
    DEFAULT_RULES,
    MEASURE_LOOKUP,
    MEASURE_RULES,
    ContentInspector,
    NumberList,
    PolicySettings,
    Screener,
)
from telewarden.services.demo import load_optins
from telewarden.services.live_loop import (
    Disposer,
    LiveLoop,
    Warner,
    events_from_records,
    micro_batches,
)

__all__ = [
    "CampaignOutcome",
    "LoopReport",
    "LoopRun",
    "load_day",
    "loop_for",
    "loop_report",
    "make_loop",
    "replay_records",
]


@dataclass
class LoopRun:
    """The loop's decisions over a day, its flags and measures, and its speed."""

    decisions: pl.DataFrame
    """``position, channel, caller, at, verdict, reason``."""
    flags: list[Flag]
    measures: list[Any]
    warnings: list[Any]
    events: int
    seconds: float
    counters: dict[str, Any]

    @property
    def events_per_second(self) -> float:
        """Events through the whole loop per second of wall time."""
        return self.events / self.seconds if self.seconds else 0.0


def make_loop(
    records: Path,
    *,
    policy: PolicySettings | None = None,
    content: ContentInspector | None = None,
    allow: NumberList | None = None,
    disposer: Disposer | None = None,
    warner: Warner | None = None,
    deny: NumberList | None = None,
) -> LiveLoop:
    """A loop for the simulated carrier in ``records``: its opt-ins, subscribers and registry.

    With a ``disposer`` that offers a measure ``lookup`` (``LoopDisposal``) the screener gets
    the ``card_measure`` rule, so measures act on the next event of the card.
    """
    return loop_for(
        pl.read_parquet(records / "optins.parquet"),
        pl.read_parquet(records / "subscribers.parquet"),
        policy=policy,
        content=content,
        allow=allow,
        disposer=disposer,
        warner=warner,
        deny=deny,
    )


def loop_for(
    optins: pl.DataFrame,
    subscribers: pl.DataFrame,
    *,
    policy: PolicySettings | None = None,
    content: ContentInspector | None = None,
    allow: NumberList | None = None,
    disposer: Disposer | None = None,
    warner: Warner | None = None,
    deny: NumberList | None = None,
    detector: DetectorConfig | None = None,
) -> LiveLoop:
    """:func:`make_loop` over the simulator's ``optins`` and ``subscribers`` tables in memory."""
    policy = policy or PolicySettings()
    lookup = getattr(disposer, "lookup", None)
    screener = Screener(
        policy,
        optins=load_optins(optins),
        allow=allow,
        deny=deny,
        content=content,
        rules=MEASURE_RULES if lookup is not None else DEFAULT_RULES,
        lookups={MEASURE_LOOKUP: lookup} if lookup is not None else None,
    )
    return LiveLoop(
        screener,
        BatchDetector(detector or DetectorConfig(), subscribers),
        disposer=disposer,
        warner=warner,
    )


def load_day(records: Path) -> pl.DataFrame:
    """The simulated day's calls and SMS as one loop event table, in time order."""
    return events_from_records(
        pl.read_parquet(records / "calls.parquet"), pl.read_parquet(records / "sms.parquet")
    )


def replay_records(
    loop: LiveLoop,
    events: pl.DataFrame,
    *,
    batch_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> LoopRun:
    """Run ``events`` through ``loop`` in micro-batches of ``batch_size`` events."""
    decisions: list[pl.DataFrame] = []
    flags: list[Flag] = []
    measures: list[Any] = []
    warnings: list[Any] = []
    started = time.perf_counter()
    for batch in micro_batches(events, batch_size):
        effects = loop.step(batch)
        decisions.append(
            effects.decisions.select("position", "channel", "caller", "at", "verdict", "reason")
        )
        flags += effects.flags
        measures += effects.measures
        warnings += effects.warnings
        if progress is not None:
            progress(batch.height)
    seconds = time.perf_counter() - started
    frame = pl.concat(decisions) if decisions else pl.DataFrame()
    return LoopRun(
        frame, flags, measures, warnings, events.height, seconds, loop.counters.as_dict()
    )


@dataclass
class CampaignOutcome:
    """One campaign kind's fraud traffic and victims, with the loop and with screening alone."""

    kind: str
    fraud_events: int = 0
    delivered_screening_alone: int = 0
    delivered_with_loop: int = 0
    calls_after_first_detection: int = 0
    of_which_blocked: int = 0
    cards: int = 0
    cards_measured: int = 0
    minutes_to_measure: list[float] = field(default_factory=list)
    victims_with_loss: int = 0
    exposures_prevented: int = 0
    warned_before_loss: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the minutes as a median)."""
        out = {k: v for k, v in vars(self).items() if k != "minutes_to_measure"}
        out["median_minutes_to_measure"] = (
            round(statistics.median(self.minutes_to_measure), 2)
            if self.minutes_to_measure
            else None
        )
        return out


@dataclass
class LoopReport:
    """The demo's before/after table and its totals."""

    campaigns: list[CampaignOutcome]
    legitimate_events: int
    legitimate_blocked_by_loop: int
    legitimate_subscribers_blocked: int
    legitimate_warned: int
    events_per_second: float

    def totals(self) -> dict[str, Any]:
        """The headline figures of ``telewarden demo --json``."""
        calls = [c for c in self.campaigns if c.calls_after_first_detection]
        after = sum(c.calls_after_first_detection for c in calls)
        blocked = sum(c.of_which_blocked for c in calls)
        return {
            "fraud_calls_after_first_detection": after,
            "of_which_blocked": blocked,
            "blocked_share_after_detection": round(blocked / after, 4) if after else None,
            "legitimate_blocked": self.legitimate_blocked_by_loop,
            "legitimate_subscribers_blocked": self.legitimate_subscribers_blocked,
            "warned_not_victims": self.legitimate_warned,
            "victims_with_loss": sum(c.victims_with_loss for c in self.campaigns),
            "exposures_prevented": sum(c.exposures_prevented for c in self.campaigns),
            "warned_before_loss": sum(c.warned_before_loss for c in self.campaigns),
            "loop_events_per_second": round(self.events_per_second),
        }


def _record_ids(decisions: pl.DataFrame) -> pl.DataFrame:
    """``record_kind, record_id`` of each decision, from its ``calls:<id>``/``sms:<id>`` position."""
    parts = pl.col("position").str.split_exact(":", 1)
    return decisions.with_columns(
        parts.struct.field("field_0").str.replace("calls", "call").alias("record_kind"),
        parts.struct.field("field_1").cast(pl.Int64).alias("record_id"),
    )


def loop_report(
    records: Path,
    run: LoopRun,
    screening_alone: pl.DataFrame,
    *,
    warned: pl.DataFrame | None = None,
    measure_times: dict[str, Any] | None = None,
) -> LoopReport:
    """Compare the loop's verdicts with screening alone against the simulator's truth.

    ``screening_alone`` holds ``position, verdict`` for the same events decided without the
    loop; ``warned`` holds ``msisdn, at`` of the warnings sent; ``measure_times``
    maps each measured card to the time its measure came into force.
    """
    truth = pl.read_parquet(records / "truth_events.parquet").select(
        "record_kind", "record_id", "campaign_kind", "campaign_id"
    )
    cards = pl.read_parquet(records / "truth_cards.parquet")
    victims = pl.read_parquet(records / "truth_victims.parquet")
    loop = _record_ids(run.decisions).join(
        screening_alone.select("position", pl.col("verdict").alias("alone")), on="position"
    )
    labelled = loop.join(truth, on=["record_kind", "record_id"], how="left")
    fraud = labelled.filter(pl.col("campaign_kind").is_not_null())
    legit = labelled.filter(pl.col("campaign_kind").is_null())

    measured: dict[str, Any] = dict(measure_times or {})
    if not measured:
        for flag in run.flags:
            measured.setdefault(flag.subject, flag.at)
    first_detection = pl.DataFrame(
        {"caller": list(measured), "measured_at": list(measured.values())},
        schema={"caller": pl.String, "measured_at": pl.Datetime("us", "UTC")},
    )
    outcomes: dict[str, CampaignOutcome] = {}
    for (kind,), group in fraud.group_by("campaign_kind"):
        outcome = outcomes.setdefault(str(kind), CampaignOutcome(str(kind)))
        outcome.fraud_events = group.height
        outcome.delivered_screening_alone = int((group["alone"] != "block").sum())
        outcome.delivered_with_loop = int((group["verdict"] != "block").sum())
        calls = group.filter(pl.col("channel") == "call").join(
            first_detection, on="caller", how="inner"
        )
        after = calls.filter(pl.col("at") > pl.col("measured_at"))
        outcome.calls_after_first_detection = after.height
        outcome.of_which_blocked = int((after["verdict"] == "block").sum())
    for (kind,), group in cards.group_by("campaign_kind"):
        outcome = outcomes.setdefault(str(kind), CampaignOutcome(str(kind)))
        outcome.cards = group.height
        for msisdn, first in group.select("msisdn", "first_fraud_at").iter_rows():
            at = measured.get(msisdn)
            if at is not None:
                outcome.cards_measured += 1
                if first is not None:
                    outcome.minutes_to_measure.append(max(0.0, (at - first).total_seconds() / 60))

    blocked_positions = set(
        loop.filter(pl.col("verdict") == "block")
        .select(
            pl.concat_str(pl.col("record_kind"), pl.lit(":"), pl.col("record_id").cast(pl.String))
        )
        .to_series()
    )
    with_loss = victims.filter(pl.col("loss_at").is_not_null())
    # A warning counts for a victim when it went to the victim's number after the day before
    # the exposure began and before the loss (warnings name the scheme, not the simulator's
    # campaign id, so they are matched by subscriber and time).
    sent: dict[str, list[Any]] = {}
    if warned is not None and warned.height:
        for msisdn, at in warned.select("msisdn", "at").iter_rows():
            sent.setdefault(msisdn, []).append(at)
    for row in with_loss.iter_rows(named=True):
        outcome = outcomes.setdefault(row["campaign_kind"], CampaignOutcome(row["campaign_kind"]))
        outcome.victims_with_loss += 1
        exposure = f"{row['exposure_record_kind']}:{row['exposure_record_id']}"
        if exposure in blocked_positions:
            outcome.exposures_prevented += 1
        window_start = row["exposed_at"] - dt.timedelta(days=1)
        if any(window_start <= at < row["loss_at"] for at in sent.get(row["msisdn"], ())):
            outcome.warned_before_loss += 1
    warned_any = set(sent)

    extra_blocks = legit.filter((pl.col("verdict") == "block") & (pl.col("alone") != "block"))
    fraud_numbers = set(cards["msisdn"])
    exposed = set(victims["msisdn"])
    return LoopReport(
        campaigns=sorted(outcomes.values(), key=lambda o: o.kind),
        legitimate_events=legit.height,
        legitimate_blocked_by_loop=extra_blocks.height,
        legitimate_subscribers_blocked=extra_blocks.filter(
            ~pl.col("caller").is_in(list(fraud_numbers))
        )["caller"].n_unique(),
        legitimate_warned=len(warned_any - exposed),
        events_per_second=run.events_per_second,
    )
