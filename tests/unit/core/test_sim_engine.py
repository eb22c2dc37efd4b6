"""The simulation engine: determinism, chunking, configuration and presets."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import polars as pl
import pytest

from telewarden.core.errors import InvalidInputError
from telewarden.core.records import TABLES, CampaignKind
from telewarden.core.sim import PRESETS, SimConfig, Simulation, default_campaigns, preset

SMALL = replace(preset("tiny"), subscribers=600, hours=4, campaigns=default_campaigns(0.05))


def _tables(config: SimConfig) -> dict[str, pl.DataFrame]:
    sim = Simulation(config)
    chunks = list(sim.chunks())
    out = {
        name: pl.concat([getattr(c, name) for c in chunks])
        for name in ("calls", "sms", "usage", "truth_events", "truth_victims")
    }
    out.update(
        subscribers=sim.subscribers(),
        accounts=sim.accounts(),
        optins=sim.optins(),
        cells=sim.cells(),
        truth_cards=sim.truth_cards(),
        truth_campaigns=sim.truth_campaigns(),
    )
    return out


def test_same_seed_gives_identical_tables() -> None:
    first, second = _tables(SMALL), _tables(SMALL)
    for name, frame in first.items():
        assert frame.equals(second[name]), name


def test_iterating_twice_yields_the_same_chunks() -> None:
    sim = Simulation(SMALL)
    first = [c.calls for c in sim.chunks()]
    cards = sim.truth_cards()
    second = [c.calls for c in sim.chunks()]
    assert all(a.equals(b) for a, b in zip(first, second, strict=True))
    assert sim.truth_cards().equals(cards)


def test_different_seed_gives_different_traffic() -> None:
    first, other = _tables(SMALL), _tables(replace(SMALL, seed=SMALL.seed + 1))
    assert not first["calls"].equals(other["calls"])
    assert not first["subscribers"]["msisdn"].equals(other["subscribers"]["msisdn"])


def test_every_table_has_its_canonical_schema() -> None:
    for name, frame in _tables(SMALL).items():
        assert frame.schema == pl.Schema(TABLES[name].schema), name


def test_chunks_are_hour_by_shard_with_increasing_unique_ids() -> None:
    config = replace(SMALL, shard_size=250)
    sim = Simulation(config)
    chunks = list(sim.chunks())
    assert sim.n_shards == 3
    assert [(c.hour, c.shard) for c in chunks] == [(h, s) for h in range(4) for s in range(3)]
    last = 0
    for chunk in chunks:
        if chunk.calls.height:
            assert chunk.calls["id"].min() > last
            assert chunk.calls["start_at"].is_sorted()
            last = chunk.calls["id"].max()
        start = chunk.start_at
        assert chunk.calls.filter(
            (pl.col("start_at") < start) | (pl.col("start_at") >= start + dt.timedelta(hours=1))
        ).is_empty()


def test_sharding_changes_neither_population_nor_volume_much() -> None:
    one = _tables(SMALL)
    sharded = _tables(replace(SMALL, shard_size=200))
    assert one["subscribers"].equals(sharded["subscribers"])
    ratio = sharded["calls"].height / one["calls"].height
    assert 0.85 < ratio < 1.15


def test_disabled_campaign_injects_nothing() -> None:
    campaigns = tuple(replace(c, enabled=c.kind != CampaignKind.WANGIRI) for c in SMALL.campaigns)
    tables = _tables(replace(SMALL, campaigns=campaigns))
    assert "wangiri" not in tables["truth_events"]["campaign_kind"].to_list()
    assert "wangiri" not in tables["truth_campaigns"]["campaign_kind"].to_list()


def test_campaign_window_bounds_its_events() -> None:
    campaigns = tuple(
        replace(c, start_h=1.0, end_h=2.0) if c.kind == CampaignKind.SIM_BANK else c
        for c in SMALL.campaigns
    )
    config = replace(SMALL, campaigns=campaigns, start_at=dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC))
    events = _tables(config)["truth_events"].filter(pl.col("campaign_kind") == "sim_bank")
    assert events.height > 0
    lo = config.start_at + dt.timedelta(hours=1)
    assert events["at"].min() >= lo
    assert events["at"].max() < lo + dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hours": 0}, "hours"),
        ({"subscribers": 10}, "subscribers"),
        ({"start_at": dt.datetime(2026, 3, 2)}, "timezone"),
    ],
    ids=["no-hours", "too-few-subscribers", "naive-start"],
)
def test_invalid_config_is_rejected(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        replace(SimConfig(), **changes)  # type: ignore[arg-type]


def test_duplicate_campaign_ids_are_rejected() -> None:
    campaigns = default_campaigns()
    with pytest.raises(InvalidInputError, match="unique"):
        SimConfig(campaigns=(campaigns[0], campaigns[0]))


def test_presets_exist_and_grow() -> None:
    assert {"tiny", "day", "national-hour"} <= set(PRESETS)
    assert PRESETS["tiny"].subscribers < PRESETS["day"].subscribers
    assert PRESETS["day"].subscribers < PRESETS["national-hour"].subscribers
    with pytest.raises(InvalidInputError, match="unknown preset"):
        preset("galaxy")
