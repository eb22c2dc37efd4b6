"""Victim risk: how likely an exposed subscriber is to lose money, and why.

What belongs here: :class:`FraudType` (what the flagged subject does, read off the flag),
:class:`RiskModel` (a probability-like score per exposed subscriber from the strength and
recency of the contact, the fraud type, the subscriber's history and age band) and
:class:`Risk` (the score, its band, whether it is urgent, and the reasons in words).

The base rates (``RiskModel`` defaults) are the order of the share of exposed subscribers who
went on to lose money, per kind of contact, measured on the simulator's tuning seeds (``tiny``
seed 1, ``day`` seed 7; ``telewarden eval warnings --json`` prints the same rates per signal as
``loss_rate_by_signal`` for any seed). They are a prior, not a learned model: a carrier replaces
them with its own outcome data (``telewarden warn outcome``) through the constructor.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from telewarden.core.ports import Flag
from telewarden.core.warning.exposure import ContactSummary

__all__ = ["FraudType", "Risk", "RiskBand", "RiskModel", "fraud_type_of", "primary_signal"]


class FraudType(StrEnum):
    """What the flagged subject does to the people it reaches (selects the warning template)."""

    WANGIRI = "wangiri"
    """One-ring calls from premium-rate numbers: calling back costs money."""
    FRAUD_CALL = "fraud_call"
    """Scripted fraud calls (impersonation, fake investment, refunds) from cards or SIM banks."""
    SPOOFED_CALL = "spoofed_call"
    """Calls showing a fake domestic, bank or police number."""
    ROBOCALL = "robocall"
    """Recorded-message waves asking the callee to press a key."""
    SMISHING = "smishing"
    """Scam SMS with links, APKs or payment instructions."""
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, value: str) -> FraudType:
        """Parse a value, ``UNKNOWN`` when it is not a member."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


_SOURCE_TYPES: tuple[tuple[str, FraudType], ...] = (
    ("wangiri", FraudType.WANGIRI),
    ("robocall", FraudType.ROBOCALL),
    ("spoof", FraudType.SPOOFED_CALL),
    ("sms", FraudType.SMISHING),
)


def fraud_type_of(flag: Flag) -> FraudType:
    """The fraud type of a flag: ``evidence["fraud_type"]`` when given, else from its source.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    >>> str(fraud_type_of(Flag("+23225848160", "msisdn", "wangiri", t, "burst")))
    'wangiri'
    >>> str(fraud_type_of(Flag("etc-renz.com", "domain", "case", t, "reported")))
    'smishing'
    >>> str(fraud_type_of(Flag("+8613800000001", "msisdn", "sim_bank_imei", t, "rack")))
    'fraud_call'
    """
    given = flag.evidence.get("fraud_type")
    if isinstance(given, str) and FraudType.from_str(given) is not FraudType.UNKNOWN:
        return FraudType(given)
    if flag.kind in ("sender", "domain", "wallet"):
        return FraudType.SMISHING
    source = flag.source.lower()
    for needle, fraud_type in _SOURCE_TYPES:
        if needle in source:
            return fraud_type
    return FraudType.FRAUD_CALL


