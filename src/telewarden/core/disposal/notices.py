"""Notices to the subscriber, in Chinese and English.

AFL Art. 32 (O18): whoever restricts or suspends a card states the reason, the remedy channel
and the documents to submit, and the subscriber may appeal. AFL Art. 11 (O4) and the 2021
notice (O4a): re-verification has a deadline. The joint punishment measures (O17a, Art. 12):
a credit listing is notified in writing with its basis, term, measures and the right of appeal.
A notice never quotes the detector's evidence (O22: what the monitoring saw stays inside).

Examples
--------
>>> import datetime as dt
>>> from telewarden.core.disposal.model import Approval, Measure, MeasureKind, MeasureState
>>> at = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
>>> m = Measure("M1", "C1", "+8613800138000", MeasureKind.REVERIFY, MeasureState.IN_FORCE,
...             Approval.AUTOMATIC, "fraud_abnormal", "10000", ("id_document",), at, "policy",
...             in_force_at=at, deadline=at + dt.timedelta(hours=24))
>>> "2026-12-02 16:00" in render_measure_notice(m, "zh").body   # Beijing time
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from telewarden.core.disposal.model import LiftReason, Measure, MeasureKind
from telewarden.core.errors import InvalidInputError

__all__ = [
    "LANGUAGES",
    "Notice",
    "REASONS",
    "render_credit_notice",
    "render_lift_notice",
    "render_measure_notice",
]

LANGUAGES = ("zh", "en")
BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")
"""Deadlines are written in the subscriber's local time (China Standard Time, UTC+8)."""

REASONS: dict[str, dict[str, str]] = {
    "fraud_abnormal": {
        "zh": "您的号码经监测识别存在涉诈异常情形",
        "en": "monitoring identified your number as showing fraud-related abnormal activity",
    },
    "unverified": {
        "zh": "您未在规定期限内完成重新实名核验",
        "en": "you did not complete real-name re-verification by the deadline",
    },
    "police_referral": {
        "zh": "公安机关通报您的号码涉嫌电信网络诈骗",
        "en": "the police reported your number as involved in telecom fraud",
    },
    "id_limit": {
        "zh": "您名下电话卡数量超出国家规定",
        "en": "the cards registered under your ID exceed the national limit",
    },
    "credit_listing": {
        "zh": "您的身份证件已被依法纳入电信网络诈骗信用惩戒名单",
        "en": "your ID document has been entered in the telecom-fraud credit list",
    },
}

DOCUMENT_NAMES: dict[str, dict[str, str]] = {
    "id_document": {"zh": "本人有效身份证件原件", "en": "your valid ID document (original)"},
    "card_in_hand": {"zh": "涉及的电话卡", "en": "the card concerned"},
    "live_face_check": {
        "zh": "本人到场或线上完成实人认证（人脸核验）",
        "en": "a live face check, in person or online",
    },
    "statement_of_use": {
        "zh": "号码使用情况说明",
        "en": "a written statement of how the number is used",
    },
    "fraud_risk_declaration": {
        "zh": "签署的防范电信网络诈骗风险告知书",
        "en": "a signed fraud-risk declaration",
    },
}

MEASURE_NAMES: dict[MeasureKind, dict[str, str]] = {
    MeasureKind.WARN: {"zh": "风险提示", "en": "a risk warning"},
    MeasureKind.REVERIFY: {"zh": "重新实名核验", "en": "real-name re-verification"},
    MeasureKind.RESTRICT: {
        "zh": "限制呼出电话和发送短信（紧急呼叫除外）",
        "en": "a restriction of outgoing calls and SMS (emergency calls excepted)",
    },
    MeasureKind.SUSPEND: {
        "zh": "暂停电话卡功能（紧急呼叫除外）",
        "en": "suspension of the card (emergency calls excepted)",
    },
}

_LIFT_NAMES: dict[LiftReason, dict[str, str]] = {
    LiftReason.REVERIFIED: {"zh": "您已完成重新实名核验", "en": "you completed re-verification"},
    LiftReason.APPEAL_UPHELD: {"zh": "您的申诉经核查成立", "en": "your appeal was upheld"},
    LiftReason.RELEASED: {"zh": "经人工复核", "en": "after review by our staff"},
    LiftReason.CLEARED: {"zh": "经核查不属于涉诈情形", "en": "the case was cleared"},
}


@dataclass(frozen=True, slots=True)
class Notice:
    """A rendered notice: what the SMS gateway or the letter carries."""

    msisdn: str
    lang: str
    subject: str
    body: str


def _check(lang: str) -> None:
    if lang not in LANGUAGES:
        raise InvalidInputError(f"notice language must be one of {', '.join(LANGUAGES)}")


