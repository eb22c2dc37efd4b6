"""Adaptive adversaries against a stand-in loop: the use case behind ``eval adversaries`` (#19).

The live loop (issue #15) does not exist yet. Until it does, :class:`DetectorLoop` stands in for
it: it feeds every simulated call, in event time, through the streaming rule detectors
(``telewarden.core.detectors.streaming.StreamDetector.observe``, used as it is) and, when a
number is flagged, reports through the simulator's feedback port that the card is suspended
(an on-net card) or the number blocked (any other number), ``action_delay_s`` after the flag.
The simulator then blocks that number's later calls, SMS and callbacks and lets the campaign
react. The live loop is meant to drive the simulator through the same port
(``telewarden.core.sim.adaptive.FeedbackPort``) and replace this module.

What the stand-in leaves out: SMS detectors (smishing campaigns are never blocked here), the
number scorer, screening rules at call set-up, and the due process that decides a suspension;
flags on legitimate numbers are counted but do not change their traffic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from telewarden.core.detectors.streaming import Alert, DetectorConfig, StreamDetector
from telewarden.core.sim import SimChunk, SimConfig, Simulation
from telewarden.core.sim.adaptive import FeedbackInbox, Measure, MeasureKind

__all__ = [
    "AdversaryReport",
    "DetectorLoop",
    "LoopSettings",
    "Scenario",
    "evaluate_adversaries",
    "run_with_loop",
    "static_config",
]

_CALL_COLUMNS = (
    "caller",
    "callee",
    "start_at",
    "ring_s",
    "answered",
    "ingress",
    "cell_id",
    "imei",
    "imsi",
)


@dataclass(frozen=True, slots=True)
class LoopSettings:
    """How the stand-in loop acts.

    Attributes
    ----------
    action_delay_s : int
        From the flag to the suspension or block (review and provisioning; assumption).
    step_s : int
        The simulator's time step: the loop's measures act from the next step on.
    detector : DetectorConfig
        Thresholds of the streaming rules.
    """

    action_delay_s: int = 300
    step_s: int = 300
    detector: DetectorConfig = field(default_factory=DetectorConfig)


class DetectorLoop:
    """Streaming detectors over each chunk's calls, reporting measures to a feedback inbox.

    Parameters
    ----------
    simulation : Simulation
        Gives the subscribers table (card ages, ID documents, home cities) to the detectors.
    settings : LoopSettings
        Delay and thresholds.
    """

    def __init__(self, simulation: Simulation, settings: LoopSettings) -> None:
        subscribers = simulation.subscribers()
        self.settings = settings
        self.inbox = FeedbackInbox()
        self.detector = StreamDetector(settings.detector, subscribers)
        self.alerts: list[Alert] = []
        self.reported: dict[str, Alert] = {}
        self._cards = set(subscribers["msisdn"].to_list())
        self._delay = dt.timedelta(seconds=settings.action_delay_s)

    def observe(self, chunk: SimChunk) -> None:
        """Run the chunk's calls through the detectors and report every newly flagged number."""
        for row in chunk.calls.select(_CALL_COLUMNS).iter_rows():
            for alert in self.detector.observe(*row):
                self.alerts.append(alert)
                if alert.msisdn in self.reported:
                    continue
                self.reported[alert.msisdn] = alert
                kind = MeasureKind.SUSPENDED if alert.msisdn in self._cards else MeasureKind.BLOCKED
                self.inbox.report(
                    Measure(kind, alert.msisdn, alert.flagged_at + self._delay, alert.detector)
                )


def run_with_loop(simulation: Simulation, loop: DetectorLoop) -> Iterator[SimChunk]:
    """The simulation's chunks, each seen by the loop before the next one is generated."""
    for chunk in simulation.chunks(feedback=loop.inbox, step_s=loop.settings.step_s):
        loop.observe(chunk)
        yield chunk


def static_config(config: SimConfig) -> SimConfig:
    """``config`` with every campaign's reaction policy removed (campaigns that never adapt)."""
    return replace(config, campaigns=tuple(replace(c, adaptive=None) for c in config.campaigns))


