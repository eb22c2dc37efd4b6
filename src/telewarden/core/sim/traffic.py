"""Legitimate traffic: calls, SMS and data usage of ordinary subscribers for one chunk.

A chunk is one simulated hour of one shard of subscribers. Each legitimate event is generated
once, by the subscriber who "owns" it: outgoing calls by the caller, calls between a subscriber
and an off-net or international contact by the subscriber (in either direction), bulk SMS by
the recipient. Rates follow the diurnal and weekly rhythms below; everything is vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from telewarden.core.records import ReleaseCause
from telewarden.core.sim.config import SimConfig
from telewarden.core.sim.geo import Cells
from telewarden.core.sim.parts import (
    CALL_COLUMNS,
    CAUSES,
    INGRESSES,
    SMS_COLUMNS,
    Batch,
    concat,
    new_batch,
    trunk,
)
from telewarden.core.sim.population import (
    EDGE_WEIGHT,
    ROLE_COURIER,
    ROLE_SALES,
    Graph,
    Kind,
    Subscribers,
)
from telewarden.core.sim.texts import (
    COURIER_PORTS,
    P2P_TEXTS,
    VERIFICATION_PORTS,
    bank_notices,
    courier_notices,
    verification_codes,
)

__all__ = [
    "APPS",
    "CALL_PROFILE",
    "DIURNAL_CALLS",
    "DIURNAL_DATA",
    "SERVICE_NUMBERS",
    "Clock",
    "World",
    "answer_and_durations",
    "cell_at",
    "imei_at",
    "legit_calls",
    "legit_sms",
    "legit_usage",
]

_H = np.array(
    [0.8, 0.4, 0.25, 0.2, 0.2, 0.4, 1.2, 2.8, 4.8, 6.2, 6.8, 6.4,
     5.2, 5.0, 5.8, 6.2, 6.2, 6.0, 5.4, 5.6, 5.8, 5.2, 3.8, 2.0],
    dtype=np.float64,
)  # fmt: skip
DIURNAL_CALLS: npt.NDArray[Any] = _H / _H.sum()
"""Share of a day's calls in each local hour (assumption: the usual two-peak office-day curve
with an evening shoulder; docs/simulator.md)."""

_D = np.array(
    [2.0, 1.2, 0.7, 0.5, 0.5, 0.7, 1.5, 3.0, 4.0, 4.5, 4.8, 5.0,
     5.5, 5.0, 4.8, 4.8, 5.0, 5.2, 5.5, 6.0, 6.5, 7.0, 6.5, 4.5],
    dtype=np.float64,
)  # fmt: skip
DIURNAL_DATA: npt.NDArray[Any] = _D / _D.sum()
"""Share of a day's data sessions per local hour (assumption: evening peak)."""

BANK_NOTICES_PER_DAY = 1.0
"""Balance notices per bank customer per day: about one card transaction a day (assumption)."""

WEEKEND_FACTOR = 0.85
"""Voice volume on Saturday/Sunday relative to a weekday (assumption)."""

SERVICE_NUMBERS: tuple[str, ...] = ("95588", "95533", "95599", "95566", "10086", "95338", "95311")
"""Short codes subscribers call: banks (ICBC, CCB, ABC, BOC), the carrier, two couriers."""

APPS: tuple[tuple[str, float], ...] = (
    ("wechat", 0.30),
    ("douyin", 0.18),
    ("taobao", 0.08),
    ("alipay", 0.07),
    ("qq", 0.06),
    ("baidu", 0.06),
    ("kuaishou", 0.06),
    ("meituan", 0.05),
    ("tencent_video", 0.05),
    ("amap", 0.05),
    ("weibo", 0.04),
)
"""(app, share of sessions): an assumption shaped like public Chinese app rankings."""

# behaviour -> (answer probability, median duration s, log-normal sigma); assumptions except
# where docs/simulator.md cites a source
CALL_PROFILE: dict[str, tuple[float, float, float]] = {
    "family": (0.88, 110.0, 1.0),
    "work": (0.82, 70.0, 1.0),
    "friend": (0.80, 90.0, 1.1),
    "off_net": (0.80, 80.0, 1.1),
    "intl": (0.80, 300.0, 0.9),
    "stranger": (0.55, 45.0, 1.1),
    "service": (0.97, 150.0, 0.8),
    "courier": (0.85, 25.0, 0.6),
    "sales": (0.45, 50.0, 1.0),
}
_KIND_PROFILE = ("family", "work", "friend", "off_net", "intl")


