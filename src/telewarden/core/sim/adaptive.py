"""Adaptive campaigns: the feedback port, the gangs' stock, their reactions, and the accounting.

What belongs here (issue #19): the port through which the simulator hears the loop's measures
(:class:`Measure`, :class:`FeedbackPort`, the in-memory :class:`FeedbackInbox`), the stock of
replacement cards and numbers each adaptive campaign holds (:func:`build_stocks`), the layer
that applies measures and reactions to a step of planned traffic (:class:`AdaptiveLayer`), and
the per-campaign outcome accounting (:class:`Outcomes`).

The design keeps today's output reproducible. The engine first generates each hour's traffic
exactly as without feedback (the *planned* traffic, same random streams); the layer then walks
the fraud records of each time step in order and rewrites them: a record of a number the loop
suspended or barred is blocked (dropped from the tables, counted), a dead card's schedule passes
to a replacement from the stock after a delay, part of the volume is withheld (slowdown) or moved
to another channel. Every random draw of the layer comes from its own stream and happens only
after a block, so with no measure the layer changes nothing (tested).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import polars as pl

from telewarden.core.records import CampaignKind, ExposureKind
from telewarden.core.sim.config import AdaptivePolicy, CampaignConfig, Channel, SimConfig
from telewarden.core.sim.numbers import (
    OFF_NET_PREFIXES,
    ON_NET_PREFIXES,
    imeis,
    imsis,
    international_numbers,
    mobile_numbers,
    prefixed,
)
from telewarden.core.sim.parts import (
    EXPOSURES,
    INGRESSES,
    ROLES,
    SMS_COLUMNS,
    Batch,
    concat,
    new_batch,
    take,
    trunk,
)
from telewarden.core.sim.population import (
    GATEWAY_TAC,
    HANDSET_TACS,
    PLANS,
    Directory,
    Subscribers,
    id_hash,
    to_us,
)
from telewarden.core.sim.texts import scam_texts

__all__ = [
    "TRUTH_OUTCOMES_SCHEMA",
    "TRUTH_REACTIONS_SCHEMA",
    "AdaptiveLayer",
    "FeedbackInbox",
    "FeedbackPort",
    "LazyRng",
    "Measure",
    "MeasureKind",
    "Outcomes",
    "Stock",
    "card_price",
]

HOUR_US = 3_600_000_000
MIN_US = 60_000_000
NEVER = np.iinfo(np.int64).max
_ON_NET_KINDS = (CampaignKind.CALL_CENTRE, CampaignKind.SIM_BANK)
_FRAUD_CALL, _FRAUD_SMS, _CALLBACK = (
    ROLES.index(r) for r in ("fraud_call", "fraud_sms", "callback")
)


class MeasureKind(StrEnum):
    """What the loop did to a number."""

    SUSPENDED = "card_suspended"  # an on-net card cut off: it can no longer call or text
    BLOCKED = "number_blocked"  # calls and SMS from (and to) the number rejected at the edge


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure of the loop, in event time.

    Attributes
    ----------
    kind : MeasureKind
        Suspension (own cards) or block (any number).
    msisdn : str
        The number, as the records show it.
    at : datetime
        From when the measure holds (UTC).
    detector : str
        What flagged the number (for reports; the simulated gang never sees it).
    """

    kind: MeasureKind
    msisdn: str
    at: dt.datetime
    detector: str = ""


class FeedbackPort(Protocol):
    """Where the simulator collects the loop's measures between time steps."""

    def measures(self, until: dt.datetime) -> Sequence[Measure]:
        """Measures not yet collected that hold from before ``until``."""
        ...


@dataclass(slots=True)
class FeedbackInbox:
    """The in-memory feedback port: the loop reports, the simulator collects.

    A measure reported for a future instant (a suspension after a due-process delay) waits
    until the simulation reaches it.

    Examples
    --------
    >>> import datetime as dt
    >>> inbox = FeedbackInbox()
    >>> t = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    >>> inbox.report(Measure(MeasureKind.SUSPENDED, "+8613800000000", t))
    >>> len(inbox.measures(t)), len(inbox.measures(t + dt.timedelta(seconds=1)))
    (0, 1)
    """

    pending: list[Measure] = field(default_factory=list)
    delivered: int = 0

    def report(self, measure: Measure) -> None:
        """Take a measure from the loop."""
        self.pending.append(measure)

    def measures(self, until: dt.datetime) -> list[Measure]:
        """Hand over the measures that hold from before ``until``."""
        due = [m for m in self.pending if m.at < until]
        if due:
            self.pending = [m for m in self.pending if m.at >= until]
            self.delivered += len(due)
        return due


