"""Adaptive adversaries against the live loop: the use case behind ``eval adversaries`` (#19).

:class:`FeedbackLoop` puts the real live loop (:class:`~telewarden.services.live_loop.LiveLoop`:
screening with the measure rules, the streaming detectors, disposal through
:class:`~telewarden.services.loop_disposal.LoopDisposal` over an in-memory disposal store
holding the simulated carrier's cards, early warning through
:class:`~telewarden.services.loop_warning.LoopWarner`) in front of the simulator, in event time:

1. the simulator generates one time step (``step_s`` of event time, all shards);
2. the loop processes the step's calls and SMS as one micro-batch;
3. every number the loop's measures cut off during that step goes back through the simulator's
   feedback port (``telewarden.core.sim.adaptive.FeedbackPort``): one of the carrier's cards
   whose outgoing traffic a measure blocks as ``card_suspended``, a number of another network
   blocked at the gateway (``flagged_off_net``) as ``number_blocked``, each from the instant
   the loop's measure holds;
4. the simulator drops the later attempts of those numbers and lets the campaigns react
   before it generates the next step.

A measure taken inside a step acts on the rest of that step through the loop's own verdicts
(the loop re-screens the batch's later events of a newly measured card), and on the simulator
from the next step on. Harm is therefore counted from both: the simulator's outcome accounting
(what was made and reached a subscriber) minus the victims whose exposure event the loop's
verdict blocked. Verdicts of screening rules that are not measures (a domestic caller ID on an
international gateway, the cross-border default block, SMS content) block the event but are
not fed back: the gang does not learn from them, as it would not know which rule stopped it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.core.detectors.streaming import DetectorConfig
from telewarden.core.ports import Flag
from telewarden.core.screening import (
    ContentFinding,
    ContentInspector,
    NumberList,
    PolicySettings,
    decide_frame,
)
from telewarden.core.sim import SimChunk, SimConfig, Simulation
from telewarden.core.sim.adaptive import FeedbackInbox, Measure, MeasureKind
from telewarden.services.live_loop import LiveLoop, StepEffects, events_from_records
from telewarden.services.loop_disposal import LoopDisposal, register_subscribers
from telewarden.services.loop_replay import loop_for
from telewarden.services.loop_warning import LoopWarner
from telewarden.services.warning import EarlyWarning, build_engine

__all__ = [
    "AdversaryReport",
    "FeedbackLoop",
    "HarmLedger",
    "LoopSettings",
    "Scenario",
    "evaluate_adversaries",
    "run_with_loop",
    "static_config",
]

MEASURE_RULES_BLOCKING = ("card_measure", "call_to_flagged_number")
"""The screening rules through which the loop's measures block events."""

_SCREEN_INPUT = ["position", "channel", "caller", "callee", "ingress", "at", "text"]


@dataclass(frozen=True)
class LoopSettings:
    """The loop put in front of the simulator, and the simulator's time step.

    Attributes
    ----------
    hash_key : bytes
        Key for hashing the cards' ID documents in the disposal store.
    step_s : int
        The simulator's time step, which is also the loop's micro-batch: a measure taken while
        the loop looks at step *k* acts on the simulated gang from step *k + 1*.
    policy : PolicySettings or None
        Screening policy (default settings when None).
    content : ContentInspector or None
        SMS content inspection (None: SMS are screened on sender and metadata only).
    allow : NumberList or None
        The carrier's allow list (its registered enterprise senders).
    detector : DetectorConfig
        Thresholds of the streaming detectors.
    warn : bool
        Run early warning too (it changes nothing the simulator sees; it is counted).
    """

    hash_key: bytes = b"telewarden-adversaries-key-32by!"
    step_s: int = 300
    policy: PolicySettings | None = None
    content: ContentInspector | None = None
    allow: NumberList | None = None
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    warn: bool = True