class RiskBand(StrEnum):
    """Priority band: ``high`` gets a human call, ``medium`` an SMS and push, ``low`` nothing."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Risk:
    """The victim-risk score of one exposed subscriber."""

    score: float
    """Probability-like, in [0, 1]."""
    band: RiskBand
    urgent: bool
    """A loss may follow within hours (long call, callback, one-ring lure): quiet hours yield."""
    signal: str
    """The strongest contact, e.g. ``answered_long_call`` (see :func:`primary_signal`)."""
    reasons: tuple[str, ...]


def primary_signal(summary: ContactSummary, fraud_type: FraudType, long_call_s: int) -> str:
    """The strongest kind of contact in a summary, the key of the base-rate table.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    >>> primary_signal(ContactSummary(t, t, missed_calls=1), FraudType.WANGIRI, 300)
    'missed_call_wangiri'
    """
    if summary.callbacks:
        return "callback_wangiri" if fraud_type is FraudType.WANGIRI else "callback"
    if summary.longest_answered_s >= long_call_s:
        return "answered_long_call"
    if summary.longest_answered_s >= 120:
        return "answered_call_2min"
    if summary.answered_calls:
        return "answered_short_call"
    if summary.missed_calls:
        return "missed_call_wangiri" if fraud_type is FraudType.WANGIRI else "missed_call"
    if summary.links:
        return "scam_link_sms"
    if summary.sms:
        return "scam_sms"
    return "none"


_DEFAULT_BASE_RATES: dict[str, float] = {
    "callback_wangiri": 0.9,
    "callback": 0.02,
    "answered_long_call": 0.3,
    "answered_call_2min": 0.05,
    "answered_short_call": 0.004,
    "missed_call_wangiri": 0.05,
    "missed_call": 0.002,
    "scam_link_sms": 0.003,
    "scam_sms": 0.003,
    "none": 0.0,
}
_URGENT_SIGNALS = frozenset(
    {
        "callback_wangiri",
        "callback",
        "answered_long_call",
        "answered_call_2min",
        "missed_call_wangiri",
    }
)
_SIGNAL_WORDS = {
    "callback_wangiri": "called the premium-rate number back",
    "callback": "called the flagged number",
    "answered_long_call": "answered a long call",
    "answered_call_2min": "answered a call of over 2 minutes",
    "answered_short_call": "answered a short call",
    "missed_call_wangiri": "got a one-ring call from a premium-rate number",
    "missed_call": "got an unanswered call",
    "scam_link_sms": "received a scam SMS naming the flagged link",
    "scam_sms": "received a scam SMS",
    "none": "no contact",
}


@dataclass(frozen=True, slots=True)
class RiskModel:
    """Victim-risk score: base rate of the strongest contact, adjusted and explained.

    ``score = base(signal) x repeat x history x age x 0.5 ** (hours since contact / half-life)``,
    capped at 1. Repeated contact multiplies by ``1 + repeat_step`` per further contact (at most
    ``repeat_cap`` of them); an earlier exposure to another flagged subject by ``history_factor``;
    an age band in ``age_factors`` by its factor.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    >>> s = ContactSummary(t, t, answered_calls=1, longest_answered_s=900, answered_total_s=900)
    >>> risk = RiskModel().assess(s, FraudType.FRAUD_CALL, now=t)
    >>> (risk.score, str(risk.band), risk.urgent)
    (0.3, 'high', True)
    """

    base_rates: Mapping[str, float] = field(default_factory=lambda: dict(_DEFAULT_BASE_RATES))
    long_call_s: int = 300
    half_life_h: float = 6.0
    repeat_step: float = 0.25
    repeat_cap: int = 4
    history_factor: float = 1.5
    age_factors: Mapping[str, float] = field(default_factory=lambda: {"65+": 1.5, "55-64": 1.2})
    high_at: float = 0.15
    """Score from which the band is ``high`` (a human warning call)."""
    medium_at: float = 0.01
    """Score from which the band is ``medium`` (SMS and app push)."""

    def assess(
        self,
        summary: ContactSummary,
        fraud_type: FraudType,
        *,
        now: dt.datetime,
        earlier_exposures: int = 0,
        age_band: str | None = None,
    ) -> Risk:
        """Score one subscriber's contact with one flagged subject at time ``now``."""
        signal = primary_signal(summary, fraud_type, self.long_call_s)
        base = self.base_rates.get(signal, 0.0)
        reasons = [f"{_SIGNAL_WORDS.get(signal, signal)} (base {base:g})"]
        if summary.longest_answered_s:
            reasons.append(f"longest answered call {summary.longest_answered_s // 60} min")
        factor = 1.0
        extra = min(summary.contacts - 1, self.repeat_cap)
        if extra > 0:
            factor *= 1.0 + self.repeat_step * extra
            reasons.append(f"{summary.contacts} contacts")
        if earlier_exposures > 0:
            factor *= self.history_factor
            reasons.append(f"exposed to {earlier_exposures} other flagged subject(s) before")
        if age_band is not None and age_band in self.age_factors:
            factor *= self.age_factors[age_band]
            reasons.append(f"age band {age_band}")
        age_h = max((now - summary.last_at).total_seconds(), 0.0) / 3600.0
        decay = math.pow(0.5, age_h / self.half_life_h)
        if age_h >= 1.0:
            reasons.append(f"last contact {age_h:.0f} h ago")
        reasons.append(f"fraud type {fraud_type}")
        score = min(1.0, round(base * factor * decay, 6))
        band = (
            RiskBand.HIGH
            if score >= self.high_at
            else RiskBand.MEDIUM
            if score >= self.medium_at
            else RiskBand.LOW
        )
        urgent = signal in _URGENT_SIGNALS and age_h < self.half_life_h
        return Risk(score, band, urgent, signal, tuple(reasons))