@dataclass(frozen=True, slots=True)
class Scenario:
    """One run: its outcomes per campaign and what the loop flagged.

    Attributes
    ----------
    name : str
        ``no loop``, ``loop, static campaigns`` or ``loop, adaptive campaigns``.
    outcomes : pl.DataFrame
        ``truth_outcomes`` of the run.
    reactions : pl.DataFrame
        ``truth_reactions`` of the run.
    catches : pl.DataFrame
        Campaign numbers flagged, per campaign and detector (``campaign_id``, ``detector``,
        ``numbers``); a number flagged by two rules counts for the first.
    false_flags : int
        Flagged numbers that belong to no campaign.
    calls : int
        Calls the loop looked at.
    """

    name: str
    outcomes: pl.DataFrame
    reactions: pl.DataFrame
    catches: pl.DataFrame
    false_flags: int
    calls: int


@dataclass(frozen=True, slots=True)
class AdversaryReport:
    """Harm and the gangs' cost without a loop, with a loop on static and on adaptive campaigns."""

    scenarios: tuple[Scenario, ...]
    settings: LoopSettings

    def summary(self) -> pl.DataFrame:
        """Per campaign and scenario: victims, losses, cards burnt and bought, cards burnt per victim."""
        frames = [
            s.outcomes.select(
                pl.lit(s.name).alias("scenario"),
                "campaign_id",
                "campaign_kind",
                "attempts",
                "blocked",
                "victims",
                "losses",
                "loss_cny",
                "cards_bought",
                "cards_burnt",
                "cost_cny",
            )
            for s in self.scenarios
        ]
        return pl.concat(frames).with_columns(
            (pl.col("cards_burnt") / pl.col("victims").clip(lower_bound=1))
            .round(2)
            .alias("burnt_per_victim")
        )

    def totals(self) -> pl.DataFrame:
        """All campaigns together, per scenario."""
        return (
            self.summary()
            .group_by("scenario", maintain_order=True)
            .agg(
                pl.col(c).sum()
                for c in ("attempts", "blocked", "victims", "losses", "loss_cny", "cards_burnt")
            )
            .with_columns(
                (pl.col("cards_burnt") / pl.col("victims").clip(lower_bound=1))
                .round(2)
                .alias("burnt_per_victim"),
                pl.col("loss_cny").round(0),
            )
        )


def _scenario(
    name: str,
    config: SimConfig,
    settings: LoopSettings | None,
    on_chunk: Callable[[], Any] | None,
) -> Scenario:
    simulation = Simulation(config)
    loop = None if settings is None else DetectorLoop(simulation, settings)
    chunks = simulation.chunks() if loop is None else run_with_loop(simulation, loop)
    calls = 0
    for chunk in chunks:
        calls += chunk.calls.height
        if on_chunk is not None:
            on_chunk()
    cards = simulation.truth_cards().select("msisdn", "campaign_id")
    catches = pl.DataFrame(
        schema={"campaign_id": pl.String, "detector": pl.String, "numbers": pl.UInt32}
    )
    false_flags = 0
    if loop is not None and loop.reported:
        flagged = pl.DataFrame(
            {
                "msisdn": list(loop.reported),
                "detector": [a.detector for a in loop.reported.values()],
            }
        )
        joined = flagged.join(cards, on="msisdn", how="left")
        false_flags = joined["campaign_id"].null_count()
        catches = (
            joined.drop_nulls("campaign_id")
            .group_by("campaign_id", "detector")
            .agg(pl.len().alias("numbers"))
            .sort("campaign_id", "detector")
        )
    return Scenario(
        name=name,
        outcomes=simulation.truth_outcomes(),
        reactions=simulation.truth_reactions(),
        catches=catches,
        false_flags=false_flags,
        calls=calls,
    )


def evaluate_adversaries(
    config: SimConfig,
    settings: LoopSettings,
    on_chunk: Callable[[], Any] | None = None,
) -> AdversaryReport:
    """Run adaptive campaigns without a loop, and with the stand-in loop on static and adaptive ones.

    Parameters
    ----------
    config : SimConfig
        Campaigns with their policies (``telewarden.core.sim.config.adaptive_config``). The
        static run uses the same campaigns without policies; without a loop both give the same
        traffic, so one run serves as the baseline for both.
    settings : LoopSettings
        The stand-in loop's delay, step and thresholds.
    on_chunk : callable or None
        Called after each chunk of each run (progress).
    """
    return AdversaryReport(
        scenarios=(
            _scenario("no loop", config, None, on_chunk),
            _scenario("loop, static campaigns", static_config(config), settings, on_chunk),
            _scenario("loop, adaptive campaigns", config, settings, on_chunk),
        ),
        settings=settings,
    )