class _GrowingMemo:
    """A content inspector that classifies each distinct text once, step by step, in a batch."""

    def __init__(self, content: ContentInspector) -> None:
        self.content = content
        self.findings: dict[str, ContentFinding] = {}

    def learn(self, texts: Iterable[str]) -> None:
        new = [t for t in dict.fromkeys(texts) if t not in self.findings]
        if not new:
            return
        many = getattr(self.content, "inspect_many", None)
        found = many(new) if callable(many) else [self.content.inspect(t) for t in new]
        self.findings.update(zip(new, found, strict=True))

    def inspect(self, text: str) -> ContentFinding:
        found = self.findings.get(text)
        return found if found is not None else self.content.inspect(text)


class HarmLedger:
    """Harm as the simulator counts it, corrected by the events a loop's verdicts blocked.

    Collects, step by step, the simulator's fraud events and victims and the positions the
    loop blocked; :meth:`outcomes` joins them with ``Simulation.truth_outcomes()``.
    """

    def __init__(self) -> None:
        self.truth_events: list[pl.DataFrame] = []
        self.fraud_calls: list[pl.DataFrame] = []
        self.truth_victims: list[pl.DataFrame] = []
        self.blocked: list[pl.DataFrame] = []
        self.warned: list[tuple[str, dt.datetime]] = []
        self.events = 0

    def add(self, chunk: SimChunk, decisions: pl.DataFrame | None) -> None:
        """One chunk and the loop's decisions on it (None: nothing screened)."""
        self.events += chunk.calls.height + chunk.sms.height
        self.truth_events.append(chunk.truth_events)
        self.fraud_calls.append(
            chunk.truth_events.filter(pl.col("record_kind") == "call")
            .select("record_id", "role", "at")
            .join(
                chunk.calls.select(pl.col("id").alias("record_id"), "caller", "callee"),
                on="record_id",
            )
        )
        self.truth_victims.append(chunk.truth_victims)
        if decisions is not None:
            self.blocked.append(
                decisions.filter(pl.col("verdict") == "block").select("position", "rule")
            )

    def _blocked(self) -> pl.DataFrame:
        schema = {"record_kind": pl.String, "record_id": pl.Int64, "rule": pl.String}
        if not self.blocked:
            return pl.DataFrame(schema=schema)
        parts = pl.col("position").str.split_exact(":", 1)
        return (
            pl.concat(self.blocked)
            .select(
                parts.struct.field("field_0").str.replace("calls", "call").alias("record_kind"),
                parts.struct.field("field_1").cast(pl.Int64).alias("record_id"),
                "rule",
            )
            .cast(schema)  # type: ignore[arg-type]
        )

    def _unmade_callbacks(self, blocked: pl.DataFrame) -> pl.DataFrame:
        """Callbacks (a subscriber returning a campaign's call) to calls that all were blocked.

        The simulator draws a callback when it emits the call being returned; a subscriber whose
        every call from that number the loop rejected had nothing to return.
        """
        calls = pl.concat(self.fraud_calls)
        rejected = blocked.filter(pl.col("record_kind") == "call").select(
            "record_id", pl.lit(True).alias("rejected")
        )
        made = calls.filter(pl.col("role") != "callback").join(rejected, on="record_id", how="left")
        backs = calls.filter(pl.col("role") == "callback")
        returned = backs.join(
            made.select(
                pl.col("callee").alias("caller"),
                pl.col("caller").alias("callee"),
                pl.col("at").alias("called_at"),
                pl.col("rejected").fill_null(False),
            ),
            on=["caller", "callee"],
            how="inner",
        ).filter(pl.col("called_at") < pl.col("at"))
        return (
            returned.group_by("record_id")
            .agg(pl.col("rejected").all())
            .filter(pl.col("rejected"))
            .select(pl.lit("call").alias("record_kind"), pl.col("record_id").cast(pl.Int64))
        )

    def victims(self) -> pl.DataFrame:
        """Every exposure, with ``prevented`` (its event blocked, or a callback to calls that
        all were blocked) and ``warned`` (a warning sent from a day before the exposure up to
        the loss)."""
        victims = pl.concat(self.truth_victims)
        blocked = self._blocked()
        stopped = pl.concat(
            [blocked.select("record_kind", "record_id"), self._unmade_callbacks(blocked)]
        ).unique()
        victims = victims.join(
            stopped.select(
                pl.col("record_kind").alias("exposure_record_kind"),
                pl.col("record_id").alias("exposure_record_id"),
                pl.lit(True).alias("prevented"),
            ),
            on=["exposure_record_kind", "exposure_record_id"],
            how="left",
        ).with_columns(pl.col("prevented").fill_null(False))
        sent: dict[str, list[dt.datetime]] = {}
        for msisdn, at in self.warned:
            sent.setdefault(msisdn, []).append(at)
        warned = [
            loss_at is not None
            and any(exposed - dt.timedelta(days=1) <= at < loss_at for at in sent.get(m, ()))
            for m, exposed, loss_at in victims.select("msisdn", "exposed_at", "loss_at").iter_rows()
        ]
        return victims.with_columns(pl.Series("warned", warned, dtype=pl.Boolean))

    def outcomes(self, simulation: Simulation) -> pl.DataFrame:
        """``truth_outcomes`` with the loop's rejections and the harm it prevented.

        Adds ``rejected`` (the gang's attempts the loop's verdict blocked), ``callbacks_rejected``
        (subscribers' calls back to a campaign number blocked), ``victims_prevented`` and
        ``loss_prevented_cny``, ``warned_before_loss``; ``victims``, ``losses`` and ``loss_cny``
        are what remains after the loop's verdicts.
        """
        base = simulation.truth_outcomes()
        events = pl.concat(self.truth_events).select(
            "record_kind", "record_id", "campaign_id", "role"
        )
        rejected = (
            events.join(self._blocked(), on=["record_kind", "record_id"], how="inner")
            .group_by("campaign_id")
            .agg(
                (pl.col("role") != "callback").sum().alias("rejected"),
                (pl.col("role") == "callback").sum().alias("callbacks_rejected"),
            )
        )
        victims = self.victims()
        harm = victims.group_by("campaign_id").agg(
            pl.col("prevented").sum().alias("victims_prevented"),
            (pl.col("prevented") & pl.col("loss_at").is_not_null()).sum().alias("_losses_prev"),
            pl.col("loss_cny").filter(pl.col("prevented")).sum().alias("loss_prevented_cny"),
            (~pl.col("prevented") & pl.col("loss_at").is_not_null() & pl.col("warned"))
            .sum()
            .alias("warned_before_loss"),
        )
        counts = ["rejected", "callbacks_rejected", "victims_prevented", "_losses_prev"]
        out = (
            base.join(rejected, on="campaign_id", how="left")
            .join(harm, on="campaign_id", how="left")
            .with_columns(
                *(pl.col(c).fill_null(0).cast(pl.Int64) for c in [*counts, "warned_before_loss"]),
                pl.col("loss_prevented_cny").fill_null(0.0).round(2),
            )
            .with_columns(
                (pl.col("victims") - pl.col("victims_prevented")).alias("victims"),
                (pl.col("losses") - pl.col("_losses_prev")).alias("losses"),
                (pl.col("loss_cny") - pl.col("loss_prevented_cny")).round(2).alias("loss_cny"),
            )
            .drop("_losses_prev")
        )
        return out


