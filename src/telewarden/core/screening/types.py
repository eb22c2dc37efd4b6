"""Value types of the screening policy: events, verdicts, reasons, traces, opt-ins, list entries.

Everything here is an immutable value or an enum; the behaviour lives in ``lists``, ``optins``,
``settings`` and ``policy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from telewarden.core.numbers import NumberInfo

__all__ = [
    "Channel",
    "ContentFinding",
    "ContentInspector",
    "Decision",
    "Ingress",
    "ListEntry",
    "ListKind",
    "MatchKind",
    "OptIn",
    "OptInScope",
    "ReasonCode",
    "RuleTrace",
    "ScreeningEvent",
    "Verdict",
    "new_decision",
]


class Channel(StrEnum):
    """Traffic channel of an event.

    Examples
    --------
    >>> Channel.from_str(" SMS ")
    <Channel.SMS: 'sms'>
    >>> Channel.from_str("voice")
    <Channel.CALL: 'call'>
    """

    CALL = "call"
    SMS = "sms"
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, value: str | None) -> Channel:
        """Parse a channel name leniently; unrecognised text gives ``UNKNOWN``."""
        text = (value or "").strip().lower()
        if text in ("call", "calls", "voice"):
            return cls.CALL
        if text in ("sms", "text", "message"):
            return cls.SMS
        return cls.UNKNOWN


class Ingress(StrEnum):
    """Where the event entered the network.

    Examples
    --------
    >>> Ingress.from_str("intl")
    <Ingress.INTERNATIONAL: 'international'>
    """

    DOMESTIC = "domestic"
    INTERNATIONAL = "international"
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, value: str | None) -> Ingress:
        """Parse an ingress kind leniently; unrecognised text gives ``UNKNOWN``."""
        text = (value or "").strip().lower()
        if text in ("domestic", "dom", "national", "local"):
            return cls.DOMESTIC
        if text in ("international", "intl", "int", "international_gateway", "igw"):
            return cls.INTERNATIONAL
        return cls.UNKNOWN


class Verdict(StrEnum):
    """What the network does with the event."""

    ALLOW = "allow"
    ALLOW_LABELLED = "allow_labelled"
    BLOCK = "block"


class OptInScope(StrEnum):
    """Which channels a subscriber's opt-in (or opt-out) covers.

    Examples
    --------
    >>> OptInScope.BOTH.covers(Channel.SMS), OptInScope.CALLS.covers(Channel.SMS)
    (True, False)
    """

    CALLS = "calls"
    SMS = "sms"
    BOTH = "both"

    def covers(self, channel: Channel) -> bool:
        """Return True when this scope applies to ``channel``."""
        if self is OptInScope.BOTH:
            return channel in (Channel.CALL, Channel.SMS)
        if self is OptInScope.CALLS:
            return channel is Channel.CALL
        return channel is Channel.SMS


class ReasonCode(StrEnum):
    """Stable reason codes; integrators match on these, so never rename one."""

    EMERGENCY_CALLEE = "emergency_callee"
    ALLOW_LISTED = "allow_listed"
    SERVICE_NUMBER_IMPERSONATION = "service_number_impersonation"
    SPOOFED_DOMESTIC_ON_INTERNATIONAL = "spoofed_domestic_on_international"
    MISSING_COUNTRY_CODE = "missing_country_code"
    UNPARSEABLE_CALLER_ID = "unparseable_caller_id"
    INVALID_CALLER_ID = "invalid_caller_id"
    DENY_LISTED_NUMBER = "deny_listed_number"
    DENY_LISTED_PREFIX = "deny_listed_prefix"
    CONTENT_SCAM = "content_scam"
    CONTENT_SPAM = "content_spam"
    HIGH_RISK_ORIGIN = "high_risk_origin"
    CROSS_BORDER_OPTED_OUT = "cross_border_opted_out"
    CROSS_BORDER_OPTED_IN = "cross_border_opted_in"
    CROSS_BORDER_DEFAULT_BLOCK = "cross_border_default_block"
    CROSS_BORDER_ALLOWED = "cross_border_allowed"
    DOMESTIC = "domestic"
    UNKNOWN = "unknown"

    @classmethod
    def define(cls, value: str) -> ReasonCode:
        """The code ``value``, created on first use: a rule names its own code in its definition.

        A code defined here behaves as a member (``.value``, identity, ``ReasonCode(value)``)
        but is not listed by iterating the enum. Codes are stable strings integrators match
        on: snake_case, never renamed.

        Examples
        --------
        >>> code = ReasonCode.define("card_under_measure")
        >>> (code.value, ReasonCode("card_under_measure") is code, code is ReasonCode.define(code))
        ('card_under_measure', True, True)
        >>> ReasonCode.define("domestic") is ReasonCode.DOMESTIC
        True
        """
        existing = cls._value2member_map_.get(value)
        if existing is not None:
            return existing  # type: ignore[return-value]
        if not (value.isascii() and value.replace("_", "").isalnum() and value == value.lower()):
            raise ValueError(f"reason code {value!r} must be snake_case ASCII")
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        cls._value2member_map_[value] = member
        return member


@dataclass(frozen=True, slots=True)
class ScreeningEvent:
    """One call or SMS to screen before it is answered or delivered.

    Examples
    --------
    >>> ScreeningEvent("+85223456789", "13800138000").channel.value
    'call'
    """

    caller: str
    callee: str
    channel: Channel = Channel.CALL
    ingress: Ingress = Ingress.UNKNOWN
    at: datetime | None = None
    attestation: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """One line of a decision trace: a rule, its priority, whether it fired and why."""

    rule: str
    priority: int
    fired: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "rule": self.rule,
            "priority": self.priority,
            "fired": self.fired,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one event with everything needed to act on it and explain it.

    ``sip_status`` is 0 for ``allow``/``allow_labelled`` (no rejection: the call proceeds) and
    a 6xx code for ``block``; see :mod:`telewarden.core.screening.policy` for the table.
    """

    verdict: Verdict
    reason: ReasonCode
    rule: str
    sip_status: int
    sip_reason: str
    origin: str
    caller: NumberInfo
    callee: NumberInfo
    trace: tuple[RuleTrace, ...]
    message: str
    origin_zh: str = ""

    @property
    def blocked(self) -> bool:
        """True when the verdict is ``block``."""
        return self.verdict is Verdict.BLOCK

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (verdict, reason, rule, SIP mapping, numbers, trace)."""
        return {
            "verdict": self.verdict.value,
            "reason": self.reason.value,
            "rule": self.rule,
            "sip_status": self.sip_status,
            "sip_reason": self.sip_reason,
            "origin": self.origin,
            "origin_zh": self.origin_zh,
            "caller": self.caller.to_dict(),
            "callee": self.callee.to_dict(),
            "trace": [t.to_dict() for t in self.trace],
            "message": self.message,
        }


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


(_dv, _dr, _dru, _dss, _dsr, _do, _dca, _dce, _dt, _dm, _doz) = _slot_setters(
    Decision,
    (
        "verdict", "reason", "rule", "sip_status", "sip_reason", "origin", "caller", "callee",
        "trace", "message", "origin_zh",
    ),
)  # fmt: skip


def new_decision(
    verdict: Verdict,
    reason: ReasonCode,
    rule: str,
    sip_status: int,
    sip_reason: str,
    origin: str,
    caller: NumberInfo,
    callee: NumberInfo,
    trace: tuple[RuleTrace, ...],
    message: str,
    origin_zh: str,
) -> Decision:
    """Build a :class:`Decision` about twice as fast as its frozen-dataclass ``__init__``.

    The hot path builds one per event; writing the slots through their descriptors skips the
    ``object.__setattr__`` call a frozen dataclass makes per field. The result is the same
    frozen object.

    Examples
    --------
    >>> from telewarden.core.numbers import NumberIntel
    >>> n = NumberIntel().analyse("110")
    >>> d = new_decision(Verdict.ALLOW, ReasonCode.DOMESTIC, "domestic", 0, "", "x", n, n, (), "m", "")
    >>> d == Decision(Verdict.ALLOW, ReasonCode.DOMESTIC, "domestic", 0, "", "x", n, n, (), "m", "")
    True
    """
    d = object.__new__(Decision)
    _dv(d, verdict)
    _dr(d, reason)
    _dru(d, rule)
    _dss(d, sip_status)
    _dsr(d, sip_reason)
    _do(d, origin)
    _dca(d, caller)
    _dce(d, callee)
    _dt(d, trace)
    _dm(d, message)
    _doz(d, origin_zh)
    return d


@dataclass(frozen=True, slots=True)
class OptIn:
    """A subscriber's choice about cross-border traffic (``opted_in=False`` is an opt-out)."""

    msisdn: str
    scope: OptInScope
    opted_in: bool
    at: datetime
    source: str = "cli"


class ListKind(StrEnum):
    """Which list an entry belongs to."""

    DENY = "deny"
    ALLOW = "allow"


class MatchKind(StrEnum):
    """How a list entry matches a number."""

    EXACT = "exact"
    PREFIX = "prefix"


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One allow/deny list entry: an E.164 number or a ``+``-led digit prefix.

    Examples
    --------
    >>> ListEntry("+8617012", MatchKind.PREFIX, "miit", "virtual operator range").match.value
    'prefix'
    """

    pattern: str
    match: MatchKind
    source: str
    reason: str


@dataclass(frozen=True)
class ContentFinding:
    """What a content inspector says about an SMS body."""

    verdict: str
    score: float
    detail: str
    fraud_types: tuple[str, ...] = field(default=())


@runtime_checkable
class ContentInspector(Protocol):
    """Classifies an SMS body as ``ok``, ``spam`` or ``scam`` (provided by the SMS engine)."""

    def inspect(self, text: str) -> ContentFinding:
        """Return the finding for ``text``."""
        ...
