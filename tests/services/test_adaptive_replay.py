"""The stand-in loop: streaming detectors block what they flag, adaptive campaigns react."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import polars as pl
import pytest

from telewarden.core.sim import Simulation, preset
from telewarden.core.sim.adaptive import MeasureKind
from telewarden.core.sim.config import adaptive_config
from telewarden.services.adaptive_replay import (
    AdversaryReport,
    DetectorLoop,
    LoopSettings,
    evaluate_adversaries,
    run_with_loop,
    static_config,
)

CONFIG = adaptive_config(replace(preset("tiny", seed=7), subscribers=1500, hours=16))


@pytest.fixture(scope="module")
def report() -> AdversaryReport:
    return evaluate_adversaries(CONFIG, LoopSettings())


def test_the_loop_suspends_cards_and_blocks_other_numbers_after_its_delay() -> None:
    simulation = Simulation(CONFIG)
    loop = DetectorLoop(simulation, LoopSettings(action_delay_s=600))
    for _ in run_with_loop(simulation, loop):
        pass
    assert loop.reported and loop.inbox.delivered == len(loop.reported)
    cards = set(simulation.subscribers()["msisdn"])
    for measure in loop.inbox.pending:  # measures not yet due stay pending
        assert measure.at > simulation.config.start_at
    delivered = [(msisdn, alert) for msisdn, alert in loop.reported.items() if msisdn in cards]
    assert delivered  # call-centre or SIM-bank cards were flagged
    burnt = set(simulation.truth_outcomes()["cards_burnt"])
    assert max(burnt) > 0
    kinds = {(MeasureKind.SUSPENDED if m in cards else MeasureKind.BLOCKED) for m in loop.reported}
    assert kinds == {MeasureKind.SUSPENDED, MeasureKind.BLOCKED}
    reactions = simulation.truth_reactions()
    first_flag = min(a.flagged_at for a in loop.reported.values())
    assert reactions["at"].min() >= first_flag + dt.timedelta(seconds=600)  # type: ignore[operator]


def test_without_the_loop_nothing_is_blocked_and_nothing_reacts(report: AdversaryReport) -> None:
    baseline = report.scenarios[0]
    assert baseline.name == "no loop"
    assert baseline.outcomes.select("blocked", "cards_burnt", "shifted").sum().row(0) == (0, 0, 0)
    assert baseline.reactions.height == 0


def test_campaigns_react_only_where_the_loop_burnt_their_numbers(report: AdversaryReport) -> None:
    adaptive = report.scenarios[2]
    burnt = set(adaptive.outcomes.filter(pl.col("cards_burnt") > 0)["campaign_id"])
    reacting = set(adaptive.reactions["campaign_id"])
    assert reacting and reacting <= burnt
    static = report.scenarios[1]
    assert static.reactions.height == 0
    assert static.outcomes["blocked"].sum() > adaptive.outcomes["blocked"].sum()


def test_the_static_run_sees_the_same_traffic_until_the_loop_acts(report: AdversaryReport) -> None:
    # without a loop the static and the adaptive configuration generate the same attempts
    plain = Simulation(static_config(CONFIG))
    for _ in plain.chunks():
        pass
    assert (
        plain.truth_outcomes()
        .drop("adaptive", "cost_cny")
        .equals(report.scenarios[0].outcomes.drop("adaptive", "cost_cny"))
    )


def test_the_loop_prevents_harm_and_the_summary_counts_cards_per_victim(
    report: AdversaryReport,
) -> None:
    totals = {r["scenario"]: r for r in report.totals().iter_rows(named=True)}
    assert totals["no loop"]["victims"] > totals["loop, adaptive campaigns"]["victims"]
    assert totals["loop, static campaigns"]["blocked"] > 0
    summary = report.summary()
    row = summary.filter(pl.col("scenario") == "loop, adaptive campaigns").row(0, named=True)
    assert row["burnt_per_victim"] == round(row["cards_burnt"] / max(row["victims"], 1), 2)