class FeedbackLoop:
    """The live loop over the simulator's steps, reporting its measures to a feedback inbox.

    Parameters
    ----------
    simulation : Simulation
        Gives the subscribers (the carrier's cards, stock cards included) and opt-ins.
    settings : LoopSettings
        Screening collaborators, step and thresholds.
    dispose : bool
        Put disposal in the loop. Without it the loop still screens, detects and emits flags,
        but no measure is taken and nothing is fed back (the campaigns cannot react).
    """

    def __init__(
        self, simulation: Simulation, settings: LoopSettings, *, dispose: bool = True
    ) -> None:
        self.settings = settings
        self.inbox = FeedbackInbox()
        subscribers = simulation.subscribers()
        self.disposal: LoopDisposal | None = None
        if dispose:
            store = MemoryDisposalStore(MemoryStore())
            register_subscribers(store, subscribers, settings.hash_key, source_name="simulation")
            self.disposal = LoopDisposal.over(store)
        warner = LoopWarner(EarlyWarning(build_engine(subscribers))) if settings.warn else None
        self._memo = None if settings.content is None else _GrowingMemo(settings.content)
        self.loop: LiveLoop = loop_for(
            simulation.optins(),
            subscribers,
            policy=settings.policy,
            content=self._memo,
            allow=settings.allow,
            disposer=self.disposal,
            warner=warner,
            detector=settings.detector,
        )
        self.ledger = HarmLedger()
        self.flags: list[Flag] = []
        self.reported: dict[str, Measure] = {}
        """Every number fed back to the simulator, with the measure as reported."""
        self._source: dict[str, str] = {}

    def observe(self, chunk: SimChunk) -> StepEffects:
        """Run one step through the loop and report the numbers its measures cut off."""
        events = events_from_records(chunk.calls, chunk.sms)
        if self._memo is not None:
            self._memo.learn(events["text"].drop_nulls().to_list())
        effects = self.loop.step(events)
        self.ledger.add(chunk, effects.decisions)
        self.ledger.warned += [(w.msisdn, w.send_at) for w in effects.warnings]
        for flag in effects.flags:
            self.flags.append(flag)
            self._source.setdefault(flag.subject, flag.source)
        step_end = chunk.start_at + dt.timedelta(seconds=(chunk.step + 1) * self.settings.step_s)
        self._report(step_end)
        return effects

    def _report(self, until: dt.datetime) -> None:
        disposal = self.disposal
        if disposal is None:
            return
        for number, since in disposal.lookup.off_net.items():
            if number not in self.reported:
                self._send(
                    Measure(MeasureKind.BLOCKED, number, since, self._source.get(number, ""))
                )
        book = disposal.service.book
        if book is None:
            return
        for card in book.restricted(until):
            if card not in self.reported:
                at = _blocked_since(book, card, until)
                self._send(Measure(MeasureKind.SUSPENDED, card, at, self._source.get(card, "")))

    def _send(self, measure: Measure) -> None:
        self.reported[measure.msisdn] = measure
        self.inbox.report(measure)


