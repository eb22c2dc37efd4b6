"""Legitimate transactional notices kept ``ok`` without the sender registry (issue #17)."""

from __future__ import annotations

import pytest

from telewarden.core.sms.indicators import IndicatorExtractor
from telewarden.core.sms.inspector import ContentVerdict, SmsClassifier
from telewarden.core.sms.normalise import normalise
from telewarden.core.sms.notices import notice_kind

_EXTRACTOR = IndicatorExtractor()


def _kind(text: str) -> str | None:
    norm = normalise(text)
    return notice_kind(norm, _EXTRACTOR.extract(norm, normalised=True), _EXTRACTOR.official_domains)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("【淘宝】验证码582910，您正在登录，5分钟内有效，请勿泄露给他人。", "otp"),
        ("Your verification code is 482917. Do not share this code with anyone.", "otp"),
        ("【农业银行】您尾号3321账户12月1日转出人民币200.00元，余额5,120.33元。", "account"),
        (
            "Nationwide: GBP 25.00 debited from your account ending 1123. Balance GBP 402.10",
            "account",
        ),
        ("【韵达快递】您的快件已到达小区驿站，取件码7-3-2201，请及时领取。", "parcel"),
        ("Your order will be delivered today between 9:00 and 10:00. Track at dhl.com", "parcel"),
        ("Reminder: your appointment at the clinic is on Monday at 10:15.", "booking"),
        ("【公安】提醒：凡是要求您转账到安全账户的都是诈骗，请勿轻信。", "advisory"),
    ],
)
def test_notices_of_every_shape_are_recognised(text: str, kind: str) -> None:
    assert _kind(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        # The same shapes dressed up as scams or marketing.
        "【建设银行】您尾号6688的储蓄卡支出58.00元，如有疑问请点击链接解冻",
        "【工商银行】您的账户余额100.00元已冻结，请立即联系客服",
        "Your parcel will be delivered today. Pay the 1.99 fee at royalmail-fee.top",
        "Your parcel will be delivered today, track at bit.ly/3xYz12",
        "【某商城】您的账户余额58.00元，全场八折优惠，回T退订",
        "【中通】您的快件已到达驿站，取件码8823，详情 [链接]",
        "您好，我是反诈中心的，您的账户涉嫌洗钱，请配合调查并下载APP",
        "Barclays: payment of £1,250.00 pending. If this wasn't you call our fraud team now",
        "Your code is 4821. Send it to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed to verify",
        "妈，我今晚不回家吃饭了",
    ],
)
def test_scams_marketing_and_chats_are_not_notices(text: str) -> None:
    assert _kind(text) is None


def test_a_notice_link_must_be_on_the_brands_own_domain() -> None:
    assert _kind("【顺丰速运】您的快件已签收，详情 https://www.sf-express.com") == "parcel"
    assert _kind("【顺丰速运】您的快件已签收，详情 https://www.sf-expresss.top") is None


def test_the_classifier_keeps_spam_scored_notices_ok() -> None:
    class AlwaysSpam:
        """A model that calls every message spam, as zh_sms taught ours to call notices."""

        def score_many(self, texts: list[str], *, prepared: bool = False) -> list[float]:
            return [0.99] * len(texts)

        def thresholds_for(self, texts: list[str]) -> list[float]:
            return [0.5] * len(texts)

    clf = SmsClassifier(AlwaysSpam())  # type: ignore[arg-type]
    notice, otp, ad, scam = clf.classify_many(
        [
            "【建设银行】您尾号6688的储蓄卡12月3日工资收入人民币8,500.00元，活期余额12,031.20元。",
            "【支付宝】验证码428193，您正在登录，5分钟内有效，请勿泄露给他人。",
            "【某商城】全场五折优惠，点击领取优惠券，回复TD退订",
            "【支付宝】验证码428193，请立即转发给客服以便解冻账户",
        ]
    )
    assert notice.verdict is ContentVerdict.OK and otp.verdict is ContentVerdict.OK
    assert ad.verdict is ContentVerdict.SPAM
    assert scam.verdict is ContentVerdict.SCAM