@dataclass(frozen=True, slots=True)
class Clock:
    """Where a chunk sits in simulated time."""

    hour: int  # chunk index from the start
    start_us: int  # UTC start of the hour, microseconds
    local_hour: int  # Beijing hour of day, 0-23
    weekday: int  # Beijing weekday, Monday = 0

    @property
    def weekend(self) -> bool:
        """Saturday or Sunday."""
        return self.weekday >= 5

    @property
    def end_us(self) -> int:
        """UTC end of the hour."""
        return self.start_us + 3_600_000_000


@dataclass(slots=True)
class World:
    """Everything the generators look up: population, graph, cells, number ranges."""

    config: SimConfig
    subs: Subscribers
    graph: Graph
    cells: Cells
    off_net: npt.NDArray[Any]  # node ids of off-net domestic numbers
    vacant: npt.NDArray[Any]  # node ids of unallocated numbers (dialled by spraying fraudsters)
    services: npt.NDArray[Any]  # node ids of SERVICE_NUMBERS
    bank_ports: npt.NDArray[Any]  # node ids of BANK_PORTS
    courier_ports: npt.NDArray[Any]
    verification_ports: npt.NDArray[Any]
    carrier_port: int  # node id of 10086
    city_lo: npt.NDArray[Any]  # first ordinary subscriber of each city (they are grouped by city)
    city_n: npt.NDArray[Any]  # ordinary subscribers per city


def cell_at(
    world: World, nodes: npt.NDArray[Any], clock: Clock, rng: np.random.Generator
) -> npt.NDArray[Any]:
    """Serving cell of subscribers during the chunk's hour (home, work, or away)."""
    s = world.subs
    at_work = (
        s.commuter[nodes]
        & (not clock.weekend)
        & (9 <= clock.local_hour < 18)
        & (rng.random(nodes.shape[0]) < 0.8)
    )
    cell = np.where(at_work, s.work_cell[nodes], s.home_cell[nodes]).astype(np.int64)
    roam = s.roam_cell[nodes]
    out: npt.NDArray[Any] = np.where(roam >= 0, roam, cell)
    return out


