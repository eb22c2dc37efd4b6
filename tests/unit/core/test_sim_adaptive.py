"""Adaptive campaigns (issue #19): no feedback, no change; each reaction only after a block."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

import polars as pl
import pytest

from telewarden.core.errors import InvalidInputError
from telewarden.core.records import CampaignKind
from telewarden.core.sim import SimConfig, Simulation, preset
from telewarden.core.sim.adaptive import (
    TRUTH_OUTCOMES_SCHEMA,
    FeedbackInbox,
    Measure,
    MeasureKind,
)
from telewarden.core.sim.config import AdaptivePolicy, Channel, adaptive_config

TABLES = ("calls", "sms", "usage", "truth_events", "truth_victims")

# Content hashes (sha256 of each table written as CSV, first 16 hex digits) of
# `preset("tiny", seed=3)`, recorded by running the simulator at commit 635be9f, before the
# adaptive campaigns existed (the script is `_hashes` below, run on that commit).
STARTING_COMMIT_HASHES = {
    "accounts": "e307e54ee2c3d4e6",
    "calls": "dd5b1cb80d5b133b",
    "optins": "f4bfefcfcc0d3c19",
    "sms": "a3ec69467bb53b51",
    "subscribers": "ec358fe784a73b7f",
    "truth_campaigns": "318ad7cd464d18c9",
    "truth_cards": "9a3bdfc7d2cf4984",
    "truth_events": "98a8758d76854785",
    "truth_victims": "2a69ba4059de3722",
    "usage": "2be8b7946e24da2a",
}


def _run(sim: Simulation, inbox: FeedbackInbox | None = None) -> dict[str, pl.DataFrame]:
    chunks = list(sim.chunks() if inbox is None else sim.chunks(feedback=inbox, step_s=300))
    return {name: pl.concat([getattr(c, name) for c in chunks]) for name in TABLES}


def _hashes(sim: Simulation) -> dict[str, str]:
    frames = _run(sim)
    frames.update(
        subscribers=sim.subscribers(),
        accounts=sim.accounts(),
        optins=sim.optins(),
        truth_cards=sim.truth_cards(),
        truth_campaigns=sim.truth_campaigns(),
    )
    return {
        k: hashlib.sha256(f.write_csv().encode()).hexdigest()[:16]
        for k, f in sorted(frames.items())
    }


def test_without_feedback_the_output_is_the_starting_commits() -> None:
    assert _hashes(Simulation(preset("tiny", seed=3))) == STARTING_COMMIT_HASHES


def _only(config: SimConfig, *ids: str) -> SimConfig:
    return replace(
        config,
        campaigns=tuple(replace(c, enabled=c.campaign_id in ids) for c in config.campaigns),
    )


BASE = adaptive_config(replace(preset("tiny", seed=5), subscribers=1500, hours=24))


def test_adaptive_campaigns_with_a_silent_port_generate_todays_traffic() -> None:
    plain = _run(Simulation(replace(BASE, campaigns=BASE.campaigns[:-1])))  # no gamer
    config = replace(BASE, campaigns=BASE.campaigns[:-1])
    sim = Simulation(config)
    silent = _run(sim, FeedbackInbox())
    for name in TABLES:
        # steps interleave call and SMS truth rows; the rows themselves must be the same
        key = ["record_kind", "record_id"] if name == "truth_events" else []
        key = ["exposure_record_kind", "exposure_record_id"] if name == "truth_victims" else key
        assert (
            silent[name].sort(key).equals(plain[name].sort(key))
            if key
            else silent[name].equals(plain[name])
        ), name
    assert sim.truth_reactions().height == 0
    outcomes = sim.truth_outcomes()
    assert outcomes.schema == pl.Schema(TRUTH_OUTCOMES_SCHEMA)
    assert outcomes.select("blocked", "withheld", "idle", "shifted", "cards_burnt").sum().row(
        0
    ) == (
        0,
        0,
        0,
        0,
        0,
    )


def test_the_step_must_divide_an_hour() -> None:
    with pytest.raises(InvalidInputError, match="divide an hour"):
        list(Simulation(_only(BASE, "cc-1")).chunks(feedback=FeedbackInbox(), step_s=7))


def _at(sim: Simulation, us: int) -> dt.datetime:
    return sim.config.start_at + dt.timedelta(microseconds=us - sim.start_us)


def _fraud_calls(tables: dict[str, pl.DataFrame], campaign: str) -> pl.DataFrame:
    ev = tables["truth_events"].filter(
        (pl.col("campaign_id") == campaign) & (pl.col("role") == "fraud_call")
    )
    return tables["calls"].join(ev.select(pl.col("record_id").alias("id")), on="id")


def _busiest_card(calls: pl.DataFrame) -> tuple[str, dt.datetime]:
    """The card with most calls, and the instant of its third call."""
    card = calls.group_by("caller").len().sort("len", "caller", descending=True)["caller"][0]
    third = calls.filter(pl.col("caller") == card).sort("start_at")["start_at"][2]
    return card, third


def _suspend(card: str, at: dt.datetime) -> FeedbackInbox:
    return FeedbackInbox([Measure(MeasureKind.SUSPENDED, card, at, "test")])


def test_a_suspended_card_is_replaced_after_a_delay_and_nothing_changes_before() -> None:
    config = _only(BASE, "cc-1")
    policy = AdaptivePolicy(stock=5, replace_delay_min=(10.0, 20.0))
    config = replace(config, campaigns=tuple(replace(c, adaptive=policy) for c in config.campaigns))
    before = _run(Simulation(config))
    card, at = _busiest_card(_fraud_calls(before, "cc-1"))
    sim = Simulation(config)
    after = _run(sim, _suspend(card, at))

    # before the measure, the two runs are the same records
    early = pl.col("start_at") < at
    assert after["calls"].filter(early).equals(before["calls"].filter(early))
    # the card makes no call from the measure on; a stock card takes over its schedule
    mine = _fraud_calls(after, "cc-1")
    assert mine.filter((pl.col("caller") == card) & ~early).height == 0
    reactions = sim.truth_reactions()
    replacement = reactions.filter(pl.col("reaction") == "replacement")
    assert replacement.height == 1 and replacement["msisdn"][0] == card
    noticed = replacement["at"][0]
    assert noticed >= at
    new_cards = set(mine["caller"]) - set(_fraud_calls(before, "cc-1")["caller"])
    assert len(new_cards) == 1
    (new_card,) = new_cards
    first_new = mine.filter(pl.col("caller") == new_card)["start_at"].min()
    assert isinstance(first_new, dt.datetime)
    assert dt.timedelta(minutes=10) <= first_new - noticed
    # the replacement is a subscriber card, in the ground truth, bought and counted
    assert new_card in set(sim.subscribers()["msisdn"])
    assert new_card in set(sim.truth_cards()["msisdn"])
    row = sim.truth_outcomes().filter(pl.col("campaign_id") == "cc-1").row(0, named=True)
    assert row["cards_burnt"] == 1 and row["blocked"] == 1
    assert row["cards_bought"] == config.campaigns[0].sources + 1
    # no slowdown, shift or rotation in this policy
    assert set(reactions["reaction"]) == {"replacement"}


def test_a_campaign_without_a_policy_keeps_dialling_the_dead_card() -> None:
    config = _only(BASE, "cc-1")
    config = replace(config, campaigns=tuple(replace(c, adaptive=None) for c in config.campaigns))
    before = _run(Simulation(config))
    card, at = _busiest_card(_fraud_calls(before, "cc-1"))
    sim = Simulation(config)
    after = _run(sim, _suspend(card, at))
    later = before["calls"].filter((pl.col("caller") == card) & (pl.col("start_at") >= at))
    row = sim.truth_outcomes().filter(pl.col("campaign_id") == "cc-1").row(0, named=True)
    assert (
        row["blocked"] >= later.height - 1 > 0
    )  # every later attempt blocked (one step late at most)
    assert sim.truth_reactions().height == 0
    assert after["calls"].filter(pl.col("caller") == card)["start_at"].max() < at + dt.timedelta(
        minutes=5
    )


def test_slowdown_withholds_volume_only_after_a_block() -> None:
    config = _only(BASE, "cc-1")
    policy = AdaptivePolicy(stock=5, slowdown=0.5, min_volume=0.5)
    config = replace(config, campaigns=tuple(replace(c, adaptive=policy) for c in config.campaigns))
    before = _run(Simulation(config))
    calls = _fraud_calls(before, "cc-1")
    card, at = _busiest_card(calls)
    sim = Simulation(config)
    after = _run(sim, _suspend(card, at))
    reactions = sim.truth_reactions()
    slow = reactions.filter(pl.col("reaction") == "slowdown")
    assert slow.height == 1
    when = slow["at"][0]
    early = pl.col("start_at") < when
    assert _fraud_calls(after, "cc-1").filter(early).height == calls.filter(early).height
    row = sim.truth_outcomes().filter(pl.col("campaign_id") == "cc-1").row(0, named=True)
    late_before = calls.filter(~early).height
    late_after = _fraud_calls(after, "cc-1").filter(~early).height
    assert row["withheld"] > 0.3 * late_before
    assert late_after < 0.75 * late_before


def test_channel_shift_moves_calls_to_sms_after_enough_blocks_only() -> None:
    config = _only(BASE, "cc-1")
    policy = AdaptivePolicy(stock=5, shift_to=Channel.SMS_LINK, shift_after=1, shift_share=0.5)
    config = replace(config, campaigns=tuple(replace(c, adaptive=policy) for c in config.campaigns))
    before = _run(Simulation(config))
    assert before["truth_events"].filter(pl.col("role") == "fraud_sms").height == 0
    card, at = _busiest_card(_fraud_calls(before, "cc-1"))
    sim = Simulation(config)
    after = _run(sim, _suspend(card, at))
    shift = sim.truth_reactions().filter(pl.col("reaction") == "channel_shift")
    assert shift.height == 1
    texts = after["truth_events"].filter(
        (pl.col("role") == "fraud_sms") & (pl.col("campaign_id") == "cc-1")
    )
    assert texts.height > 10
    assert texts["at"].min() >= shift["at"][0]  # type: ignore[operator]
    sms = after["sms"].join(texts.select(pl.col("record_id").alias("id")), on="id")
    assert sms["ingress"].unique().to_list() == ["on_net"]
    assert sms["text"].str.contains("http|apk|\\.").all()
    cards = set(sim.truth_cards()["msisdn"])
    assert set(sms["sender"]) <= cards
    row = sim.truth_outcomes().filter(pl.col("campaign_id") == "cc-1").row(0, named=True)
    assert row["shifted"] == texts.height


def test_domestic_robocalls_come_back_through_international_gateways_with_spoofed_cli() -> None:
    config = _only(BASE, "robo-1")
    before = _run(Simulation(config))
    calls = _fraud_calls(before, "robo-1")
    assert set(calls["ingress"]) == {"domestic"}
    first_hour = calls.sort("start_at")["caller"].unique(maintain_order=True).to_list()[:2]
    t0 = calls.sort("start_at")["start_at"][0]
    inbox = FeedbackInbox(
        [Measure(MeasureKind.BLOCKED, n, t0 + dt.timedelta(minutes=5)) for n in first_hour]
    )
    sim = Simulation(config)
    after = _run(sim, inbox)
    reactions = sim.truth_reactions()
    assert {"replacement", "slowdown", "channel_shift"} <= set(reactions["reaction"])
    moved = _fraud_calls(after, "robo-1").filter(pl.col("ingress") == "international")
    assert moved.height > 0
    assert (
        moved["start_at"].min() >= reactions.filter(pl.col("reaction") == "channel_shift")["at"][0]
    )  # type: ignore[operator]
    assert moved["caller"].str.starts_with("+86").all()
    assert moved["trunk"].str.starts_with("intl-gw").all()


def test_a_blocked_wangiri_number_rings_no_one_and_gets_no_callbacks() -> None:
    config = _only(BASE, "wangiri-1")
    config = replace(config, campaigns=tuple(replace(c, adaptive=None) for c in config.campaigns))
    before = _run(Simulation(config))
    rings = _fraud_calls(before, "wangiri-1").sort("start_at")
    number = rings["caller"][0]
    first_burst = rings.filter(pl.col("caller") == number)["start_at"]
    victims_before = before["truth_victims"].filter(pl.col("campaign_id") == "wangiri-1").height
    assert victims_before > 0

    # barred before its first ring: it rings no one, so no one calls back
    sim = Simulation(config)
    after = _run(sim, FeedbackInbox([Measure(MeasureKind.BLOCKED, number, first_burst[0])]))
    assert _fraud_calls(after, "wangiri-1").filter(pl.col("caller") == number).height == 0
    row = sim.truth_outcomes().row(0, named=True)
    assert row["callbacks_blocked"] == 0  # the callbacks of rings never made do not exist

    # barred once its first burst is over: the rings happened, the callbacks hit the bar
    sim = Simulation(config)
    after_burst = first_burst.filter(first_burst < first_burst[0] + dt.timedelta(minutes=10)).max()
    assert isinstance(after_burst, dt.datetime)
    at = after_burst + dt.timedelta(seconds=1)
    late = _run(sim, FeedbackInbox([Measure(MeasureKind.BLOCKED, number, at)]))
    row = sim.truth_outcomes().row(0, named=True)
    assert row["callbacks_blocked"] > 0
    cut = late["truth_victims"].filter(
        (pl.col("campaign_id") == "wangiri-1") & (pl.col("msisdn") != number)
    )
    assert cut.height < victims_before


def test_the_threshold_gamer_learns_a_budget_below_the_count_that_killed_its_card() -> None:
    config = _only(BASE, "cc-gamer")
    sim = Simulation(config)
    inbox = FeedbackInbox()
    calls_by_card: dict[str, int] = {}
    killed: dict[str, int] = {}
    limit = 8  # the scripted loop suspends any card at its 8th call
    for chunk in sim.chunks(feedback=inbox, step_s=300):
        for caller, at in chunk.calls.select("caller", "start_at").iter_rows():
            if not caller.startswith("+86") or caller in killed:
                continue
            calls_by_card[caller] = calls_by_card.get(caller, 0) + 1
            if calls_by_card[caller] >= limit:
                killed[caller] = calls_by_card[caller]
                inbox.report(Measure(MeasureKind.SUSPENDED, caller, at + dt.timedelta(seconds=1)))
    reactions = sim.truth_reactions()
    learnt = reactions.filter(pl.col("reaction") == "threshold_learnt")
    assert learnt.height >= 1
    budget = int(learnt["detail"][-1].split()[0])
    assert budget < limit
    assert reactions.filter(pl.col("reaction") == "rotation").height > 0
    # once learnt, the gamer's fresh cards stay under the loop's count
    last_learnt = learnt["at"][-1]
    first_cards = sim.numbers.gather(pl.Series(sim.plans[0].sources))
    rotated = reactions.filter(
        (pl.col("reaction") == "rotation")
        & (pl.col("at") > last_learnt)
        & ~pl.col("msisdn").is_in(first_cards.implode())
    )
    assert rotated.height > 0
    assert set(rotated["detail"]) == {f"after {budget} calls"}
    assert not set(rotated["msisdn"]) & set(killed)  # retired in time, never suspended


def test_campaign_kinds_in_the_adaptive_preset() -> None:
    assert all(c.adaptive is not None for c in BASE.campaigns)
    assert {c.kind for c in BASE.campaigns} == {c.kind for c in preset("tiny").campaigns}
    assert CampaignKind.CALL_CENTRE in {c.kind for c in BASE.campaigns}
    assert BASE.campaigns[-1].adaptive is not None and BASE.campaigns[-1].adaptive.learn_thresholds


def test_the_threshold_gamer_also_learns_from_cards_cut_off_after_it_retired_them() -> None:
    config = _only(BASE, "cc-gamer")
    sim = Simulation(config)
    inbox = FeedbackInbox()
    calls_by_card: dict[str, int] = {}
    limit, delay = 5, dt.timedelta(minutes=40)  # a slow loop: cards die well after their 5th call
    for chunk in sim.chunks(feedback=inbox, step_s=300):
        for caller, at in chunk.calls.select("caller", "start_at").iter_rows():
            calls_by_card[caller] = calls_by_card.get(caller, 0) + 1
            if calls_by_card[caller] == limit:
                inbox.report(Measure(MeasureKind.SUSPENDED, caller, at + delay))
    reactions = sim.truth_reactions()
    learnt = reactions.filter(pl.col("reaction") == "threshold_learnt")
    retired = set(reactions.filter(pl.col("reaction") == "rotation")["msisdn"])
    assert set(learnt["msisdn"]) & retired  # learnt from a card it had already retired
    assert int(learnt["detail"][-1].split()[0]) < limit