TRUTH_OUTCOMES_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "campaign_kind": pl.String(),
    "adaptive": pl.Boolean(),
    "attempts": pl.Int64(),
    "blocked": pl.Int64(),
    "withheld": pl.Int64(),
    "idle": pl.Int64(),
    "shifted": pl.Int64(),
    "contacts": pl.Int64(),
    "callbacks_blocked": pl.Int64(),
    "victims": pl.Int64(),
    "losses": pl.Int64(),
    "loss_cny": pl.Float64(),
    "cards_bought": pl.Int64(),
    "cards_used": pl.Int64(),
    "cards_burnt": pl.Int64(),
    "cost_cny": pl.Float64(),
}
"""Per campaign: ``attempts`` the gang made (blocked ones included), ``blocked`` (reached a
suspended or barred number), ``withheld`` (not made: slowdown), ``idle`` (not made: waiting for a
replacement, or stock exhausted), ``shifted`` (made on the new channel), ``contacts`` (answered
calls and delivered SMS reaching a number, callbacks included), ``callbacks_blocked`` (calls of
subscribers back to a number cut off since it called them), ``victims`` (exposures),
``losses`` and ``loss_cny``, ``cards_bought`` (first cards plus stock drawn), ``cards_used``
(numbers with at least one attempt), ``cards_burnt`` (numbers the loop suspended or barred),
``cost_cny`` (cards bought times their price)."""

TRUTH_REACTIONS_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "at": pl.Datetime("us", "UTC"),
    "reaction": pl.String(),
    "msisdn": pl.String(),
    "detail": pl.String(),
}
"""Every reaction of a campaign: ``replacement``, ``stock_exhausted``, ``slowdown``,
``channel_shift``, ``faster_rotation``, ``rotation``, ``threshold_learnt``."""


def card_price(config: CampaignConfig) -> float:
    """Price of one card or number of a campaign (its policy's, or the kind's default)."""
    if config.adaptive is not None:
        return config.adaptive.card_price_cny
    prices = {
        CampaignKind.CALL_CENTRE: 100.0,
        CampaignKind.SIM_BANK: 60.0,
        CampaignKind.ROBOCALL: 5.0,
        CampaignKind.SPOOFED_CLI: 0.0,
        CampaignKind.WANGIRI: 30.0,
    }
    return prices.get(config.kind, 10.0)


@dataclass(slots=True)
class Stock:
    """Replacement numbers of one campaign lane, taken in order.

    ``device`` and ``cell`` are -1 for numbers that are not the carrier's cards.
    """

    nodes: npt.NDArray[Any]
    device: npt.NDArray[Any]
    cell: npt.NDArray[Any]
    on_net: bool
    cursor: int = 0

    def take(self) -> int:
        """The next number, or -1 when the stock is used up."""
        if self.cursor >= self.nodes.shape[0]:
            return -1
        self.cursor += 1
        return int(self.nodes[self.cursor - 1])


def _empty_stock(on_net: bool) -> Stock:
    none = np.empty(0, dtype=np.int64)
    return Stock(none, none, none, on_net)


@dataclass(slots=True)
class StockBuild:
    """Everything :func:`build_stocks` adds to the world."""

    main: dict[int, Stock]  # campaign code -> replacements for its own channel
    shift: dict[int, Stock]  # campaign code -> numbers of the channel it shifts to
    subscribers: pl.DataFrame  # stock cards as ``subscribers`` rows
    imsi_nodes: npt.NDArray[Any]  # node ids of stock cards
    imsi: pl.Series  # their IMSIs
    imeis: list[pl.Series]  # new devices, appended to the IMEI directory in order


