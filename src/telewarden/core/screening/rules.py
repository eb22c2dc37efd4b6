"""The screening rules, each defined once as data.

A :class:`Rule` has a name, a priority (lower is evaluated first; unique) and its outcomes in
order: each :class:`Outcome` is a condition over facts (:mod:`telewarden.core.screening.facts`),
a verdict, a reason code, the SIP mapping, the subscriber message and the trace text. The rule
fires with its first outcome whose condition holds; the first rule that fires decides. When a
rule does not fire, its ``not_fired`` cases say why in the trace.

Two evaluators compile the same :class:`RuleSet`: the per-event one behind ``Screener.decide``
(:mod:`telewarden.core.screening.scalar`, which also builds the trace from these definitions)
and the frame one behind ``decide_frame`` (:mod:`telewarden.core.screening.batch`, Polars).
:func:`telewarden.core.screening.conformance.check_rule_evaluator` checks that any frame
evaluator agrees with the per-event one row by row, over every rule of a rule set.

=====  =================================  ===================================================
prio   rule                               fires when
=====  =================================  ===================================================
10     ``emergency_callee``               callee is 110/119/120/122/112/12110/96110/12381:
                                          never blocked, whatever the lists or the caller say
20     ``service_number_impersonation``   caller imitates a service number (``+110``,
                                          ``0110``, ``96110123``) or a genuine Chinese service
                                          number (95xxx, 10086, 110, ...) arrives on an
                                          international gateway
30     ``spoofed_domestic``               a mainland caller ID arrives on an international
                                          gateway (AFL Art. 13, 改号)
40     ``missing_country_code``           an international-gateway caller ID lacks ``+``/``00``
50     ``unparseable_caller_id``          the caller ID has no usable digits
60     ``invalid_caller_id``              impossible length or unallocated range
70     ``allow_list``                     caller on the allow list (enterprise, government)
80     ``deny_list``                      caller on the deny list (exact, then longest prefix)
90     ``content``                        SMS body judged scam (block) or spam (per setting),
                                          only when the deployment's legal gate allows it
100    ``cross_border``                   caller from Hong Kong, Macao, Taiwan or abroad:
                                          opt-in -> ``allow_labelled``; opt-out -> block;
                                          else the per-channel default, per-region overrides,
                                          and high-risk origins stay blocked unless opted in
110    ``domestic``                       everything else: allow
=====  =================================  ===================================================

Why caller-ID integrity sits above the allow list: a registered bank number (95588) on the
allow list arriving through an international gateway is exactly what spoofers fake, so the
allow list beats the deny list and the cross-border default, but not a failed integrity check.
An ``unknown`` ingress is treated like a domestic one by the integrity rules.

SIP mapping (the defaults; an outcome may set its own status and reason template):

==================  ===========  ===================================================
verdict             sip_status   sip_reason
==================  ===========  ===================================================
``allow``           0            ``""`` (no rejection: continue the call)
``allow_labelled``  0            ``origin=<label>; cause=<reason>`` (show the origin)
``block``           603          ``Network Blocked; cause=<reason>; appeal=<contact>``
==================  ===========  ===================================================

Every block is a 603 "Network Blocked" with the cause and redress contact in the Reason text,
following FCC 25-15's 603+ (which replaces 603/607/608 for analytics-based blocking, see
``../shared/docs/domain.md`` section (d)); spoofing and impersonation differ only by ``cause``.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import polars as pl

from telewarden.core.screening.conditions import TRUE, AllOf, AnyOf, Condition, Fact, Not
from telewarden.core.screening.facts import (
    EventFacts,
    FactCatalogue,
    callee,
    caller,
    content,
    event,
    pair,
    policy,
)
from telewarden.core.screening.types import Channel, ReasonCode, Verdict

__all__ = [
    "CONTENT_GATE_TEXT",
    "DEFAULT_RULES",
    "MESSAGE_FIELDS",
    "Notice",
    "Outcome",
    "Rule",
    "RuleSet",
    "SIP_BLOCK_STATUS",
    "SIP_REASON_FIELDS",
    "WhyNot",
]

SIP_BLOCK_STATUS = 603
CONTENT_GATE_TEXT = (
    "content inspection closed (legal gate: it opens only on a recorded lawful basis and legal "
    "review, policy content_inspection with content_legal_basis); sender and metadata rules only"
)

TextFn = Callable[[EventFacts], str]
"""A trace text computed from the event's facts (for texts that quote numbers or entries)."""

