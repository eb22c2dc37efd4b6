"""The simulation: builds the world once, then yields the traffic chunk by chunk.

Memory is bounded by the population (subscribers, graph, number directory) plus one chunk:
a chunk is one simulated hour of one shard of at most ``shard_size`` subscribers, and it is
handed out as Polars DataFrames before the next one is made. Records whose time falls after
the chunk (Wangiri callbacks) wait in a small carry-over buffer for their hour.

Determinism: every random draw comes from a ``numpy.random.Generator`` seeded with
``(seed, stream, hour, shard)``, so the same configuration gives identical tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from telewarden.core.errors import InvalidInputError
from telewarden.core.records import (
    ACCOUNTS_SCHEMA,
    CALLS_SCHEMA,
    OPTINS_SCHEMA,
    SMS_SCHEMA,
    SUBSCRIBERS_SCHEMA,
    TRUTH_CAMPAIGNS_SCHEMA,
    TRUTH_CARDS_SCHEMA,
    TRUTH_EVENTS_SCHEMA,
    TRUTH_VICTIMS_SCHEMA,
    USAGE_SCHEMA,
    OptInScope,
    RecordKind,
)
from telewarden.core.sim.adaptive import (
    TRUTH_OUTCOMES_SCHEMA,
    AdaptiveLayer,
    FeedbackPort,
    LazyRng,
    Outcomes,
    StockBuild,
    build_stocks,
    card_price,
)
from telewarden.core.sim.campaigns import (
    DESCRIPTIONS,
    CampaignPlan,
    campaign_traffic,
    fraud_card_count,
    plan_campaigns,
)
from telewarden.core.sim.config import SimConfig
from telewarden.core.sim.numbers import OFF_NET_PREFIXES, mobile_numbers, prefixed
from telewarden.core.sim.parts import (
    CALL_COLUMNS,
    CAUSES,
    EXPOSURES,
    INGRESSES,
    ROLES,
    SMS_COLUMNS,
    TRUNKS,
    Batch,
    concat,
    take,
)
from telewarden.core.sim.population import (
    Directory,
    build_graph,
    build_subscribers,
    draw_external,
    finish_frame,
    id_hash,
    to_us,
)
from telewarden.core.sim.texts import BANK_PORTS, COURIER_PORTS, VERIFICATION_PORTS
from telewarden.core.sim.traffic import (
    SERVICE_NUMBERS,
    Clock,
    World,
    legit_calls,
    legit_sms,
    legit_usage,
)

__all__ = ["SimChunk", "Simulation"]

HOUR_US = 3_600_000_000
_OUTCOME_COUNTS = (
    "attempts",
    "blocked",
    "withheld",
    "idle",
    "shifted",
    "contacts",
    "callbacks_blocked",
    "victims",
    "losses",
)
BEIJING = dt.timezone(dt.timedelta(hours=8))

# stream ids of the seed sequence (never reorder: it would change every output)
_POPULATION, _LEGIT_CALLS, _LEGIT_SMS, _USAGE, _CAMPAIGNS, _ADAPTIVE = 1, 2, 3, 4, 5, 6


@dataclass(frozen=True, slots=True)
class SimChunk:
    """One chunk of traffic and its ground truth.

    Attributes
    ----------
    hour, shard : int
        Position of the chunk: simulated hour from the start, subscriber shard.
    start_at : datetime
        UTC start of the hour.
    calls, sms, usage : pl.DataFrame
        Records (``CALLS_SCHEMA``, ``SMS_SCHEMA``, ``USAGE_SCHEMA``), time-ordered within the
        chunk; ids increase from chunk to chunk.
    truth_events, truth_victims : pl.DataFrame
        Ground truth for the fraud records of this chunk.
    step : int
        With a feedback port, the time step within the hour (``step_s`` long); else 0.
    """

    hour: int
    shard: int
    start_at: dt.datetime
    calls: pl.DataFrame
    sms: pl.DataFrame
    usage: pl.DataFrame
    truth_events: pl.DataFrame
    truth_victims: pl.DataFrame
    step: int = 0


def _nullable(idx: npt.NDArray[Any]) -> pl.Series:
    s = pl.Series(idx, dtype=pl.Int64)
    return pl.select(pl.when(s >= 0).then(s)).to_series()


def _utc(us: npt.NDArray[Any]) -> pl.Series:
    return pl.Series(us, dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))


class Simulation:
    """A seeded synthetic carrier.

    Parameters
    ----------
    config : SimConfig
        What to simulate (see ``telewarden.core.sim.config.PRESETS``).

    Examples
    --------
    >>> from dataclasses import replace
    >>> from telewarden.core.sim.config import preset
    >>> sim = Simulation(replace(preset("tiny"), subscribers=300, hours=2))
    >>> chunks = list(sim.chunks())
    >>> len(chunks), chunks[0].calls.columns[:3]
    (2, ['id', 'caller', 'callee'])
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.start_us = to_us(config.start_at)
        rng = np.random.default_rng([config.seed, _POPULATION])
        self._directory = Directory(parts=[])
        imei_parts: list[pl.Series] = []
        n_fraud = fraud_card_count(config)
        subs, cells, imsi = build_subscribers(
            rng,
            config.subscribers,
            n_fraud,
            self.start_us,
            config.hours,
            config.roamer_p,
            config.handset_change_p,
            config.courier_p,
            config.sales_p,
            self._directory,
            imei_parts,
        )
        off_net, intl_family, intl_business = draw_external(rng, subs.n, self._directory)
        vacant_nums = mobile_numbers(rng, max(20, subs.n // 100), OFF_NET_PREFIXES)
        vacant = self._directory.add(prefixed(vacant_nums, "+86"))
        services = self._directory.add(pl.Series(SERVICE_NUMBERS))
        bank_ports = self._directory.add(pl.Series([p for p, _ in BANK_PORTS]))
        courier_ports = self._directory.add(pl.Series([p for p, _ in COURIER_PORTS]))
        verification_ports = self._directory.add(pl.Series([p for p, _ in VERIFICATION_PORTS]))
        carrier_port = int(self._directory.add(pl.Series(["10086"]))[0])
        graph, intl_people = build_graph(
            rng,
            subs,
            off_net,
            intl_family,
            intl_business,
            config.intl_contact_p,
            config.hkmotw_business_p,
        )
        imei_count = sum(p.len() for p in imei_parts)
        self._plans: list[CampaignPlan] = plan_campaigns(
            rng,
            config,
            subs,
            cells.city_start,
            cells.city_count,
            self._directory,
            imei_parts,
            imei_count,
            self.start_us,
        )
        # adaptive campaigns' stock: own random streams, appended after every other number
        # and device, so the rest of the world is the same with or without it
        self._stocks: StockBuild | None = None
        if any(p.config.adaptive is not None for p in self._plans):
            self._stocks = build_stocks(
                config,
                [p.code for p in self._plans],
                subs,
                cells.frame,
                cells.ids,
                cells.city_start,
                cells.city_count,
                self._directory,
                sum(p.len() for p in imei_parts),
                self.start_us,
                _ADAPTIVE,
            )
            imei_parts.extend(self._stocks.imeis)
        city_ord = subs.city[: subs.n_ordinary]
        n_cities = int(cells.city_start.shape[0])
        self.world = World(
            config=config,
            subs=subs,
            graph=graph,
            cells=cells,
            off_net=off_net,
            vacant=vacant,
            services=services,
            bank_ports=bank_ports,
            courier_ports=courier_ports,
            verification_ports=verification_ports,
            carrier_port=carrier_port,
            city_lo=np.searchsorted(city_ord, np.arange(n_cities)).astype(np.int64),
            city_n=np.bincount(city_ord, minlength=n_cities).astype(np.int64),
        )
        self.numbers = self._directory.series()
        self.imeis = pl.concat(imei_parts, rechunk=True)
        self.imsis = imsi
        self._subscribers = finish_frame(subs, cells, imsi, self.imeis)
        self._imsi_of_node = imsi
        if self._stocks is not None and self._stocks.imsi.len():
            self._subscribers = pl.concat(
                [self._subscribers, self._stocks.subscribers.cast(dict(SUBSCRIBERS_SCHEMA))]  # type: ignore[arg-type]
            )
            gap = pl.Series([None] * (self.numbers.len() - imsi.len()), dtype=pl.String)
            self._imsi_of_node = pl.concat([imsi, gap]).scatter(
                self._stocks.imsi_nodes, self._stocks.imsi
            )
        self._outcomes = Outcomes(len(config.campaigns))
        self._layer: AdaptiveLayer | None = None
        self._intl_people = intl_people
        self._static_rng_state = rng.bit_generator.state
        self._first_fraud_us = np.full(self.numbers.len(), np.iinfo(np.int64).max, np.int64)
        self._pending_calls: Batch = concat([], CALL_COLUMNS)
        self._next_call_id = 1
        self._next_sms_id = 1

    # -- static tables --------------------------------------------------------------------

    @property
    def n_shards(self) -> int:
        """Subscriber shards per hour."""
        return max(1, -(-self.world.subs.n_ordinary // self.config.shard_size))

    @property
    def n_chunks(self) -> int:
        """Chunks ``chunks()`` yields."""
        return self.config.hours * self.n_shards

    @property
    def plans(self) -> list[CampaignPlan]:
        """The enabled campaigns with their numbers."""
        return self._plans

    def subscribers(self) -> pl.DataFrame:
        """The ``subscribers`` table (ordinary subscribers, then fraud cards)."""
        return self._subscribers

    def cells(self) -> pl.DataFrame:
        """The ``cells`` table."""
        return self.world.cells.frame

    def accounts(self) -> pl.DataFrame:
        """Linked internet accounts (``ACCOUNTS_SCHEMA``).

        Ordinary subscribers link a few platforms at some point after activation; fraud cards
        link WeChat and QQ within hours of activation (cards bought to register accounts).
        """
        rng = np.random.default_rng([self.config.seed, _POPULATION, 99])
        subs = self.world.subs
        platforms = ("wechat", "alipay", "qq", "douyin", "taobao")
        p = np.array([0.9, 0.7, 0.4, 0.5, 0.5])
        has = rng.random((subs.n, len(platforms))) < p
        fraud = subs.role == 3
        has[fraud] = False
        has[fraud, 0] = rng.random(int(fraud.sum())) < 0.8
        has[fraud, 2] = rng.random(int(fraud.sum())) < 0.6
        node, plat = np.nonzero(has)
        age = np.maximum(self.start_us - subs.activated_us[node], 1)
        delay = np.where(
            fraud[node],
            rng.uniform(0.1, 6.0, node.shape[0]) * HOUR_US,
            rng.random(node.shape[0]) * age,
        ).astype(np.int64)
        linked = np.minimum(subs.activated_us[node] + delay, self.start_us)
        prefix = pl.Series(["wx_", "2088", "qq", "dy_", "tb_"]).gather(pl.Series(plat))
        account = prefix + id_hash(node * 8 + plat, 23)
        return pl.DataFrame(
            {
                "platform": pl.Series(platforms).gather(pl.Series(plat)),
                "account": account,
                "msisdn": self.numbers.gather(pl.Series(node)),
                "linked_at": _utc(linked),
            },
            schema=ACCOUNTS_SCHEMA,
        )

    def optins(self) -> pl.DataFrame:
        """Cross-border opt-ins: most subscribers with contacts abroad, and a few travellers."""
        rng = np.random.default_rng([self.config.seed, _POPULATION, 98])
        subs = self.world.subs
        people = self._intl_people
        chosen = people[rng.random(people.shape[0]) < self.config.optin_p]
        travellers = np.flatnonzero(rng.random(subs.n_ordinary) < 0.003)
        who = np.union1d(chosen, travellers)
        scope = np.asarray(rng.choice(3, who.shape[0], p=[0.4, 0.1, 0.5]))
        names = pl.Series([OptInScope.CALLS.value, OptInScope.SMS.value, OptInScope.BOTH.value])
        days = np.asarray(rng.uniform(1.0, 400.0, who.shape[0]))
        at = self.start_us - (days * 24 * HOUR_US).astype(np.int64)
        return pl.DataFrame(
            {
                "msisdn": self.numbers.gather(pl.Series(who)),
                "scope": names.gather(pl.Series(scope)),
                "opted_in_at": _utc(at),
            },
            schema=OPTINS_SCHEMA,
        )

    def truth_campaigns(self) -> pl.DataFrame:
        """The injected campaigns and their windows."""
        rows = [
            (
                p.config.campaign_id,
                p.kind.value,
                p.start_us,
                p.end_us,
                DESCRIPTIONS.get(p.kind, ""),
            )
            for p in self._plans
        ]
        frame = pl.DataFrame(
            rows,
            schema={
                "campaign_id": pl.String,
                "campaign_kind": pl.String,
                "start_at": pl.Int64,
                "end_at": pl.Int64,
                "description": pl.String,
            },
            orient="row",
        )
        return frame.with_columns(
            pl.col("start_at").cast(pl.Datetime("us", "UTC")),
            pl.col("end_at").cast(pl.Datetime("us", "UTC")),
        ).select(list(TRUTH_CAMPAIGNS_SCHEMA))

    def truth_cards(self) -> pl.DataFrame:
        """Every campaign number; ``first_fraud_at`` is complete once ``chunks()`` is exhausted."""
        frames = []
        for p in self._plans:
            sources = p.sources
            if self._layer is not None and self._layer.used_extra[p.code]:
                # replacement cards and numbers the campaign put into service (issue #19)
                extra = np.array(sorted(self._layer.used_extra[p.code]), dtype=np.int64)
                sources = np.concatenate([sources, extra])
            first = self._first_fraud_us[sources]
            frames.append(
                pl.DataFrame(
                    {
                        "msisdn": self.numbers.gather(pl.Series(sources)),
                        "campaign_kind": [p.kind.value] * sources.shape[0],
                        "campaign_id": [p.config.campaign_id] * sources.shape[0],
                        "on_net": self._on_net(sources),
                        "first_fraud_at": _utc(np.where(first == np.iinfo(np.int64).max, 0, first)),
                    }
                ).with_columns(
                    pl.when(pl.Series(first != np.iinfo(np.int64).max))
                    .then(pl.col("first_fraud_at"))
                    .alias("first_fraud_at")
                )
            )
        if not frames:
            return pl.DataFrame(schema=TRUTH_CARDS_SCHEMA)
        return pl.concat(frames).cast(dict(TRUTH_CARDS_SCHEMA))  # type: ignore[arg-type]

    def _on_net(self, nodes: npt.NDArray[Any]) -> npt.NDArray[Any]:
        on_net: npt.NDArray[Any] = nodes < self.world.subs.n
        if self._stocks is not None and self._stocks.imsi_nodes.shape[0]:
            on_net |= np.isin(nodes, self._stocks.imsi_nodes)
        return on_net

    def truth_outcomes(self) -> pl.DataFrame:
        """Per campaign: attempts, contacts, victims, losses, cards and the gang's cost.

        Complete once ``chunks()`` is exhausted; the columns are ``TRUTH_OUTCOMES_SCHEMA``
        (``telewarden.core.sim.adaptive``). Without feedback nothing is blocked or burnt and
        the cards bought are the campaigns' first cards.
        """
        counts = self._outcomes.counts
        layer = self._layer
        cards = self.truth_cards()
        used = dict(
            cards.group_by("campaign_id")
            .agg(pl.col("first_fraud_at").is_not_null().sum())
            .iter_rows()
        )
        rows = []
        for p in self._plans:
            i = p.code
            cid = p.config.campaign_id
            bought = int(p.sources.shape[0] + counts["cards_drawn"][i])
            rows.append(
                {
                    "campaign_id": cid,
                    "campaign_kind": p.kind.value,
                    "adaptive": p.config.adaptive is not None,
                    **{k: int(counts[k][i]) for k in _OUTCOME_COUNTS},
                    "loss_cny": round(float(self._outcomes.loss_cny[i]), 2),
                    "cards_bought": bought,
                    "cards_used": int(used.get(cid, 0)),
                    "cards_burnt": 0 if layer is None else len(layer.burnt[i]),
                    "cost_cny": round(bought * card_price(p.config), 2),
                }
            )
        return pl.DataFrame(rows, schema=TRUTH_OUTCOMES_SCHEMA)

    def truth_reactions(self) -> pl.DataFrame:
        """What the adaptive campaigns did, and when (empty without feedback)."""
        if self._layer is None:
            return AdaptiveLayer.empty_reactions()
        return self._layer.reactions_frame()

    # -- traffic --------------------------------------------------------------------------

    def clock(self, hour: int) -> Clock:
        """The simulated clock at the start of ``hour``."""
        start = self.config.start_at + dt.timedelta(hours=hour)
        local = start.astimezone(BEIJING)
        return Clock(
            hour=hour,
            start_us=self.start_us + hour * HOUR_US,
            local_hour=local.hour,
            weekday=local.weekday(),
        )

    def chunk_count(self, step_s: int | None = None) -> int:
        """Chunks ``chunks()`` yields: per hour one per shard, or with feedback one per step."""
        if step_s is None:
            return self.n_chunks
        return self.config.hours * (3600 // step_s)

    def chunks(self, feedback: FeedbackPort | None = None, step_s: int = 300) -> Iterator[SimChunk]:
        """Yield every chunk in time order (hour by hour, shard by shard).

        Each call starts the traffic afresh, so iterating twice yields the same chunks.

        Parameters
        ----------
        feedback : FeedbackPort or None
            The loop's measures (issue #19). Without it the traffic is exactly today's. With
            it, each hour (all shards together) is cut into steps of ``step_s`` seconds; before
            each step the simulator collects the measures that hold from before the step's end
            and applies them, and the campaigns' reactions, to the step's fraud records. A
            measure the loop takes while looking at step *k* acts from step *k + 1*: the
            feedback latency is at most one step.
        step_s : int
            Step length in seconds; must divide an hour.
        """
        cfg = self.config
        self._first_fraud_us[:] = np.iinfo(np.int64).max
        self._pending_calls = concat([], CALL_COLUMNS)
        self._next_call_id = 1
        self._next_sms_id = 1
        self._outcomes = Outcomes(len(cfg.campaigns))
        self._layer = None
        if feedback is not None:
            yield from self._chunks_with_feedback(feedback, step_s)
            return
        for hour in range(cfg.hours):
            clock = self.clock(hour)
            for shard in range(self.n_shards):
                calls, sms, usage = self._hour_traffic(hour, shard, clock)
                yield self._emit(hour, shard, clock, calls, sms, usage)
        self._pending_calls = concat([], CALL_COLUMNS)

    def _hour_traffic(
        self, hour: int, shard: int, clock: Clock
    ) -> tuple[Batch, Batch, pl.DataFrame]:
        """One shard's traffic for an hour, drawn exactly as ``chunks()`` without feedback."""
        cfg = self.config
        lo = shard * cfg.shard_size
        hi = lo + cfg.shard_size
        key = (cfg.seed, hour, shard)
        calls = legit_calls(self.world, lo, hi, clock, np.random.default_rng([*key, _LEGIT_CALLS]))
        sms = legit_sms(self.world, lo, hi, clock, np.random.default_rng([*key, _LEGIT_SMS]))
        extra_nodes = np.empty(0, dtype=np.int64)
        extra_act = np.empty(0, dtype=np.float64)
        if shard == 0:
            f_calls, f_sms = campaign_traffic(
                self.world,
                self._plans,
                clock,
                np.random.default_rng([cfg.seed, hour, _CAMPAIGNS]),
            )
            calls = concat([calls, f_calls, self._pending_calls], CALL_COLUMNS)
            sms = concat([sms, f_sms], SMS_COLUMNS)
            active = [
                p
                for p in self._plans
                if p.data_activity > 0 and p.start_us < clock.end_us and p.end_us > clock.start_us
            ]
            if active:
                extra_nodes = np.concatenate([p.sources for p in active])
                extra_act = np.concatenate(
                    [np.full(p.sources.shape[0], p.data_activity) for p in active]
                )
            t = np.asarray(calls["t_us"])
            later = t >= clock.end_us
            self._pending_calls = take(calls, np.flatnonzero(later))
            calls = take(calls, np.flatnonzero(~later))
        usage = legit_usage(
            self.world,
            lo,
            hi,
            clock,
            np.random.default_rng([*key, _USAGE]),
            self.numbers,
            self.world.cells.ids,
            extra_nodes,
            extra_act,
        )
        return calls, sms, usage

    def _chunks_with_feedback(self, feedback: FeedbackPort, step_s: int) -> Iterator[SimChunk]:
        if step_s < 1 or 3600 % step_s:
            raise InvalidInputError(f"step_s must divide an hour (3600 s); got {step_s}")
        cfg = self.config
        step_us = step_s * 1_000_000
        stocks = self._stocks or StockBuild(
            {}, {}, pl.DataFrame(), np.empty(0, np.int64), pl.Series([], dtype=pl.String), []
        )
        layer = AdaptiveLayer(
            cfg,
            self._plans,
            stocks,
            self.numbers,
            self.world.subs.n,
            self.world.subs.n_ordinary,
            self.world.subs.susceptibility,
        )
        self._layer = layer
        self._outcomes = layer.outcomes
        for hour in range(cfg.hours):
            clock = self.clock(hour)
            parts = [self._hour_traffic(hour, shard, clock) for shard in range(self.n_shards)]
            calls = concat([p[0] for p in parts], CALL_COLUMNS)
            sms = concat([p[1] for p in parts], SMS_COLUMNS)
            usage = pl.concat([p[2] for p in parts])
            calls = take(calls, np.argsort(np.asarray(calls["t_us"]), kind="stable"))
            sms = take(sms, np.argsort(np.asarray(sms["t_us"]), kind="stable"))
            n_steps = 3600 // step_s
            edges = clock.start_us + step_us * np.arange(1, n_steps)
            call_cut = np.concatenate(
                [
                    [0],
                    np.searchsorted(np.asarray(calls["t_us"]), edges),
                    [np.asarray(calls["t_us"]).shape[0]],
                ]
            )
            sms_cut = np.concatenate(
                [
                    [0],
                    np.searchsorted(np.asarray(sms["t_us"]), edges),
                    [np.asarray(sms["t_us"]).shape[0]],
                ]
            )
            for k in range(n_steps):
                lo_us = clock.start_us + k * step_us
                until = cfg.start_at + dt.timedelta(microseconds=lo_us + step_us - self.start_us)
                layer.apply(feedback.measures(until), lo_us)
                step_calls = take(calls, np.arange(call_cut[k], call_cut[k + 1]))
                step_sms = take(sms, np.arange(sms_cut[k], sms_cut[k + 1]))
                rng_for = LazyRng([cfg.seed, _ADAPTIVE, hour, k])
                step_calls, step_sms, new_sms = layer.process(step_calls, step_sms, rng_for)
                if new_sms["t_us"].shape[0]:
                    step_sms = concat([step_sms, new_sms], SMS_COLUMNS)
                yield self._emit(
                    hour, 0, clock, step_calls, step_sms, usage if k == 0 else usage.clear(), step=k
                )
        self._pending_calls = concat([], CALL_COLUMNS)

    def _emit(
        self,
        hour: int,
        shard: int,
        clock: Clock,
        calls: Batch,
        sms: Batch,
        usage: pl.DataFrame,
        step: int = 0,
    ) -> SimChunk:
        calls = take(calls, np.argsort(np.asarray(calls["t_us"]), kind="stable"))
        sms = take(sms, np.argsort(np.asarray(sms["t_us"]), kind="stable"))
        self._outcomes.add_records(calls, sms=False)
        self._outcomes.add_records(sms, sms=True)
        call_ids = self._next_call_id + np.arange(np.asarray(calls["t_us"]).shape[0])
        sms_ids = self._next_sms_id + np.arange(np.asarray(sms["t_us"]).shape[0])
        self._next_call_id += call_ids.shape[0]
        self._next_sms_id += sms_ids.shape[0]
        calls_frame = self._calls_frame(calls, call_ids)
        sms_frame = self._sms_frame(sms, sms_ids)
        events = pl.concat(
            [
                self._events(calls, call_ids, RecordKind.CALL),
                self._events(sms, sms_ids, RecordKind.SMS),
            ]
        )
        victims = pl.concat(
            [
                self._victims(calls, call_ids, RecordKind.CALL, "callee"),
                self._victims(sms, sms_ids, RecordKind.SMS, "callee"),
            ]
        )
        return SimChunk(
            hour=hour,
            shard=shard,
            start_at=self.config.start_at + dt.timedelta(hours=hour),
            calls=calls_frame,
            sms=sms_frame,
            usage=usage.cast(dict(USAGE_SCHEMA)),  # type: ignore[arg-type]
            truth_events=events,
            truth_victims=victims,
            step=step,
        )

    def _calls_frame(self, b: Batch, ids: npt.NDArray[Any]) -> pl.DataFrame:
        cells = self.world.cells.ids
        g = np.asarray
        return pl.DataFrame(
            {
                "id": pl.Series(ids, dtype=pl.Int64),
                "caller": self.numbers.gather(pl.Series(g(b["caller"]))),
                "callee": self.numbers.gather(pl.Series(g(b["callee"]))),
                "start_at": _utc(g(b["t_us"])),
                "ring_s": pl.Series(g(b["ring"]), dtype=pl.Int32),
                "duration_s": pl.Series(g(b["dur"]), dtype=pl.Int32),
                "answered": pl.Series(g(b["answered"]), dtype=pl.Boolean),
                "release_cause": pl.Series(CAUSES).gather(pl.Series(g(b["cause"]))),
                "ingress": pl.Series(INGRESSES).gather(pl.Series(g(b["ingress"]))),
                "trunk": pl.Series(TRUNKS).gather(pl.Series(g(b["trunk"]))),
                "cell_id": cells.gather(_nullable(g(b["cell"]))),
                "imei": self.imeis.gather(_nullable(g(b["imei"]))),
                "imsi": self._imsi_of_node.gather(_nullable(g(b["imsi"]))),
                "callee_cell_id": cells.gather(_nullable(g(b["callee_cell"]))),
                "attestation": pl.Series(["A", "B", "C"]).gather(_nullable(g(b["attest"]))),
            },
            schema=CALLS_SCHEMA,
        )

    def _sms_frame(self, b: Batch, ids: npt.NDArray[Any]) -> pl.DataFrame:
        g = np.asarray
        text = b["text"]
        assert isinstance(text, pl.Series)
        return pl.DataFrame(
            {
                "id": pl.Series(ids, dtype=pl.Int64),
                "sender": self.numbers.gather(pl.Series(g(b["caller"]))),
                "recipient": self.numbers.gather(pl.Series(g(b["callee"]))),
                "sent_at": _utc(g(b["t_us"])),
                "ingress": pl.Series(INGRESSES).gather(pl.Series(g(b["ingress"]))),
                "trunk": pl.Series(TRUNKS).gather(pl.Series(g(b["trunk"]))),
                "cell_id": self.world.cells.ids.gather(_nullable(g(b["cell"]))),
                "text": text,
            },
            schema=SMS_SCHEMA,
        )

    def _events(self, b: Batch, ids: npt.NDArray[Any], kind: RecordKind) -> pl.DataFrame:
        campaign = np.asarray(b["campaign"])
        idx = np.flatnonzero(campaign >= 0)
        role = np.asarray(b["role"])[idx]
        t = np.asarray(b["t_us"])[idx]
        codes = campaign[idx]
        # first fraud use of each campaign number (callbacks are the victims' calls, not fraud use)
        src = np.asarray(b["caller"])[idx]
        use = role != ROLES.index("callback")
        np.minimum.at(self._first_fraud_us, src[use], t[use])
        cids = pl.Series([c.campaign_id for c in self.config.campaigns])
        ckinds = pl.Series([c.kind.value for c in self.config.campaigns])
        return pl.DataFrame(
            {
                "record_kind": [kind.value] * idx.shape[0],
                "record_id": pl.Series(ids[idx], dtype=pl.Int64),
                "campaign_kind": ckinds.gather(pl.Series(codes.astype(np.int64))),
                "campaign_id": cids.gather(pl.Series(codes.astype(np.int64))),
                "role": pl.Series(ROLES).gather(pl.Series(role.astype(np.int64))),
                "at": _utc(t),
            },
            schema=TRUTH_EVENTS_SCHEMA,
        )

    def _victims(self, b: Batch, ids: npt.NDArray[Any], kind: RecordKind, who: str) -> pl.DataFrame:
        exposure = np.asarray(b["exposure"])
        idx = np.flatnonzero(exposure >= 0)
        codes = np.asarray(b["campaign"])[idx].astype(np.int64)
        # the victim is the callee of a hooked call or SMS, the caller of a Wangiri callback
        callback = exposure[idx] == EXPOSURES.index("callback")
        victim = np.where(callback, np.asarray(b["caller"])[idx], np.asarray(b[who])[idx])
        loss = np.asarray(b["loss_us"])[idx]
        cids = pl.Series([c.campaign_id for c in self.config.campaigns])
        ckinds = pl.Series([c.kind.value for c in self.config.campaigns])
        return pl.DataFrame(
            {
                "msisdn": self.numbers.gather(pl.Series(victim)),
                "campaign_kind": ckinds.gather(pl.Series(codes)),
                "campaign_id": cids.gather(pl.Series(codes)),
                "exposure_kind": pl.Series(EXPOSURES).gather(
                    pl.Series(exposure[idx].astype(np.int64))
                ),
                "exposure_record_kind": [kind.value] * idx.shape[0],
                "exposure_record_id": pl.Series(ids[idx], dtype=pl.Int64),
                "exposed_at": _utc(np.asarray(b["exposed_us"])[idx]),
                "loss_at": _utc(np.where(loss < 0, 0, loss)).zip_with(
                    pl.Series(loss >= 0),
                    pl.Series([None] * idx.shape[0], dtype=pl.Datetime("us", "UTC")),
                ),
                "loss_cny": pl.Series(np.asarray(b["loss_cny"])[idx]).fill_nan(None),
            },
            schema=TRUTH_VICTIMS_SCHEMA,
        )
