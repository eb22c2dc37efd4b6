"""Screening policy: rule priorities, cross-border opt-ins, caller-ID integrity, SIP mapping."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telewarden.core.screening import (
    CONTENT_GATE_TEXT,
    RULES,
    Channel,
    ContentFinding,
    Ingress,
    ListEntry,
    MatchKind,
    NumberList,
    OptIn,
    OptInScope,
    PolicySettings,
    ReasonCode,
    RegionPolicy,
    Screener,
    ScreeningEvent,
    Verdict,
)

T0 = dt.datetime(2026, 5, 20, 8, 0, tzinfo=dt.UTC)
HK = "+85223456789"
SUB = "13800138000"
OPEN = PolicySettings(content_inspection=True, content_legal_basis="test: synthetic messages")
SUB_E164 = "+8613800138000"
INTL = Ingress.INTERNATIONAL


def _screener(**kwargs: object) -> Screener:
    deny = NumberList(
        [
            ListEntry("+8617100000000", MatchKind.EXACT, "police", "confirmed fraud"),
            ListEntry("+86171", MatchKind.PREFIX, "miit", "virtual operator range"),
            ListEntry("+85223456789", MatchKind.EXACT, "police", "HK fraud line"),
            ListEntry("+8613800138001", MatchKind.EXACT, "police", "stolen card"),
        ]
    )
    allow = NumberList(
        [
            ListEntry("+8617100000001", MatchKind.EXACT, "registry", "enterprise hotline"),
            ListEntry("+8695588", MatchKind.EXACT, "registry", "ICBC"),
        ]
    )
    return Screener(deny=deny, allow=allow, **kwargs)  # type: ignore[arg-type]


class FakeInspector:
    """Content inspector double: the verdict is the first word of the text."""

    def inspect(self, text: str) -> ContentFinding:
        word = text.split()[0]
        return ContentFinding(word, 0.9 if word != "ok" else 0.1, f"said {word}")


class BrokenInspector:
    def inspect(self, text: str) -> ContentFinding:
        raise RuntimeError("model file missing")


# caller, callee, channel, ingress, verdict, reason
POLICY_CASES = [
    ("domestic-mobile", "13900139000", SUB, Channel.CALL, Ingress.DOMESTIC,
     Verdict.ALLOW, ReasonCode.DOMESTIC),
    ("hk-blocked-by-default", "+85223456780", SUB, Channel.CALL, Ingress.INTERNATIONAL,
     Verdict.BLOCK, ReasonCode.CROSS_BORDER_DEFAULT_BLOCK),
    ("hk-sms-blocked-by-default", "+85223456780", SUB, Channel.SMS, Ingress.INTERNATIONAL,
     Verdict.BLOCK, ReasonCode.CROSS_BORDER_DEFAULT_BLOCK),
    ("taiwan-blocked", "+886912345678", SUB, Channel.CALL, INTL,
     Verdict.BLOCK, ReasonCode.CROSS_BORDER_DEFAULT_BLOCK),
    ("spoofed-mainland-on-intl", "+8613800138002", SUB, Channel.CALL, INTL,
     Verdict.BLOCK, ReasonCode.SPOOFED_DOMESTIC_ON_INTERNATIONAL),
    ("spoofed-national-form-on-intl", "13800138002", SUB, Channel.CALL, INTL,
     Verdict.BLOCK, ReasonCode.SPOOFED_DOMESTIC_ON_INTERNATIONAL),
    ("police-on-intl", "110", SUB, Channel.CALL, INTL,
     Verdict.BLOCK, ReasonCode.SERVICE_NUMBER_IMPERSONATION),
    ("bank-on-intl-despite-allow-list", "95588", SUB, Channel.CALL, INTL,
     Verdict.BLOCK, ReasonCode.SERVICE_NUMBER_IMPERSONATION),
    ("plus-110-domestic", "+110", SUB, Channel.CALL, Ingress.DOMESTIC,
     Verdict.BLOCK, ReasonCode.SERVICE_NUMBER_IMPERSONATION),
    ("96110-extended", "96110123", SUB, Channel.SMS, Ingress.DOMESTIC,
     Verdict.BLOCK, ReasonCode.SERVICE_NUMBER_IMPERSONATION),
    ("missing-country-code", "85223456789", SUB, Channel.CALL, INTL,
     Verdict.BLOCK, ReasonCode.MISSING_COUNTRY_CODE),
    ("unparseable", "unknown", SUB, Channel.CALL, Ingress.DOMESTIC,
     Verdict.BLOCK, ReasonCode.UNPARSEABLE_CALLER_ID),
    ("unallocated", "14812345678", SUB, Channel.CALL, Ingress.DOMESTIC,
     Verdict.BLOCK, ReasonCode.INVALID_CALLER_ID),
    ("deny-exact", "17100000000", SUB, Channel.CALL, Ingress.DOMESTIC,
     Verdict.BLOCK, ReasonCode.DENY_LISTED_NUMBER),
    ("deny-prefix", "17112345678", SUB, Channel.CALL, Ingress.DOMESTIC,
     Verdict.BLOCK, ReasonCode.DENY_LISTED_PREFIX),
    ("allow-beats-deny-prefix", "17100000001", SUB, Channel.CALL, Ingress.DOMESTIC,
     Verdict.ALLOW, ReasonCode.ALLOW_LISTED),
    ("bank-domestic-allowed", "95588", SUB, Channel.CALL, Ingress.DOMESTIC,
     Verdict.ALLOW, ReasonCode.ALLOW_LISTED),
    ("callee-110-spoofed-caller", "+8613800138002", "110", Channel.CALL, INTL,
     Verdict.ALLOW, ReasonCode.EMERGENCY_CALLEE),
    ("callee-120-deny-listed-caller", "17100000000", "120", Channel.CALL, Ingress.DOMESTIC,
     Verdict.ALLOW, ReasonCode.EMERGENCY_CALLEE),
    ("callee-96110-from-hk", HK, "96110", Channel.CALL, INTL,
     Verdict.ALLOW_LABELLED, ReasonCode.EMERGENCY_CALLEE),
    ("callee-122-impersonating-caller", "+110", "122", Channel.CALL, INTL,
     Verdict.ALLOW, ReasonCode.EMERGENCY_CALLEE),
    ("unknown-ingress-domestic-caller", "13900139000", SUB, Channel.CALL, Ingress.UNKNOWN,
     Verdict.ALLOW, ReasonCode.DOMESTIC),
]  # fmt: skip


@pytest.mark.parametrize(
    ("caller", "callee", "channel", "ingress", "verdict", "reason"),
    [c[1:] for c in POLICY_CASES],
    ids=[c[0] for c in POLICY_CASES],
)
def test_policy_table(
    caller: str,
    callee: str,
    channel: Channel,
    ingress: Ingress,
    verdict: Verdict,
    reason: ReasonCode,
) -> None:
    d = _screener().decide(ScreeningEvent(caller, callee, channel, ingress))
    assert (d.verdict, d.reason) == (verdict, reason)
    assert d.sip_status == (603 if verdict is Verdict.BLOCK else 0)


def test_blocks_hong_kong_call_without_opt_in() -> None:
    d = Screener().decide(ScreeningEvent(HK, SUB))
    assert d.verdict is Verdict.BLOCK
    assert d.reason is ReasonCode.CROSS_BORDER_DEFAULT_BLOCK
    assert d.origin == "Hong Kong"
    assert d.sip_reason == "Network Blocked; cause=cross_border_default_block; appeal=10086"
    assert "text 1219 to 10086" in d.message


def test_opt_in_takes_effect_at_once_and_labels_origin() -> None:
    screener = Screener()
    event = ScreeningEvent(HK, SUB, Channel.CALL, INTL)
    assert screener.decide(event).verdict is Verdict.BLOCK
    screener.optins.set(OptIn(SUB_E164, OptInScope.CALLS, True, T0))
    d = screener.decide(event)
    assert (d.verdict, d.reason, d.origin) == (
        Verdict.ALLOW_LABELLED,
        ReasonCode.CROSS_BORDER_OPTED_IN,
        "Hong Kong",
    )
    assert d.sip_status == 0
    assert screener.decide(ScreeningEvent(HK, SUB, Channel.SMS, INTL)).verdict is Verdict.BLOCK
    screener.optins.remove(SUB_E164, OptInScope.CALLS)
    assert screener.decide(event).verdict is Verdict.BLOCK


def test_opt_out_blocks_even_where_the_default_allows() -> None:
    screener = Screener(PolicySettings(cross_border_block_calls=False))
    event = ScreeningEvent("+442079460958", SUB, Channel.CALL, INTL)
    assert screener.decide(event).reason is ReasonCode.CROSS_BORDER_ALLOWED
    screener.optins.set(OptIn(SUB_E164, OptInScope.BOTH, False, T0))
    assert screener.decide(event).reason is ReasonCode.CROSS_BORDER_OPTED_OUT


def test_latest_opt_record_covering_the_channel_wins() -> None:
    screener = Screener()
    screener.optins.set(OptIn(SUB_E164, OptInScope.BOTH, True, T0))
    screener.optins.set(OptIn(SUB_E164, OptInScope.SMS, False, T0 + dt.timedelta(hours=1)))
    assert screener.decide(ScreeningEvent(HK, SUB, Channel.CALL)).verdict is (
        Verdict.ALLOW_LABELLED
    )
    assert screener.decide(ScreeningEvent(HK, SUB, Channel.SMS)).verdict is Verdict.BLOCK


def test_region_override_lifts_the_default_for_one_province() -> None:
    policy = PolicySettings(
        region_overrides={"Beijing": RegionPolicy(cross_border_block_calls=False)}
    )
    screener = Screener(policy)
    beijing = screener.decide(ScreeningEvent("+442079460958", SUB))  # 138 0013 is Beijing
    jiangsu = screener.decide(ScreeningEvent("+442079460958", "13912345678"))
    assert beijing.reason is ReasonCode.CROSS_BORDER_ALLOWED
    assert beijing.verdict is Verdict.ALLOW_LABELLED
    assert jiangsu.reason is ReasonCode.CROSS_BORDER_DEFAULT_BLOCK


def test_high_risk_origin_stays_blocked_unless_opted_in() -> None:
    screener = Screener(PolicySettings(cross_border_block_calls=False))
    event = ScreeningEvent("+85512345678", SUB, Channel.CALL, INTL)
    d = screener.decide(event)
    assert (d.verdict, d.reason, d.origin) == (
        Verdict.BLOCK,
        ReasonCode.HIGH_RISK_ORIGIN,
        "Cambodia",
    )
    screener.optins.set(OptIn(SUB_E164, OptInScope.CALLS, True, T0))
    d = screener.decide(event)
    assert d.verdict is Verdict.ALLOW_LABELLED
    assert "high-risk" in d.trace[-2].detail


def test_switching_sms_default_off_is_picked_up_by_next_decision() -> None:
    screener = Screener()
    event = ScreeningEvent(HK.replace("9", "0"), SUB, Channel.SMS, INTL)
    assert screener.decide(event).verdict is Verdict.BLOCK
    screener.settings.cross_border_block_sms = False
    assert screener.decide(event).verdict is Verdict.ALLOW_LABELLED


def test_trace_lists_every_rule_once_in_priority_order() -> None:
    d = _screener().decide(ScreeningEvent("17112345678", SUB))
    assert [(t.rule, t.priority) for t in d.trace] == list(RULES)
    fired = [t for t in d.trace if t.fired]
    assert [t.rule for t in fired] == ["deny_list"] == [d.rule]
    assert "virtual operator range" in fired[0].detail
    assert all(t.detail.startswith("not reached") for t in d.trace[8:])


@pytest.mark.parametrize(
    ("text", "verdict", "reason"),
    [
        ("scam pay now", Verdict.BLOCK, ReasonCode.CONTENT_SCAM),
        ("spam buy", Verdict.ALLOW_LABELLED, ReasonCode.CONTENT_SPAM),
        ("ok hello", Verdict.ALLOW, ReasonCode.DOMESTIC),
    ],
    ids=["scam", "spam", "ok"],
)
def test_content_rule_applies_to_sms_text(text: str, verdict: Verdict, reason: ReasonCode) -> None:
    screener = Screener(OPEN, content=FakeInspector())
    d = screener.decide(ScreeningEvent("13900139000", SUB, Channel.SMS, text=text))
    assert (d.verdict, d.reason) == (verdict, reason)


def test_spam_can_be_blocked_by_setting() -> None:
    policy = OPEN.model_copy(update={"spam_verdict": "block"})
    screener = Screener(policy, content=FakeInspector())
    d = screener.decide(ScreeningEvent("13900139000", SUB, Channel.SMS, text="spam x"))
    assert (d.verdict, d.reason) == (Verdict.BLOCK, ReasonCode.CONTENT_SPAM)


def test_the_content_gate_is_closed_by_default() -> None:
    assert PolicySettings().content_inspection is False
    screener = Screener(content=FakeInspector())
    d = screener.decide(ScreeningEvent("13900139000", SUB, Channel.SMS, text="scam pay now"))
    assert d.verdict is Verdict.ALLOW
    assert CONTENT_GATE_TEXT in d.message and "content_legal_basis" in CONTENT_GATE_TEXT


def test_the_content_gate_opens_only_with_a_legal_basis() -> None:
    with pytest.raises(ValueError, match="needs content_legal_basis"):
        PolicySettings(content_inspection=True)
    with pytest.raises(ValueError, match="--legal-basis"):
        PolicySettings(content_inspection=True, content_legal_basis="   ")
    # A document stored open before a basis was required loads closed.
    assert not PolicySettings.from_stored({"content_inspection": True}).content_inspection


def test_content_gate_off_is_stated_in_trace_and_message() -> None:
    screener = Screener(PolicySettings(content_inspection=False), content=FakeInspector())
    d = screener.decide(ScreeningEvent("13900139000", SUB, Channel.SMS, text="scam pay now"))
    assert d.verdict is Verdict.ALLOW
    assert CONTENT_GATE_TEXT in d.message
    assert any(t.rule == "content" and CONTENT_GATE_TEXT in t.detail for t in d.trace)
    blocked = screener.decide(ScreeningEvent("unknown", SUB, Channel.SMS, text="scam"))
    assert CONTENT_GATE_TEXT in blocked.message
    assert any(t.rule == "content" and CONTENT_GATE_TEXT in t.detail for t in blocked.trace)


def test_content_rule_does_not_touch_calls() -> None:
    screener = Screener(OPEN, content=FakeInspector())
    d = screener.decide(ScreeningEvent("13900139000", SUB, Channel.CALL, text="scam"))
    assert d.verdict is Verdict.ALLOW


def test_broken_inspector_does_not_raise() -> None:
    screener = Screener(OPEN, content=BrokenInspector())
    d = screener.decide(ScreeningEvent("13900139000", SUB, Channel.SMS, text="hello"))
    assert d.verdict is Verdict.ALLOW
    assert any("content inspector failed" in t.detail for t in d.trace)


def test_list_changes_take_effect_at_once() -> None:
    screener = Screener()
    event = ScreeningEvent("13900139000", SUB)
    assert screener.decide(event).verdict is Verdict.ALLOW
    screener.deny.add(ListEntry("+8613900139000", MatchKind.EXACT, "ops", "reported"))
    assert screener.decide(event).reason is ReasonCode.DENY_LISTED_NUMBER
    screener.deny.remove("+8613900139000")
    assert screener.decide(event).verdict is Verdict.ALLOW


def test_memoised_and_plain_screeners_agree() -> None:
    events = [ScreeningEvent(c[1], c[2], c[3], c[4]) for c in POLICY_CASES] * 2
    fast = _screener().decide_many(events)
    plain = _screener(memoise=False).decide_many(events)
    assert [d.to_dict() for d in fast] == [d.to_dict() for d in plain]


def test_decision_to_dict_is_json_ready() -> None:
    d = Screener().decide(ScreeningEvent(HK, SUB, Channel.CALL, INTL))
    payload = json.loads(json.dumps(d.to_dict(), ensure_ascii=False))
    for key in ("verdict", "reason", "rule", "sip_status", "sip_reason", "origin", "trace"):
        assert key in payload
    assert payload["caller"]["e164"] == HK
    assert payload["verdict"] == "block"


def test_accepts_plain_strings_for_channel_and_ingress() -> None:
    event = ScreeningEvent("+8613800138002", SUB, "sms", "international")  # type: ignore[arg-type]
    d = Screener().decide(event)
    assert d.reason is ReasonCode.SPOOFED_DOMESTIC_ON_INTERNATIONAL


@given(
    caller=st.text(max_size=25),
    callee=st.text(max_size=25),
    channel=st.sampled_from(list(Channel)),
    ingress=st.sampled_from(list(Ingress)),
    text=st.none() | st.text(max_size=20),
)
@settings(max_examples=300, deadline=None)
def test_decide_never_raises(
    caller: str, callee: str, channel: Channel, ingress: Ingress, text: str | None
) -> None:
    d = _SHARED.decide(ScreeningEvent(caller, callee, channel, ingress, text=text))
    assert d.verdict in Verdict
    assert sum(t.fired for t in d.trace) == 1
    assert d.message


_SHARED = _screener(content=FakeInspector())


def test_optional_decision_memo_is_dropped_when_opt_ins_change() -> None:
    screener = Screener(cache_size=100)
    event = ScreeningEvent(HK, SUB)
    first = screener.decide(event)
    assert screener.decide(event) is first
    screener.optins.set(OptIn(SUB_E164, OptInScope.BOTH, True, T0))
    assert screener.decide(event).verdict is Verdict.ALLOW_LABELLED


def test_region_override_accepts_chinese_province_names() -> None:
    policy = PolicySettings(region_overrides={"江苏": RegionPolicy(cross_border_block_calls=False)})
    screener = Screener(policy)
    jiangsu = screener.decide(ScreeningEvent("+442079460958", "13912345678"))
    beijing = screener.decide(ScreeningEvent("+442079460958", SUB))
    assert jiangsu.reason is ReasonCode.CROSS_BORDER_ALLOWED
    assert beijing.reason is ReasonCode.CROSS_BORDER_DEFAULT_BLOCK
