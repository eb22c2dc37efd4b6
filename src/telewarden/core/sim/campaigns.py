"""Fraud campaigns: their numbers and devices (planned once) and their traffic (per chunk).

Each kind follows the behaviour domain.md section (c) and peers.md describe; the parameters
are in ``CampaignConfig`` and documented with sources in docs/simulator.md. Every record a
campaign makes carries its campaign code and role; exposures of victims carry the exposure
time and, when the victim goes on to lose money, the loss time and amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from telewarden.core.records import CampaignKind, ExposureKind, ReleaseCause
from telewarden.core.sim.config import CampaignConfig, SimConfig
from telewarden.core.sim.numbers import OFF_NET_PREFIXES, imeis, international_numbers
from telewarden.core.sim.parts import (
    CALL_COLUMNS,
    CAUSES,
    EXPOSURES,
    INGRESSES,
    ROLES,
    SMS_COLUMNS,
    Batch,
    concat,
    new_batch,
    trunk,
)
from telewarden.core.sim.population import (
    GATEWAY_TAC,
    HANDSET_TACS,
    Directory,
    Subscribers,
)
from telewarden.core.sim.texts import scam_texts
from telewarden.core.sim.traffic import Clock, World, answer_and_durations, cell_at, imei_at

__all__ = ["CampaignPlan", "DESCRIPTIONS", "campaign_traffic", "fraud_card_count", "plan_campaigns"]

HOUR_US = 3_600_000_000
MIN_US = 60_000_000

DESCRIPTIONS: dict[CampaignKind, str] = {
    CampaignKind.CALL_CENTRE: "new cards spraying strangers across cities; bimodal durations",
    CampaignKind.SIM_BANK: "GoIP racks: many SIMs per IMEI, one static cell, outbound only",
    CampaignKind.SPOOFED_CLI: "domestic/95xxx/110 caller IDs arriving on international ingress",
    CampaignKind.WANGIRI: "one-ring international bursts, premium-rate callbacks",
    CampaignKind.ROBOCALL: "short automated waves from rotating numbers via a VoIP interconnect",
    CampaignKind.SMISHING_INTL: "scam SMS from international senders with look-alike links",
    CampaignKind.SMISHING_PORT: "scam SMS through 106 ports with look-alike and APK links",
}

_ON_NET_KINDS = (CampaignKind.CALL_CENTRE, CampaignKind.SIM_BANK)
_WANGIRI_REGIONS = ("TN", "MR", "SL", "CI")  # premium/high-risk ranges seen in Wangiri reports
_SMISH_REGIONS = ("PH", "KH", "MM", "MY")
_SPOOF_SHORT = ("95588", "95533", "95599", "95566", "110", "96110", "0085295588", "+86110")


@dataclass(slots=True)
class CampaignPlan:
    """A campaign ready to generate traffic."""

    code: int  # index in the simulation's campaign list
    config: CampaignConfig
    start_us: int
    end_us: int
    sources: npt.NDArray[Any]  # node ids of the numbers used
    src_start_us: npt.NDArray[Any]  # per source: first active instant
    src_end_us: npt.NDArray[Any]  # per source: end of activity
    device: npt.NDArray[Any]  # per source: IMEI index (-1 for foreign numbers)
    cells: npt.NDArray[Any]  # per source: 3 candidate cell indices (-1 for foreign numbers)
    data_activity: float  # data use of its cards (call-centre phones browse a little)

    @property
    def kind(self) -> CampaignKind:
        """The campaign's kind."""
        return self.config.kind


def fraud_card_count(config: SimConfig) -> int:
    """Subscriber cards the campaigns need (call-centre cards and SIM-bank SIMs)."""
    return sum(c.sources for c in config.campaigns if c.enabled and c.kind in _ON_NET_KINDS)


