"""Early-warning core: exposure, risk, templates, the policy gate and the engine together."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telewarden.core.errors import InvalidInputError
from telewarden.core.ports import Flag
from telewarden.core.warning import (
    ContactSummary,
    FraudType,
    RiskBand,
    RiskModel,
    WarningEngine,
    WarningPolicy,
)
from telewarden.core.warning.exposure import text_subjects
from telewarden.core.warning.policy import Channel, WarningGate, in_quiet_hours
from telewarden.core.warning.risk import Risk
from telewarden.core.warning.templates import HOTLINE, TEMPLATES, check_text, render

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 Beijing time
FRAUD = "+8617000000000"
WANGIRI = "+23225848160"
SUB = [f"+86138000000{i:02d}" for i in range(40)]


def _min(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def _flag(subject: str, source: str, at: dt.datetime, kind: str = "msisdn") -> Flag:
    return Flag(subject, kind, source, at, "test")


def test_a_flag_warns_whoever_had_a_long_call_with_the_number_before_it() -> None:
    engine = WarningEngine()
    engine.on_call(1, FRAUD, SUB[0], T0, 5, 900, True)  # hooked: 15 min
    engine.on_call(2, FRAUD, SUB[1], T0, 5, 8, True)  # hung up after 8 s
    engine.on_call(3, SUB[2], SUB[3], T0, 5, 900, True)  # unrelated
    warnings = engine.on_flag(_flag(FRAUD, "new_card_burst", T0 + _min(30)))
    assert [(w.msisdn, w.band, w.signal) for w in warnings] == [
        (SUB[0], "high", "answered_long_call")
    ]
    assert warnings[0].call_at is not None and "call" in warnings[0].channels
    decisions = {e.msisdn: e.decision for e in engine.queue}
    assert decisions == {SUB[0]: "warn", SUB[1]: "below_threshold"}


def test_a_record_after_the_flag_is_assessed_at_once_and_a_call_is_known_at_its_end() -> None:
    engine = WarningEngine()
    engine.on_flag(_flag(FRAUD, "sim_bank_imei", T0))
    [warning] = engine.on_call(9, FRAUD, SUB[0], T0 + _min(5), 4, 600, True)
    assert warning.created_at == T0 + _min(5) + dt.timedelta(seconds=604)
    assert warning.record_id == 9


def test_wangiri_ring_recipients_are_warned_not_to_call_back_even_at_night() -> None:
    night = dt.datetime(2026, 3, 1, 19, 0, tzinfo=dt.UTC)  # 03:00 Beijing
    engine = WarningEngine()
    for i in range(5):
        engine.on_call(i, WANGIRI, SUB[i], night, 2, 0, False, "international")
    warnings = engine.on_flag(_flag(WANGIRI, "wangiri", night + _min(1)))
    assert len(warnings) == 5
    assert all(w.send_at == night + _min(1) for w in warnings)  # urgent: quiet hours yield
    assert all(w.template == "wangiri" and w.call_at is None for w in warnings)
    assert "请勿回拨" in warnings[0].text_zh and "8160" in warnings[0].text_en


def test_a_spoofed_caller_id_does_not_expose_the_real_owners_contacts() -> None:
    owner = "+8613912345678"
    engine = WarningEngine()
    engine.on_call(1, owner, SUB[0], T0, 5, 900, True, "on_net")  # the owner's friend
    engine.on_call(2, SUB[1], owner, T0, 5, 900, True, "on_net")  # someone calling the owner
    engine.on_call(3, owner, SUB[2], T0, 5, 900, True, "international")  # the spoofer
    warnings = engine.on_flag(_flag(owner, "intl_surge", T0 + _min(10)))
    assert [w.msisdn for w in warnings] == [SUB[2]]
    assert warnings[0].subject == owner


def test_a_flagged_card_is_never_warned_and_a_second_flag_changes_nothing() -> None:
    other = "+8617000000001"
    engine = WarningEngine()
    engine.on_call(1, FRAUD, other, T0, 5, 900, True)
    engine.on_flag(_flag(other, "sim_bank_imei", T0))
    assert engine.on_flag(_flag(FRAUD, "sim_bank_imei", T0 + _min(1))) == []
    assert engine.on_flag(_flag(FRAUD, "sim_bank_static", T0 + _min(2))) == []
    assert engine.counts.repeated_flags == 1


def test_links_in_scam_sms_expose_their_recipients_through_a_domain_flag() -> None:
    engine = WarningEngine(risk=RiskModel(medium_at=0.001))
    engine.on_sms(1, "+85591920260", SUB[0], T0, "【ETC】请登录 http://etc-renz.com/rz 认证")
    engine.on_sms(2, "106900001111", SUB[1], T0, "您的快递到了")
    warnings = engine.on_flag(_flag("etc-renz.com", "case", T0 + _min(3), kind="domain"))
    assert [w.msisdn for w in warnings] == [SUB[0]]
    assert warnings[0].template == "smishing"
    assert "etc-renz" not in warnings[0].text_zh + warnings[0].text_en


def test_text_subjects_finds_hosts_and_wallets_but_not_plain_chinese() -> None:
    assert text_subjects("您的验证码是123456，5分钟内有效。") == []
    assert text_subjects("见 www.Zw-ICBC.com.cn/x") == [("zw-icbc.com.cn", "domain")]
    wallet = "0x52908400098527886E0F7030069857D2E4169EE7"
    assert text_subjects(f"转到 {wallet} 即可") == [(wallet, "wallet")]


@pytest.mark.parametrize(
    ("summary", "fraud_type", "band"),
    [
        pytest.param(
            dict(answered_calls=1, longest_answered_s=900),
            FraudType.FRAUD_CALL,
            RiskBand.HIGH,
            id="hooked-call-high",
        ),
        pytest.param(
            dict(missed_calls=1), FraudType.WANGIRI, RiskBand.MEDIUM, id="wangiri-ring-medium"
        ),
        pytest.param(dict(callbacks=1), FraudType.WANGIRI, RiskBand.HIGH, id="premium-callback"),
        pytest.param(
            dict(missed_calls=1), FraudType.FRAUD_CALL, RiskBand.LOW, id="missed-card-call-low"
        ),
        pytest.param(dict(sms=1), FraudType.SMISHING, RiskBand.LOW, id="one-scam-sms-low"),
    ],
)
def test_risk_bands_follow_the_strongest_contact(
    summary: dict[str, int], fraud_type: FraudType, band: RiskBand
) -> None:
    risk = RiskModel().assess(ContactSummary(T0, T0, **summary), fraud_type, now=T0)
    assert risk.band is band
    assert risk.reasons and risk.reasons[-1] == f"fraud type {fraud_type}"


def test_risk_decays_with_time_and_rises_with_history_and_age() -> None:
    model = RiskModel()
    s = ContactSummary(T0, T0, answered_calls=1, longest_answered_s=150)
    base = model.assess(s, FraudType.FRAUD_CALL, now=T0).score
    assert model.assess(s, FraudType.FRAUD_CALL, now=T0 + dt.timedelta(hours=6)).score == (
        pytest.approx(base / 2)
    )
    older = model.assess(s, FraudType.FRAUD_CALL, now=T0, earlier_exposures=1, age_band="65+")
    assert older.score == pytest.approx(base * 1.5 * 1.5)
    assert any("age band 65+" in r for r in older.reasons)


@pytest.mark.parametrize("fraud_type", list(TEMPLATES), ids=str)
@pytest.mark.parametrize("kind", ["msisdn", "sender", "domain", "wallet"])
def test_every_template_has_no_link_and_no_number_but_the_hotline(
    fraud_type: FraudType, kind: str
) -> None:
    subject = {"domain": "zw-icbc.com.cn", "wallet": "T" + "A" * 33}.get(kind, "+85591920260")
    text = render(fraud_type, subject, kind)
    for body in (text.zh, text.en):
        assert HOTLINE in body
        assert text_subjects(body) == []
        assert "0260" in body or kind in ("domain", "wallet")


def test_check_text_refuses_another_number() -> None:
    with pytest.raises(InvalidInputError, match="other than 96110"):
        check_text("请拨打 95588 核实")


def test_quiet_hours_defer_what_is_not_urgent_and_calls_wait_for_the_morning() -> None:
    night = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)  # 23:30 Beijing
    gate = WarningGate(WarningPolicy())
    calm = gate.plan(SUB[0], "k", Risk(0.05, RiskBand.MEDIUM, False, "scam_sms", ()), night)
    assert calm.send_at == dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)  # 08:00 Beijing
    hot = gate.plan(SUB[1], "k", Risk(0.3, RiskBand.HIGH, True, "answered_long_call", ()), night)
    assert hot.send_at == night and hot.call_at == dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
    assert Channel.CALL in hot.channels


def test_sms_rate_limit_moves_warnings_to_the_next_minute_and_per_subscriber_limit() -> None:
    gate = WarningGate(WarningPolicy(sms_per_minute=2, max_per_subscriber_per_day=2))
    risk = Risk(0.05, RiskBand.MEDIUM, True, "missed_call_wangiri", ())
    times = [gate.plan(m, "k", risk, T0).send_at for m in SUB[:3]]
    assert times == [T0, T0, T0 + _min(1)]
    assert gate.plan(SUB[0], "k2", risk, T0).reason == "warn"
    assert gate.plan(SUB[0], "k3", risk, T0).reason == "subscriber_limit"


# --- properties over random traffic ----------------------------------------------------------

_numbers = st.sampled_from([FRAUD, WANGIRI, "+8617000000009", *SUB[:6]])
_calls = st.lists(
    st.tuples(
        _numbers,
        _numbers,
        st.integers(0, 48 * 60),  # minute of the call
        st.integers(0, 1800),
        st.booleans(),
        st.sampled_from(["on_net", "international"]),
    ),
    max_size=40,
)
_flags = st.lists(
    st.tuples(
        st.sampled_from([FRAUD, WANGIRI, "+8617000000009"]),
        st.sampled_from(["wangiri", "sim_bank_imei", "robocall", "intl_surge"]),
        st.integers(0, 48 * 60),
    ),
    max_size=6,
)


def _run(calls: list, flags: list) -> tuple[WarningEngine, list, set[tuple[str, str]]]:
    engine = WarningEngine()
    events = [(c[2], 1, c) for c in calls] + [(f[2], 0, f) for f in flags]
    warnings = []
    contacts: set[tuple[str, str]] = set()
    for i, (minute, kind, item) in enumerate(sorted(events, key=lambda e: (e[0], e[1]))):
        at = T0 + _min(minute)
        if kind == 0:
            warnings += engine.on_flag(_flag(item[0], item[1], at))
        else:
            caller, callee, _m, dur, answered, ingress = item
            if caller == callee:
                continue
            contacts.add((callee, caller))
            contacts.add((caller, callee))
            warnings += engine.on_call(i, caller, callee, at, 3, dur, answered, ingress)
    return engine, warnings, contacts


@settings(max_examples=60, deadline=None)
@given(_calls, _flags)
def test_nobody_is_warned_twice_per_campaign_nor_without_contact(calls: list, flags: list) -> None:
    _engine, warnings, contacts = _run(calls, flags)
    keys = [(w.msisdn, w.campaign_key) for w in warnings]
    assert len(keys) == len(set(keys))
    for w in warnings:
        assert (w.msisdn, w.subject) in contacts
        # A card flagged later may have been warned as a victim before; never after its flag.
        flagged_at = [T0 + _min(f[2]) for f in flags if f[0] == w.msisdn]
        assert not flagged_at or w.created_at < min(flagged_at)


@settings(max_examples=60, deadline=None)
@given(_calls, _flags)
def test_quiet_hours_hold_for_every_warning_that_is_not_urgent(calls: list, flags: list) -> None:
    engine, warnings, _contacts = _run(calls, flags)
    policy = engine.gate.policy
    for w in warnings:
        if w.call_at is not None:
            assert not in_quiet_hours(w.call_at, policy)
        if w.signal in ("answered_short_call", "missed_call", "scam_sms", "scam_link_sms"):
            assert not in_quiet_hours(w.send_at, policy)
        assert w.send_at >= w.created_at
