"""The facts screening rules read, and the one place each is extracted.

A fact is named ``namespace.attribute``. The namespaces, and where their values come from:

============  ==============================================================================
namespace     source (one extraction, used by both evaluators)
============  ==============================================================================
``caller``    the caller's :class:`~telewarden.core.numbers.NumberInfo` (analysed once per
              distinct string by :class:`NumberIntel`, cached); its list facts
              (``allow_listed``, ``deny_match`` and one fact per injected
              :class:`NumberLookup`) from :func:`listing_facts`, once per number, only when a
              rule reaches them; derived facts (``cross_border``, ``mainland_id``, ...) are
              named conditions over those, listed in :func:`derived_number_facts`
``callee``    the same for the callee
``pair``      per (callee, channel): opt-in state and the regional cross-border default, from
              :func:`pair_facts`, only when a rule reaches them
``content``   per SMS body: the content inspector's label, from :func:`content_facts`, only
              when a rule reaches it (the frame evaluator decides such rows one by one)
``event``     ``intl``, ``sms``, ``channel``, ``ingress``, ``has_text`` of the event itself
``policy``    constants of the policy snapshot (:class:`PolicyValues`)
============  ==============================================================================

:class:`FactCatalogue` resolves a fact name to its source for one policy snapshot; the
per-event evaluator and the frame evaluator both compile through it, so a fact means the same
thing on both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple, Protocol, runtime_checkable

import polars as pl

from telewarden.core.numbers import NumberInfo, NumberKind, Origin
from telewarden.core.screening.conditions import (
    AllOf,
    AnyOf,
    Condition,
    Const,
    Fact,
    Namespace,
    Not,
    Value,
)
from telewarden.core.screening.lists import NumberList
from telewarden.core.screening.optins import OptInBook
from telewarden.core.screening.settings import PolicySettings
from telewarden.core.screening.types import (
    Channel,
    ContentFinding,
    ContentInspector,
    ListEntry,
    MatchKind,
    OptIn,
    ScreeningEvent,
)

__all__ = [
    "CROSS_BORDER_ORIGINS",
    "EMERGENCY_KINDS",
    "ContentFacts",
    "EventFacts",
    "FactCatalogue",
    "FactSource",
    "ListingFacts",
    "NumberLookup",
    "PairFacts",
    "PolicyValues",
    "callee",
    "caller",
    "content",
    "content_facts",
    "cross_border_default",
    "derived_number_facts",
    "event",
    "listing_extractor",
    "listing_facts",
    "pair",
    "pair_facts",
    "policy",
]

caller = Namespace("caller")
callee = Namespace("callee")
pair = Namespace("pair")
content = Namespace("content")
event = Namespace("event")
policy = Namespace("policy")

EMERGENCY_KINDS = frozenset({NumberKind.EMERGENCY, NumberKind.POLICE, NumberKind.ANTI_FRAUD})
CROSS_BORDER_ORIGINS = frozenset({Origin.HONG_KONG, Origin.MACAO, Origin.TAIWAN, Origin.FOREIGN})


@runtime_checkable
class NumberLookup(Protocol):
    """A per-number fact injected by the deployment (as the allow and deny lists are).

    The value for an E.164 number becomes the facts ``caller.<name>`` and ``callee.<name>``
    (a string or None). ``version`` must change whenever any answer may have changed, so a
    screener drops what it derived from the old answers. A lookup that answers for few numbers
    may also offer ``candidates()``, every number it may answer for (any other gets None):
    ``decide_frame`` then asks only those one by one.

    Examples
    --------
    >>> class Measures:
    ...     version = 0
    ...     def __init__(self, by_msisdn): self.by_msisdn = by_msisdn
    ...     def lookup(self, e164): return self.by_msisdn.get(e164)
    >>> isinstance(Measures({}), NumberLookup)
    True
    """

    version: int

    def lookup(self, e164: str) -> str | None:
        """Return the fact for ``e164`` (None when there is nothing to say)."""
        ...


@dataclass(frozen=True, slots=True)
class PolicyValues:
    """The frozen policy values a snapshot's rules and facts read (from :class:`PolicySettings`).

    Examples
    --------
    >>> v = PolicyValues.from_settings(PolicySettings(spam_verdict="block"), has_inspector=False)
    >>> (v.spam_block, v.has_inspector, "MM" in v.high_risk_countries)
    (True, False, True)
    """

    cross_border_block_calls: bool
    cross_border_block_sms: bool
    region_overrides: tuple[tuple[str, bool | None, bool | None], ...]
    high_risk_countries: frozenset[str]
    block_high_risk_unless_opted_in: bool
    appeal_contact: str
    optin_instruction: str
    content_inspection: bool
    spam_block: bool
    has_inspector: bool

    @classmethod
    def from_settings(cls, settings: PolicySettings, *, has_inspector: bool) -> PolicyValues:
        """Copy the values out of ``settings`` (later edits of ``settings`` do not leak in)."""
        return cls(
            cross_border_block_calls=settings.cross_border_block_calls,
            cross_border_block_sms=settings.cross_border_block_sms,
            region_overrides=tuple(
                (key, o.cross_border_block_calls, o.cross_border_block_sms)
                for key, o in settings.region_overrides.items()
            ),
            high_risk_countries=frozenset(c.upper() for c in settings.high_risk_countries),
            block_high_risk_unless_opted_in=settings.block_high_risk_unless_opted_in,
            appeal_contact=settings.appeal_contact,
            optin_instruction=settings.optin_instruction,
            content_inspection=settings.content_inspection,
            spam_block=settings.spam_verdict == "block",
            has_inspector=has_inspector,
        )

    def fact(self, name: str) -> Value:
        """The value of ``policy.<name>``."""
        if name not in _POLICY_FACTS:
            raise KeyError(name)
        value: Value = getattr(self, name)
        return value


_POLICY_FACTS = frozenset(
    {
        "cross_border_block_calls",
        "cross_border_block_sms",
        "block_high_risk_unless_opted_in",
        "content_inspection",
        "spam_block",
        "has_inspector",
    }
)


class ListingFacts(NamedTuple):
    """What the lists (and injected lookups) say about one number.

    ``allow_listed`` and ``deny_match`` (``"exact"``, ``"prefix"`` or None) are facts;
    ``allow_entry`` and ``deny_entry`` are the matching entries, for trace texts;
    ``looked_up`` holds the injected lookups' answers by lookup name.
    """

    allow_listed: bool
    deny_match: str | None
    allow_entry: ListEntry | None
    deny_entry: ListEntry | None
    looked_up: Mapping[str, str | None]


def listing_extractor(
    allow: NumberList, deny: NumberList, lookups: Sequence[tuple[str, NumberLookup]] = ()
) -> Callable[[str | None], ListingFacts]:
    """The list-facts extraction over these lists and lookups, as one function of an E.164.

    Both evaluators call the function this returns (once per event reaching the list rules,
    or once per distinct number of a frame); the lists are read live, so later edits count.
    """
    lookups = tuple(lookups)
    n_lookups = len(lookups)
    no_number = ListingFacts(False, None, None, None, dict.fromkeys(name for name, _ in lookups))
    allow_match = allow.match
    deny_match_of = deny.match
    exact = MatchKind.EXACT

    def extract(e164: str | None) -> ListingFacts:
        if e164 is None:
            return no_number
        allow_entry = allow_match(e164) if allow.active else None
        deny_entry = deny_match_of(e164) if deny.active else None
        if allow_entry is None and deny_entry is None and not n_lookups:
            # The common case allocates nothing (the facts are immutable; one object serves).
            return no_number
        deny_match = None
        if deny_entry is not None:
            deny_match = "exact" if deny_entry.match is exact else "prefix"
        looked_up = {name: lookup.lookup(e164) for name, lookup in lookups}
        return ListingFacts(allow_entry is not None, deny_match, allow_entry, deny_entry, looked_up)

    return extract


def listing_facts(
    e164: str | None,
    allow: NumberList,
    deny: NumberList,
    lookups: Sequence[tuple[str, NumberLookup]] = (),
) -> ListingFacts:
    """Match ``e164`` against the allow and deny lists and ask each injected lookup.

    Examples
    --------
    >>> deny = NumberList([ListEntry("+86170", MatchKind.PREFIX, "miit", "virtual range")])
    >>> f = listing_facts("+8617012345678", NumberList(), deny)
    >>> (f.allow_listed, f.deny_match, f.deny_entry.reason)
    (False, 'prefix', 'virtual range')
    """
    return listing_extractor(allow, deny, lookups)(e164)


class PairFacts(NamedTuple):
    """The callee's cross-border choice for one channel and the regional default.

    ``optin`` (``"in"``, ``"out"`` or None) and ``default_block`` are facts; ``record`` is the
    deciding opt-in record and ``default_where`` says which setting gave the default.
    """

    optin: str | None
    default_block: bool
    record: OptIn | None
    default_where: str


def cross_border_default(
    callee_info: NumberInfo | None, channel: Channel, values: PolicyValues
) -> tuple[bool, str]:
    """Whether cross-border traffic to this callee is blocked by default, and by which setting.

    A city key beats a province key beats a region-code key; a Chinese key matches when it
    occurs in the callee's Chinese location text. ``callee_info`` may be None only when the
    policy has no region overrides.

    Examples
    --------
    >>> values = PolicyValues.from_settings(PolicySettings(), has_inspector=False)
    >>> cross_border_default(None, Channel.CALL, values)
    (True, 'deployment default')
    """
    sms = channel is Channel.SMS
    block = values.cross_border_block_sms if sms else values.cross_border_block_calls
    overrides = values.region_overrides
    if not overrides:
        return block, "deployment default"
    if callee_info is None:
        raise ValueError("region overrides need the callee's location")
    by_key = {key: (calls, sms_value) for key, calls, sms_value in overrides}
    for key in (callee_info.city, callee_info.province, callee_info.region):
        if key is None:
            continue
        override = by_key.get(key)
        if override is None:
            continue
        value = override[1] if sms else override[0]
        if value is not None:
            return value, f"override for {key}"
    location_zh = callee_info.location_zh
    if location_zh:
        # Chinese keys ("浙江", "深圳") match the callee's Chinese location text.
        for key, calls, sms_value in overrides:
            if key and not key.isascii() and key in location_zh:
                value = sms_value if sms else calls
                if value is not None:
                    return value, f"override for {key}"
    return block, "deployment default"


def pair_facts(
    callee_e164: str | None,
    channel: Channel,
    callee_info: NumberInfo | None,
    optins: OptInBook,
    values: PolicyValues,
) -> PairFacts:
    """Opt-in state and regional default for (callee, channel).

    Examples
    --------
    >>> values = PolicyValues.from_settings(PolicySettings(), has_inspector=False)
    >>> pair_facts("+8613800138000", Channel.SMS, None, OptInBook(), values).optin is None
    True
    """
    record = optins.lookup(callee_e164, channel) if callee_e164 else None
    block, where = cross_border_default(callee_info, channel, values)
    if record is None:
        return PairFacts(None, block, None, where)
    return PairFacts("in" if record.opted_in else "out", block, record, where)


class ContentFacts(NamedTuple):
    """The content inspector's finding on one SMS body; ``label`` is the fact."""

    label: str
    finding: ContentFinding


