"""Realism checks: the simulated traffic has the properties docs/simulator.md claims.

They guard against a change that silently makes fraud trivially separable (or invisible).
One small simulation (the ``tiny`` population with denser fraud) is shared by the module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import phonenumbers
import polars as pl
import pytest

from telewarden.core.sim import Simulation, default_campaigns, preset
from telewarden.core.sim.texts import BANK_PORTS, SCAM_APK_LINKS, SCAM_DOMAINS


@dataclass(frozen=True)
class Run:
    sim: Simulation
    calls: pl.DataFrame  # with campaign_kind ("legit" for normal traffic) and role
    sms: pl.DataFrame
    usage: pl.DataFrame
    events: pl.DataFrame
    victims: pl.DataFrame
    cards: pl.DataFrame


@pytest.fixture(scope="module")
def run() -> Run:
    # denser fraud than ``tiny`` so each behaviour has enough records; SMS senders keep a
    # per-sender rate below a bank's notice port, as at carrier scale (docs/simulator.md)
    campaigns = tuple(
        replace(c, rate_per_h=15.0) if c.kind.value.startswith("smishing") else c
        for c in default_campaigns(0.2, rate_scale=1.0)
    )
    config = replace(preset("tiny"), campaigns=campaigns)
    sim = Simulation(config)
    chunks = list(sim.chunks())
    events = pl.concat([c.truth_events for c in chunks])

    def label(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
        truth = events.filter(pl.col("record_kind") == kind).select(
            pl.col("record_id").alias("id"), "campaign_kind", "role"
        )
        return frame.join(truth, on="id", how="left").with_columns(
            pl.col("campaign_kind").fill_null("legit")
        )

    return Run(
        sim=sim,
        calls=label(pl.concat([c.calls for c in chunks]), "call"),
        sms=label(pl.concat([c.sms for c in chunks]), "sms"),
        usage=pl.concat([c.usage for c in chunks]),
        events=events,
        victims=pl.concat([c.truth_victims for c in chunks]),
        cards=sim.truth_cards(),
    )


def _kind(run: Run, kind: str) -> pl.DataFrame:
    return run.calls.filter(pl.col("campaign_kind") == kind)


def test_social_graph_degree_is_heavy_tailed_with_most_subscribers_having_few_contacts(
    run: Run,
) -> None:
    degree = run.sim.world.graph.degree()[: run.sim.world.subs.n_ordinary]
    median = float(np.median(degree))
    assert 5 <= median <= 40
    assert degree.max() >= 5 * median
    # contacts actually called in one day: most people reach only a handful
    subs = run.sim.subscribers()["msisdn"].implode()
    legit = run.calls.filter(pl.col("campaign_kind") == "legit")
    pairs = pl.concat(
        [legit.select(a="caller", b="callee"), legit.select(a="callee", b="caller")]
    ).filter(pl.col("a").is_in(subs))
    per_day = pairs.unique().group_by("a").len()["len"]
    assert per_day.median() <= 10
    assert per_day.quantile(0.99) >= 3 * per_day.median()


def test_international_share_of_legitimate_calls_is_small_but_present(run: Run) -> None:
    legit = run.calls.filter(pl.col("campaign_kind") == "legit")
    foreign = ~pl.col("caller").str.starts_with("+86") & pl.col("caller").str.starts_with("+")
    foreign_callee = ~pl.col("callee").str.starts_with("+86") & pl.col("callee").str.starts_with(
        "+"
    )
    share = legit.filter(foreign | foreign_callee).height / legit.height
    assert 0.001 <= share <= 0.03
    inbound = legit.filter(pl.col("ingress") == "international")
    assert inbound.height > 0
    # legitimate international calls show a foreign caller ID, never a domestic one
    assert not inbound["caller"].str.starts_with("+86").any()


def test_spoofed_calls_show_domestic_or_service_caller_ids_on_international_ingress(
    run: Run,
) -> None:
    spoofed = _kind(run, "spoofed_cli")
    assert spoofed.height > 0
    assert (spoofed["ingress"] == "international").all()
    foreign = spoofed["caller"].str.starts_with("+") & ~spoofed["caller"].str.starts_with("+86")
    assert not foreign.any()


def _answered_durations(frame: pl.DataFrame) -> pl.Series:
    return frame.filter(pl.col("answered"))["duration_s"]


def test_scripted_fraud_durations_are_bimodal_and_legit_durations_are_not(run: Run) -> None:
    scripted = run.calls.filter(
        pl.col("campaign_kind").is_in(["call_centre", "sim_bank", "spoofed_cli"])
        & (pl.col("role") == "fraud_call")
    )
    fraud = _answered_durations(scripted)
    legit = _answered_durations(_kind(run, "legit"))
    assert (fraud < 20).mean() >= 0.4  # quick hang-ups once the pitch is recognised
    assert (fraud >= 300).sum() >= 1  # and a few long "hooked" calls
    assert (legit < 20).mean() <= 0.2
    assert legit.median() > 2 * fraud.median()


def test_sim_bank_calls_are_short(run: Run) -> None:
    sim_bank = _answered_durations(_kind(run, "sim_bank"))
    legit = _answered_durations(_kind(run, "legit"))
    assert sim_bank.median() < 30
    assert sim_bank.median() < legit.median() / 2


def test_answer_rates_are_realistic_and_lower_for_cold_calling(run: Run) -> None:
    rates = {
        kind: _kind(run, kind).filter(pl.col("role").fill_null("") != "callback")["answered"].mean()
        for kind in ("legit", "call_centre", "sim_bank", "robocall")
    }
    assert 0.7 <= rates["legit"] <= 0.9
    for kind in ("call_centre", "sim_bank", "robocall"):
        assert rates[kind] <= rates["legit"] - 0.2, kind


def test_wangiri_rings_once_then_some_victims_call_back_the_same_number(run: Run) -> None:
    wangiri = _kind(run, "wangiri")
    rings = wangiri.filter(pl.col("role") == "fraud_call")
    assert not rings["answered"].any()
    assert rings["ring_s"].max() <= 3
    assert (rings["ingress"] == "international").all()
    callbacks = wangiri.filter(pl.col("role") == "callback")
    assert callbacks.height > 0
    rung = rings.select(pl.col("caller").alias("callee"), pl.col("callee").alias("caller"))
    assert callbacks.join(rung, on=["caller", "callee"], how="anti").height == 0
    assert (callbacks["ingress"] == "on_net").all()


def test_sim_bank_sims_share_a_device_and_a_cell_and_have_no_inbound_or_data(run: Run) -> None:
    sims = run.cards.filter(pl.col("campaign_kind") == "sim_bank")["msisdn"]
    calls = _kind(run, "sim_bank").filter(pl.col("role") == "fraud_call")
    per_imei = calls.group_by("imei").agg(pl.col("caller").n_unique())
    assert per_imei["caller"].max() >= 4  # many SIMs in one IMEI (S12)
    assert calls.group_by("caller").agg(pl.col("cell_id").n_unique())["cell_id"].max() == 1
    assert not run.calls["callee"].is_in(sims.implode()).any()
    assert not run.usage["msisdn"].is_in(sims.implode()).any()
    assert not run.sms["recipient"].is_in(sims.implode()).any()


def test_call_centre_cards_are_new_and_call_strangers_across_cities(run: Run) -> None:
    subs = run.sim.subscribers()
    cards = run.cards.filter(pl.col("campaign_kind") == "call_centre")
    facts = subs.join(cards, on="msisdn")
    start = run.sim.config.start_at
    assert all((start - a).days < 20 for a in facts["activated_at"])
    calls = _kind(run, "call_centre").filter(pl.col("role") == "fraud_call")
    with_city = calls.join(
        subs.select(pl.col("msisdn").alias("callee"), "city"), on="callee", how="inner"
    )
    assert with_city.group_by("caller").agg(pl.col("city").n_unique())["city"].max() >= 3


def test_bank_notices_are_high_volume_106_port_sms_to_the_banks_own_customers(run: Run) -> None:
    sim = run.sim
    legit = run.sms.filter(pl.col("campaign_kind") == "legit")
    port, _ = BANK_PORTS[0]
    notices = legit.filter(pl.col("sender") == port)
    smish_volume = run.sms.filter(pl.col("campaign_kind") != "legit").group_by("sender").len()
    assert notices.height > smish_volume["len"].max()  # volume alone does not mean fraud
    assert (notices["ingress"] == "domestic").all()
    customers = sim.numbers.gather(pl.Series(np.flatnonzero(sim.world.subs.bank == 0)))
    assert notices["recipient"].is_in(customers.implode()).all()
    assert not notices["text"].str.contains("http").any()


def test_scam_texts_carry_lookalike_or_apk_links_and_some_legit_texts_carry_links_too(
    run: Run,
) -> None:
    scam = run.sms.filter(pl.col("campaign_kind").str.starts_with("smishing"))
    markers = [*SCAM_DOMAINS, *SCAM_APK_LINKS]
    assert (
        scam["text"]
        .map_elements(lambda t: any(m in t for m in markers), return_dtype=pl.Boolean)
        .all()
    )
    legit = run.sms.filter(pl.col("campaign_kind") == "legit")
    assert legit["text"].str.contains("http").any()
    intl = scam.filter(pl.col("campaign_kind") == "smishing_intl")
    assert (intl["ingress"] == "international").all()


def test_calls_follow_the_daily_rhythm(run: Run) -> None:
    legit = run.calls.filter(pl.col("campaign_kind") == "legit")
    hours = legit["start_at"].dt.convert_time_zone("Asia/Shanghai").dt.hour()
    assert (hours == 10).sum() > 5 * (hours == 3).sum()


def test_some_subscribers_roam_and_some_change_handsets(run: Run) -> None:
    legit = run.calls.filter((pl.col("campaign_kind") == "legit") & pl.col("imei").is_not_null())
    assert legit.group_by("caller").agg(pl.col("imei").n_unique())["imei"].max() == 2
    subs = run.sim.subscribers().select(pl.col("msisdn").alias("caller"), "home_cell_id")
    cells = run.sim.cells().select("cell_id", "city")
    moved = (
        legit.join(subs, on="caller")
        .join(cells, on="cell_id")
        .join(cells.rename({"cell_id": "home_cell_id", "city": "home_city"}), on="home_cell_id")
        .filter(pl.col("city") != pl.col("home_city"))
    )
    assert moved.height > 0


def test_numbers_are_valid_for_libphonenumber(run: Run) -> None:
    sample = run.sim.subscribers()["msisdn"].sample(100, seed=1).to_list()
    foreign = run.calls.filter(
        (pl.col("ingress") == "international")
        & pl.col("caller").str.starts_with("+")
        & ~pl.col("caller").str.starts_with("+86")
    )["caller"]
    for number in [*sample, *foreign.unique().head(50).to_list()]:
        assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def test_ground_truth_is_complete_and_consistent(run: Run) -> None:
    call_events = run.events.filter(pl.col("record_kind") == "call")
    assert call_events["record_id"].is_in(run.calls["id"].implode()).all()
    sms_events = run.events.filter(pl.col("record_kind") == "sms")
    assert sms_events["record_id"].is_in(run.sms["id"].implode()).all()
    assert run.calls["id"].is_unique().all() and run.sms["id"].is_unique().all()
    kinds = set(run.events["campaign_kind"].unique().to_list())
    assert kinds == {c.kind.value for c in run.sim.config.campaigns}
    losses = run.victims.filter(pl.col("loss_at").is_not_null())
    assert losses.height > 0
    assert (losses["loss_at"] >= losses["exposed_at"]).all()
    assert (losses["loss_cny"] > 0).all()
    on_net = run.cards.filter(pl.col("on_net"))["msisdn"]
    assert on_net.is_in(run.sim.subscribers()["msisdn"].implode()).all()
    first = (
        run.events.filter(pl.col("role") != "callback")
        .join(
            pl.concat(
                [
                    run.calls.select("id", pl.col("caller").alias("number")).with_columns(
                        record_kind=pl.lit("call")
                    ),
                    run.sms.select("id", pl.col("sender").alias("number")).with_columns(
                        record_kind=pl.lit("sms")
                    ),
                ]
            ).rename({"id": "record_id"}),
            on=["record_kind", "record_id"],
        )
        .group_by("number")
        .agg(pl.col("at").min())
    )
    joined = run.cards.join(first, left_on="msisdn", right_on="number")
    assert joined.height == run.cards["first_fraud_at"].is_not_null().sum()
    assert (joined["first_fraud_at"] == joined["at"]).all()


def test_fraud_is_a_minority_of_traffic(run: Run) -> None:
    assert (run.calls["campaign_kind"] != "legit").mean() < 0.25
    assert (run.sms["campaign_kind"] != "legit").mean() < 0.25
