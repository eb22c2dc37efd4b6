"""The SMS model, the scam rule and the screening ContentInspector."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telewarden.core.errors import InvalidInputError
from telewarden.core.sms.classifier import FeatureConfig, SmsModel, best_f1_threshold, fit_model
from telewarden.core.sms.fraud_typer import ScamEvidence
from telewarden.core.sms.inspector import (
    ContentVerdict,
    ScamRule,
    SmsClassifier,
    SmsContentInspector,
    SmsResult,
    _new_result,
)

from . import sms_reference as ref
from .sms_reference import sms_texts

HAM = [
    "妈，我今晚不回家吃饭了",
    "明天早上八点开会，别迟到",
    "ok see you at the station later",
    "晚饭吃什么？我买菜回去",
    "Are you coming to the party tonight?",
    "周末一起去爬山吧",
    "记得带伞，今天下雨",
    "I'll call you when I get home",
    "孩子的作业写完了吗",
    "生日快乐！晚上一起吃蛋糕",
] * 3
SPAM = [
    "【某商城】全场五折优惠，点击领取优惠券，回复TD退订",
    "新店开业大酬宾，会员充值送好礼，详询xxxxxxxx",
    "FREE entry to win a prize! Text WIN to 80086 now",
    "Congratulations you have won a cash prize, call now to claim",
    "楼盘特价房源，首付低至xx万，欢迎来电咨询",
    "【某银行】信用卡分期优惠活动火热进行中，回复TD退订",
    "URGENT! Your mobile has won a bonus, call 09061701461",
    "美容院周年庆，护理项目八折，预约电话xxxxxxxx",
    "亲爱的会员，积分兑换好礼，点击链接参与",
    "Get cheap loans today, reply YES for info",
] * 3
SMALL = FeatureConfig(char_ngrams=(1, 3), word_ngrams=(1, 1), char_bits=16, word_bits=12)


@pytest.fixture(scope="module")
def model() -> SmsModel:
    texts = [f"{t} {i}" for i, t in enumerate(HAM + SPAM)]
    return fit_model(texts, [0] * len(HAM) + [1] * len(SPAM), config=SMALL, c=10.0)


def test_model_separates_marketing_from_chat(model: SmsModel) -> None:
    p = model.score_many(["全场五折优惠，点击领取优惠券", "妈，我晚点回家"])
    assert p[0] > model.threshold_ > p[1]


def test_threshold_is_chosen_by_inner_cross_validation(model: SmsModel) -> None:
    assert 0.05 <= model.threshold_ <= 0.95
    assert model.meta["threshold"] == model.threshold_


def test_fit_refuses_a_single_class() -> None:
    with pytest.raises(InvalidInputError):
        fit_model(["a", "b"], [1, 1], config=SMALL)
    with pytest.raises(InvalidInputError):
        fit_model(["a", "b"], [1], config=SMALL)


def test_best_threshold_maximises_f1() -> None:
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.6, 0.7, 0.8])
    # F1 is 1.0 for any threshold in (0.6, 0.7]; the middle of that plateau is chosen.
    assert 0.6 < best_f1_threshold(y, p) <= 0.7
    assert best_f1_threshold(y, p) == pytest.approx(0.65, abs=0.011)


def test_explain_names_ngrams_of_the_message(model: SmsModel) -> None:
    feats = model.explain("全场五折优惠", top_k=5)
    assert len(feats) == 5
    assert all(name.startswith(("'", "word:")) for name, _ in feats)
    assert any("优惠" in name or "五折" in name for name, _ in feats)


def test_etc_smishing_with_lookalike_domain_is_scam(model: SmsModel) -> None:
    clf = SmsClassifier(model)
    res = clf.classify("【ETC】您的ETC已失效，请于24小时内登录 etc-renz.com 认证，逾期停用")
    assert res.verdict is ContentVerdict.SCAM
    assert res.fraud_types and res.fraud_types[0].code == "NV-05"
    assert any(i.value == "etc-renz.com" for i in res.indicators)


def test_family_chat_is_ok(model: SmsModel) -> None:
    assert SmsClassifier(model).classify("妈，我今晚不回家吃饭了，给猫喂点吃的").verdict == "ok"


def test_spam_without_scam_evidence_stays_spam(model: SmsModel) -> None:
    res = SmsClassifier(model).classify("美容院周年庆，护理项目八折，欢迎光临")
    assert res.verdict is ContentVerdict.SPAM
    assert res.fraud_types == ()


def test_scam_rule_thresholds_are_configurable(model: SmsModel) -> None:
    text = "【ETC】您的ETC已失效，请于24小时内登录 etc-renz.com 认证，逾期停用"
    strict = SmsClassifier(model, rule=ScamRule(with_score=100.0, alone=100.0))
    assert strict.classify(text).verdict is not ContentVerdict.SCAM


def test_content_inspector_plugs_into_the_real_screener(model: SmsModel) -> None:
    from telewarden.core.screening import (
        Channel,
        ContentInspector,
        Ingress,
        PolicySettings,
        Screener,
        ScreeningEvent,
    )

    inspector = SmsContentInspector(SmsClassifier(model))
    assert isinstance(inspector, ContentInspector)
    finding = inspector.inspect("【ETC】您的ETC已失效，请于24小时内登录 etc-renz.com 认证")
    assert finding.verdict == "scam" and "NV-05" in finding.fraud_types
    opened = PolicySettings(content_inspection=True, content_legal_basis="test: synthetic")
    screener = Screener(opened, content=inspector)  # the legal gate is closed by default
    decision = screener.decide(
        ScreeningEvent(
            caller="+8613800138000",
            callee="+8613900139000",
            channel=Channel.SMS,
            ingress=Ingress.DOMESTIC,
            text="【ETC】您的ETC已失效，请于24小时内登录 etc-renz.com 认证，逾期停用",
        )
    )
    assert decision.reason == "content_scam"


def test_inspecting_a_batch_gives_the_same_findings_as_one_by_one(model: SmsModel) -> None:
    inspector = SmsContentInspector(SmsClassifier(model))
    texts = [
        "【ETC】您的ETC已失效，请于24小时内登录 etc-renz.com 认证，逾期停用",
        "妈，周末回来看你",
        "WINNER!! Claim your prize now at http://bit.ly/xyz",
        "",
    ]
    assert inspector.inspect_many(texts) == [inspector.inspect(t) for t in texts]
    assert [f.verdict for f in inspector.inspect_many(texts[:2])] == ["scam", "ok"]


def test_fast_result_is_the_same_frozen_result() -> None:
    evidence = ScamEvidence(1.5, ("brand:ICBC",))
    args = (ContentVerdict.SPAM, 0.75, 0.5, (), evidence, ())
    fast, plain = _new_result(*args), SmsResult(*args)
    assert fast == plain
    assert hash(fast) == hash(plain)
    assert repr(fast) == repr(plain)
    assert [getattr(fast, f.name) for f in fields(SmsResult)] == [
        getattr(plain, f.name) for f in fields(SmsResult)
    ]
    with pytest.raises(FrozenInstanceError):
        fast.score = 0.1  # type: ignore[misc]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.one_of(sms_texts(), st.sampled_from(HAM + SPAM)), max_size=12))
def test_classify_many_gives_what_the_plain_code_gives(model: SmsModel, texts: list[str]) -> None:
    clf = SmsClassifier(model)
    assert clf.classify_many(texts) == ref.reference_classify_many(clf, texts)
