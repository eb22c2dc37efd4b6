"""The fraud taxonomy table, its mappings and the lexicon typer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telewarden.core.errors import NotFoundError
from telewarden.core.sms.fraud_typer import _CASE_ODD_RE, _CUES_WITH_NEEDLES, FraudTyper
from telewarden.core.sms.fraud_types_data import DATASET_LABELS
from telewarden.core.sms.fraudtypes import (
    TAXONOMY,
    by_code,
    code_for_dataset_label,
    code_for_official,
)

from . import sms_reference as ref
from .sms_reference import sms_texts

DOMAIN_DOC = Path(__file__).resolve().parents[3].parent / "shared" / "docs" / "domain.md"


def test_taxonomy_matches_every_row_of_domain_section_b_with_its_chinese_name() -> None:
    if not DOMAIN_DOC.is_file():
        pytest.skip(f"domain brief not found at {DOMAIN_DOC}")
    text = DOMAIN_DOC.read_text(encoding="utf-8")
    section = text[text.index("## (b) Fraud taxonomy") : text.index("## (c)")]
    rows = re.findall(r"^\| ([A-Z]{2,3}-\d{2})[^|]*\| [^|]+\| ([^|]+?) \|", section, re.M)
    assert len(rows) >= 50  # the brief's table, not a parse that silently found nothing
    for code, name_zh in rows:
        assert code in TAXONOMY, code
        assert TAXONOMY[code].name_zh == name_zh.strip(), code


def test_taxonomy_group_sizes_match_the_brief() -> None:
    groups = {c.split("-")[0] for c in TAXONOMY}
    assert {"HI", "NV", "IMP", "SHP", "LUR", "EMG", "LIF"} <= groups
    assert len([c for c in TAXONOMY if c.startswith("HI-")]) == 11
    assert len([c for c in TAXONOMY if c.startswith("NV-")]) == 8
    assert len([c for c in TAXONOMY if not c.startswith(("HI-", "NV-", "XT-"))]) == 37


def test_every_type_has_names_definition_channels_and_cues() -> None:
    for ft in TAXONOMY.values():
        assert ft.name_en and ft.name_zh and ft.definition and ft.channels and ft.lexicon
        assert re.fullmatch(r"[A-Z]{2,3}-\d{2}", ft.code)


def test_dataset_labels_map_to_known_codes() -> None:
    for mapping in DATASET_LABELS.values():
        for code in mapping.values():
            assert code is None or code in TAXONOMY


def test_fraud_texts_classes_map_to_the_expected_types() -> None:
    assert code_for_dataset_label("fraud_texts_zh", "冒充公检法及政府机关类") == "HI-05"
    assert code_for_dataset_label("fraud_texts_zh", "normal") is None
    assert len([v for v in DATASET_LABELS["fraud_news_zh"].values() if v]) == 12


def test_unknown_codes_raise_not_found() -> None:
    with pytest.raises(NotFoundError):
        by_code("ZZ-99")
    with pytest.raises(NotFoundError):
        code_for_dataset_label("fraud_texts_zh", "nope")
    assert code_for_official("MPS-1") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("【ETC】您的ETC已失效，请于24小时内登录 etc-renz.com 认证，逾期停用", "NV-05"),
        (
            "您好，我是XX市公安局的警官，您的身份证涉嫌洗钱案件，请将资金转入安全账户配合调查",
            "HI-05",
        ),
        ("无抵押低息贷款，额度高，当天放款，需先交手续费", "HI-03"),
        ("我是淘宝客服，您购买的商品有质量问题，现为您办理退款理赔", "HI-04"),
        ("小王，我是你们张总，换了新微信，急用一笔钱帮忙转账给财务", "HI-08"),
        ("招聘兼职刷单，日结佣金，手机就能做", "HI-01"),
        ("您的航班已取消，请致电400改签领取补偿", "HI-11"),
    ],
    ids=["etc", "police", "loan", "customer-service", "boss", "brushing", "flight"],
)
def test_typer_ranks_the_right_type_first(text: str, code: str) -> None:
    ranked = FraudTyper().rank(text)
    assert ranked and ranked[0].code == code


def test_typer_reports_nothing_for_family_chat() -> None:
    assert FraudTyper().rank("妈，周末回家吃饭，记得带伞") == ()


def test_evidence_counts_indicators_and_requests() -> None:
    typer = FraudTyper()
    weak = typer.evidence("周末促销，全场八折")
    strong = typer.evidence("您的账户异常，请24小时内提供验证码到安全账户")
    assert strong.score > weak.score
    assert any(c.startswith("request:") for c in strong.cues)


# The fast paths of the scam evidence (substring needles before each cue row, a substring
# test before the Latin brand alternation) against the code as it was.
_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_TYPER = FraudTyper()
_REFERENCE_TYPER = ref.ReferenceTyper()
_REFERENCE_EXTRACTOR = ref.ReferenceExtractor()


@_SETTINGS
@given(text=st.one_of(sms_texts(), st.text(max_size=40)), anchor=st.booleans())
def test_evidence_gives_what_the_plain_code_gives(text: str, anchor: bool) -> None:
    norm = ref.normalise(text)
    indicators = _REFERENCE_EXTRACTOR.extract(norm, normalised=True)
    for t in (text, norm):
        assert _TYPER.evidence(t, indicators, require_anchor=anchor) == (
            _REFERENCE_TYPER.evidence(t, indicators, require_anchor=anchor)
        )
        assert _TYPER.evidence(t, require_anchor=anchor) == _REFERENCE_TYPER.evidence(
            t, require_anchor=anchor
        )
        assert bool(_TYPER._brand(t)) == bool(_REFERENCE_TYPER._brand(t))
        assert (_TYPER._brand(t) or None) == (_REFERENCE_TYPER._brand(t) or None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_cue_match_contains_one_of_its_needles(data: st.DataObject) -> None:
    row = data.draw(st.sampled_from(range(len(_CUES_WITH_NEEDLES))))
    (_, pattern, _), needles = _CUES_WITH_NEEDLES[row]
    text = data.draw(st.from_regex(pattern))
    assert pattern.search(text)
    if needles is not None and not _CASE_ODD_RE.search(text):
        assert any(n in text.lower() for n in needles), (row, text)


@pytest.mark.parametrize(
    "text",
    ["please verİfy now", "account ſuspended", "your parcel is blocKed", "FREE prıze", "CVV?"],
)
def test_characters_that_fold_onto_ascii_letters_still_find_their_cues(text: str) -> None:
    assert _TYPER.evidence(text) == _REFERENCE_TYPER.evidence(text)


# Issue #17: scam evidence beyond brand impersonation. A scheme cue anchors the scam rule
# for messages the model scores ok, the way a brand or a risky indicator does.
@pytest.mark.parametrize(
    "text",
    [
        "正规网投平台，下注即返水，每日提款无上限",  # gambling
        "代开各类发票，增值税专用，税点低，可查可验",  # fake invoices
        "办理各类证件，毕业证、学位证，可查可验",  # fake IDs
        "淘宝刷单兼职，一单一结，日结佣金，宝妈学生均可",  # part-time jobs
        "无抵押信用贷款，秒批秒到账，黑户也可，不看征信",  # loans
        "稳赚不赔，每日收益3%，导师带单，加入投资群",  # investment returns
        "Welcome bonus: first deposit doubled, 100 free spins at our casino, jackpot daily",
        "Part-time job, work from home, earn $300 daily, commission paid every day",
        "Hi Mum, lost my phone, this is my new number. Can you help me pay a bill? Send £200",
        "Fraud team: move your savings to a safe account now, transfer the balance today",
    ],
)
def test_schemes_anchor_the_rule_without_a_brand(text: str) -> None:
    evidence = FraudTyper().evidence(text, require_anchor=True)
    assert any(c.startswith("scheme:") for c in evidence.cues)
    assert evidence.score >= 4.0  # 4.5 (ScamRule.alone) with one further cue of any kind


def test_a_scheme_counts_more_for_each_further_phrase() -> None:
    typer = FraudTyper()
    one = typer.evidence("正规平台，每日提款无上限，下注即可").score
    three = typer.evidence("正规网投平台，下注即返水，每日提款无上限").score
    assert three == one + 2.0


def test_wallet_scams_reach_the_rule_without_a_brand() -> None:
    from telewarden.core.sms.indicators import IndicatorExtractor

    text = (
        "ETH airdrop: send any amount to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, we double it"
    )
    indicators = IndicatorExtractor().extract(text)
    assert FraudTyper().evidence(text, indicators, require_anchor=True).score >= 4.5


@pytest.mark.parametrize(
    "text",
    [
        "妈，周末回家吃饭，记得带伞",
        "我在申请房贷，下午去银行",
        "Can you pick up milk on the way home?",
        "Running late, book us a slot at the gym",
    ],
)
def test_ordinary_messages_have_no_scheme_anchor(text: str) -> None:
    assert FraudTyper().evidence(text, require_anchor=True).score == 0.0