def content_facts(inspector: ContentInspector, text: str) -> ContentFacts:
    """Inspect ``text``; a failing inspector gives an ``ok`` finding that says so.

    Examples
    --------
    >>> class Broken:
    ...     def inspect(self, text): raise RuntimeError("model missing")
    >>> content_facts(Broken(), "hi").finding.detail
    'content inspector failed: RuntimeError'
    """
    try:
        finding = inspector.inspect(text)
    except Exception as exc:  # a broken classifier must not stop delivery decisions
        finding = ContentFinding("ok", 0.0, f"content inspector failed: {type(exc).__name__}")
    return ContentFacts(finding.verdict.strip().lower(), finding)


class EventFacts(NamedTuple):
    """Everything known about one event when a rule fires; the input of trace texts.

    The lazy groups (``caller_listing``, ``callee_listing``, ``pair``, ``content``) are None
    unless some condition evaluated for this event read them; a rule's texts may rely on the
    groups its own outcome's condition reads.
    """

    caller: NumberInfo
    callee: NumberInfo
    channel: Channel
    event: ScreeningEvent
    caller_listing: ListingFacts | None
    callee_listing: ListingFacts | None
    pair: PairFacts | None
    content: ContentFacts | None
    policy: PolicyValues


# -- the catalogue ---------------------------------------------------------------------------

