"""Warning texts: one SMS template per fraud type, in Chinese and English.

What belongs here: the templates and :func:`render`, which fills them in and refuses a text
that breaks the two rules every anti-fraud warning follows: **no link of any kind** (a warning
with a link teaches people to tap links in SMS, and a smisher can copy it) and **no phone number
but the official anti-fraud hotline 96110** (the subject is named only by its last four digits,
so nobody is invited to call it back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telewarden.core.errors import InvalidInputError
from telewarden.core.warning.exposure import text_subjects
from telewarden.core.warning.risk import FraudType

__all__ = ["HOTLINE", "TEMPLATES", "WarningText", "check_text", "render", "subject_tail"]

HOTLINE = "96110"
"""The national anti-fraud hotline of the public security organs (domain.md, AFL Art. 8)."""


@dataclass(frozen=True, slots=True)
class WarningText:
    """A rendered warning in both languages, with the template it came from."""

    template: str
    zh: str
    en: str


# {who_zh}/{who_en} name the subject without a callable number or a link.
TEMPLATES: dict[FraudType, tuple[str, str]] = {
    FraudType.WANGIRI: (
        "【反诈预警】您刚收到的{who_zh}未接来电是境外高额扣费诈骗电话，请勿回拨。"
        "如已回拨或有疑问，请拨打反诈专线96110。",
        "[Anti-fraud alert] The missed call you just had from {who_en} is a premium-rate "
        "scam from abroad. Do not call it back. If you did, or are unsure, call the anti-fraud "
        "hotline 96110.",
    ),
    FraudType.FRAUD_CALL: (
        "【反诈预警】与您通话的{who_zh}已被认定为诈骗电话。公检法、银行、客服不会要求您转账、"
        "提供验证码或下载软件。请勿转账，如有疑问请拨打反诈专线96110。",
        "[Anti-fraud alert] The caller {who_en} who spoke to you has been identified as a "
        "fraudster. Police, banks and customer service never ask you to transfer money, give a "
        "code or install an app. Do not transfer money; if unsure call the hotline 96110.",
    ),
    FraudType.SPOOFED_CALL: (
        "【反诈预警】您接到的{who_zh}来电冒用了国内、银行或公安号码，实为境外诈骗电话。"
        "请勿按对方要求操作或转账，如有疑问请拨打反诈专线96110。",
        "[Anti-fraud alert] The call from {who_en} used a fake domestic, bank or police "
        "number and came from abroad. Do not follow its instructions or transfer money; if "
        "unsure call the hotline 96110.",
    ),
    FraudType.ROBOCALL: (
        "【反诈预警】您接到的{who_zh}语音来电是诈骗录音，请勿按键、回拨或转账。"
        "如有疑问请拨打反诈专线96110。",
        "[Anti-fraud alert] The recorded call from {who_en} is a scam. Do not press any "
        "key, call back or transfer money; if unsure call the hotline 96110.",
    ),
    FraudType.SMISHING: (
        "【反诈预警】您收到的{who_zh}短信是诈骗短信，请勿点击其中链接、下载软件、填写银行卡或"
        "验证码。如已操作，请立即拨打反诈专线96110。",
        "[Anti-fraud alert] The text you received {who_en} is a scam. Do not open its link, "
        "install any app or enter card details or codes. If you did, call the anti-fraud "
        "hotline 96110 now.",
    ),
}
TEMPLATES[FraudType.UNKNOWN] = TEMPLATES[FraudType.FRAUD_CALL]

_DIGIT_RUN_RE = re.compile(r"\d+")


def subject_tail(subject: str, subject_kind: str) -> tuple[str, str]:
    """How a text names the subject: the last four digits of a number, nothing of a link.

    Examples
    --------
    >>> subject_tail("+23225848160", "msisdn")
    ('尾号8160的', 'ending 8160')
    >>> subject_tail("etc-renz.com", "domain")
    ('含可疑链接的', 'with a suspicious link')
    """
    digits = "".join(ch for ch in subject if ch.isdigit())
    if subject_kind in ("msisdn", "sender") and len(digits) >= 4:
        return f"尾号{digits[-4:]}的", f"ending {digits[-4:]}"
    if subject_kind == "wallet":
        return "含收款账户的", "with a payment account"
    return "含可疑链接的", "with a suspicious link"


def check_text(text: str, allowed_digits: tuple[str, ...] = ()) -> None:
    """Raise ``InvalidInputError`` when ``text`` holds a link or a number other than 96110.

    Examples
    --------
    >>> check_text("请拨打96110")
    >>> check_text("请访问 www.example.com")
    Traceback (most recent call last):
    ...
    telewarden.core.errors.InvalidInputError: warning text holds a link: 'example.com'
    """
    subjects = text_subjects(text)
    if subjects:
        raise InvalidInputError(f"warning text holds a link: {subjects[0][0]!r}")
    for run in _DIGIT_RUN_RE.findall(text):
        if run != HOTLINE and run not in allowed_digits:
            raise InvalidInputError(f"warning text holds a number other than {HOTLINE}: {run!r}")


def render(fraud_type: FraudType, subject: str, subject_kind: str) -> WarningText:
    """The warning SMS for a subscriber exposed to ``subject``, checked against the rules."""
    zh_template, en_template = TEMPLATES.get(fraud_type, TEMPLATES[FraudType.UNKNOWN])
    who_zh, who_en = subject_tail(subject, subject_kind)
    zh = zh_template.format(who_zh=who_zh)
    en = en_template.format(who_en=who_en)
    tail = tuple(run for run in _DIGIT_RUN_RE.findall(who_en))
    check_text(zh, tail)
    check_text(en, tail)
    return WarningText(str(fraud_type), zh, en)