SIP_REASON_FIELDS = ("reason", "origin", "appeal_contact", "optin_instruction")
"""Placeholders a SIP reason template may use (both evaluators fill them)."""
MESSAGE_FIELDS = (
    *SIP_REASON_FIELDS,
    "detail",
    "what",
    "a_what",
    "appeal",
    "optin",
)
"""Placeholders a subscriber message template may use."""

_DEFAULT_SIP: dict[Verdict, tuple[int, str]] = {
    Verdict.BLOCK: (SIP_BLOCK_STATUS, "Network Blocked; cause={reason}; appeal={appeal_contact}"),
    Verdict.ALLOW_LABELLED: (0, "origin={origin}; cause={reason}"),
    Verdict.ALLOW: (0, ""),
}
_DEFAULT_MESSAGE: dict[Verdict, str] = {
    Verdict.BLOCK: "Blocked {a_what}: {detail}. {appeal}",
    Verdict.ALLOW_LABELLED: "Allowed {a_what}, labelled with its origin: {origin}.",
    Verdict.ALLOW: "Allowed {a_what}: {detail}.",
}


def _fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@dataclass(frozen=True)
class Outcome:
    """One way a rule fires: condition, verdict, reason, SIP mapping, message, trace text.

    Parameters
    ----------
    when : Condition
        Over facts; the first outcome of a rule whose condition holds is the rule's outcome.
    verdict, reason : Verdict, ReasonCode
        What the decision says.
    detail : str or callable
        The trace line of the fired rule (and ``{detail}`` in the message); a callable gets the
        :class:`~telewarden.core.screening.facts.EventFacts`.
    message : str, optional
        Subscriber message template (:data:`MESSAGE_FIELDS`); defaults by verdict.
    sip_status : int, optional
        Defaults to 603 for a block, 0 otherwise.
    sip_reason : str, optional
        SIP Reason template (:data:`SIP_REASON_FIELDS`); defaults by verdict.
    """

    when: Condition
    verdict: Verdict
    reason: ReasonCode
    detail: str | TextFn
    message: str | None = None
    sip_status: int | None = None
    sip_reason: str | None = None

    def __post_init__(self) -> None:
        status, sip_reason = _DEFAULT_SIP[self.verdict]
        if self.sip_status is None:
            object.__setattr__(self, "sip_status", status)
        if self.sip_reason is None:
            object.__setattr__(self, "sip_reason", sip_reason)
        if self.message is None:
            object.__setattr__(self, "message", _DEFAULT_MESSAGE[self.verdict])
        assert self.sip_reason is not None and self.message is not None
        unknown = _fields_of(self.sip_reason) - set(SIP_REASON_FIELDS)
        unknown |= _fields_of(self.message) - set(MESSAGE_FIELDS)
        if unknown:
            raise ValueError(f"unknown template fields {sorted(unknown)} in outcome {self.reason}")

    @property
    def sip_template(self) -> str:
        """The SIP reason template (after defaults)."""
        assert self.sip_reason is not None
        return self.sip_reason

    @property
    def message_template(self) -> str:
        """The message template (after defaults)."""
        assert self.message is not None
        return self.message


@dataclass(frozen=True)
class WhyNot:
    """A "did not fire" trace text, used when ``when`` holds (checked in order)."""

    when: Condition
    text: str | TextFn


@dataclass(frozen=True)
class Notice:
    """A remark a rule adds to the message and to its "not reached" line when ``when`` holds.

    The content rule uses it to say the legal gate is closed whatever rule decided.
    """

    when: Condition
    text: str