def build_stocks(
    config: SimConfig,
    codes: Sequence[int],
    subs: Subscribers,
    cells_frame: pl.DataFrame,
    cell_ids: pl.Series,
    city_start: npt.NDArray[Any],
    city_count: npt.NDArray[Any],
    directory: Directory,
    imei_count: int,
    start_us: int,
    adaptive_stream: int,
) -> StockBuild:
    """Buy each adaptive campaign's stock, from its own random stream.

    On-net stock cards are new subscribers (activated ``stock_age_h`` before the start, on
    ``docs`` ID documents from ``outlets`` outlets); a call centre gets a new phone per card, a
    SIM bank new racks (one gateway IMEI and one cell per ``sims_per_device`` SIMs, the rack
    moved to a new site). Other kinds get numbers like their own. A channel shift gets a pool
    of spoofed domestic CLIs (international ingress) or of another carrier's numbers.
    """
    main: dict[int, Stock] = {}
    shift: dict[int, Stock] = {}
    rows: list[pl.DataFrame] = []
    node_parts: list[npt.NDArray[Any]] = []
    imsi_parts: list[pl.Series] = []
    imei_parts: list[pl.Series] = []
    taken = subs.msisdn.str.slice(3).cast(pl.Int64).to_numpy()
    n_cities = city_start.shape[0]
    for code in codes:
        c = config.campaigns[code]
        policy = c.adaptive
        if policy is None:
            continue
        rng = np.random.default_rng([config.seed, adaptive_stream, code])
        k = max(0, policy.stock)
        if c.kind in _ON_NET_KINDS:
            nums = mobile_numbers(rng, k, ON_NET_PREFIXES, exclude=taken)
            taken = np.concatenate([taken, nums])
            nodes = directory.add(prefixed(nums, "+86"))
            if c.kind == CampaignKind.CALL_CENTRE:
                phones = imeis(rng, k, HANDSET_TACS)
                device = imei_count + np.arange(k, dtype=np.int64)
                city = rng.integers(0, n_cities, k)
            else:
                per = max(1, c.sims_per_device)
                n_dev = -(-k // per)
                phones = imeis(rng, n_dev, (GATEWAY_TAC,))
                device = imei_count + np.arange(k, dtype=np.int64) // per
                city = rng.integers(0, n_cities, n_dev)[np.arange(k) // per]
            imei_parts.append(phones)
            imei_count += phones.len()
            u = rng.random(k)
            cell = (city_start[city] + (u * city_count[city]).astype(np.int64)).astype(np.int64)
            if c.kind == CampaignKind.SIM_BANK:  # one cell per rack
                per = max(1, c.sims_per_device)
                cell = cell[(np.arange(k) // per) * per]
            lo, hi = policy.stock_age_h
            activated = start_us - (rng.uniform(lo, hi, k) * HOUR_US).astype(np.int64)
            docs = 3 * subs.n + code * 100_000 + 50_000 + rng.integers(0, max(1, policy.docs), k)
            outlet = 9000 + code * 10 + 5 + rng.integers(0, max(1, policy.outlets), k)
            card_imsi = imsis(rng, k)
            home = pl.Series(cell)
            rows.append(
                pl.DataFrame(
                    {
                        "msisdn": prefixed(nums, "+86"),
                        "id_doc_hash": id_hash(docs, 11),
                        "activated_at": pl.Series(activated).cast(pl.Datetime("us", "UTC")),
                        "province": cells_frame["province"].gather(home),
                        "city": cells_frame["city"].gather(home),
                        "county": cells_frame["county"].gather(home),
                        "plan": [PLANS[0][0]] * k,
                        "sales_outlet": "outlet-" + pl.Series(outlet).cast(pl.String).str.zfill(4),
                        "imsi": card_imsi,
                        "imei": phones.gather(pl.Series(device - device.min() if k else device)),
                        "home_cell_id": cell_ids.gather(home),
                        "arpu_cny": np.round(rng.uniform(18.0, 40.0, k), 2),
                    }
                )
            )
            node_parts.append(nodes)
            imsi_parts.append(card_imsi)
            main[code] = Stock(nodes, device, cell, on_net=True)
        else:
            if c.kind == CampaignKind.WANGIRI:
                numbers = international_numbers(rng, k, ("TN", "MR", "SL", "CI"))
            elif c.kind == CampaignKind.SMISHING_INTL:
                numbers = international_numbers(rng, k, ("PH", "KH", "MM", "MY"))
            elif c.kind == CampaignKind.SMISHING_PORT:
                numbers = "1069" + pl.Series(rng.integers(0, 10**8, k)).cast(pl.String).str.zfill(8)
            else:  # spoofed CLIs and robocall numbers: domestic-looking mobile numbers
                numbers = prefixed(mobile_numbers(rng, k, OFF_NET_PREFIXES), "+86")
            nodes = directory.add(numbers)
            none = np.full(nodes.shape[0], -1, dtype=np.int64)
            main[code] = Stock(nodes, none, none, on_net=False)
        if policy.shift_to in (Channel.INTL_SPOOF, Channel.OFF_NET):
            pool = prefixed(mobile_numbers(rng, k, OFF_NET_PREFIXES), "+86")
            nodes = directory.add(pool)
            none = np.full(k, -1, dtype=np.int64)
            shift[code] = Stock(nodes, none, none, on_net=False)
    frame = (
        pl.concat(rows)
        if rows
        else pl.DataFrame(schema={"msisdn": pl.String}).clear()  # no on-net stock
    )
    return StockBuild(
        main=main,
        shift=shift,
        subscribers=frame,
        imsi_nodes=np.concatenate(node_parts) if node_parts else np.empty(0, np.int64),
        imsi=pl.concat(imsi_parts) if imsi_parts else pl.Series([], dtype=pl.String),
        imeis=imei_parts,
    )


@dataclass(slots=True)
class Outcomes:
    """Per-campaign counters (index = campaign code)."""

    n: int
    counts: dict[str, npt.NDArray[Any]] = field(init=False)
    loss_cny: npt.NDArray[Any] = field(init=False)

    def __post_init__(self) -> None:
        names = (
            "attempts",
            "blocked",
            "withheld",
            "idle",
            "shifted",
            "contacts",
            "callbacks_blocked",
        )
        self.counts = {k: np.zeros(self.n, dtype=np.int64) for k in names}
        self.counts["victims"] = np.zeros(self.n, dtype=np.int64)
        self.counts["losses"] = np.zeros(self.n, dtype=np.int64)
        self.counts["cards_drawn"] = np.zeros(self.n, dtype=np.int64)
        self.loss_cny = np.zeros(self.n, dtype=np.float64)

    def add_records(self, b: Batch, sms: bool) -> None:
        """Count the fraud records of an emitted batch."""
        campaign = np.asarray(b["campaign"]).astype(np.int64)
        fraud = campaign >= 0
        if not fraud.any():
            return
        code = campaign[fraud]
        role = np.asarray(b["role"])[fraud]
        own = role != _CALLBACK
        reached = own if sms else np.asarray(b["answered"])[fraud]
        exposed = np.asarray(b["exposure"])[fraud] >= 0
        loss = np.asarray(b["loss_us"])[fraud] >= 0
        n = self.n
        self.counts["attempts"] += np.bincount(code[own], minlength=n)
        self.counts["contacts"] += np.bincount(code[reached], minlength=n)
        self.counts["victims"] += np.bincount(code[exposed], minlength=n)
        self.counts["losses"] += np.bincount(code[loss], minlength=n)
        amount = np.nan_to_num(np.asarray(b["loss_cny"])[fraud])
        self.loss_cny += np.bincount(code[loss], weights=amount[loss], minlength=n)


@dataclass(slots=True)
class _Lane:
    """Who carries each planned slot of a campaign on one channel."""

    node: list[int]
    active_from: list[int]
    started: list[int]
    attempts: list[int]
    stock: Stock
    channel: Channel | None  # None: the campaign's own channel

    @classmethod
    def of(cls, nodes: list[int], starts: list[int], stock: Stock, ch: Channel | None) -> _Lane:
        n = len(nodes)
        return cls(nodes, [0] * n, starts, [0] * n, stock, ch)


@dataclass(slots=True)
class _Campaign:
    code: int
    config: CampaignConfig
    policy: AdaptivePolicy | None
    slot_of: dict[int, int]
    main: _Lane
    shift: _Lane | None
    device: dict[int, int]
    cell: dict[int, int]
    volume: float = 1.0
    shift_share: float = 0.0
    blocks_seen: int = 0
    rotating: bool = False
    budget: int = 0  # threshold gamer: calls per card it allows itself (0: not learnt yet)
    noticed: set[int] = field(default_factory=set)
    retired: dict[int, int] = field(default_factory=dict)  # retired card -> calls it made


class AdaptiveLayer:
    """Applies the loop's measures and the campaigns' reactions to planned traffic.

    Parameters
    ----------
    config : SimConfig
        The simulation's configuration (campaigns and their policies).
    plans : sequence
        The engine's ``CampaignPlan`` objects (``code``, ``config``, ``sources``,
        ``src_start_us``, ``device``, ``cells``).
    stocks : StockBuild
        What :func:`build_stocks` bought.
    numbers : pl.Series
        The number directory (node id -> number).
    n_subscribers, n_ordinary : int
        Subscriber nodes (cards are below ``n_subscribers``), ordinary ones below ``n_ordinary``.
    susceptibility : np.ndarray
        Per subscriber, as in the population (for clicks on shifted SMS).
    """

    def __init__(
        self,
        config: SimConfig,
        plans: Sequence[_PlanLike],
        stocks: StockBuild,
        numbers: pl.Series,
        n_subscribers: int,
        n_ordinary: int,
        susceptibility: npt.NDArray[Any],
    ) -> None:
        self.config = config
        self.numbers = numbers
        self.n_ordinary = n_ordinary
        self.susceptibility = susceptibility
        self.outcomes = Outcomes(len(config.campaigns))
        self.reactions: list[tuple[str, int, str, int, str]] = []
        self.dead: dict[int, int] = {}  # node -> instant from which it is suspended or barred
        self.burnt: dict[int, set[int]] = {}
        self.used_extra: dict[int, set[int]] = {}
        self.ignored_measures = 0
        self._fate: dict[tuple[int, int], int] = {}  # (planned node, call time) -> holder or -1
        self._pending_sms: Batch = concat([], SMS_COLUMNS)
        self._campaigns: dict[int, _Campaign] = {}
        self._node_campaigns: dict[str, list[tuple[int, int]]] = {}
        for p in plans:
            c = p.config
            src = [int(x) for x in p.sources]
            main_stock = replace(
                stocks.main.get(p.code, _empty_stock(c.kind in _ON_NET_KINDS)), cursor=0
            )
            shift_stock = stocks.shift.get(p.code)
            if shift_stock is not None:
                shift_stock = replace(shift_stock, cursor=0)
            device = {int(s): int(d) for s, d in zip(p.sources, p.device, strict=True)}
            cell = {int(s): int(x) for s, x in zip(p.sources, p.cells[:, 0], strict=True)}
            for stock in (main_stock, shift_stock):
                if stock is not None:
                    device.update(zip(stock.nodes.tolist(), stock.device.tolist(), strict=True))
                    cell.update(zip(stock.nodes.tolist(), stock.cell.tolist(), strict=True))
            policy = c.adaptive
            shift_lane = None
            if policy is not None and policy.shift_to in (Channel.INTL_SPOOF, Channel.OFF_NET):
                assert shift_stock is not None
                shift_lane = _Lane.of([-1] * len(src), [0] * len(src), shift_stock, policy.shift_to)
            camp = _Campaign(
                code=p.code,
                config=c,
                policy=policy,
                slot_of={s: i for i, s in enumerate(src)},
                main=_Lane.of(src, [int(x) for x in p.src_start_us], main_stock, None),
                shift=shift_lane,
                device=device,
                cell=cell,
            )
            self._campaigns[p.code] = camp
            self.burnt[p.code] = set()
            self.used_extra[p.code] = set()
            every = [*src, *main_stock.nodes.tolist()]
            if shift_stock is not None:
                every += shift_stock.nodes.tolist()
            for node in every:
                self._node_campaigns.setdefault(str(numbers[node]), []).append((p.code, node))

    # -- measures ------------------------------------------------------------------------

    def apply(self, measures: Sequence[Measure], step_start_us: int) -> None:
        """Take the loop's measures; one that holds from an already emitted step holds now."""
        for m in measures:
            hits = self._node_campaigns.get(m.msisdn)
            if not hits:
                self.ignored_measures += 1
                continue
            at = max(to_us(m.at), step_start_us)
            for code, node in hits:
                self.dead[node] = min(self.dead.get(node, NEVER), at)
                self.burnt[code].add(node)
                camp = self._campaigns[code]
                if node in camp.retired:
                    # a threshold gamer watches its retired cards too: one cut off after its
                    # retirement still tells how many calls the loop lets a card make
                    self._learn(camp, camp.retired.pop(node), at, node)

    # -- traffic -------------------------------------------------------------------------

    def process(self, calls: Batch, sms: Batch, rng_for: _RngFactory) -> tuple[Batch, Batch, Batch]:
        """Rewrite one step's fraud records; return kept calls, kept SMS, and new SMS.

        ``rng_for()`` gives the step's own random stream; it is called only when a reaction
        needs a draw.
        """
        call_keep = self._walk(calls, False, rng_for)
        sms_keep = self._walk(sms, True, rng_for)
        new_sms = self._pending_sms
        self._pending_sms = concat([], SMS_COLUMNS)
        if new_sms["t_us"].shape[0]:
            new_sms["text"] = scam_texts(rng_for(), int(new_sms["t_us"].shape[0]), 0.3)
        return take(calls, call_keep), take(sms, sms_keep), new_sms

    def _walk(self, b: Batch, is_sms: bool, rng_for: _RngFactory) -> npt.NDArray[Any]:
        campaign = np.asarray(b["campaign"])
        keep = np.ones(campaign.shape[0], dtype=bool)
        rows = np.flatnonzero(campaign >= 0)
        if not rows.shape[0]:
            return np.flatnonzero(keep)
        order = rows[np.argsort(np.asarray(b["t_us"])[rows], kind="stable")]
        role = np.asarray(b["role"])
        t_col = np.asarray(b["t_us"])
        converted: list[int] = []
        for r in order.tolist():
            camp = self._campaigns.get(int(campaign[r]))
            if camp is None:
                continue
            t = int(t_col[r])
            if role[r] == _CALLBACK:
                keep[r] = self._callback(camp, b, r, t)
                continue
            keep[r] = self._attempt(camp, b, r, t, is_sms, rng_for, converted)
        if converted:
            self._convert_to_sms(b, np.asarray(converted, dtype=np.int64), rng_for())
        return np.flatnonzero(keep)

    def _callback(self, camp: _Campaign, b: Batch, r: int, t: int) -> bool:
        """A subscriber returns a call: to whoever made it, if that number still works."""
        callee = np.asarray(b["callee"])
        planned = int(callee[r])
        parent = int(np.asarray(b["parent_us"])[r]) if "parent_us" in b else -1
        holder = self._fate.get((planned, parent), planned)
        if holder < 0:
            return False  # the call it would return was never made (withheld or blocked)
        if self.dead.get(holder, NEVER) <= t:
            self.outcomes.counts["callbacks_blocked"][camp.code] += 1  # the number is cut off
            return False
        if holder != planned:
            callee[r] = holder
            if camp.main.stock.on_net:
                np.asarray(b["callee_cell"])[r] = camp.cell.get(holder, -1)
        return True

    def _holder(self, camp: _Campaign, lane: _Lane, slot: int, t: int) -> int:
        h = lane.node[slot]
        if h < 0 and lane.channel is not None and lane.started[slot] == 0:
            h = self._draw(camp, lane, slot, t, 0)  # first use of the new channel
            lane.started[slot] = t
        if h < 0 or lane.active_from[slot] > t:
            return -1
        if lane.channel is None and camp.rotating:
            assert camp.policy is not None
            worn = camp.policy.rotate_after_h > 0 and t - lane.started[slot] >= int(
                camp.policy.rotate_after_h * HOUR_US
            )
            spent = camp.budget > 0 and lane.attempts[slot] >= camp.budget
            if (worn or spent) and lane.stock.cursor < lane.stock.nodes.shape[0]:
                why = f"after {lane.attempts[slot]} calls" if spent else "card worn"
                if camp.policy.learn_thresholds:
                    camp.retired[h] = lane.attempts[slot]
                new = self._draw(camp, lane, slot, t, 0)
                self._react(camp, t, "rotation", h, why)
                return new
            # no stock left: the gang keeps using the old card
        return h

    def _draw(self, camp: _Campaign, lane: _Lane, slot: int, t: int, delay_us: int) -> int:
        new = lane.stock.take()
        lane.node[slot] = new
        lane.active_from[slot] = t + delay_us
        lane.started[slot] = t + delay_us
        lane.attempts[slot] = 0
        if new >= 0:
            self.outcomes.counts["cards_drawn"][camp.code] += 1
        return new

    def _attempt(
        self,
        camp: _Campaign,
        b: Batch,
        r: int,
        t: int,
        is_sms: bool,
        rng_for: _RngFactory,
        converted: list[int],
    ) -> bool:
        counts = self.outcomes.counts
        code = camp.code
        caller = np.asarray(b["caller"])
        planned = int(caller[r])
        slot = camp.slot_of.get(planned)
        if slot is None:
            return True
        if camp.volume < 1.0 and rng_for().random() >= camp.volume:
            counts["withheld"][code] += 1
            self._fate[(planned, t)] = -1
            return False
        lane = camp.main
        to_sms = False
        if camp.shift_share > 0 and not is_sms and rng_for().random() < camp.shift_share:
            assert camp.policy is not None
            if camp.shift is not None:
                lane = camp.shift
            else:
                to_sms = True
        h = self._holder(camp, lane, slot, t)
        if h < 0:
            counts["idle"][code] += 1
            self._fate[(planned, t)] = -1
            return False
        if self.dead.get(h, NEVER) <= t:
            counts["blocked"][code] += 1
            counts["attempts"][code] += 1  # the gang tried: the attempt never reached anyone
            self._fate[(planned, t)] = -1
            self._blocked(camp, lane, slot, h, t, rng_for)
            return False
        lane.attempts[slot] += 1
        if h != planned:
            self.used_extra[code].add(h)
        self._fate[(planned, t)] = h
        if lane is not camp.main or to_sms:
            counts["shifted"][code] += 1
        if h != planned or lane.channel is not None:
            self._rewrite(camp, lane, b, r, slot, h)
        if to_sms:
            converted.append(r)  # emitted as an SMS at the end of the step
            return False
        return True

    def _rewrite(self, camp: _Campaign, lane: _Lane, b: Batch, r: int, slot: int, h: int) -> None:
        """Put the holder (and its phone, cell and route) on a planned record."""
        np.asarray(b["caller"])[r] = h
        if lane.channel is None and lane.stock.on_net:
            np.asarray(b["imsi"])[r] = h
            np.asarray(b["imei"])[r] = camp.device.get(h, -1)
            np.asarray(b["cell"])[r] = camp.cell.get(h, -1)
        elif lane.channel is not None:
            intl = lane.channel == Channel.INTL_SPOOF
            np.asarray(b["ingress"])[r] = INGRESSES.index("international" if intl else "domestic")
            gw = ("intl-gw-1", "intl-gw-2", "intl-gw-3")[slot % 3] if intl else "dom-ic-1"
            np.asarray(b["trunk"])[r] = trunk(gw)
            for col in ("imsi", "imei", "cell"):
                np.asarray(b[col])[r] = -1

    def _blocked(
        self, camp: _Campaign, lane: _Lane, slot: int, h: int, t: int, rng_for: _RngFactory
    ) -> None:
        """The gang finds a number dead at its next attempt and reacts (if it adapts)."""
        if h in camp.noticed:
            return
        camp.noticed.add(h)
        policy = camp.policy
        if policy is None:
            return  # a campaign that does not adapt keeps dialling the dead number
        camp.blocks_seen += 1
        if policy.learn_thresholds:
            self._learn(camp, lane.attempts[slot], t, h)
        lo, hi = policy.replace_delay_min
        delay = int(rng_for().uniform(lo, hi) * MIN_US)
        new = self._draw(camp, lane, slot, t, delay)
        if new >= 0:
            self._react(camp, t, "replacement", h, f"{self.numbers[new]} in {delay // MIN_US} min")
        else:
            self._react(camp, t, "stock_exhausted", h, "slot abandoned")
        if policy.slowdown < 1.0 and camp.volume > policy.min_volume:
            camp.volume = max(policy.min_volume, camp.volume * policy.slowdown)
            self._react(camp, t, "slowdown", h, f"volume x{camp.volume:.2f}")
        if (
            policy.shift_to is not None
            and camp.shift_share == 0
            and (camp.blocks_seen >= policy.shift_after)
        ):
            camp.shift_share = policy.shift_share
            self._react(
                camp, t, "channel_shift", h, f"{policy.shift_to.value} {policy.shift_share}"
            )
        if policy.rotate_after_h > 0 and not camp.rotating:
            camp.rotating = True
            self._react(
                camp, t, "faster_rotation", h, f"cards retired after {policy.rotate_after_h} h"
            )

    def _learn(self, camp: _Campaign, calls: int, t: int, node: int) -> None:
        """Threshold gaming: a card died after ``calls`` calls; stay below that from now on."""
        assert camp.policy is not None
        allowed = max(1, int(camp.policy.margin * calls))
        if camp.budget == 0 or allowed < camp.budget:
            camp.budget = allowed
            self._react(camp, t, "threshold_learnt", node, f"{allowed} calls per card")
        camp.rotating = True

    def _react(self, camp: _Campaign, t: int, reaction: str, node: int, detail: str) -> None:
        self.reactions.append((camp.config.campaign_id, t, reaction, node, detail))

    def _convert_to_sms(
        self, calls: Batch, rows: npt.NDArray[Any], rng: np.random.Generator
    ) -> None:
        """Calls moved to SMS with a link: same sender, recipient and instant."""
        n = rows.shape[0]
        callee = np.asarray(calls["callee"])[rows]
        code = np.asarray(calls["campaign"])[rows].astype(np.int64)
        t_us = np.asarray(calls["t_us"])[rows]
        ordinary = callee < self.n_ordinary
        susc = np.where(ordinary, self.susceptibility[np.minimum(callee, self.n_ordinary - 1)], 0.0)
        engage = np.array([self._engage(int(c)) for c in code])
        loss_p = np.array([self.config.campaigns[int(c)].loss_p for c in code])
        click = ordinary & (rng.random(n) < np.minimum(engage * susc, 0.9))
        click_us = t_us + (np.asarray(rng.lognormal(np.log(15.0), 1.0, n)) * MIN_US).astype(
            np.int64
        )
        loses = click & (rng.random(n) < loss_p)
        delay = (np.asarray(rng.lognormal(np.log(120.0), 1.0, n)) * MIN_US).astype(np.int64)
        amount = np.round(rng.lognormal(np.log(15_000.0), 1.2, n), 2)
        on_net = np.asarray(calls["ingress"])[rows] == INGRESSES.index("on_net")
        batch = new_batch(
            SMS_COLUMNS,
            n,
            {
                "caller": np.asarray(calls["caller"])[rows],
                "callee": callee,
                "t_us": t_us,
                "ingress": np.where(
                    on_net, INGRESSES.index("on_net"), INGRESSES.index("domestic")
                ).astype(np.int8),
                "trunk": np.where(on_net, trunk("sms-onnet"), trunk("sms-ic-1")).astype(np.int16),
                "cell": np.asarray(calls["cell"])[rows],
                "campaign": code,
                "role": _FRAUD_SMS,
                "exposure": np.where(click, EXPOSURES.index(ExposureKind.LINK_CLICK), -1),
                "exposed_us": np.where(click, click_us, -1),
                "loss_us": np.where(loses, click_us + delay, -1),
                "loss_cny": np.where(loses, amount, np.nan),
            },
        )
        self._pending_sms = concat([self._pending_sms, batch], SMS_COLUMNS)

    def _engage(self, code: int) -> float:
        policy = self.config.campaigns[code].adaptive
        return policy.sms_engage_p if policy is not None else 0.01

    # -- truth ---------------------------------------------------------------------------

    @staticmethod
    def empty_reactions() -> pl.DataFrame:
        """A reactions table with no rows."""
        return pl.DataFrame(schema=TRUTH_REACTIONS_SCHEMA)

    def reactions_frame(self) -> pl.DataFrame:
        """Every reaction so far (``TRUTH_REACTIONS_SCHEMA``)."""
        if not self.reactions:
            return self.empty_reactions()
        cid, t, what, node, detail = zip(*self.reactions, strict=True)
        return pl.DataFrame(
            {
                "campaign_id": list(cid),
                "at": pl.Series(list(t), dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
                "reaction": list(what),
                "msisdn": self.numbers.gather(pl.Series(list(node), dtype=pl.Int64)),
                "detail": list(detail),
            },
            schema=TRUTH_REACTIONS_SCHEMA,
        )


class LazyRng:
    """A random stream made on first use: a step that needs no draw costs nothing."""

    def __init__(self, key: list[int]) -> None:
        self._key = key
        self._rng: np.random.Generator | None = None

    def __call__(self) -> np.random.Generator:
        """The stream (created on the first call)."""
        if self._rng is None:
            self._rng = np.random.default_rng(self._key)
        return self._rng


class _PlanLike(Protocol):
    code: int
    config: CampaignConfig
    sources: npt.NDArray[Any]
    src_start_us: npt.NDArray[Any]
    device: npt.NDArray[Any]
    cells: npt.NDArray[Any]


class _RngFactory(Protocol):
    def __call__(self) -> np.random.Generator: ...
