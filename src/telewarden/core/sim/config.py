"""Simulator configuration: the population, the rhythms, the campaigns, and the presets.

Every parameter has a default documented in ``docs/simulator.md`` with its source, or marked
there as an assumption. A configuration is a frozen value; ``dataclasses.replace`` derives
variants (``replace(preset("tiny"), seed=8)``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum

from telewarden.core.errors import InvalidInputError
from telewarden.core.records import CampaignKind

__all__ = [
    "PRESETS",
    "AdaptivePolicy",
    "CampaignConfig",
    "Channel",
    "SimConfig",
    "adaptive_config",
    "default_campaigns",
    "preset",
]


class Channel(StrEnum):
    """Where an adaptive campaign moves part of its volume once it is blocked."""

    SMS_LINK = "sms_link"  # calls become SMS with a link, sent from the same cards or numbers
    INTL_SPOOF = (
        "intl_spoof"  # domestic calls come back through international gateways, spoofed CLI
    )
    OFF_NET = (
        "off_net"  # on-net cards give way to another carrier's numbers (domestic interconnect)
    )


@dataclass(frozen=True, slots=True)
class AdaptivePolicy:
    """How a campaign answers blocking (issue #19; docs/simulator.md, "Adaptive campaigns").

    Nothing here acts until the simulator receives a measure from the loop through its
    feedback port: without feedback an adaptive campaign generates exactly the traffic of the
    same campaign without a policy.

    Attributes
    ----------
    stock : int
        Replacement cards (on-net kinds) or numbers (others) the gang holds.
    docs, outlets : int
        ID documents and sales outlets the stock cards are registered on / bought at.
    stock_age_h : tuple[float, float]
        Stock cards were activated this many hours before the simulation start (uniform).
    card_price_cny : float
        What one card or number costs the gang.
    replace_delay_min : tuple[float, float]
        From noticing a dead card to its replacement dialling (uniform, minutes).
    rotate_after_h : float
        After its first block, the gang retires each card after this many hours of use
        (0: no faster rotation).
    slowdown : float
        Volume factor applied at each observed block (1: never slows down).
    min_volume : float
        Floor of the volume factor.
    shift_to : Channel or None
        Channel the campaign moves to after ``shift_after`` observed blocks.
    shift_after : int
        Observed blocks before the channel shift.
    shift_share : float
        Share of attempts moved to the new channel.
    sms_engage_p : float
        Click probability of a shifted SMS with a link.
    learn_thresholds : bool
        Threshold gaming: learn from each dead card how many attempts the loop tolerates and
        retire every card just below that (``margin`` times the smallest count seen).
    margin : float
        Safety factor of the threshold gamer.
    """

    stock: int = 20
    docs: int = 4
    outlets: int = 2
    stock_age_h: tuple[float, float] = (2.0, 72.0)
    card_price_cny: float = 100.0
    replace_delay_min: tuple[float, float] = (10.0, 60.0)
    rotate_after_h: float = 0.0
    slowdown: float = 1.0
    min_volume: float = 0.4
    shift_to: Channel | None = None
    shift_after: int = 2
    shift_share: float = 0.5
    sms_engage_p: float = 0.01
    learn_thresholds: bool = False
    margin: float = 0.8


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    """One fraud campaign: what it is, when, how many numbers, how aggressive.

    Attributes
    ----------
    kind : CampaignKind
        Which behaviour to inject.
    campaign_id : str
        Stable identifier written to the ground truth.
    enabled : bool
        Switch the campaign off without removing it.
    start_h, end_h : float
        Active window in hours from the simulation start (clipped to the simulation).
    sources : int
        Numbers used: cards (call centre), SIMs (SIM bank), spoofed CLIs, Wangiri numbers,
        robocall numbers or SMS senders.
    rate_per_h : float
        Calls or SMS per source per active hour (before the diurnal profile of the campaign).
    answer_p : float
        Probability a call is answered (calls only).
    hooked_p : float
        Probability an answered call becomes a long "hooked" call (victim exposure).
    loss_p : float
        Probability an exposed victim goes on to lose money.
    engage_p : float
        Wangiri: probability a ringed subscriber calls back; smishing: probability of a click.
    sims_per_device : int
        SIM bank: SIMs sharing one device (IMEI) and one cell.
    apk_share : float
        Smishing: share of messages with an APK link rather than a look-alike domain.
    adaptive : AdaptivePolicy or None
        How the campaign reacts to blocking; ``None``: it does not (today's behaviour).
    """

    kind: CampaignKind
    campaign_id: str
    enabled: bool = True
    start_h: float = 0.0
    end_h: float = 1e9
    sources: int = 10
    rate_per_h: float = 20.0
    answer_p: float = 0.35
    hooked_p: float = 0.03
    loss_p: float = 0.3
    engage_p: float = 0.05
    sims_per_device: int = 16
    apk_share: float = 0.3
    adaptive: AdaptivePolicy | None = None


def default_campaigns(scale: float = 1.0, rate_scale: float = 1.0) -> tuple[CampaignConfig, ...]:
    """One campaign of each kind, sized for ``scale`` x 80,000 subscribers.

    Sources (numbers, cards, SIMs) scale with ``scale`` (with a small minimum per kind, so every
    behaviour is present); per-source rates scale with ``rate_scale``. At ``scale=1`` fraud
    is a few per cent of calls and SMS (docs/simulator.md explains the budget).

    Examples
    --------
    >>> [c.kind.value for c in default_campaigns()][:2]
    ['call_centre', 'sim_bank']
    >>> default_campaigns(0.01)[1].sources  # a SIM bank always has a rack's worth of SIMs
    8
    """

    def n(x: float, minimum: int = 1) -> int:
        return max(minimum, round(x * scale))

    def r(x: float) -> float:
        return x * rate_scale

    return (
        CampaignConfig(
            CampaignKind.CALL_CENTRE, "cc-1", sources=n(10, 2), rate_per_h=r(20.0), answer_p=0.35
        ),
        CampaignConfig(
            CampaignKind.SIM_BANK,
            "simbank-1",
            sources=n(16, 8),
            rate_per_h=r(15.0),
            answer_p=0.3,
            hooked_p=0.02,
            sims_per_device=16,
        ),
        CampaignConfig(
            CampaignKind.SPOOFED_CLI, "spoof-1", sources=n(40, 5), rate_per_h=r(2.0), answer_p=0.45
        ),
        CampaignConfig(
            CampaignKind.WANGIRI,
            "wangiri-1",
            start_h=2.0,
            end_h=6.0,
            sources=n(2),
            rate_per_h=r(150.0),
            answer_p=0.0,
            engage_p=0.05,
        ),
        CampaignConfig(
            CampaignKind.ROBOCALL,
            "robo-1",
            start_h=10.0,
            end_h=14.0,
            sources=n(10, 2),
            rate_per_h=r(40.0),
            answer_p=0.3,
            hooked_p=0.01,
        ),
        CampaignConfig(
            CampaignKind.SMISHING_INTL,
            "smish-intl-1",
            sources=n(4),
            rate_per_h=r(40.0),
            engage_p=0.01,
            loss_p=0.25,
        ),
        CampaignConfig(
            CampaignKind.SMISHING_PORT,
            "smish-port-1",
            sources=n(2),
            rate_per_h=r(60.0),
            engage_p=0.008,
            loss_p=0.25,
            apk_share=0.5,
        ),
    )


@dataclass(frozen=True, slots=True)
class SimConfig:
    """A whole simulation.

    Attributes
    ----------
    seed : int
        Same seed and configuration give byte-identical output.
    start_at : datetime
        UTC start; the default is Monday 2026-03-02 00:00 Beijing time.
    hours : int
        Simulated hours; one chunk per hour and subscriber shard.
    subscribers : int
        Ordinary subscribers of the carrier (fraud cards come on top).
    shard_size : int
        Subscribers whose traffic is generated together; bounds a chunk's memory.
    calls_per_day, sms_per_day, data_sessions_per_day : float
        Mean legitimate activity per subscriber per day.
    intl_contact_p, hkmotw_business_p : float
        Share of subscribers with family abroad / business in Hong Kong, Macao or Taiwan.
    optin_p : float
        Share of those who opted in to cross-border calls/SMS.
    roamer_p, handset_change_p : float
        Share of subscribers away from home all period / changing handset during it.
    courier_p, sales_p : float
        Legitimate high-volume callers of strangers (couriers, sales agents).
    campaigns : tuple[CampaignConfig, ...]
        Fraud campaigns to inject.
    """

    seed: int = 7
    start_at: dt.datetime = dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC)
    hours: int = 24
    subscribers: int = 2000
    shard_size: int = 250_000
    calls_per_day: float = 3.0
    sms_per_day: float = 0.6
    data_sessions_per_day: float = 12.0
    intl_contact_p: float = 0.03
    hkmotw_business_p: float = 0.01
    optin_p: float = 0.6
    roamer_p: float = 0.03
    handset_change_p: float = 0.01
    courier_p: float = 0.003
    sales_p: float = 0.002
    campaigns: tuple[CampaignConfig, ...] = field(default_factory=default_campaigns)

    def __post_init__(self) -> None:
        if self.start_at.tzinfo is None:
            raise InvalidInputError("start_at must be timezone-aware (UTC)")
        if self.hours < 1 or self.subscribers < 50 or self.shard_size < 1:
            raise InvalidInputError("need hours >= 1, subscribers >= 50 and shard_size >= 1")
        ids = [c.campaign_id for c in self.campaigns]
        if len(set(ids)) != len(ids):
            raise InvalidInputError("campaign ids must be unique")


PRESETS: dict[str, SimConfig] = {
    "tiny": SimConfig(
        hours=24, subscribers=4000, campaigns=default_campaigns(0.05, rate_scale=0.4)
    ),
    "day": SimConfig(hours=24, subscribers=100_000, campaigns=default_campaigns(1.25)),
    "national-hour": SimConfig(
        start_at=dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC),  # 10:00 Beijing, a busy hour
        hours=1,
        subscribers=2_000_000,
        campaigns=default_campaigns(25.0),
    ),
}
"""Named configurations: ``tiny`` (tests), ``day`` (demo), ``national-hour`` (load tests)."""


def preset(name: str, seed: int | None = None) -> SimConfig:
    """Return the named preset, optionally with another seed.

    Examples
    --------
    >>> preset("tiny", seed=3).seed
    3
    >>> preset("nope")
    Traceback (most recent call last):
    ...
    telewarden.core.errors.InvalidInputError: unknown preset 'nope' (choose from day, national-hour, tiny)
    """
    if name not in PRESETS:
        raise InvalidInputError(
            f"unknown preset {name!r} (choose from {', '.join(sorted(PRESETS))})"
        )
    config = PRESETS[name]
    return config if seed is None else replace(config, seed=seed)


def _policy(c: CampaignConfig) -> AdaptivePolicy:
    """The default reaction of each kind (every number an assumption; docs/simulator.md)."""
    n = c.sources
    kind = c.kind
    if kind == CampaignKind.CALL_CENTRE:
        return AdaptivePolicy(
            stock=max(6, 3 * n),
            docs=max(1, n // 2),
            rotate_after_h=4.0,
            slowdown=0.85,
            min_volume=0.5,
            shift_to=Channel.SMS_LINK,
            shift_after=3,
            shift_share=0.4,
        )
    if kind == CampaignKind.SIM_BANK:
        return AdaptivePolicy(
            stock=max(8, 2 * n),
            docs=max(1, n // 4),
            card_price_cny=60.0,
            replace_delay_min=(30.0, 120.0),
            slowdown=0.9,
            shift_to=Channel.OFF_NET,
            shift_after=4,
            shift_share=0.5,
        )
    if kind == CampaignKind.ROBOCALL:
        return AdaptivePolicy(
            stock=max(10, 2 * n),
            card_price_cny=5.0,
            replace_delay_min=(1.0, 10.0),
            slowdown=0.8,
            shift_to=Channel.INTL_SPOOF,
            shift_after=2,
            shift_share=0.5,
        )
    if kind == CampaignKind.SPOOFED_CLI:
        return AdaptivePolicy(stock=max(10, 4 * n), card_price_cny=0.0, replace_delay_min=(1, 5))
    if kind == CampaignKind.WANGIRI:
        return AdaptivePolicy(stock=max(4, 4 * n), card_price_cny=30.0, replace_delay_min=(5, 20))
    return AdaptivePolicy(stock=max(4, 4 * n), card_price_cny=10.0, replace_delay_min=(5, 30))


def adaptive_config(config: SimConfig) -> SimConfig:
    """``config`` with every campaign adaptive, plus a threshold-gaming call centre.

    The threshold gamer (``cc-gamer``) copies the first call-centre campaign at half its
    cards, buys a fresh phone and ID document for every card, and learns from its dead cards
    how many calls a card may make.

    Examples
    --------
    >>> cfg = adaptive_config(preset("tiny"))
    >>> [c.campaign_id for c in cfg.campaigns][-1], cfg.campaigns[0].adaptive is not None
    ('cc-gamer', True)
    """
    campaigns = [c if c.adaptive else replace(c, adaptive=_policy(c)) for c in config.campaigns]
    centre = next((c for c in config.campaigns if c.kind == CampaignKind.CALL_CENTRE), None)
    ids = {c.campaign_id for c in campaigns}
    if centre is not None and "cc-gamer" not in ids:
        cards = max(2, centre.sources // 2)
        campaigns.append(
            replace(
                centre,
                campaign_id="cc-gamer",
                sources=cards,
                adaptive=AdaptivePolicy(
                    stock=max(20, 8 * cards),
                    docs=max(20, 8 * cards),  # one document per card: no shared-ID cluster
                    replace_delay_min=(2.0, 10.0),
                    learn_thresholds=True,
                    margin=0.8,
                ),
            )
        )
    return replace(config, campaigns=tuple(campaigns))