NUMBER_ATTRIBUTES: dict[str, pl.DataType] = {
    "raw": pl.String(),
    "e164": pl.String(),
    "national": pl.String(),
    "country_code": pl.Int64(),
    "region": pl.String(),
    "origin": pl.String(),
    "origin_label": pl.String(),
    "kind": pl.String(),
    "valid": pl.Boolean(),
    "invalid_reason": pl.String(),
    "carrier": pl.String(),
    "province": pl.String(),
    "city": pl.String(),
    "is_service_number": pl.Boolean(),
    "location_zh": pl.String(),
    "explicit_country_code": pl.Boolean(),
    "impersonates": pl.String(),
    "service_name": pl.String(),
}
"""The :class:`NumberInfo` fields that are facts (``caller.<field>``, ``callee.<field>``)."""

LISTING_ATTRIBUTES: dict[str, pl.DataType] = {
    "allow_listed": pl.Boolean(),
    "deny_match": pl.String(),
}
PAIR_ATTRIBUTES: dict[str, pl.DataType] = {"optin": pl.String(), "default_block": pl.Boolean()}
CONTENT_ATTRIBUTES: dict[str, pl.DataType] = {"label": pl.String()}
EVENT_ATTRIBUTES: dict[str, pl.DataType] = {
    "intl": pl.Boolean(),
    "sms": pl.Boolean(),
    "channel": pl.String(),
    "ingress": pl.String(),
    "has_text": pl.Boolean(),
}