def _local(at: dt.datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _reason(code: str, lang: str) -> str:
    category = code.split(":", 1)[0]
    return REASONS.get(category, REASONS["fraud_abnormal"])[lang]


def render_measure_notice(measure: Measure, lang: str) -> Notice:
    """The notice of a measure in force: reason, measure, deadline, documents, remedy, appeal."""
    _check(lang)
    what = MEASURE_NAMES[measure.kind][lang]
    reason = _reason(measure.reason, lang)
    docs = [DOCUMENT_NAMES.get(d, {"zh": d, "en": d})[lang] for d in measure.documents]
    expires = measure.expires_at
    if lang == "zh":
        lines = [f"【号码安全提示】尊敬的用户（{measure.msisdn}）：因{reason}，"]
        lines.append(
            f"依据《中华人民共和国反电信网络诈骗法》第十一条、第三十二条，对您的号码采取{what}。"
        )
        if measure.deadline is not None:
            lines.append(
                f"请于{_local(measure.deadline)}（北京时间）前完成重新实名核验，逾期未核验将暂停号码功能。"
            )
            if measure.blocks_while_pending:
                lines.append("核验完成前，呼出电话和短信暂受限制（紧急呼叫除外）。")
        if expires is not None:
            lines.append(f"该措施至{_local(expires)}（北京时间）到期。")
        if docs:
            lines.append("需提交的资料：" + "；".join(docs) + "。")
        lines.append(f"救济渠道：{measure.remedy_channel}。")
        lines.append("如有异议，您可以通过上述渠道提出申诉；核查通过的，我们将即时解除有关措施。")
        lines.append(f"（编号 {measure.case_id}/{measure.id}）")
        subject = f"号码处置通知：{what}"
    else:
        lines = [f"Dear customer ({measure.msisdn}): because {reason}, we have applied {what}"]
        lines.append(
            "to your number under Articles 11 and 32 of the PRC Anti-Telecom and Online Fraud Law."
        )
        if measure.deadline is not None:
            lines.append(
                f"Please re-verify your identity before {_local(measure.deadline)} (Beijing time); "
                "if you do not, the card will be suspended."
            )
            if measure.blocks_while_pending:
                lines.append(
                    "Until you do, outgoing calls and SMS are restricted (emergency calls excepted)."
                )
        if expires is not None:
            lines.append(f"The measure ends on {_local(expires)} (Beijing time).")
        if docs:
            lines.append("Documents to bring: " + "; ".join(docs) + ".")
        lines.append(f"Remedy channel: {measure.remedy_channel}.")
        lines.append(
            "You may appeal through the same channel; if the review finds in your favour, "
            "the measure is lifted at once."
        )
        lines.append(f"(Reference {measure.case_id}/{measure.id})")
        subject = f"Notice of {what}"
    return Notice(measure.msisdn, lang, subject, "\n".join(lines))


def render_lift_notice(measure: Measure, lang: str) -> Notice:
    """The notice that a measure was lifted (or expired)."""
    _check(lang)
    what = MEASURE_NAMES[measure.kind][lang]
    why = _LIFT_NAMES[measure.lift_reason][lang] if measure.lift_reason else ""
    when = _local(measure.ended_at) if measure.ended_at else ""
    if lang == "zh":
        body = f"尊敬的用户（{measure.msisdn}）：{why}，您号码的{what}已于{when}（北京时间）解除。"
        subject = "号码处置解除通知"
    else:
        because = f"{why}: " if why else ""
        body = f"Dear customer ({measure.msisdn}): {because}{what} on your number ended on {when} (Beijing time)."
        subject = "Notice: measure lifted"
    return Notice(
        measure.msisdn, lang, subject, f"{body}\n(Reference {measure.case_id}/{measure.id})"
    )


def render_credit_notice(
    *,
    subject_ref: str,
    basis: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    term_years: int,
    remedy_channel: str,
    lang: str,
) -> Notice:
    """The written notice of a credit listing: basis, term, measures, appeal right (O17a)."""
    _check(lang)
    basis_text = {
        "fraud": {
            "zh": "因从事电信网络诈骗活动受过刑事处罚",
            "en": "a criminal conviction for telecom fraud",
        },
        "card_trading": {
            "zh": "经公安机关认定非法买卖、出租、出借电话卡",
            "en": "a police finding of selling, renting or lending phone cards",
        },
    }.get(basis, {"zh": basis, "en": basis})[lang]
    if lang == "zh":
        body = (
            f"当事人（证件 {subject_ref}）：依据《反电信网络诈骗法》第三十一条及《电信网络诈骗及其关联违法犯罪联合惩戒办法》，"
            f"因{basis_text}，自{_local(starts_at)}至{_local(ends_at)}（{term_years}年）对您采取惩戒措施："
            "暂停办理新电话卡、限制既有电话卡的非柜面业务和新业务（保留基本通信服务）。"
            f"如有异议，可通过{remedy_channel}提出申诉，或依法申请信用修复；期满自动解除。"
        )
        subject = "信用惩戒书面告知"
    else:
        body = (
            f"To the holder of ID {subject_ref}: under Article 31 of the Anti-Telecom and Online "
            f"Fraud Law and the joint punishment measures, on the basis of {basis_text}, from "
            f"{_local(starts_at)} to {_local(ends_at)} ({term_years} years) no new card will be "
            "sold to you and non-counter and new business on your existing cards is restricted "
            "(basic telecom service is kept). You may appeal through "
            f"{remedy_channel} or apply for credit repair; the listing ends automatically."
        )
        subject = "Written notice of credit listing"
    return Notice(subject_ref, lang, subject, body)
