"""The live loop drives the adaptive simulator: each reaction follows a measure of the loop."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from telewarden.core.sim import Simulation, preset
from telewarden.core.sim.adaptive import MeasureKind
from telewarden.core.sim.config import adaptive_config
from telewarden.services.adaptive_replay import (
    FeedbackLoop,
    LoopSettings,
    evaluate_adversaries,
    run_with_loop,
    static_config,
)

CONFIG = adaptive_config(replace(preset("tiny", seed=7), subscribers=1500, hours=16))
SETTINGS = LoopSettings(hash_key=b"k" * 32)


class Run:
    """One simulation with a loop in front of it, run to the end."""

    def __init__(self, config: object, *, dispose: bool = True) -> None:
        self.simulation = Simulation(config)  # type: ignore[arg-type]
        self.loop = FeedbackLoop(self.simulation, SETTINGS, dispose=dispose)
        chunks = list(run_with_loop(self.simulation, self.loop))
        self.calls = pl.concat([c.calls for c in chunks])
        self.sms = pl.concat([c.sms for c in chunks])
        self.reactions = self.simulation.truth_reactions()
        self.cards = self.simulation.truth_cards().select("msisdn", "campaign_id")

    def cut_off(self) -> pl.DataFrame:
        """Numbers the loop fed back to the simulator: ``msisdn, cut_at, campaign_id``."""
        return pl.DataFrame(
            {
                "msisdn": list(self.loop.reported),
                "cut_at": [m.at for m in self.loop.reported.values()],
            },
            schema={"msisdn": pl.String, "cut_at": pl.Datetime("us", "UTC")},
        ).join(self.cards, on="msisdn", how="left")


@pytest.fixture(scope="module")
def adaptive() -> Run:
    return Run(CONFIG)


@pytest.fixture(scope="module")
def static() -> Run:
    return Run(static_config(CONFIG))


REACTIONS_ON_A_DEAD_NUMBER = [
    pytest.param("replacement", id="replacement"),
    pytest.param("slowdown", id="slowdown"),
    pytest.param("channel_shift", id="channel-shift"),
    pytest.param("faster_rotation", id="faster-rotation"),
    pytest.param("threshold_learnt", id="threshold-gaming"),
]


@pytest.mark.parametrize("reaction", REACTIONS_ON_A_DEAD_NUMBER)
def test_each_reaction_names_a_number_the_loop_cut_off_before(adaptive: Run, reaction: str) -> None:
    rows = adaptive.reactions.filter(pl.col("reaction") == reaction)
    assert rows.height > 0, f"the live loop provoked no {reaction}"
    joined = rows.join(adaptive.cut_off(), on="msisdn", how="left")
    # the number the gang found dead was cut off by the loop's measure, before the gang noticed
    assert joined["cut_at"].null_count() == 0
    assert (joined["cut_at"] <= joined["at"]).all()
    assert (joined["campaign_id"] == joined["campaign_id_right"]).all()


def test_a_channel_shift_waits_for_as_many_dead_numbers_as_its_policy_says(adaptive: Run) -> None:
    shifts = adaptive.reactions.filter(pl.col("reaction") == "channel_shift")
    policies = {c.campaign_id: c.adaptive for c in CONFIG.campaigns}
    cut = adaptive.cut_off()
    kinds = set()
    for campaign_id, at, detail in shifts.select("campaign_id", "at", "detail").iter_rows():
        policy = policies[campaign_id]
        assert policy is not None and policy.shift_to is not None
        dead_before = cut.filter((pl.col("campaign_id") == campaign_id) & (pl.col("cut_at") <= at))
        assert dead_before.height >= policy.shift_after
        kinds.add(detail.split()[0])
    # call centre -> SMS with a link, SIM bank -> domestic interconnect, robocall -> spoofed intl
    assert kinds == {"sms_link", "off_net", "intl_spoof"}


def test_a_shifted_call_centre_sends_sms_from_its_cards(adaptive: Run) -> None:
    shift = adaptive.reactions.filter(
        (pl.col("campaign_id") == "cc-1") & (pl.col("reaction") == "channel_shift")
    )
    at = shift["at"][0]
    cc_cards = adaptive.cards.filter(pl.col("campaign_id") == "cc-1")["msisdn"]
    sent = adaptive.sms.filter(pl.col("sender").is_in(cc_cards.implode()))
    assert sent.height > 0 and (sent["sent_at"] >= at).all()


def test_the_threshold_gamer_stays_under_the_count_the_loop_acted_on(adaptive: Run) -> None:
    gamer = adaptive.reactions.filter(pl.col("campaign_id") == "cc-gamer")
    learnt = gamer.filter(pl.col("reaction") == "threshold_learnt")
    budget = int(learnt["detail"][-1].split()[0])
    rotated = gamer.filter((pl.col("reaction") == "rotation") & (pl.col("at") > learnt["at"][-1]))
    assert rotated.height > 0
    spent = rotated.filter(pl.col("detail").str.starts_with("after "))
    assert set(spent["detail"]) == {f"after {budget} calls"}
    # cards retired by budget were never cut off: the loop's rules did not see enough of them
    assert not set(spent["msisdn"]) & set(adaptive.loop.reported)


def test_suspensions_go_to_own_cards_and_blocks_to_other_numbers(adaptive: Run) -> None:
    own = set(adaptive.simulation.subscribers()["msisdn"])
    kinds = {(m.msisdn in own, m.kind) for m in adaptive.loop.reported.values()}
    assert kinds == {(True, MeasureKind.SUSPENDED), (False, MeasureKind.BLOCKED)}
    assert adaptive.loop.inbox.delivered == len(adaptive.loop.reported)


def test_campaigns_the_loop_never_cut_off_do_not_react(adaptive: Run) -> None:
    touched = set(adaptive.cut_off()["campaign_id"].drop_nulls())
    reacting = set(adaptive.reactions["campaign_id"])
    assert reacting == touched & reacting
    assert {"smish-intl-1", "smish-port-1"}.isdisjoint(reacting)


def test_a_loop_that_only_flags_changes_nothing_and_nobody_reacts(adaptive: Run) -> None:
    flags_only = Run(CONFIG, dispose=False)
    assert flags_only.loop.flags  # the detectors saw the same campaigns
    assert not flags_only.loop.reported and flags_only.reactions.height == 0
    plain = Simulation(CONFIG)
    chunks = list(plain.chunks())
    assert flags_only.calls.equals(pl.concat([c.calls for c in chunks]))
    assert flags_only.sms.equals(pl.concat([c.sms for c in chunks]))


def test_static_campaigns_are_blocked_but_never_react(static: Run) -> None:
    assert static.loop.reported and static.reactions.height == 0
    outcomes = static.simulation.truth_outcomes()
    assert outcomes["blocked"].sum() > 0 and outcomes["withheld"].sum() == 0


def test_harm_counts_the_loops_verdicts_as_well_as_its_measures(adaptive: Run) -> None:
    outcomes = adaptive.loop.ledger.outcomes(adaptive.simulation)
    raw = adaptive.simulation.truth_outcomes()
    assert (outcomes["victims"] + outcomes["victims_prevented"]).equals(raw["victims"])
    assert outcomes["rejected"].sum() > 0  # blocked inside the step the measure came in
    victims = adaptive.loop.ledger.victims()
    assert victims.filter(pl.col("prevented")).height == outcomes["victims_prevented"].sum()


def test_the_report_compares_no_loop_screening_and_the_loop() -> None:
    small = adaptive_config(replace(preset("tiny", seed=7), subscribers=800, hours=6))
    report = evaluate_adversaries(small, SETTINGS)
    names = [s.name for s in report.scenarios]
    assert names == [
        "no loop",
        "screening alone",
        "loop, static campaigns",
        "loop, adaptive campaigns",
    ]
    totals = {r["scenario"]: r for r in report.totals().iter_rows(named=True)}
    assert totals["no loop"]["victims"] >= totals["screening alone"]["victims"]
    assert totals["no loop"]["attempts"] == totals["loop, static campaigns"]["attempts"]
    assert report.scenarios[0].reactions.height == 0
    row = report.summary().row(0, named=True)
    assert row["burnt_per_victim"] == round(row["cards_burnt"] / max(row["victims"], 1), 2)