def _blocked_since(book: Any, card: str, until: dt.datetime) -> dt.datetime:
    """The first instant (before ``until``) from which the card's measures block its calls."""
    times: set[dt.datetime] = set()
    for m in book.measures_of(card):
        times.update(t for t in (m.in_force_at, m.deadline) if t is not None and t <= until)
    for t in sorted(times):
        restriction = book.restriction_for(card, t)
        if restriction is not None and restriction.blocks_outgoing_calls:
            return t
    return until


def run_with_loop(simulation: Simulation, loop: FeedbackLoop) -> Iterator[SimChunk]:
    """The simulation's steps, each processed by the loop before the next one is generated."""
    for chunk in simulation.chunks(feedback=loop.inbox, step_s=loop.settings.step_s):
        loop.observe(chunk)
        yield chunk


def static_config(config: SimConfig) -> SimConfig:
    """``config`` with every campaign's reaction policy removed (campaigns that never adapt)."""
    return replace(config, campaigns=tuple(replace(c, adaptive=None) for c in config.campaigns))


@dataclass(frozen=True, slots=True)
class Scenario:
    """One run: its outcomes per campaign and what the loop did.

    Attributes
    ----------
    name : str
        ``no loop``, ``screening alone``, ``loop, static campaigns`` or
        ``loop, adaptive campaigns``.
    outcomes : pl.DataFrame
        ``HarmLedger.outcomes`` of the run (``truth_outcomes`` corrected by the verdicts).
    reactions : pl.DataFrame
        ``truth_reactions`` of the run.
    catches : pl.DataFrame
        Campaign numbers fed back to the simulator, per campaign and the detector whose flag
        led to the measure (``campaign_id``, ``detector``, ``numbers``).
    loop : dict
        The loop's counters and false positives: ``events``, ``flags``, ``measured_numbers``,
        ``legitimate_flagged`` (flagged numbers of no campaign), ``legitimate_measured``
        (legitimate numbers fed back as cut off), ``legitimate_blocked_by_measures``
        (legitimate events blocked by a measure rule), ``warnings``, ``seconds`` per stage.
    """

    name: str
    outcomes: pl.DataFrame
    reactions: pl.DataFrame
    catches: pl.DataFrame
    loop: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AdversaryReport:
    """Harm and the gangs' cost without a loop, with screening alone, with the loop on static
    and on adaptive campaigns."""

    scenarios: tuple[Scenario, ...]
    settings: LoopSettings

    def summary(self) -> pl.DataFrame:
        """Per campaign and scenario: victims, losses, cards burnt and bought, per victim."""
        frames = [
            s.outcomes.select(
                pl.lit(s.name).alias("scenario"), "campaign_id", "campaign_kind", *HARM_COLUMNS
            )
            for s in self.scenarios
        ]
        return pl.concat(frames).with_columns(_burnt_per_victim())

    def totals(self) -> pl.DataFrame:
        """All campaigns together, per scenario."""
        return (
            self.summary()
            .group_by("scenario", maintain_order=True)
            .agg(pl.col(c).sum() for c in HARM_COLUMNS)
            .with_columns(
                _burnt_per_victim(),
                pl.col("loss_cny").round(0),
                pl.col("cost_cny").round(0),
            )
        )