def derived_number_facts(role: str, values: PolicyValues) -> dict[str, Condition]:
    """Named conditions over one number's facts, for ``role`` ``"caller"`` or ``"callee"``.

    Examples
    --------
    >>> values = PolicyValues.from_settings(PolicySettings(), has_inspector=False)
    >>> derived_number_facts("callee", values)["callee.parsed"]
    Not(operand=IsNull(fact=Fact(name='callee.e164')))
    """
    n = Namespace(role)
    return {
        f"{role}.parsed": ~n.e164.is_null(),
        f"{role}.impersonating": ~n.impersonates.is_null(),
        f"{role}.mainland_id": n.origin.eq(Origin.MAINLAND) & (n.valid | n.explicit_country_code),
        f"{role}.cross_border": n.origin.isin(sorted(CROSS_BORDER_ORIGINS)),
        f"{role}.high_risk": n.region.isin(sorted(values.high_risk_countries)),
        f"{role}.emergency": n.kind.isin(sorted(EMERGENCY_KINDS)),
    }


@dataclass(frozen=True, slots=True)
class FactSource:
    """Where one fact comes from: a group's attribute, a derived condition or a constant.

    ``group`` is one of ``caller``, ``callee`` (the :class:`NumberInfo`), ``caller_listing``,
    ``callee_listing``, ``pair``, ``content``, ``event``, ``policy`` or ``derived``;
    ``attribute`` names the field; ``lookup`` is True for an injected lookup (a key of
    ``ListingFacts.looked_up``); ``derived`` holds the condition of a derived fact; ``value``
    the constant of a policy fact.
    """

    group: str
    attribute: str
    dtype: pl.DataType
    lookup: bool = False
    derived: Condition | None = None
    value: Value = None


LAZY_GROUPS: tuple[str, ...] = ("caller_listing", "callee_listing", "pair", "content")
"""Groups extracted only when a rule reaches them, in the order the evaluators stage them."""