def imei_at(world: World, nodes: npt.NDArray[Any], t_us: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Handset of subscribers at the given times (after a handset change, the new one)."""
    s = world.subs
    changed = (s.imei1[nodes] >= 0) & (t_us >= s.change_us[nodes])
    out: npt.NDArray[Any] = np.where(changed, s.imei1[nodes], s.imei0[nodes])
    return out


def answer_and_durations(
    rng: np.random.Generator,
    answer_p: npt.NDArray[Any],
    median_s: npt.NDArray[Any],
    sigma: npt.NDArray[Any],
) -> dict[str, npt.NDArray[Any]]:
    """Answered flag, ring, duration and release cause for calls with per-call parameters.

    Answered calls ring a few seconds and last a log-normal time; unanswered ones end as no
    answer (long ring), caller abandoned (short ring), busy or rejected (signal S5).
    """
    n = answer_p.shape[0]
    answered = rng.random(n) < answer_p
    dur = np.where(
        answered,
        np.clip(np.rint(rng.lognormal(np.log(median_s), sigma)), 1, 7200),
        0,
    ).astype(np.int32)
    miss = rng.choice(4, n, p=[0.55, 0.30, 0.10, 0.05])
    causes = np.array(
        [
            CAUSES.index(ReleaseCause.NO_ANSWER),
            CAUSES.index(ReleaseCause.CALLER_ABANDONED),
            CAUSES.index(ReleaseCause.USER_BUSY),
            CAUSES.index(ReleaseCause.CALL_REJECTED),
        ],
        dtype=np.int8,
    )
    lo = np.array([25, 3, 0, 2])[miss]
    hi = np.array([45, 20, 2, 10])[miss]
    miss_ring = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    ring_ok = np.minimum(1 + rng.gamma(2.0, 3.0, n), 45)
    ring = np.where(answered, ring_ok, miss_ring).astype(np.int32)
    cause = np.where(answered, CAUSES.index(ReleaseCause.NORMAL_CLEARING), causes[miss])
    return {"answered": answered, "dur": dur, "ring": ring, "cause": cause.astype(np.int8)}


def _pick_contacts(
    rng: np.random.Generator, world: World, callers: npt.NDArray[Any], weekend: bool
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """One weighted contact per caller (callers must have contacts); rejection sampling."""
    g = world.graph
    start = g.indptr[callers]
    deg = g.indptr[callers + 1] - start
    weight = EDGE_WEIGHT.copy()
    if weekend:
        weight[Kind.WORK] *= 0.3
    accept_p = weight / weight.max()
    pick = start + (rng.random(callers.shape[0]) * deg).astype(np.int64)
    todo = np.arange(callers.shape[0])
    for _ in range(4):
        ok = rng.random(todo.shape[0]) < accept_p[g.kind[pick[todo]]]
        todo = todo[~ok]
        if todo.shape[0] == 0:
            break
        pick[todo] = start[todo] + (rng.random(todo.shape[0]) * deg[todo]).astype(np.int64)
    return g.nbr[pick], g.kind[pick]


def _ingress_of(
    kind: npt.NDArray[Any], inbound: npt.NDArray[Any]
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Ingress and trunk codes: on-net origin, domestic interconnect or international gateway."""
    on_net = INGRESSES.index("on_net")
    dom = INGRESSES.index("domestic")
    intl = INGRESSES.index("international")
    ingress = np.where(inbound, np.where(kind == Kind.INTL, intl, dom), on_net).astype(np.int8)
    trunk_code = np.where(
        inbound,
        np.where(kind == Kind.INTL, trunk("intl-gw-1"), trunk("dom-ic-1")),
        trunk("onnet"),
    ).astype(np.int16)
    return ingress, trunk_code


def legit_calls(world: World, lo: int, hi: int, clock: Clock, rng: np.random.Generator) -> Batch:
    """Legitimate calls owned by subscribers ``lo..hi-1`` during the chunk's hour."""
    cfg = world.config
    s = world.subs
    nodes = np.arange(lo, min(hi, s.n_ordinary), dtype=np.int64)
    rate = cfg.calls_per_day * DIURNAL_CALLS[clock.local_hour]
    if clock.weekend:
        rate *= WEEKEND_FACTOR
    counts = rng.poisson(s.activity[nodes] * rate)
    me = np.repeat(nodes, counts)
    n = me.shape[0]
    deg = world.graph.degree()[me]
    u = rng.random(n)
    is_service = u < 0.03
    is_stranger = ((u >= 0.03) & (u < 0.07)) | ((deg == 0) & ~is_service)
    is_contact = ~is_service & ~is_stranger

    other = np.empty(n, dtype=np.int64)
    kind = np.full(n, -1, dtype=np.int8)  # -1 stranger, -2 service
    ci = np.flatnonzero(is_contact)
    other[ci], kind[ci] = _pick_contacts(rng, world, me[ci], clock.weekend)
    si = np.flatnonzero(is_service)
    other[si] = world.services[rng.integers(0, world.services.shape[0], si.shape[0])]
    kind[si] = -2
    ti = np.flatnonzero(is_stranger)
    strangers_on_net = rng.random(ti.shape[0]) < 0.5
    stranger = rng.integers(0, s.n_ordinary, ti.shape[0])
    stranger = np.where(stranger == me[ti], (stranger + 1) % s.n_ordinary, stranger)
    other[ti] = np.where(
        strangers_on_net,
        stranger,
        world.off_net[rng.integers(0, world.off_net.shape[0], ti.shape[0])],
    )
    # courier and sales agents: extra daytime calls to strangers (legitimate, fraud-like volume)
    day = 9 <= clock.local_hour < 19
    extra = []
    for role, per_h, profile in ((ROLE_COURIER, 10.0, "courier"), (ROLE_SALES, 8.0, "sales")):
        agents = nodes[s.role[nodes] == role]
        if not day or agents.shape[0] == 0:
            continue
        k = rng.poisson(per_h, agents.shape[0])
        caller = np.repeat(agents, k)
        c = s.city[caller]
        local = world.city_lo[c] + (rng.random(caller.shape[0]) * world.city_n[c]).astype(np.int64)
        callee = np.where(
            rng.random(caller.shape[0]) < 0.7,
            local,
            world.off_net[rng.integers(0, world.off_net.shape[0], caller.shape[0])],
        )
        extra.append((caller, callee, profile))

    # direction: calls with an off-net/intl contact or a stranger may come in to the subscriber
    in_p = np.where(kind == Kind.INTL, 0.6, np.where(kind >= Kind.OFF_NET, 0.5, 0.0))
    in_p = np.where(kind == -1, np.where(other >= s.n, 0.5, 0.0), in_p)
    inbound = rng.random(n) < in_p
    caller = np.where(inbound, other, me)
    callee = np.where(inbound, me, other)
    kind_for_ingress = np.where(kind == -1, Kind.OFF_NET, kind)
    ingress, trunk_code = _ingress_of(kind_for_ingress, inbound & (other >= s.n))

    profile_idx = np.where(kind >= 0, kind, np.where(kind == -1, 5, 6))
    names = (*_KIND_PROFILE, "stranger", "service")
    table = np.array([CALL_PROFILE[p] for p in names])
    params = table[profile_idx]
    batches: list[Batch] = []
    t_us = clock.start_us + rng.integers(0, 3_600_000_000, n)
    batches.append(
        _finish_calls(world, clock, rng, caller, callee, t_us, params, ingress, trunk_code)
    )
    for caller_e, callee_e, prof in extra:
        m = caller_e.shape[0]
        params_e = np.tile(np.array(CALL_PROFILE[prof]), (m, 1))
        batches.append(
            _finish_calls(
                world,
                clock,
                rng,
                caller_e,
                callee_e,
                clock.start_us + rng.integers(0, 3_600_000_000, m),
                params_e,
                np.full(m, INGRESSES.index("on_net"), np.int8),
                np.full(m, trunk("onnet"), np.int16),
            )
        )
    return concat(batches, CALL_COLUMNS)


def _finish_calls(
    world: World,
    clock: Clock,
    rng: np.random.Generator,
    caller: npt.NDArray[Any],
    callee: npt.NDArray[Any],
    t_us: npt.NDArray[Any],
    params: npt.NDArray[Any],
    ingress: npt.NDArray[Any],
    trunk_code: npt.NDArray[Any],
) -> Batch:
    """Fill answer, durations, cells and devices for calls between given parties."""
    n = caller.shape[0]
    outcome = answer_and_durations(rng, params[:, 0], params[:, 1], params[:, 2])
    n_sub = world.subs.n
    caller_sub = caller < n_sub
    callee_sub = callee < n_sub
    cs = np.flatnonzero(caller_sub)
    cell = np.full(n, -1, dtype=np.int64)
    imei = np.full(n, -1, dtype=np.int64)
    imsi = np.full(n, -1, dtype=np.int64)
    cell[cs] = cell_at(world, caller[cs], clock, rng)
    imei[cs] = imei_at(world, caller[cs], t_us[cs])
    imsi[cs] = caller[cs]
    callee_cell = np.full(n, -1, dtype=np.int64)
    ts = np.flatnonzero(callee_sub)
    callee_cell[ts] = cell_at(world, callee[ts], clock, rng)
    return new_batch(
        CALL_COLUMNS,
        n,
        {
            "caller": caller,
            "callee": callee,
            "t_us": t_us,
            "ingress": ingress,
            "trunk": trunk_code,
            "cell": cell,
            "imei": imei,
            "imsi": imsi,
            "callee_cell": callee_cell,
            **outcome,
        },
    )


def legit_sms(world: World, lo: int, hi: int, clock: Clock, rng: np.random.Generator) -> Batch:
    """Person-to-person SMS and legitimate bulk SMS (bank, courier, codes, carrier) to a shard."""
    cfg = world.config
    s = world.subs
    nodes = np.arange(lo, min(hi, s.n_ordinary), dtype=np.int64)
    share = DIURNAL_CALLS[clock.local_hour]
    batches: list[Batch] = []

    counts = rng.poisson(s.activity[nodes] * cfg.sms_per_day * share)
    me = np.repeat(nodes, counts)
    me = me[world.graph.degree()[me] > 0]
    g = world.graph
    start = g.indptr[me]
    pick = start + (rng.random(me.shape[0]) * (g.indptr[me + 1] - start)).astype(np.int64)
    other, kind = g.nbr[pick], g.kind[pick]
    inbound = (other >= s.n) & (rng.random(me.shape[0]) < 0.5)
    sender = np.where(inbound, other, me)
    recipient = np.where(inbound, me, other)
    intl_in = inbound & (kind == Kind.INTL)
    ingress = np.where(
        inbound,
        np.where(intl_in, INGRESSES.index("international"), INGRESSES.index("domestic")),
        INGRESSES.index("on_net"),
    ).astype(np.int8)
    trunk_code = np.where(
        inbound,
        np.where(intl_in, trunk("sms-intl-1"), trunk("sms-ic-1")),
        trunk("sms-onnet"),
    ).astype(np.int16)
    m = me.shape[0]
    cell = np.full(m, -1, dtype=np.int64)
    out_idx = np.flatnonzero(~inbound)
    cell[out_idx] = cell_at(world, me[out_idx], clock, rng)
    b = new_batch(
        SMS_COLUMNS,
        m,
        {
            "caller": sender,
            "callee": recipient,
            "t_us": np.asarray(clock.start_us + rng.integers(0, 3_600_000_000, m)),
            "ingress": ingress,
            "trunk": trunk_code,
            "cell": cell,
        },
    )
    b["text"] = pl.Series(P2P_TEXTS).gather(
        pl.Series(rng.integers(0, len(P2P_TEXTS), m), dtype=pl.Int64)
    )
    batches.append(b)

    # bulk: (eligible recipients, per-day rate, port node per recipient, texts)
    bank_customers = nodes[s.bank[nodes] >= 0]
    k = rng.poisson(BANK_NOTICES_PER_DAY * share, bank_customers.shape[0])
    to = np.repeat(bank_customers, k)
    which = s.bank[to].astype(np.int64)
    batches.append(_bulk(world, clock, rng, to, world.bank_ports[which], bank_notices(rng, which)))

    k = rng.poisson(0.25 * share * np.minimum(s.activity[nodes], 3.0))
    to = np.repeat(nodes, k)
    which = rng.integers(0, len(COURIER_PORTS), to.shape[0])
    batches.append(
        _bulk(world, clock, rng, to, world.courier_ports[which], courier_notices(rng, which))
    )

    k = rng.poisson(0.6 * share, nodes.shape[0])
    to = np.repeat(nodes, k)
    which = rng.integers(0, len(VERIFICATION_PORTS), to.shape[0])
    batches.append(
        _bulk(
            world, clock, rng, to, world.verification_ports[which], verification_codes(rng, which)
        )
    )

    k = rng.poisson(0.03 * share, nodes.shape[0])
    to = np.repeat(nodes, k)
    text = pl.Series(
        ["【中国移动】尊敬的客户，您本月套餐内流量已使用80%，详询10086。"] * to.shape[0]
    )
    carrier = np.full(to.shape[0], world.carrier_port, dtype=np.int64)
    batches.append(_bulk(world, clock, rng, to, carrier, text, on_net=True))
    return concat(batches, SMS_COLUMNS)


def _bulk(
    world: World,
    clock: Clock,
    rng: np.random.Generator,
    recipients: npt.NDArray[Any],
    senders: npt.NDArray[Any],
    text: pl.Series,
    on_net: bool = False,
) -> Batch:
    n = recipients.shape[0]
    b = new_batch(
        SMS_COLUMNS,
        n,
        {
            "caller": senders,
            "callee": recipients,
            "t_us": np.asarray(clock.start_us + rng.integers(0, 3_600_000_000, n)),
            "ingress": INGRESSES.index("on_net" if on_net else "domestic"),
            "trunk": trunk("sms-onnet" if on_net else "sms-port-1"),
        },
    )
    b["text"] = text
    return b


def legit_usage(
    world: World,
    lo: int,
    hi: int,
    clock: Clock,
    rng: np.random.Generator,
    directory: pl.Series,
    cell_ids: pl.Series,
    extra_nodes: npt.NDArray[Any],
    extra_activity: npt.NDArray[Any],
) -> pl.DataFrame:
    """Data usage per subscriber and app for the hour (``USAGE_SCHEMA``).

    ``extra_nodes`` / ``extra_activity`` add fraud cards that use some data (call-centre
    phones); SIM-bank SIMs are absent on purpose (signal S14).
    """
    cfg = world.config
    s = world.subs
    nodes = np.arange(lo, min(hi, s.n_ordinary), dtype=np.int64)
    act = s.data_activity[nodes]
    if extra_nodes.shape[0]:
        nodes = np.concatenate([nodes, extra_nodes])
        act = np.concatenate([act, extra_activity])
    counts = rng.poisson(act * cfg.data_sessions_per_day * DIURNAL_DATA[clock.local_hour])
    who = np.repeat(nodes, counts)
    shares = np.array([a[1] for a in APPS])
    app = rng.choice(len(APPS), who.shape[0], p=shares / shares.sum())
    flow = rng.lognormal(np.log(3.0), 1.5, who.shape[0])
    frame = (
        pl.DataFrame({"node": who, "app": app.astype(np.int64), "flow_mb": flow})
        .group_by("node", "app", maintain_order=True)
        .agg(pl.col("flow_mb").sum())
        .sort("node", "app")
    )
    nodes_u = frame["node"].to_numpy()
    cell = cell_at(world, nodes_u, clock, rng)
    return pl.DataFrame(
        {
            "msisdn": directory.gather(frame["node"]),
            "start_at": pl.Series([clock.start_us] * frame.height, dtype=pl.Int64).cast(
                pl.Datetime("us", "UTC")
            ),
            "app": pl.Series([a[0] for a in APPS]).gather(frame["app"]),
            "flow_mb": frame["flow_mb"].round(3),
            "cell_id": cell_ids.gather(pl.Series(cell)),
        }
    )
