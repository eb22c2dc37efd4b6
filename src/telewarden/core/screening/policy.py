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
_INDEX = {name: i for i, (name, _) in enumerate(RULES)}

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
        Subscriber opt-ins; read at every decision, so changes are effective at once.
    deny, allow : NumberList, optional
        Deny and allow lists of callers.
    content : ContentInspector, optional
        SMS body classifier, used only when ``settings.content_inspection`` is True.

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

    # -- public API ------------------------------------------------------------------------

    def decide(self, event: ScreeningEvent) -> Decision:
        """Return the :class:`Decision` for one event; never raises on bad numbers.

        Examples
        --------
        >>> Screener().decide(ScreeningEvent("13800138000", "13900139000")).reason.value
        'domestic'
        """
        analyse = self.numbers.analyse
        caller = analyse(event.caller if isinstance(event.caller, str) else str(event.caller))
        callee = analyse(event.callee if isinstance(event.callee, str) else str(event.callee))
        channel = event.channel
        if not isinstance(channel, Channel):
            channel = Channel.from_str(str(channel))
        ingress = event.ingress
        if not isinstance(ingress, Ingress):
            ingress = Ingress.from_str(str(ingress))
        return self._decide(event, caller, callee, channel, ingress)

    def decide_many(self, events: Iterable[ScreeningEvent]) -> list[Decision]:
        """Decide a batch; identical (caller, callee, channel, ingress, text) events share one
        decision object.

        Examples
        --------
        >>> ev = ScreeningEvent("+85223456789", "13800138000")
        >>> a, b = Screener().decide_many([ev, ev])
        >>> a is b
        True
        """
        seen: dict[tuple[object, ...], Decision] = {}
        out: list[Decision] = []
        append = out.append
        decide = self.decide
        for event in events:
            key = (event.caller, event.callee, event.channel, event.ingress, event.text)
            decision = seen.get(key)
            if decision is None:
                decision = decide(event)
                seen[key] = decision
            append(decision)
        return out

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
        trace: list[RuleTrace] = []
        append = trace.append
        cross_border = caller.origin in _CROSS_BORDER

        # 10: a call or SMS to an emergency, police or anti-fraud number is never blocked.
        if callee.kind in _EMERGENCY_KINDS:
            detail = f"callee {callee.raw} is {callee.service_name or callee.kind.value}"
            return self._finish(
                event, caller, callee, channel, trace, "emergency_callee", detail,
                Verdict.ALLOW_LABELLED if cross_border else Verdict.ALLOW,
                ReasonCode.EMERGENCY_CALLEE,
            )  # fmt: skip
        append(_NF_EMERGENCY)

        international = ingress is Ingress.INTERNATIONAL
        # 20: imitation of a service number, or a genuine one on an international gateway.
        if caller.impersonates is not None:
            detail = f"caller ID {caller.raw!r} imitates service number {caller.impersonates}"
            return self._block(
                event, caller, callee, channel, trace, "service_number_impersonation", detail,
                ReasonCode.SERVICE_NUMBER_IMPERSONATION,
            )  # fmt: skip
        if caller.is_service_number and international:
            detail = (
                f"service number {caller.national} ({caller.service_name}) cannot originate "
                "on an international gateway"
            )
            return self._block(
                event, caller, callee, channel, trace, "service_number_impersonation", detail,
                ReasonCode.SERVICE_NUMBER_IMPERSONATION,
            )  # fmt: skip
        append(_NF_IMPERSONATION)

        # 30: a mainland caller ID arriving through an international gateway is spoofed.
        if not international:
            append(_NF_SPOOF_NOT_INTL)
        elif caller.origin is Origin.MAINLAND:
            detail = f"mainland caller ID {caller.e164} arrived on an international gateway"
            return self._block(
                event, caller, callee, channel, trace, "spoofed_domestic", detail,
                ReasonCode.SPOOFED_DOMESTIC_ON_INTERNATIONAL,
            )  # fmt: skip
        else:
            append(_NF_SPOOF_NOT_CN)

        # 40: international calls must keep their "00"/"+" prefix (AFL Art. 13 operational rule).
        if not international:
            append(_NF_MISSING_NOT_INTL)
        elif not caller.explicit_country_code:
            detail = f"caller ID {caller.raw!r} on an international gateway has no country code"
            return self._block(
                event, caller, callee, channel, trace, "missing_country_code", detail,
                ReasonCode.MISSING_COUNTRY_CODE,
            )  # fmt: skip
        else:
            append(_NF_MISSING_HAS_CC)

        # 50/60: unusable caller IDs are a verdict, never an exception.
        if caller.e164 is None:
            detail = f"caller ID {caller.raw!r}: {caller.invalid_reason}"
            return self._block(
                event, caller, callee, channel, trace, "unparseable_caller_id", detail,
                ReasonCode.UNPARSEABLE_CALLER_ID,
            )  # fmt: skip
        append(_NF_UNPARSEABLE)
        if not caller.valid:
            detail = f"caller ID {caller.e164}: {caller.invalid_reason}"
            return self._block(
                event, caller, callee, channel, trace, "invalid_caller_id", detail,
                ReasonCode.INVALID_CALLER_ID,
            )  # fmt: skip
        append(_NF_INVALID)

        # 70: registered enterprise and government numbers win over every list below.
        hit = self.allow.match(caller.e164) if len(self.allow) else None
        if hit is not None:
            detail = f"caller matches allow entry {hit.pattern} ({hit.source}: {hit.reason})"
            return self._finish(
                event, caller, callee, channel, trace, "allow_list", detail,
                Verdict.ALLOW_LABELLED if cross_border else Verdict.ALLOW,
                ReasonCode.ALLOW_LISTED,
            )  # fmt: skip
        append(_NF_ALLOW)

        # 80: deny lists, exact numbers first, then the longest prefix.
        hit = self.deny.match(caller.e164) if len(self.deny) else None
        if hit is not None:
            exact = hit.match is MatchKind.EXACT
            detail = (
                f"caller matches deny {'number' if exact else 'prefix'} {hit.pattern} "
                f"({hit.source}: {hit.reason})"
            )
            return self._block(
                event, caller, callee, channel, trace, "deny_list", detail,
                ReasonCode.DENY_LISTED_NUMBER if exact else ReasonCode.DENY_LISTED_PREFIX,
            )  # fmt: skip
        append(_NF_DENY)

        # 90: SMS content, only behind the deployment's legal gate.
        if channel is not Channel.SMS:
            append(_NF_CONTENT_NOT_SMS)
        elif not settings.content_inspection:
            append(_NF_CONTENT_GATE)
        elif self.content is None:
            append(_NF_CONTENT_NO_INSPECTOR)
        elif not event.text:
            append(_NF_CONTENT_NO_TEXT)
        else:
            finding = self._inspect(event.text)
            label = finding.verdict.strip().lower()
            detail = f"content {label} (score {finding.score:.2f}): {finding.detail}"
            if label == "scam":
                return self._block(
                    event, caller, callee, channel, trace, "content", detail,
                    ReasonCode.CONTENT_SCAM,
                )  # fmt: skip
            if label == "spam":
                if settings.spam_verdict == "block":
                    return self._block(
                        event, caller, callee, channel, trace, "content", detail,
                        ReasonCode.CONTENT_SPAM,
                    )  # fmt: skip
                return self._finish(
                    event, caller, callee, channel, trace, "content", detail,
                    Verdict.ALLOW_LABELLED, ReasonCode.CONTENT_SPAM,
                )  # fmt: skip
            append(_nf("content", detail))

        # 100: cross-border traffic: opt-in/opt-out, per-channel default, region overrides.
        if cross_border:
            return self._cross_border(event, caller, callee, channel, trace)
        append(_NF_CROSS_BORDER)

        # 110: ordinary traffic.
        return self._finish(
            event, caller, callee, channel, trace, "domestic",
            f"{caller.origin_label} caller, no rule objected",
            Verdict.ALLOW, ReasonCode.DOMESTIC,
        )  # fmt: skip

    def _cross_border(
        self,
        event: ScreeningEvent,
        caller: NumberInfo,
        callee: NumberInfo,
        channel: Channel,
        trace: list[RuleTrace],
    ) -> Decision:
        settings = self.settings
        origin = caller.origin_label
        record = self.optins.lookup(callee.e164, channel) if callee.e164 else None
        high_risk = caller.region is not None and (
            caller.region in settings.high_risk_countries or caller.high_risk_origin
        )
        risk_note = " (high-risk origin)" if high_risk else ""
        if record is not None and record.opted_in:
            detail = (
                f"caller from {origin}{risk_note}; callee opted in "
                f"({record.scope.value}, {record.at.isoformat()}, via {record.source})"
            )
            return self._finish(
                event, caller, callee, channel, trace, "cross_border", detail,
                Verdict.ALLOW_LABELLED, ReasonCode.CROSS_BORDER_OPTED_IN,
            )  # fmt: skip
        if record is not None:
            detail = (
                f"caller from {origin}{risk_note}; callee opted out "
                f"({record.scope.value}, {record.at.isoformat()}, via {record.source})"
            )
            return self._block(
                event, caller, callee, channel, trace, "cross_border", detail,
                ReasonCode.CROSS_BORDER_OPTED_OUT,
            )  # fmt: skip
        block, where = self._default_block(callee, channel)
        if block:
            detail = (
                f"caller from {origin}{risk_note}; no opt-in; cross-border "
                f"{_channel_word(channel)} blocked by default ({where})"
            )
            return self._block(
                event, caller, callee, channel, trace, "cross_border", detail,
                ReasonCode.CROSS_BORDER_DEFAULT_BLOCK,
            )  # fmt: skip
        if high_risk and settings.block_high_risk_unless_opted_in:
            detail = (
                f"caller from high-risk origin {origin}; default lifted ({where}) but "
                "high-risk origins need an opt-in"
            )
            return self._block(
                event, caller, callee, channel, trace, "cross_border", detail,
                ReasonCode.HIGH_RISK_ORIGIN,
            )  # fmt: skip
        detail = f"caller from {origin}{risk_note}; cross-border default off ({where})"
        return self._finish(
            event, caller, callee, channel, trace, "cross_border", detail,
            Verdict.ALLOW_LABELLED, ReasonCode.CROSS_BORDER_ALLOWED,
        )  # fmt: skip

    def _default_block(self, callee: NumberInfo, channel: Channel) -> tuple[bool, str]:
        settings = self.settings
        sms = channel is Channel.SMS
        block = settings.cross_border_block_sms if sms else settings.cross_border_block_calls
        where = "deployment default"
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
        return block, where

    def _inspect(self, text: str) -> ContentFinding:
        assert self.content is not None
        try:
            return self.content.inspect(text)
        except Exception as exc:  # a broken classifier must not stop delivery decisions
            return ContentFinding("ok", 0.0, f"content inspector failed: {type(exc).__name__}")

    # -- building decisions ----------------------------------------------------------------

    def _block(
        self,
        event: ScreeningEvent,
        caller: NumberInfo,
        callee: NumberInfo,
        channel: Channel,
        trace: list[RuleTrace],
        rule: str,
        detail: str,
        reason: ReasonCode,
    ) -> Decision:
        return self._finish(
            event, caller, callee, channel, trace, rule, detail, Verdict.BLOCK, reason
        )

    def _finish(
        self,
        event: ScreeningEvent,
        caller: NumberInfo,
        callee: NumberInfo,
        channel: Channel,
        trace: list[RuleTrace],
        rule: str,
        detail: str,
        verdict: Verdict,
        reason: ReasonCode,
    ) -> Decision:
        settings = self.settings
        index = _INDEX[rule]
        fired = RuleTrace(rule, RULES[index][1], True, detail)
        suffix = _SUFFIX[index]
        gate_off = channel is Channel.SMS and not settings.content_inspection
        if gate_off and index < _INDEX["content"]:
            suffix = tuple(
                RuleTrace(t.rule, t.priority, False, f"{t.detail}; {CONTENT_GATE_TEXT}")
                if t.rule == "content"
                else t
                for t in suffix
            )
        full_trace = (*trace, fired, *suffix)
        origin = caller.origin_label
        if verdict is Verdict.BLOCK:
            sip_status = SIP_BLOCK_STATUS
            sip_reason = f"Network Blocked; cause={reason.value}; appeal={settings.appeal_contact}"
        elif verdict is Verdict.ALLOW_LABELLED:
            sip_status = 0
            sip_reason = f"origin={origin}; cause={reason.value}"
        else:
            sip_status = 0
            sip_reason = ""
        message = self._message(caller, channel, verdict, reason, detail)
        if gate_off:
            message = f"{message} ({CONTENT_GATE_TEXT})"
        return Decision(
            verdict,
            reason,
            rule,
            sip_status,
            sip_reason,
            origin,
            caller,
            callee,
            full_trace,
            message,
            caller.origin_label_zh,
        )

    def _message(
        self,
        caller: NumberInfo,
        channel: Channel,
        verdict: Verdict,
        reason: ReasonCode,
        detail: str,
    ) -> str:
        settings = self.settings
        what = _channel_word(channel)
        appeal = f"If you think this is wrong, contact {settings.appeal_contact}."
        optin = f"To receive them, {settings.optin_instruction}."
        origin = caller.origin_label
        if verdict is not Verdict.BLOCK:
            if reason is ReasonCode.DOMESTIC:
                return f"Allowed {what} from {origin}."
            if reason is ReasonCode.CONTENT_SPAM:
                return f"Delivered, labelled as suspected spam: {detail}."
            if verdict is Verdict.ALLOW_LABELLED:
                return f"Allowed {what}, labelled with its origin: {origin}."
            return f"Allowed {what}: {detail}."
        if reason is ReasonCode.CROSS_BORDER_DEFAULT_BLOCK:
            return (
                f"Blocked a {what} from {origin}: {what}s from Hong Kong, Macao, Taiwan and "
                f"abroad are blocked by default. {optin} {appeal}"
            )
        if reason is ReasonCode.HIGH_RISK_ORIGIN:
            return f"Blocked a {what} from {origin}, a high-risk origin. {optin} {appeal}"
        if reason is ReasonCode.CROSS_BORDER_OPTED_OUT:
            return (
                f"Blocked a {what} from {origin}: you opted out of cross-border {what}s. "
                f"To opt in again, {settings.optin_instruction}."
            )
        if reason in (
            ReasonCode.SPOOFED_DOMESTIC_ON_INTERNATIONAL,
            ReasonCode.SERVICE_NUMBER_IMPERSONATION,
            ReasonCode.MISSING_COUNTRY_CODE,
        ):
            return f"Blocked a {what} with a forged caller ID (改号): {detail}. {appeal}"
        if reason in (ReasonCode.UNPARSEABLE_CALLER_ID, ReasonCode.INVALID_CALLER_ID):
            return f"Blocked a {what} with an invalid caller ID: {detail}. {appeal}"
        if reason in (ReasonCode.DENY_LISTED_NUMBER, ReasonCode.DENY_LISTED_PREFIX):
            return f"Blocked a {what} from a listed fraud number: {detail}. {appeal}"
        return f"Blocked a {what}: {detail}. {appeal}"