def plan_campaigns(
    rng: np.random.Generator,
    config: SimConfig,
    subs: Subscribers,
    cells_city_start: npt.NDArray[Any],
    cells_city_count: npt.NDArray[Any],
    directory: Directory,
    imei_parts: list[pl.Series],
    imei_count: int,
    start_us: int,
) -> list[CampaignPlan]:
    """Allocate each enabled campaign's numbers, devices, cells and active windows.

    On-net cards are the subscriber rows after the ordinary ones; their activation, outlet,
    ID document and location are set here (signals S13, S15, S16).
    """
    plans: list[CampaignPlan] = []
    next_card = subs.n_ordinary
    sim_end = start_us + config.hours * HOUR_US
    n_cities = cells_city_start.shape[0]

    def cells_in(city: npt.NDArray[Any], k: int) -> npt.NDArray[Any]:
        u = rng.random((city.shape[0], k))
        picked: npt.NDArray[Any] = cells_city_start[city][:, None] + (
            u * cells_city_count[city][:, None]
        ).astype(np.int64)
        return picked

    for code, c in enumerate(config.campaigns):
        if not c.enabled:
            continue
        c_start = start_us + int(max(0.0, c.start_h) * HOUR_US)
        c_end = min(sim_end, start_us + int(min(c.end_h, 1e6) * HOUR_US))
        if c_end <= c_start:
            continue
        n = c.sources
        src_start: npt.NDArray[np.int64] = np.full(n, c_start, dtype=np.int64)
        src_end: npt.NDArray[np.int64] = np.full(n, c_end, dtype=np.int64)
        device = np.full(n, -1, dtype=np.int64)
        cell3: npt.NDArray[np.int64] = np.full((n, 3), -1, dtype=np.int64)
        data_activity = 0.0
        if c.kind in _ON_NET_KINDS:
            sources: npt.NDArray[Any] = np.arange(next_card, next_card + n, dtype=np.int64)
            next_card += n
            # the gang buys its cards at one or two outlets, on a handful of ID documents
            outlet = 9000 + code * 10 + rng.integers(0, 2, n)
            docs = 3 * subs.n + code * 100_000 + rng.integers(0, max(1, n // 5), n)
            subs.outlet[sources] = outlet
            subs.doc[sources] = docs
            subs.plan[sources] = 0
            subs.arpu[sources] = np.round(rng.uniform(18.0, 40.0, n), 2)
            if c.kind == CampaignKind.CALL_CENTRE:
                # cards rotate: each lives 6-30 h, then a fresh one takes over (S15)
                span = max(c_end - c_start, HOUR_US)
                src_start = c_start + (rng.random(n) * span * 0.8).astype(np.int64)
                src_end = np.minimum(
                    src_start + rng.uniform(6.0, 30.0, n).astype(np.float64) * HOUR_US, c_end
                ).astype(np.int64)
                activated = src_start - rng.uniform(2.0, 72.0, n) * HOUR_US
                city = rng.integers(0, n_cities, n)
                cell3 = cells_in(city, 3)
                phones = imeis(rng, n, HANDSET_TACS)
                imei_parts.append(phones)
                device = imei_count + np.arange(n)
                imei_count += n
                data_activity = 0.05
            else:
                # SIM bank: SIMs share a gateway IMEI and a static cell (S11, S12)
                per = max(1, c.sims_per_device)
                n_dev = -(-n // per)
                gate = imeis(rng, n_dev, (GATEWAY_TAC,))
                imei_parts.append(gate)
                dev_of = np.arange(n) // per
                device = imei_count + dev_of
                imei_count += n_dev
                dev_city = rng.integers(0, n_cities, n_dev)
                dev_cell = cells_in(dev_city, 1)[:, 0]
                cell3 = np.repeat(dev_cell[dev_of][:, None], 3, axis=1)
                city = dev_city[dev_of]
                activated = c_start - rng.uniform(24.0, 24.0 * 20, n_dev)[dev_of] * HOUR_US
            subs.activated_us[sources] = activated.astype(np.int64)
            subs.city[sources] = city
            subs.home_cell[sources] = cell3[:, 0]
            subs.work_cell[sources] = cell3[:, 0]
            subs.imei0[sources] = device
            subs.data_activity[sources] = data_activity
        elif c.kind == CampaignKind.SPOOFED_CLI:
            k_short = max(1, n // 5)
            domestic = n - k_short
            nums = rng.choice(np.asarray(OFF_NET_PREFIXES + (138, 139, 150)), domestic)
            mob = nums.astype(np.int64) * 100_000_000 + rng.integers(0, 100_000_000, domestic)
            mob_s = "+86" + pl.Series(mob).cast(pl.String)
            short = pl.Series(_SPOOF_SHORT).gather(
                pl.Series(rng.integers(0, len(_SPOOF_SHORT), k_short))
            )
            sources = directory.add(pl.concat([mob_s, short]))
        elif c.kind == CampaignKind.WANGIRI:
            sources = directory.add(international_numbers(rng, n, _WANGIRI_REGIONS))
        elif c.kind == CampaignKind.SMISHING_INTL:
            sources = directory.add(international_numbers(rng, n, _SMISH_REGIONS))
        elif c.kind == CampaignKind.SMISHING_PORT:
            # 106 ports look like the banks' and couriers' ports: the number alone says little
            ports = "1069" + pl.Series(rng.integers(0, 10**8, n)).cast(pl.String).str.zfill(8)
            sources = directory.add(ports)
        elif c.kind == CampaignKind.ROBOCALL:
            # numbers rotate every hour: campaigns rarely reuse numbers (S22)
            hours = -(-(c_end - c_start) // HOUR_US)
            total = n * int(hours)
            pre = rng.choice(np.asarray(OFF_NET_PREFIXES), total)
            mob = pre.astype(np.int64) * 100_000_000 + rng.integers(0, 100_000_000, total)
            sources = directory.add("+86" + pl.Series(mob).cast(pl.String))
            slot = np.arange(total) // n
            src_start = c_start + slot * HOUR_US
            src_end = np.minimum(src_start + HOUR_US, c_end)
            device = np.full(total, -1, dtype=np.int64)
            cell3 = np.full((total, 3), -1, dtype=np.int64)
        else:
            continue
        plans.append(
            CampaignPlan(
                code=code,
                config=c,
                start_us=c_start,
                end_us=c_end,
                sources=sources,
                src_start_us=src_start.astype(np.int64),
                src_end_us=src_end.astype(np.int64),
                device=device,
                cells=cell3,
                data_activity=data_activity,
            )
        )
    return plans


def _active_fraction(plan: CampaignPlan, clock: Clock) -> npt.NDArray[Any]:
    """Per source, the fraction of the chunk's hour it is active."""
    lo = np.maximum(plan.src_start_us, clock.start_us)
    hi = np.minimum(plan.src_end_us, clock.end_us)
    out: npt.NDArray[Any] = np.clip((hi - lo) / HOUR_US, 0.0, 1.0)
    return out


def _times(
    rng: np.random.Generator, plan: CampaignPlan, src_idx: npt.NDArray[Any], clock: Clock
) -> npt.NDArray[Any]:
    lo = np.maximum(plan.src_start_us[src_idx], clock.start_us)
    hi = np.minimum(plan.src_end_us[src_idx], clock.end_us)
    out: npt.NDArray[Any] = lo + (rng.random(src_idx.shape[0]) * np.maximum(hi - lo, 1)).astype(
        np.int64
    )
    return out


def _random_subscribers(rng: np.random.Generator, world: World, n: int) -> npt.NDArray[Any]:
    return rng.integers(0, world.subs.n_ordinary, n).astype(np.int64)


def _victims(
    rng: np.random.Generator,
    plan: CampaignPlan,
    exposed: npt.NDArray[Any],
    exposed_us: npt.NDArray[Any],
    kind: ExposureKind,
    loss_delay_median_min: float,
) -> dict[str, npt.NDArray[Any]]:
    """Exposure and loss columns for records; ``exposed`` marks the exposing records."""
    n = exposed.shape[0]
    loses = exposed & (rng.random(n) < plan.config.loss_p)
    delay = np.asarray(rng.lognormal(np.log(loss_delay_median_min), 1.0, n) * MIN_US)
    return {
        "exposure": np.where(exposed, EXPOSURES.index(kind), -1).astype(np.int8),
        "exposed_us": np.where(exposed, exposed_us, -1).astype(np.int64),
        "loss_us": np.where(loses, exposed_us + delay.astype(np.int64), -1).astype(np.int64),
        "loss_cny": np.where(loses, np.round(rng.lognormal(np.log(15_000.0), 1.2, n), 2), np.nan),
    }


def _card_calls(world: World, plan: CampaignPlan, clock: Clock, rng: np.random.Generator) -> Batch:
    """Call-centre cards and SIM-bank SIMs calling strangers (on-net origin)."""
    c = plan.config
    working = (
        9 <= clock.local_hour < 21
        if plan.kind == CampaignKind.CALL_CENTRE
        else 8 <= clock.local_hour < 23
    )
    if not working:
        return new_batch(CALL_COLUMNS, 0, {})
    frac = _active_fraction(plan, clock)
    counts = rng.poisson(c.rate_per_h * frac)
    src = np.repeat(np.arange(plan.sources.shape[0]), counts)
    n = src.shape[0]
    caller = plan.sources[src]
    u = rng.random(n)
    callee = _random_subscribers(rng, world, n)
    off = u < 0.06
    callee[off] = world.off_net[rng.integers(0, world.off_net.shape[0], int(off.sum()))]
    vacant = (u >= 0.06) & (u < 0.09)  # harvested lists contain dead numbers (S6)
    callee[vacant] = world.vacant[rng.integers(0, world.vacant.shape[0], int(vacant.sum()))]
    t_us = _times(rng, plan, src, clock)
    cell = plan.cells[src, rng.integers(0, 3, n)]
    calls = _fraud_calls(
        world,
        plan,
        clock,
        rng,
        caller,
        callee,
        t_us,
        vacant,
        ingress=INGRESSES.index("on_net"),
        trunk_code=trunk("onnet"),
        cell=cell,
        imei=plan.device[src],
        imsi=caller,
        short_median_s=9.0 if plan.kind == CampaignKind.CALL_CENTRE else 12.0,
    )
    if plan.kind != CampaignKind.CALL_CENTRE:
        return calls  # SIM-bank SIMs are never reached: the rack only dials out (S14)
    # a few people return a missed call from an unknown mobile number; the card answers
    missed = ~np.asarray(calls["answered"]) & ~vacant & (callee < world.subs.n_ordinary)
    back = np.flatnonzero(missed & (rng.random(n) < 0.04))
    m = back.shape[0]
    who = callee[back]
    t_cb = t_us[back] + (rng.lognormal(np.log(30.0), 1.0, m) * MIN_US).astype(np.int64)
    dur = np.clip(np.rint(rng.lognormal(np.log(40.0), 0.8, m)), 3, 1800).astype(np.int32)
    returned = new_batch(
        CALL_COLUMNS,
        m,
        {
            "caller": who,
            "callee": caller[back],
            "t_us": t_cb,
            "ring": np.asarray(rng.integers(2, 12, m), dtype=np.int32),
            "dur": dur,
            "answered": True,
            "cause": CAUSES.index(ReleaseCause.NORMAL_CLEARING),
            "ingress": INGRESSES.index("on_net"),
            "trunk": trunk("onnet"),
            "cell": cell_at(world, who, clock, rng),
            "imei": imei_at(world, who, t_cb),
            "imsi": who,
            "callee_cell": cell[back],
            "campaign": plan.code,
            "role": ROLES.index("callback"),
            "parent_us": t_us[back],
        },
    )
    return concat([calls, returned], CALL_COLUMNS)


def _fraud_calls(
    world: World,
    plan: CampaignPlan,
    clock: Clock,
    rng: np.random.Generator,
    caller: npt.NDArray[Any],
    callee: npt.NDArray[Any],
    t_us: npt.NDArray[Any],
    vacant: npt.NDArray[Any],
    ingress: int,
    trunk_code: int,
    cell: npt.NDArray[Any] | int,
    imei: npt.NDArray[Any] | int,
    imsi: npt.NDArray[Any] | int,
    short_median_s: float,
    hooked_median_s: float = 900.0,
) -> Batch:
    """Scripted fraud calls: mostly quick rejections, some pitches, a few long hooked calls.

    The duration mix is bimodal (S7): short hang-ups when the callee recognises the pitch and
    long calls when the callee is hooked; susceptibility raises answer and hook chances.
    """
    c = plan.config
    n = caller.shape[0]
    on_net_callee = callee < world.subs.n_ordinary
    susc = np.where(
        on_net_callee, world.subs.susceptibility[np.minimum(callee, world.subs.n - 1)], 1.0
    )
    answer_p = 1.0 - (1.0 - c.answer_p) ** susc
    median: npt.NDArray[np.float64] = np.full(n, short_median_s)
    median = np.where(rng.random(n) < 0.2, 60.0, median)
    base = answer_and_durations(rng, answer_p, median, np.full(n, 0.6))
    answered = base["answered"] & ~vacant
    hooked = answered & on_net_callee & (rng.random(n) < np.minimum(c.hooked_p * susc, 0.9))
    long_s = np.clip(np.rint(rng.lognormal(np.log(hooked_median_s), 0.5, n)), 300, 7200)
    dur = np.where(hooked, long_s, np.where(answered, base["dur"], 0)).astype(np.int32)
    cause = np.where(vacant, CAUSES.index(ReleaseCause.UNALLOCATED_NUMBER), base["cause"]).astype(
        np.int8
    )
    ring = np.where(vacant, 0, base["ring"]).astype(np.int32)
    callee_cell = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(on_net_callee)
    callee_cell[idx] = cell_at(world, callee[idx], clock, rng)
    end_us = t_us + (ring.astype(np.int64) + dur) * 1_000_000
    return new_batch(
        CALL_COLUMNS,
        n,
        {
            "caller": caller,
            "callee": callee,
            "t_us": t_us,
            "ring": ring,
            "dur": dur,
            "answered": answered,
            "cause": cause,
            "ingress": ingress,
            "trunk": trunk_code,
            "cell": cell,
            "imei": imei,
            "imsi": imsi,
            "callee_cell": callee_cell,
            "campaign": plan.code,
            "role": ROLES.index("fraud_call"),
            **_victims(rng, plan, hooked, end_us, ExposureKind.HOOKED_CALL, 45.0),
        },
    )


def _spoofed_calls(
    world: World, plan: CampaignPlan, clock: Clock, rng: np.random.Generator
) -> Batch:
    """Calls with domestic-looking caller IDs arriving through international gateways (S18)."""
    c = plan.config
    if not 9 <= clock.local_hour < 21:
        return new_batch(CALL_COLUMNS, 0, {})
    n = int(rng.poisson(c.rate_per_h * plan.sources.shape[0] * _active_fraction(plan, clock)[0]))
    src = rng.integers(0, plan.sources.shape[0], n)
    callee = _random_subscribers(rng, world, n)
    t_us = clock.start_us + rng.integers(0, HOUR_US, n)
    gw = np.array([trunk("intl-gw-1"), trunk("intl-gw-2"), trunk("intl-gw-3")])
    b = _fraud_calls(
        world,
        plan,
        clock,
        rng,
        plan.sources[src],
        callee,
        t_us,
        np.zeros(n, dtype=bool),
        ingress=INGRESSES.index("international"),
        trunk_code=0,
        cell=-1,
        imei=-1,
        imsi=-1,
        short_median_s=10.0,
    )
    b["trunk"] = gw[rng.integers(0, 3, n)].astype(np.int16)
    return b


def _robocalls(world: World, plan: CampaignPlan, clock: Clock, rng: np.random.Generator) -> Batch:
    """Waves of short recorded-message calls at machine-regular intervals (S8, S22)."""
    c = plan.config
    frac = _active_fraction(plan, clock)
    active = np.flatnonzero(frac > 0)
    if active.shape[0] == 0:
        return new_batch(CALL_COLUMNS, 0, {})
    per = max(1, int(c.rate_per_h))
    src = np.repeat(active, per)
    k = np.tile(np.arange(per), active.shape[0])
    gap = HOUR_US // per
    t_us = clock.start_us + k * gap + rng.integers(0, MIN_US // 6, src.shape[0])
    keep = (t_us >= plan.src_start_us[src]) & (t_us < plan.src_end_us[src])
    src, t_us = src[keep], t_us[keep]
    n = src.shape[0]
    callee = _random_subscribers(rng, world, n)
    b = _fraud_calls(
        world,
        plan,
        clock,
        rng,
        plan.sources[src],
        callee,
        t_us,
        np.zeros(n, dtype=bool),
        ingress=INGRESSES.index("domestic"),
        trunk_code=trunk("dom-voip-1"),
        cell=-1,
        imei=-1,
        imsi=-1,
        short_median_s=25.0,
        hooked_median_s=480.0,
    )
    # the recorded message: answered calls mostly last its length (20-40 s)
    msg = rng.integers(20, 41, n).astype(np.int32)
    answered = np.asarray(b["answered"])
    hooked = np.asarray(b["exposure"]) >= 0
    b["dur"] = np.where(answered & ~hooked, np.minimum(np.asarray(b["dur"]), msg), b["dur"])
    return b


def _wangiri(world: World, plan: CampaignPlan, clock: Clock, rng: np.random.Generator) -> Batch:
    """One-ring bursts over sequential number ranges, then premium callbacks (S20)."""
    c = plan.config
    frac = _active_fraction(plan, clock)
    subs = world.subs
    batches: list[Batch] = []
    for i in np.flatnonzero(frac > 0):
        n = int(rng.poisson(c.rate_per_h * frac[i]))
        if n == 0:
            continue
        first = int(rng.integers(0, max(1, subs.n - n)))
        callee = subs.by_number[first : first + n]
        callee = callee[callee < subs.n_ordinary]
        n = callee.shape[0]
        burst_start = clock.start_us + int(rng.integers(0, HOUR_US - 10 * MIN_US))
        t_us = np.sort(burst_start + rng.integers(0, 10 * MIN_US, n))
        ring = np.asarray(rng.integers(1, 4, n), dtype=np.int32)
        batches.append(
            new_batch(
                CALL_COLUMNS,
                n,
                {
                    "caller": plan.sources[i],
                    "callee": callee,
                    "t_us": t_us,
                    "ring": ring,
                    "dur": 0,
                    "answered": False,
                    "cause": CAUSES.index(ReleaseCause.CALLER_ABANDONED),
                    "ingress": INGRESSES.index("international"),
                    "trunk": trunk("intl-gw-2"),
                    "callee_cell": cell_at(world, callee, clock, rng),
                    "campaign": plan.code,
                    "role": ROLES.index("fraud_call"),
                },
            )
        )
        back = rng.random(n) < np.minimum(c.engage_p * subs.susceptibility[callee], 0.9)
        m = int(back.sum())
        if m == 0:
            continue
        who = callee[back]
        t_cb = (
            t_us[back]
            + np.minimum(rng.lognormal(np.log(20.0), 1.0, m), 720.0).astype(np.int64) * MIN_US
        )
        dur = np.clip(np.rint(rng.lognormal(np.log(90.0), 0.7, m)), 10, 3600).astype(np.int32)
        cb_ring = rng.integers(2, 7, m).astype(np.int32)
        end = t_cb + (cb_ring + dur).astype(np.int64) * 1_000_000
        premium_cny_per_min = 15.0  # assumption: order of IRSF premium rates
        batches.append(
            new_batch(
                CALL_COLUMNS,
                m,
                {
                    "caller": who,
                    "callee": plan.sources[i],
                    "t_us": t_cb,
                    "ring": cb_ring,
                    "dur": dur,
                    "answered": True,
                    "cause": CAUSES.index(ReleaseCause.NORMAL_CLEARING),
                    "ingress": INGRESSES.index("on_net"),
                    "trunk": trunk("onnet"),
                    "cell": cell_at(world, who, clock, rng),
                    "imei": imei_at(world, who, t_cb),
                    "imsi": who,
                    "campaign": plan.code,
                    "role": ROLES.index("callback"),
                    "exposure": EXPOSURES.index(ExposureKind.CALLBACK),
                    "exposed_us": t_cb,
                    "loss_us": end,
                    "loss_cny": np.round(dur / 60.0 * premium_cny_per_min, 2),
                    "parent_us": t_us[back],
                },
            )
        )
    return concat(batches, CALL_COLUMNS)


def _smishing(world: World, plan: CampaignPlan, clock: Clock, rng: np.random.Generator) -> Batch:
    """Scam SMS over sequential recipient ranges; some recipients click, some then lose money."""
    c = plan.config
    frac = _active_fraction(plan, clock)
    counts = rng.poisson(c.rate_per_h * frac)
    src = np.repeat(np.arange(plan.sources.shape[0]), counts)
    n = src.shape[0]
    subs = world.subs
    first = np.asarray(rng.integers(0, max(1, subs.n - 1), plan.sources.shape[0]))
    offset = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    recipient = subs.by_number[(first[src] + offset) % subs.n]
    recipient = recipient % subs.n_ordinary  # fraud cards are not on the gangs' lists
    t_us = _times(rng, plan, src, clock)
    intl = plan.kind == CampaignKind.SMISHING_INTL
    click = rng.random(n) < np.minimum(c.engage_p * subs.susceptibility[recipient], 0.9)
    click_us = t_us + (rng.lognormal(np.log(15.0), 1.0, n) * MIN_US).astype(np.int64)
    b = new_batch(
        SMS_COLUMNS,
        n,
        {
            "caller": plan.sources[src],
            "callee": recipient,
            "t_us": t_us,
            "ingress": INGRESSES.index("international" if intl else "domestic"),
            "trunk": trunk("sms-intl-1" if intl else "sms-port-2"),
            "campaign": plan.code,
            "role": ROLES.index("fraud_sms"),
            **_victims(rng, plan, click, click_us, ExposureKind.LINK_CLICK, 120.0),
        },
    )
    b["text"] = scam_texts(rng, n, c.apk_share)
    return b


def campaign_traffic(
    world: World, plans: list[CampaignPlan], clock: Clock, rng: np.random.Generator
) -> tuple[Batch, Batch]:
    """All campaign calls and SMS for the chunk's hour."""
    calls: list[Batch] = []
    sms: list[Batch] = []
    for plan in plans:
        if plan.end_us <= clock.start_us or plan.start_us >= clock.end_us:
            continue
        kind = plan.kind
        if kind in _ON_NET_KINDS:
            calls.append(_card_calls(world, plan, clock, rng))
        elif kind == CampaignKind.SPOOFED_CLI:
            calls.append(_spoofed_calls(world, plan, clock, rng))
        elif kind == CampaignKind.ROBOCALL:
            calls.append(_robocalls(world, plan, clock, rng))
        elif kind == CampaignKind.WANGIRI:
            calls.append(_wangiri(world, plan, clock, rng))
        else:
            sms.append(_smishing(world, plan, clock, rng))
    return concat(calls, CALL_COLUMNS), concat(sms, SMS_COLUMNS)