class FactCatalogue:
    """Resolves fact names for one policy snapshot (its policy values and lookups).

    Examples
    --------
    >>> values = PolicyValues.from_settings(PolicySettings(), has_inspector=False)
    >>> cat = FactCatalogue(values, lookup_names=("measure",))
    >>> cat.source("caller.measure").group, cat.source("caller.measure").lookup
    ('caller_listing', True)
    >>> cat.source("policy.spam_block").value
    False
    >>> cat.source("caller.nonsense")
    Traceback (most recent call last):
    ...
    KeyError: "unknown fact 'caller.nonsense'"
    """

    def __init__(self, values: PolicyValues, lookup_names: Sequence[str] = ()) -> None:
        self.values = values
        self.lookup_names = tuple(lookup_names)
        sources: dict[str, FactSource] = {}
        for role in ("caller", "callee"):
            for attr, dtype in NUMBER_ATTRIBUTES.items():
                sources[f"{role}.{attr}"] = FactSource(role, attr, dtype)
            for attr, dtype in LISTING_ATTRIBUTES.items():
                sources[f"{role}.{attr}"] = FactSource(f"{role}_listing", attr, dtype)
            for name in self.lookup_names:
                if f"{role}.{name}" in sources:
                    raise ValueError(f"lookup name {name!r} clashes with a fact of {role}")
                sources[f"{role}.{name}"] = FactSource(
                    f"{role}_listing", name, pl.String(), lookup=True
                )
            for name, cond in derived_number_facts(role, values).items():
                sources[name] = FactSource("derived", name, pl.Boolean(), derived=cond)
        for attr, dtype in PAIR_ATTRIBUTES.items():
            sources[f"pair.{attr}"] = FactSource("pair", attr, dtype)
        for attr, dtype in CONTENT_ATTRIBUTES.items():
            sources[f"content.{attr}"] = FactSource("content", attr, dtype)
        for attr, dtype in EVENT_ATTRIBUTES.items():
            sources[f"event.{attr}"] = FactSource("event", attr, dtype)
        for attr in sorted(_POLICY_FACTS):
            sources[f"policy.{attr}"] = FactSource(
                "policy", attr, pl.Boolean(), value=values.fact(attr)
            )
        self._sources = sources

    def source(self, name: str) -> FactSource:
        """The :class:`FactSource` of ``name``; KeyError for an unknown fact."""
        try:
            return self._sources[name]
        except KeyError:
            raise KeyError(f"unknown fact {name!r}") from None

    def fold(self, condition: Condition) -> Condition:
        """``condition`` with derived facts expanded and the policy constants folded in.

        Examples
        --------
        >>> opened = PolicySettings(content_inspection=True, content_legal_basis="doctest")
        >>> values = PolicyValues.from_settings(opened, has_inspector=False)
        >>> FactCatalogue(values).fold(event.sms & policy.has_inspector)
        Const(value=False)
        >>> FactCatalogue(values).fold(~~event.sms & policy.content_inspection)
        Fact(name='event.sms')
        """
        if isinstance(condition, Fact):
            src = self.source(condition.name)
            if src.derived is not None:
                return self.fold(src.derived)
            if src.group == "policy":
                return Const(bool(src.value))
            return condition
        if isinstance(condition, Not):
            inner = self.fold(condition.operand)
            if isinstance(inner, Const):
                return Const(not inner.value)
            if isinstance(inner, Not):
                return inner.operand
            return Not(inner)
        if isinstance(condition, AllOf | AnyOf):
            # AllOf: a False operand decides, True operands drop out; AnyOf the other way.
            decisive = isinstance(condition, AnyOf)
            kept: list[Condition] = []
            for operand in condition.operands:
                folded = self.fold(operand)
                if isinstance(folded, Const):
                    if folded.value is decisive:
                        return Const(decisive)
                    continue
                kept.extend(folded.operands if type(folded) is type(condition) else (folded,))
            if not kept:
                return Const(not decisive)
            if len(kept) == 1:
                return kept[0]
            return type(condition)(tuple(kept))
        return condition

    def names(self) -> list[str]:
        """Every fact name, sorted."""
        return sorted(self._sources)

    def groups(self, condition: Condition) -> set[str]:
        """The groups ``condition`` reads, through derived facts."""
        out: set[str] = set()
        for name in condition.facts():
            src = self.source(name)
            if src.derived is not None:
                out |= self.groups(src.derived)
            else:
                out.add(src.group)
        return out

    def number_attributes(self, conditions: Sequence[Condition], role: str) -> set[str]:
        """The :class:`NumberInfo` fields of ``role`` that ``conditions`` read."""
        out: set[str] = set()
        todo = [name for c in conditions for name in c.facts()]
        while todo:
            src = self.source(todo.pop())
            if src.derived is not None:
                todo.extend(src.derived.facts())
            elif src.group == role:
                out.add(src.attribute)
        return out


def number_value(info: NumberInfo, attribute: str) -> Value:
    """One :class:`NumberInfo` field as a fact value (enums as their string value)."""
    value = getattr(info, attribute)
    if isinstance(value, Origin | NumberKind):
        return value.value
    result: Value = value
    return result


def _check_number_attributes() -> None:
    # The catalogue must only name real NumberInfo fields.
    names = {f.name for f in fields(NumberInfo)}
    missing = set(NUMBER_ATTRIBUTES) - names
    if missing:  # pragma: no cover - guards future edits of NumberInfo
        raise RuntimeError(f"NUMBER_ATTRIBUTES names unknown NumberInfo fields: {missing}")


_check_number_attributes()


def policy_mapping(values: PolicyValues) -> Mapping[str, str]:
    """The policy texts trace and SIP templates may use: ``appeal_contact``, ``optin_instruction``."""
    return {"appeal_contact": values.appeal_contact, "optin_instruction": values.optin_instruction}