HARM_COLUMNS = (
    "attempts",
    "blocked",
    "rejected",
    "victims",
    "losses",
    "loss_cny",
    "warned_before_loss",
    "cards_bought",
    "cards_burnt",
    "cost_cny",
)
"""What a campaign did and cost, per scenario (``Scenario.outcomes``), summed over campaigns."""


def _burnt_per_victim() -> pl.Expr:
    return (
        (pl.col("cards_burnt") / pl.col("victims").clip(lower_bound=1))
        .round(2)
        .alias("burnt_per_victim")
    )


def _catches(loop: FeedbackLoop, cards: pl.DataFrame) -> pl.DataFrame:
    schema = {"campaign_id": pl.String, "detector": pl.String, "numbers": pl.UInt32}
    if not loop.reported:
        return pl.DataFrame(schema=schema)
    reported = pl.DataFrame(
        {
            "msisdn": list(loop.reported),
            "detector": [m.detector or "cascade" for m in loop.reported.values()],
        }
    )
    return (
        reported.join(cards, on="msisdn", how="inner")
        .group_by("campaign_id", "detector")
        .agg(pl.len().alias("numbers"))
        .sort("campaign_id", "detector")
        .cast(schema)  # type: ignore[arg-type]
    )


def _loop_figures(loop: FeedbackLoop, cards: pl.DataFrame, legit_blocked: int) -> dict[str, Any]:
    fraud = set(cards["msisdn"])
    flagged = {f.subject for f in loop.flags}
    counters = loop.loop.counters
    return {
        "events": counters.events,
        "flags": counters.flags,
        "measured_numbers": len(loop.reported),
        "legitimate_flagged": len(flagged - fraud),
        "legitimate_measured": len(set(loop.reported) - fraud),
        "legitimate_blocked_by_measures": legit_blocked,
        "warnings": counters.warnings,
        "rescreened": counters.rescreened,
        "screen_s": round(counters.screen_s, 1),
        "detect_s": round(counters.detect_s, 1),
        "dispose_s": round(counters.dispose_s, 1),
        "warn_s": round(counters.warn_s, 1),
    }


