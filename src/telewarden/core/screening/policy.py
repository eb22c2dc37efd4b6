"""The screening policy: one deterministic, traceable verdict per call or SMS event.

Rules are evaluated in a fixed priority order (lowest number first); the first rule that
fires decides, and the trace records every rule: the ones before it with why they did not
fire, the deciding one with why it fired, the ones after as "not reached".

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

SIP mapping (what an integrator returns before answering):

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

from collections.abc import Iterable

from telewarden.core.numbers import NumberInfo, NumberIntel, NumberKind, Origin
from telewarden.core.screening.lists import NumberList
from telewarden.core.screening.optins import OptInBook
from telewarden.core.screening.settings import PolicySettings
from telewarden.core.screening.types import (
    Channel,
    ContentFinding,
    ContentInspector,
    Decision,
    Ingress,
    MatchKind,
    ReasonCode,
    RuleTrace,
    ScreeningEvent,
    Verdict,
    new_decision,
)

__all__ = ["RULES", "SIP_BLOCK_STATUS", "Screener", "CONTENT_GATE_TEXT"]

SIP_BLOCK_STATUS = 603
CONTENT_GATE_TEXT = (
    "content inspection disabled by deployment (legal gate); sender and metadata rules only"
)

# (name, priority) in evaluation order.
RULES: tuple[tuple[str, int], ...] = (
    ("emergency_callee", 10),
    ("service_number_impersonation", 20),
    ("spoofed_domestic", 30),
    ("missing_country_code", 40),
    ("unparseable_caller_id", 50),
    ("invalid_caller_id", 60),
    ("allow_list", 70),
    ("deny_list", 80),
    ("content", 90),
    ("cross_border", 100),
    ("domestic", 110),
)
_PRIORITY = dict(RULES)

_EMERGENCY_KINDS = frozenset({NumberKind.EMERGENCY, NumberKind.POLICE, NumberKind.ANTI_FRAUD})
_CROSS_BORDER = frozenset({Origin.HONG_KONG, Origin.MACAO, Origin.TAIWAN, Origin.FOREIGN})


def _nf(rule: str, detail: str) -> RuleTrace:
    return RuleTrace(rule, _PRIORITY[rule], False, detail)


# Precomputed "did not fire" lines: the common path builds its trace from constants.
_NF_EMERGENCY = _nf("emergency_callee", "callee is not an emergency, police or anti-fraud number")
_NF_IMPERSONATION = _nf(
    "service_number_impersonation", "caller does not imitate a service number on this ingress"
)
_NF_SPOOF_NOT_INTL = _nf("spoofed_domestic", "not an international-gateway event")
_NF_SPOOF_NOT_CN = _nf("spoofed_domestic", "caller ID is not a mainland number")
_NF_MISSING_NOT_INTL = _nf("missing_country_code", "not an international-gateway event")
_NF_MISSING_HAS_CC = _nf("missing_country_code", "caller ID carries its country code")
_NF_UNPARSEABLE = _nf("unparseable_caller_id", "caller ID parsed")
_NF_INVALID = _nf("invalid_caller_id", "caller ID is a possible, allocated number")
_NF_ALLOW = _nf("allow_list", "caller not on the allow list")
_NF_DENY = _nf("deny_list", "caller not on the deny list")
_NF_CONTENT_NOT_SMS = _nf("content", "not an SMS")
_NF_CONTENT_GATE = _nf("content", CONTENT_GATE_TEXT)
_NF_CONTENT_NO_INSPECTOR = _nf("content", "no content inspector configured")
_NF_CONTENT_NO_TEXT = _nf("content", "SMS has no text")
_CONTENT_CONSTANTS = (
    _NF_CONTENT_NOT_SMS,
    _NF_CONTENT_GATE,
    _NF_CONTENT_NO_INSPECTOR,
    _NF_CONTENT_NO_TEXT,
)
_CONTENT_CONSTANT_IDS = frozenset(id(t) for t in _CONTENT_CONSTANTS)
_NF_CROSS_BORDER = _nf("cross_border", "caller is not from Hong Kong, Macao, Taiwan or abroad")

# _SUFFIX[i]: the "not reached" lines of every rule after rule i.
_SUFFIX: tuple[tuple[RuleTrace, ...], ...] = tuple(
    tuple(
        RuleTrace(name, prio, False, f"not reached: decided by {RULES[i][0]}")
        for name, prio in RULES[i + 1 :]
    )
    for i in range(len(RULES))
)


def _channel_word(channel: Channel) -> str:
    return "SMS" if channel is Channel.SMS else "call"


class Screener:
    """Decide ``allow`` / ``allow_labelled`` / ``block`` for call and SMS events.

    Parameters
    ----------
    settings : PolicySettings, optional
        The deployment policy; defaults to :class:`PolicySettings` defaults.
    numbers : NumberIntel, optional
        Number analyser (shared cache); built from ``settings.high_risk_countries`` if absent.
    optins : OptInBook, optional
        Subscriber opt-ins; a change is effective for the very next decision.
    deny, allow : NumberList, optional
        Deny and allow lists of callers.
    content : ContentInspector, optional
        SMS body classifier, used only when ``settings.content_inspection`` is True.
    cache_size : int
        Bound of an optional memo of whole decisions per (caller, callee, channel, ingress),
        cleared when full and whenever the opt-ins, lists, settings or collaborators change.
        Off (0) by default: on traffic where (caller, callee) pairs rarely repeat it cost about
        40 % of batch throughput in ``bench/screening.py``-style runs; turn it on for replays
        or retransmission-heavy feeds.
    memoise : bool
        Keep memos of decisions and of their trace/message parts (False for the naive
        baseline of ``bench/screening.py``; the verdicts are identical either way).

    Examples
    --------
    >>> s = Screener()
    >>> d = s.decide(ScreeningEvent("+85223456789", "13800138000"))
    >>> (d.verdict.value, d.reason.value, d.sip_status)
    ('block', 'cross_border_default_block', 603)
    >>> d.sip_reason
    'Network Blocked; cause=cross_border_default_block; appeal=10086'
    >>> s.decide(ScreeningEvent("+85223456789", "110")).verdict.value
    'allow_labelled'
    """

    def __init__(
        self,
        settings: PolicySettings | None = None,
        *,
        numbers: NumberIntel | None = None,
        optins: OptInBook | None = None,
        deny: NumberList | None = None,
        allow: NumberList | None = None,
        content: ContentInspector | None = None,
        cache_size: int = 0,
        memoise: bool = True,
    ) -> None:
        self.settings = settings if settings is not None else PolicySettings()
        self.numbers = (
            numbers
            if numbers is not None
            else NumberIntel(high_risk_countries=self.settings.high_risk_countries)
        )
        self.optins = optins if optins is not None else OptInBook()
        self.deny = deny if deny is not None else NumberList()
        self.allow = allow if allow is not None else NumberList()
        self.content = content
        self.cache_size = max(0, cache_size)
        self.memoise = memoise
        self._decisions: dict[tuple[object, ...], Decision] = {}
        self._parts: dict[tuple[object, ...], tuple[tuple[RuleTrace, ...], str, str, str]] = {}
        self._stamp: tuple[object, ...] = ()
        self._high_risk = frozenset(c.upper() for c in self.settings.high_risk_countries)
        self._allow_active = False
        self._deny_active = False
        self._memo_decisions = False

    # -- public API ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Drop memoised results (needed only after editing settings' dicts or lists in place)."""
        self._decisions.clear()
        self._parts.clear()
        self._high_risk = frozenset(c.upper() for c in self.settings.high_risk_countries)
        self._allow_active = len(self.allow) > 0
        self._deny_active = len(self.deny) > 0
        self._memo_decisions = self.memoise and self.cache_size > 0

    def decide(self, event: ScreeningEvent) -> Decision:
        """Return the :class:`Decision` for one event; never raises on bad numbers.

        Examples
        --------
        >>> Screener().decide(ScreeningEvent("13800138000", "13900139000")).reason.value
        'domestic'
        """
        self._sync()
        return self._decide_event(event)

    def decide_many(self, events: Iterable[ScreeningEvent]) -> list[Decision]:
        """Decide a batch, in order (one decision per event).

        The opt-ins, lists and settings are read once per batch: a change made by another
        thread in the middle of a batch applies from the next call.

        Examples
        --------
        >>> ev = ScreeningEvent("+85223456789", "13800138000")
        >>> [d.verdict.value for d in Screener().decide_many([ev, ev])]
        ['block', 'block']
        """
        self._sync()
        one = self._decide_event
        return [one(event) for event in events]

    def _sync(self) -> None:
        """Drop memos when the opt-ins, lists, settings or collaborators changed."""
        settings = self.settings
        private = settings.__pydantic_private__
        stamp = (
            self.optins.version,
            self.deny.version,
            self.allow.version,
            private["_revision"] if private else 0,
            id(settings),
            id(self.optins),
            id(self.deny),
            id(self.allow),
            id(self.numbers),
            id(self.content),
        )
        if stamp != self._stamp:
            self.refresh()
            self._stamp = stamp

    def _decide_event(self, event: ScreeningEvent) -> Decision:
        cacheable = self._memo_decisions and event.text is None
        if cacheable:
            key = (event.caller, event.callee, event.channel, event.ingress)
            decision = self._decisions.get(key)
            if decision is not None:
                return decision
        numbers = self.numbers
        cache = numbers._cache
        # Probe the number cache directly: a hit then costs one dict look-up, no method call.
        raw = event.caller if isinstance(event.caller, str) else str(event.caller)
        caller = cache.get(raw) or numbers.analyse(raw)
        raw = event.callee if isinstance(event.callee, str) else str(event.callee)
        callee = cache.get(raw) or numbers.analyse(raw)
        channel = event.channel
        if not isinstance(channel, Channel):
            channel = Channel.from_str(str(channel))
        ingress = event.ingress
        if not isinstance(ingress, Ingress):
            ingress = Ingress.from_str(str(ingress))
        decision = self._decide(event, caller, callee, channel, ingress)
        if cacheable:
            decisions = self._decisions
            if len(decisions) >= self.cache_size:
                decisions.clear()
            decisions[key] = decision
        return decision

    def explain(self, event: ScreeningEvent) -> str:
        """Return the decision and its trace as readable lines (for logs and the CLI).

        Examples
        --------
        >>> print(Screener().explain(ScreeningEvent("13800138000", "120")).splitlines()[0])
        allow emergency_callee (rule emergency_callee, SIP 0)
        """
        d = self.decide(event)
        lines = [f"{d.verdict.value} {d.reason.value} (rule {d.rule}, SIP {d.sip_status})"]
        for t in d.trace:
            mark = "FIRED" if t.fired else "-"
            lines.append(f"  {t.priority:>3} {t.rule:<30} {mark:<5} {t.detail}")
        return "\n".join(lines)

    # -- the rules -------------------------------------------------------------------------

    def _decide(
        self,
        event: ScreeningEvent,
        caller: NumberInfo,
        callee: NumberInfo,
        channel: Channel,
        ingress: Ingress,
    ) -> Decision:
        settings = self.settings
        finish = self._finish
        cross_border = caller.origin in _CROSS_BORDER
        intl = ingress is Ingress.INTERNATIONAL

        # 10: a call or SMS to an emergency, police or anti-fraud number is never blocked.
        if callee.kind in _EMERGENCY_KINDS:
            return finish(
                caller, callee, channel, intl, None, 0,
                Verdict.ALLOW_LABELLED if cross_border else Verdict.ALLOW,
                ReasonCode.EMERGENCY_CALLEE,
                f"callee {callee.raw} is {callee.service_name or callee.kind.value}",
            )  # fmt: skip

        # 20: imitation of a service number, or a genuine one on an international gateway.
        if caller.impersonates is not None:
            return finish(
                caller, callee, channel, intl, None, 1, Verdict.BLOCK,
                ReasonCode.SERVICE_NUMBER_IMPERSONATION,
                f"caller ID {caller.raw!r} imitates service number {caller.impersonates}",
            )  # fmt: skip
        if caller.is_service_number and intl:
            return finish(
                caller, callee, channel, intl, None, 1, Verdict.BLOCK,
                ReasonCode.SERVICE_NUMBER_IMPERSONATION,
                f"service number {caller.national} ({caller.service_name}) cannot originate "
                "on an international gateway",
            )  # fmt: skip

        if intl:
            # 30: a real mainland caller ID arriving through an international gateway is
            # spoofed (AFL Art. 13, 改号).
            if caller.origin is Origin.MAINLAND and (caller.valid or caller.explicit_country_code):
                return finish(
                    caller, callee, channel, intl, None, 2, Verdict.BLOCK,
                    ReasonCode.SPOOFED_DOMESTIC_ON_INTERNATIONAL,
                    f"mainland caller ID {caller.e164} arrived on an international gateway",
                )  # fmt: skip
            # 40: international calls must keep their "00"/"+" prefix.
            if not caller.explicit_country_code:
                return finish(
                    caller, callee, channel, intl, None, 3, Verdict.BLOCK,
                    ReasonCode.MISSING_COUNTRY_CODE,
                    f"caller ID {caller.raw!r} on an international gateway has no country code",
                )  # fmt: skip

        # 50/60: unusable caller IDs are a verdict, never an exception.
        if caller.e164 is None:
            return finish(
                caller, callee, channel, intl, None, 4, Verdict.BLOCK,
                ReasonCode.UNPARSEABLE_CALLER_ID,
                f"caller ID {caller.raw!r}: {caller.invalid_reason}",
            )  # fmt: skip
        if not caller.valid:
            return finish(
                caller, callee, channel, intl, None, 5, Verdict.BLOCK,
                ReasonCode.INVALID_CALLER_ID,
                f"caller ID {caller.e164}: {caller.invalid_reason}",
            )  # fmt: skip

        # 70: registered enterprise and government numbers win over every rule below.
        if self._allow_active:
            hit = self.allow.match(caller.e164)
            if hit is not None:
                return finish(
                    caller, callee, channel, intl, None, 6,
                    Verdict.ALLOW_LABELLED if cross_border else Verdict.ALLOW,
                    ReasonCode.ALLOW_LISTED,
                    f"caller matches allow entry {hit.pattern} ({hit.source}: {hit.reason})",
                )  # fmt: skip

        # 80: deny lists, exact numbers first, then the longest prefix.
        if self._deny_active:
            hit = self.deny.match(caller.e164)
            if hit is not None:
                exact = hit.match is MatchKind.EXACT
                return finish(
                    caller, callee, channel, intl, None, 7, Verdict.BLOCK,
                    ReasonCode.DENY_LISTED_NUMBER if exact else ReasonCode.DENY_LISTED_PREFIX,
                    f"caller matches deny {'number' if exact else 'prefix'} {hit.pattern} "
                    f"({hit.source}: {hit.reason})",
                )  # fmt: skip

        # 90: SMS content, only behind the deployment's legal gate.
        if channel is not Channel.SMS:
            content_nf = _NF_CONTENT_NOT_SMS
        elif not settings.content_inspection:
            content_nf = _NF_CONTENT_GATE
        elif self.content is None:
            content_nf = _NF_CONTENT_NO_INSPECTOR
        elif not event.text:
            content_nf = _NF_CONTENT_NO_TEXT
        else:
            finding = self._inspect(event.text)
            label = finding.verdict.strip().lower()
            detail = f"content {label} (score {finding.score:.2f}): {finding.detail}"
            if label == "scam":
                return finish(
                    caller, callee, channel, intl, None, 8, Verdict.BLOCK,
                    ReasonCode.CONTENT_SCAM, detail,
                )  # fmt: skip
            if label == "spam":
                spam_block = settings.spam_verdict == "block"
                return finish(
                    caller, callee, channel, intl, None, 8,
                    Verdict.BLOCK if spam_block else Verdict.ALLOW_LABELLED,
                    ReasonCode.CONTENT_SPAM, detail,
                )  # fmt: skip
            content_nf = _nf("content", detail)

        # 100: cross-border traffic: opt-in/opt-out, per-channel default, region overrides.
        if cross_border:
            verdict, reason, detail = self._cross_border(caller, callee, channel)
            return finish(caller, callee, channel, intl, content_nf, 9, verdict, reason, detail)

        # 110: ordinary traffic.
        return finish(
            caller, callee, channel, intl, content_nf, 10, Verdict.ALLOW, ReasonCode.DOMESTIC,
            f"{caller.origin_label} caller, no rule objected",
        )  # fmt: skip

    def _cross_border(
        self, caller: NumberInfo, callee: NumberInfo, channel: Channel
    ) -> tuple[Verdict, ReasonCode, str]:
        settings = self.settings
        origin = caller.origin_label
        record = self.optins.lookup(callee.e164, channel) if callee.e164 else None
        high_risk = caller.region is not None and caller.region in self._high_risk
        risk_note = " (high-risk origin)" if high_risk else ""
        if record is not None:
            how = f"({record.scope.value}, {record.at.isoformat()}, via {record.source})"
            if record.opted_in:
                return (
                    Verdict.ALLOW_LABELLED,
                    ReasonCode.CROSS_BORDER_OPTED_IN,
                    f"caller from {origin}{risk_note}; callee opted in {how}",
                )
            return (
                Verdict.BLOCK,
                ReasonCode.CROSS_BORDER_OPTED_OUT,
                f"caller from {origin}{risk_note}; callee opted out {how}",
            )
        block, where = self._default_block(callee, channel)
        if block:
            return (
                Verdict.BLOCK,
                ReasonCode.CROSS_BORDER_DEFAULT_BLOCK,
                f"caller from {origin}{risk_note}; no opt-in; cross-border "
                f"{_channel_word(channel)} blocked by default ({where})",
            )
        if high_risk and settings.block_high_risk_unless_opted_in:
            return (
                Verdict.BLOCK,
                ReasonCode.HIGH_RISK_ORIGIN,
                f"caller from high-risk origin {origin}; default lifted ({where}) but "
                "high-risk origins need an opt-in",
            )
        return (
            Verdict.ALLOW_LABELLED,
            ReasonCode.CROSS_BORDER_ALLOWED,
            f"caller from {origin}{risk_note}; cross-border default off ({where})",
        )

    def _default_block(self, callee: NumberInfo, channel: Channel) -> tuple[bool, str]:
        settings = self.settings
        sms = channel is Channel.SMS
        block = settings.cross_border_block_sms if sms else settings.cross_border_block_calls
        overrides = settings.region_overrides
        if overrides:
            for key in (callee.city, callee.province, callee.region):
                if key is None:
                    continue
                override = overrides.get(key)
                if override is None:
                    continue
                value = (
                    override.cross_border_block_sms if sms else override.cross_border_block_calls
                )
                if value is not None:
                    return value, f"override for {key}"
            location_zh = callee.location_zh
            if location_zh:
                # Chinese keys ("浙江", "深圳") match the callee's Chinese location text.
                for key, override in overrides.items():
                    if key and not key.isascii() and key in location_zh:
                        value = (
                            override.cross_border_block_sms
                            if sms
                            else override.cross_border_block_calls
                        )
                        if value is not None:
                            return value, f"override for {key}"
        return block, "deployment default"

    def _inspect(self, text: str) -> ContentFinding:
        assert self.content is not None
        try:
            return self.content.inspect(text)
        except Exception as exc:  # a broken classifier must not stop delivery decisions
            return ContentFinding("ok", 0.0, f"content inspector failed: {type(exc).__name__}")

    # -- building decisions ----------------------------------------------------------------

    def _finish(
        self,
        caller: NumberInfo,
        callee: NumberInfo,
        channel: Channel,
        intl: bool,
        content_nf: RuleTrace | None,
        index: int,
        verdict: Verdict,
        reason: ReasonCode,
        detail: str,
    ) -> Decision:
        origin = caller.origin_label
        # Constant trace lines are keyed by identity; a one-off line disables the memo.
        memo = self.memoise and (content_nf is None or id(content_nf) in _CONTENT_CONSTANT_IDS)
        key = (index, detail, verdict, reason, channel, intl, id(content_nf), origin)
        parts = self._parts.get(key) if memo else None
        if parts is None:
            parts = self._build_parts(
                channel, intl, content_nf, index, verdict, reason, detail, origin
            )
            if memo:
                if len(self._parts) >= 100_000:
                    self._parts.clear()
                self._parts[key] = parts
        trace, sip_reason, message, rule = parts
        return new_decision(
            verdict,
            reason,
            rule,
            SIP_BLOCK_STATUS if verdict is Verdict.BLOCK else 0,
            sip_reason,
            origin,
            caller,
            callee,
            trace,
            message,
            caller.origin_label_zh,
        )

    def _build_parts(
        self,
        channel: Channel,
        intl: bool,
        content_nf: RuleTrace | None,
        index: int,
        verdict: Verdict,
        reason: ReasonCode,
        detail: str,
        origin: str,
    ) -> tuple[tuple[RuleTrace, ...], str, str, str]:
        """Trace, SIP Reason text, subscriber message and rule name for one outcome."""
        settings = self.settings
        gate_off = channel is Channel.SMS and not settings.content_inspection
        before = (
            _NF_EMERGENCY,
            _NF_IMPERSONATION,
            _NF_SPOOF_NOT_CN if intl else _NF_SPOOF_NOT_INTL,
            _NF_MISSING_HAS_CC if intl else _NF_MISSING_NOT_INTL,
            _NF_UNPARSEABLE,
            _NF_INVALID,
            _NF_ALLOW,
            _NF_DENY,
            content_nf if content_nf is not None else _NF_CONTENT_NOT_SMS,
            _NF_CROSS_BORDER,
        )[:index]
        rule, priority = RULES[index]
        suffix = _SUFFIX[index]
        if gate_off:
            suffix = tuple(
                RuleTrace(t.rule, t.priority, False, f"{t.detail}; {CONTENT_GATE_TEXT}")
                if t.rule == "content"
                else t
                for t in suffix
            )
        trace = (*before, RuleTrace(rule, priority, True, detail), *suffix)
        if verdict is Verdict.BLOCK:
            sip_reason = f"Network Blocked; cause={reason.value}; appeal={settings.appeal_contact}"
        elif verdict is Verdict.ALLOW_LABELLED:
            sip_reason = f"origin={origin}; cause={reason.value}"
        else:
            sip_reason = ""
        message = self._message(origin, channel, verdict, reason, detail)
        if gate_off:
            message = f"{message} ({CONTENT_GATE_TEXT})"
        return trace, sip_reason, message, rule

    def _message(
        self, origin: str, channel: Channel, verdict: Verdict, reason: ReasonCode, detail: str
    ) -> str:
        settings = self.settings
        what = _channel_word(channel)
        a_what = f"an {what}" if channel is Channel.SMS else f"a {what}"
        appeal = f"If you think this is wrong, contact {settings.appeal_contact}."
        optin = f"To receive them, {settings.optin_instruction}."
        if verdict is not Verdict.BLOCK:
            if reason is ReasonCode.DOMESTIC:
                return f"Allowed {a_what} from {origin}."
            if reason is ReasonCode.CONTENT_SPAM:
                return f"Delivered, labelled as suspected spam: {detail}."
            if verdict is Verdict.ALLOW_LABELLED:
                return f"Allowed {a_what}, labelled with its origin: {origin}."
            return f"Allowed {a_what}: {detail}."
        if reason is ReasonCode.CROSS_BORDER_DEFAULT_BLOCK:
            return (
                f"Blocked {a_what} from {origin}: {what}s from Hong Kong, Macao, Taiwan and "
                f"abroad are blocked by default. {optin} {appeal}"
            )
        if reason is ReasonCode.HIGH_RISK_ORIGIN:
            return f"Blocked {a_what} from {origin}, a high-risk origin. {optin} {appeal}"
        if reason is ReasonCode.CROSS_BORDER_OPTED_OUT:
            return (
                f"Blocked {a_what} from {origin}: you opted out of cross-border {what}s. "
                f"To opt in again, {settings.optin_instruction}."
            )
        if reason in (
            ReasonCode.SPOOFED_DOMESTIC_ON_INTERNATIONAL,
            ReasonCode.SERVICE_NUMBER_IMPERSONATION,
            ReasonCode.MISSING_COUNTRY_CODE,
        ):
            return f"Blocked {a_what} with a forged caller ID (改号): {detail}. {appeal}"
        if reason in (ReasonCode.UNPARSEABLE_CALLER_ID, ReasonCode.INVALID_CALLER_ID):
            return f"Blocked {a_what} with an invalid caller ID: {detail}. {appeal}"
        if reason in (ReasonCode.DENY_LISTED_NUMBER, ReasonCode.DENY_LISTED_PREFIX):
            return f"Blocked {a_what} from a listed fraud number: {detail}. {appeal}"
        return f"Blocked {a_what}: {detail}. {appeal}"