@dataclass(frozen=True)
class Rule:
    """One screening rule, defined once (see the module docstring).

    Parameters
    ----------
    name : str
        Stable name (the decision's ``rule``).
    priority : int
        Unique; lower is evaluated first.
    outcomes : sequence of Outcome
        In order; the first whose condition holds.
    not_fired : str or sequence of WhyNot
        The trace text when no outcome holds; cases are checked in order, the last should
        be unconditional (``WhyNot(TRUE, ...)``). A plain string is that one case.
    notice : Notice, optional
        See :class:`Notice`.
    """

    name: str
    priority: int
    outcomes: Sequence[Outcome]
    not_fired: str | Sequence[WhyNot]
    notice: Notice | None = None
    why_not: tuple[WhyNot, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcomes", tuple(self.outcomes))
        cases = (
            (WhyNot(TRUE, self.not_fired),)
            if isinstance(self.not_fired, str)
            else tuple(self.not_fired)
        )
        if not cases or cases[-1].when != TRUE:
            cases = (*cases, WhyNot(TRUE, "rule did not fire"))
        object.__setattr__(self, "why_not", cases)
        if not self.outcomes:
            raise ValueError(f"rule {self.name!r} has no outcome")

    def conditions(self) -> list[Condition]:
        """Every condition of the rule (outcomes, why-not cases, notice)."""
        out = [o.when for o in self.outcomes] + [w.when for w in self.why_not]
        if self.notice is not None:
            out.append(self.notice.when)
        return out


class RuleSet:
    """Rules in evaluation order; names and priorities unique.

    Adding a rule is one definition: ``DEFAULT_RULES.with_rule(Rule(...))``.

    Examples
    --------
    >>> [r.name for r in DEFAULT_RULES][:3]
    ['emergency_callee', 'service_number_impersonation', 'spoofed_domestic']
    >>> DEFAULT_RULES.names_and_priorities()[-1]
    ('domestic', 110)
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        ordered = tuple(sorted(rules, key=lambda r: r.priority))
        names = [r.name for r in ordered]
        priorities = [r.priority for r in ordered]
        if len(set(names)) != len(names):
            raise ValueError(f"rule names must be unique: {names}")
        if len(set(priorities)) != len(priorities):
            raise ValueError(f"rule priorities must be unique: {priorities}")
        self.rules = ordered
        self.outcomes: tuple[tuple[int, Outcome], ...] = tuple(
            (i, o) for i, rule in enumerate(ordered) for o in rule.outcomes
        )
        """Every outcome in evaluation order, with the index of its rule."""

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def names_and_priorities(self) -> tuple[tuple[str, int], ...]:
        """``(name, priority)`` in evaluation order."""
        return tuple((r.name, r.priority) for r in self.rules)

    def with_rule(self, rule: Rule) -> RuleSet:
        """A copy with ``rule`` added (or replacing the rule of the same name)."""
        return RuleSet([*(r for r in self.rules if r.name != rule.name), rule])

    def without(self, name: str) -> RuleSet:
        """A copy without the rule called ``name``."""
        return RuleSet(r for r in self.rules if r.name != name)

    def validate(self, catalogue: FactCatalogue) -> None:
        """Raise ValueError when a condition reads an unknown fact or uses a non-boolean bare."""
        for rule in self.rules:
            for cond in rule.conditions():
                for node in cond.walk():
                    if isinstance(node, Fact):
                        try:
                            catalogue.source(node.name)
                        except KeyError as exc:
                            raise ValueError(f"rule {rule.name!r}: {exc.args[0]}") from None
                _check_bare_booleans(rule.name, cond, catalogue)


def _check_bare_booleans(rule: str, cond: Condition, catalogue: FactCatalogue) -> None:
    def visit(node: Condition) -> None:
        if isinstance(node, Fact):
            src = catalogue.source(node.name)
            if src.derived is None and src.dtype != _BOOLEAN:
                raise ValueError(
                    f"rule {rule!r}: fact {node.name!r} is not boolean; compare it with "
                    ".eq(), .isin() or .is_null()"
                )
        elif isinstance(node, Not):
            visit(node.operand)
        elif isinstance(node, AllOf | AnyOf):
            for child in node.operands:
                visit(child)

    visit(cond)


_BOOLEAN = pl.Boolean()


# -- the rules --------------------------------------------------------------------------------


def _channel_word(channel: Channel) -> str:
    return "SMS" if channel is Channel.SMS else "call"


def _emergency_detail(f: EventFacts) -> str:
    return f"callee {f.callee.raw} is {f.callee.service_name or f.callee.kind.value}"


def _allow_detail(f: EventFacts) -> str:
    assert f.caller_listing is not None and f.caller_listing.allow_entry is not None
    hit = f.caller_listing.allow_entry
    return f"caller matches allow entry {hit.pattern} ({hit.source}: {hit.reason})"


def _deny_detail(f: EventFacts) -> str:
    assert f.caller_listing is not None and f.caller_listing.deny_entry is not None
    hit = f.caller_listing.deny_entry
    what = "number" if f.caller_listing.deny_match == "exact" else "prefix"
    return f"caller matches deny {what} {hit.pattern} ({hit.source}: {hit.reason})"


def _content_detail(f: EventFacts) -> str:
    assert f.content is not None
    finding = f.content.finding
    return f"content {f.content.label} (score {finding.score:.2f}): {finding.detail}"


def _risk_note(f: EventFacts, high_risk: frozenset[str]) -> str:
    region = f.caller.region
    return " (high-risk origin)" if region is not None and region in high_risk else ""


def _cross_border_detail(kind: str) -> Callable[[EventFacts], str]:
    def detail(f: EventFacts) -> str:
        assert f.pair is not None
        origin = f.caller.origin_label
        note = _risk_note(f, f.policy.high_risk_countries)
        record = f.pair.record
        where = f.pair.default_where
        if kind in ("in", "out"):
            assert record is not None
            how = f"({record.scope.value}, {record.at.isoformat()}, via {record.source})"
            return f"caller from {origin}{note}; callee opted {kind} {how}"
        if kind == "default":
            return (
                f"caller from {origin}{note}; no opt-in; cross-border "
                f"{_channel_word(f.channel)} blocked by default ({where})"
            )
        if kind == "high_risk":
            return (
                f"caller from high-risk origin {origin}; default lifted ({where}) but "
                "high-risk origins need an opt-in"
            )
        return f"caller from {origin}{note}; cross-border default off ({where})"

    return detail


_FORGED = "Blocked {a_what} with a forged caller ID (改号): {detail}. {appeal}"
_INVALID = "Blocked {a_what} with an invalid caller ID: {detail}. {appeal}"
_NOT_INTL = WhyNot(~event.intl, "not an international-gateway event")
_CONTENT_INSPECTED = event.sms & policy.content_inspection & policy.has_inspector & event.has_text

DEFAULT_RULES = RuleSet(
    [
        Rule(
            "emergency_callee",
            10,
            [
                Outcome(
                    callee.emergency & caller.cross_border,
                    Verdict.ALLOW_LABELLED,
                    ReasonCode.EMERGENCY_CALLEE,
                    _emergency_detail,
                ),
                Outcome(
                    callee.emergency, Verdict.ALLOW, ReasonCode.EMERGENCY_CALLEE, _emergency_detail
                ),
            ],
            "callee is not an emergency, police or anti-fraud number",
        ),
        Rule(
            "service_number_impersonation",
            20,
            [
                Outcome(
                    caller.impersonating,
                    Verdict.BLOCK,
                    ReasonCode.SERVICE_NUMBER_IMPERSONATION,
                    lambda f: (
                        f"caller ID {f.caller.raw!r} imitates service number "
                        f"{f.caller.impersonates}"
                    ),
                    message=_FORGED,
                ),
                Outcome(
                    caller.is_service_number & event.intl,
                    Verdict.BLOCK,
                    ReasonCode.SERVICE_NUMBER_IMPERSONATION,
                    lambda f: (
                        f"service number {f.caller.national} ({f.caller.service_name}) cannot "
                        "originate on an international gateway"
                    ),
                    message=_FORGED,
                ),
            ],
            "caller does not imitate a service number on this ingress",
        ),
        Rule(
            "spoofed_domestic",
            30,
            [
                Outcome(
                    event.intl & caller.mainland_id,
                    Verdict.BLOCK,
                    ReasonCode.SPOOFED_DOMESTIC_ON_INTERNATIONAL,
                    lambda f: (
                        f"mainland caller ID {f.caller.e164} arrived on an international gateway"
                    ),
                    message=_FORGED,
                )
            ],
            [_NOT_INTL, WhyNot(TRUE, "caller ID is not a mainland number")],
        ),
        Rule(
            "missing_country_code",
            40,
            [
                Outcome(
                    event.intl & ~caller.explicit_country_code,
                    Verdict.BLOCK,
                    ReasonCode.MISSING_COUNTRY_CODE,
                    lambda f: (
                        f"caller ID {f.caller.raw!r} on an international gateway has no country code"
                    ),
                    message=_FORGED,
                )
            ],
            [_NOT_INTL, WhyNot(TRUE, "caller ID carries its country code")],
        ),
        Rule(
            "unparseable_caller_id",
            50,
            [
                Outcome(
                    ~caller.parsed,
                    Verdict.BLOCK,
                    ReasonCode.UNPARSEABLE_CALLER_ID,
                    lambda f: f"caller ID {f.caller.raw!r}: {f.caller.invalid_reason}",
                    message=_INVALID,
                )
            ],
            "caller ID parsed",
        ),
        Rule(
            "invalid_caller_id",
            60,
            [
                Outcome(
                    ~caller.valid,
                    Verdict.BLOCK,
                    ReasonCode.INVALID_CALLER_ID,
                    lambda f: f"caller ID {f.caller.e164}: {f.caller.invalid_reason}",
                    message=_INVALID,
                )
            ],
            "caller ID is a possible, allocated number",
        ),
        Rule(
            "allow_list",
            70,
            [
                Outcome(
                    caller.allow_listed & caller.cross_border,
                    Verdict.ALLOW_LABELLED,
                    ReasonCode.ALLOW_LISTED,
                    _allow_detail,
                ),
                Outcome(caller.allow_listed, Verdict.ALLOW, ReasonCode.ALLOW_LISTED, _allow_detail),
            ],
            "caller not on the allow list",
        ),
        Rule(
            "deny_list",
            80,
            [
                Outcome(
                    caller.deny_match.eq("exact"),
                    Verdict.BLOCK,
                    ReasonCode.DENY_LISTED_NUMBER,
                    _deny_detail,
                    message="Blocked {a_what} from a listed fraud number: {detail}. {appeal}",
                ),
                Outcome(
                    caller.deny_match.eq("prefix"),
                    Verdict.BLOCK,
                    ReasonCode.DENY_LISTED_PREFIX,
                    _deny_detail,
                    message="Blocked {a_what} from a listed fraud number: {detail}. {appeal}",
                ),
            ],
            "caller not on the deny list",
        ),
        Rule(
            "content",
            90,
            [
                Outcome(
                    _CONTENT_INSPECTED & content.label.eq("scam"),
                    Verdict.BLOCK,
                    ReasonCode.CONTENT_SCAM,
                    _content_detail,
                ),
                Outcome(
                    _CONTENT_INSPECTED & content.label.eq("spam") & policy.spam_block,
                    Verdict.BLOCK,
                    ReasonCode.CONTENT_SPAM,
                    _content_detail,
                ),
                Outcome(
                    _CONTENT_INSPECTED & content.label.eq("spam"),
                    Verdict.ALLOW_LABELLED,
                    ReasonCode.CONTENT_SPAM,
                    _content_detail,
                    message="Delivered, labelled as suspected spam: {detail}.",
                ),
            ],
            [
                WhyNot(~event.sms, "not an SMS"),
                WhyNot(~policy.content_inspection, CONTENT_GATE_TEXT),
                WhyNot(~policy.has_inspector, "no content inspector configured"),
                WhyNot(~event.has_text, "SMS has no text"),
                WhyNot(TRUE, _content_detail),
            ],
            notice=Notice(event.sms & ~policy.content_inspection, CONTENT_GATE_TEXT),
        ),
        Rule(
            "cross_border",
            100,
            [
                Outcome(
                    caller.cross_border & pair.optin.eq("in"),
                    Verdict.ALLOW_LABELLED,
                    ReasonCode.CROSS_BORDER_OPTED_IN,
                    _cross_border_detail("in"),
                ),
                Outcome(
                    caller.cross_border & pair.optin.eq("out"),
                    Verdict.BLOCK,
                    ReasonCode.CROSS_BORDER_OPTED_OUT,
                    _cross_border_detail("out"),
                    message=(
                        "Blocked {a_what} from {origin}: you opted out of cross-border {what}s. "
                        "To opt in again, {optin_instruction}."
                    ),
                ),
                Outcome(
                    caller.cross_border & pair.default_block,
                    Verdict.BLOCK,
                    ReasonCode.CROSS_BORDER_DEFAULT_BLOCK,
                    _cross_border_detail("default"),
                    message=(
                        "Blocked {a_what} from {origin}: {what}s from Hong Kong, Macao, Taiwan "
                        "and abroad are blocked by default. {optin} {appeal}"
                    ),
                ),
                Outcome(
                    caller.cross_border & caller.high_risk & policy.block_high_risk_unless_opted_in,
                    Verdict.BLOCK,
                    ReasonCode.HIGH_RISK_ORIGIN,
                    _cross_border_detail("high_risk"),
                    message="Blocked {a_what} from {origin}, a high-risk origin. {optin} {appeal}",
                ),
                Outcome(
                    caller.cross_border,
                    Verdict.ALLOW_LABELLED,
                    ReasonCode.CROSS_BORDER_ALLOWED,
                    _cross_border_detail("allowed"),
                ),
            ],
            "caller is not from Hong Kong, Macao, Taiwan or abroad",
        ),
        Rule(
            "domestic",
            110,
            [
                Outcome(
                    TRUE,
                    Verdict.ALLOW,
                    ReasonCode.DOMESTIC,
                    lambda f: f"{f.caller.origin_label} caller, no rule objected",
                    message="Allowed {a_what} from {origin}.",
                )
            ],
            "not reached",
        ),
    ]
)
"""The shipped rule set (the table in the module docstring)."""


MEASURE_LOOKUP = "measure"
"""The injected per-number lookup that says which disposal measure a card is under."""

MEASURE_VALUES = ("pending_reverification", "restricted", "suspended", "flagged_off_net")
"""What the measure lookup answers (``core.disposal.book.MeasureLookup``): the measures on the
carrier's own cards, mildest first, and ``flagged_off_net`` for a number that is no card of
the carrier's (a robocaller or a Wangiri number abroad) flagged by the detectors."""


def _measure_detail(f: EventFacts) -> str:
    listing = f.caller_listing
    measure = listing.looked_up.get(MEASURE_LOOKUP) if listing is not None else None
    return f"caller's card is {str(measure).replace('_', ' ')}"


CARD_MEASURE = Rule(
    "card_measure",
    15,
    [
        Outcome(
            caller.measure.isin(["restricted", "suspended"]),
            Verdict.BLOCK,
            ReasonCode.define("card_under_measure"),
            _measure_detail,
            sip_reason="Network Blocked; cause={reason}; card under measure; appeal={appeal_contact}",
            message="Blocked {a_what}: your card is under a measure (AFL Art. 32). {appeal}",
        ),
        Outcome(
            caller.measure.eq("flagged_off_net"),
            Verdict.BLOCK,
            ReasonCode.define("flagged_number"),
            lambda f: "caller is a number the detectors flagged (not one of our cards)",
        ),
        Outcome(
            caller.measure.eq("pending_reverification"),
            Verdict.BLOCK,
            ReasonCode.define("card_pending_reverification"),
            _measure_detail,
            sip_reason=(
                "Network Blocked; cause={reason}; re-verify your identity; appeal={appeal_contact}"
            ),
            message=(
                "Blocked {a_what}: your card must be re-verified in person with your ID document "
                "(AFL Art. 31). {appeal}"
            ),
        ),
    ],
    [
        WhyNot(caller.measure.is_null(), "caller's card is under no measure"),
        WhyNot(TRUE, "the measure does not restrict outgoing traffic"),
    ],
)
"""Disposal's measures acting on traffic (issue #13): a card that is restricted, suspended or
pending re-verification makes no outgoing call or SMS, except to emergency numbers (priority 15,
after ``emergency_callee``). Screeners get it with a measure lookup (``MEASURE_RULES``)."""

CALL_TO_FLAGGED = Rule(
    "call_to_flagged_number",
    16,
    [
        Outcome(
            callee.measure.eq("flagged_off_net"),
            Verdict.BLOCK,
            ReasonCode.define("call_to_flagged_number"),
            lambda f: "callee is a number the detectors flagged (a Wangiri or scam line)",
            message="Blocked {a_what} to a number flagged for fraud: do not call it back. {appeal}",
        )
    ],
    "callee is no flagged number",
)
"""A subscriber's call or SMS to a flagged off-net number (the Wangiri callback that costs
money) is stopped; emergency numbers rank first and are never flagged."""

MEASURE_RULES = DEFAULT_RULES.with_rule(CARD_MEASURE).with_rule(CALL_TO_FLAGGED)
"""The shipped rules plus the card-measure rule, for deployments that dispose of cards."""