def _legit_blocked_by_measures(ledger: HarmLedger) -> int:
    blocked = ledger._blocked().filter(pl.col("rule").is_in(MEASURE_RULES_BLOCKING))
    if not blocked.height:
        return 0
    fraud = pl.concat(ledger.truth_events).select("record_kind", "record_id")
    return blocked.join(fraud, on=["record_kind", "record_id"], how="anti").height


def loop_scenario(
    name: str,
    config: SimConfig,
    settings: LoopSettings,
    on_chunk: Callable[[], Any] | None = None,
) -> Scenario:
    """One run of the simulator with the live loop in front of it."""
    simulation = Simulation(config)
    loop = FeedbackLoop(simulation, settings)
    for _ in run_with_loop(simulation, loop):
        if on_chunk is not None:
            on_chunk()
    cards = simulation.truth_cards().select("msisdn", "campaign_id")
    return Scenario(
        name=name,
        outcomes=loop.ledger.outcomes(simulation),
        reactions=simulation.truth_reactions(),
        catches=_catches(loop, cards),
        loop=_loop_figures(loop, cards, _legit_blocked_by_measures(loop.ledger)),
    )


def baseline_scenarios(
    config: SimConfig,
    settings: LoopSettings,
    on_chunk: Callable[[], Any] | None = None,
) -> tuple[Scenario, Scenario]:
    """Without a loop, and with screening alone (no detectors, no measures) on the same run.

    Screening alone takes no measure, so nothing goes back to the simulator and the traffic is
    the one without a loop: one run gives both.
    """
    simulation = Simulation(config)
    bare = HarmLedger()
    screened = HarmLedger()
    memo = None if settings.content is None else _GrowingMemo(settings.content)
    screener = loop_for(
        simulation.optins(),
        simulation.subscribers(),
        policy=settings.policy,
        content=memo,
        allow=settings.allow,
    ).screener()
    for chunk in simulation.chunks():
        events = events_from_records(chunk.calls, chunk.sms)
        if memo is not None:
            memo.learn(events["text"].drop_nulls().to_list())
        decided = decide_frame(screener, events.select(_SCREEN_INPUT))
        bare.add(chunk, None)
        screened.add(chunk, decided.select("position", "verdict", "rule"))
        if on_chunk is not None:
            on_chunk()
    empty_catches = pl.DataFrame(
        schema={"campaign_id": pl.String, "detector": pl.String, "numbers": pl.UInt32}
    )
    reactions = simulation.truth_reactions()
    return (
        Scenario("no loop", bare.outcomes(simulation), reactions, empty_catches, {}),
        Scenario(
            "screening alone", screened.outcomes(simulation), reactions, empty_catches,
            {"events": screened.events},
        ),
    )  # fmt: skip


def evaluate_adversaries(
    config: SimConfig,
    settings: LoopSettings,
    on_chunk: Callable[[], Any] | None = None,
) -> AdversaryReport:
    """Adaptive campaigns without a loop, with screening alone, and with the live loop on the
    same campaigns made static and on the adaptive ones.

    Parameters
    ----------
    config : SimConfig
        Campaigns with their policies (``telewarden.core.sim.config.adaptive_config``). The
        static run uses the same campaigns without policies; without a loop both give the same
        traffic, so one run serves as the baseline for both.
    settings : LoopSettings
        The loop's collaborators and the simulator's step.
    on_chunk : callable or None
        Called after each chunk of each run (progress).
    """
    bare, alone = baseline_scenarios(config, settings, on_chunk)
    return AdversaryReport(
        scenarios=(
            bare,
            alone,
            loop_scenario("loop, static campaigns", static_config(config), settings, on_chunk),
            loop_scenario("loop, adaptive campaigns", config, settings, on_chunk),
        ),
        settings=settings,
    )
