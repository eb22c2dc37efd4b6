"""Zero-shot fraud typing and scam evidence from hand-written lexicons and indicators.

What belongs here: ranking the fraud types of the taxonomy for a scam message or a free-text
case report (:class:`FraudTyper`), and the generic scam-evidence score (requests for codes or
transfers, threats, urgency, impersonated brands, risky indicators) that turns a ``spam``
score into a ``scam`` verdict. Everything is lexicon-based and was written from
``domain.md`` (b) and (e); nothing here is trained on the evaluation-only sets, which is what
lets it ship.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ahocorasick

from telewarden.core.sms.fraud_types_data import PARENT_TYPES
from telewarden.core.sms.fraudtypes import TAXONOMY, FraudType
from telewarden.core.sms.indicators import DEFAULT_BRANDS, SCAM_KINDS, Brand, Indicator

__all__ = ["FraudTyper", "ScamEvidence", "TypeScore"]


@dataclass(frozen=True, slots=True)
class TypeScore:
    """One ranked fraud type.

    Parameters
    ----------
    code : str
        Project code of the type.
    name_en : str
        English name.
    score : float
        Relative strength in ``[0, 1)``: ``raw / (raw + 4)`` of the summed cue weights.
    cues : tuple[str, ...]
        The text fragments that matched.
    """

    code: str
    name_en: str
    score: float
    cues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScamEvidence:
    """Generic evidence that a message is fraud rather than marketing.

    Parameters
    ----------
    score : float
        Sum of the weights of the cues found (0 = none).
    cues : tuple[str, ...]
        Human-readable cues, e.g. ``request:验证码`` or ``indicator:brand_in_domain``.
    """

    score: float
    cues: tuple[str, ...]


# (family, pattern, weight). Families: request = asks for data, money or an action that
# banks and police never ask for by SMS; threat = account or service about to stop;
# urgency = deadline; lure = prize or refund bait. Weights are hand-set, see the model card.
_GENERIC_CUES: tuple[tuple[str, str, float], ...] = (
    ("request", r"验证码|动态码|校验码", 2.0),
    ("request", r"安全账户|安全帐户", 3.0),
    ("request", r"屏幕共享|共享屏幕", 3.0),
    ("request", r"(?:银行)?卡号|身份证号|密码|cvv", 1.5),
    ("request", r"转账|汇款|打款|垫付|保证金|解冻|手续费", 1.5),
    ("request", r"加.{0,3}(?:微信|qq|QQ|客服)|警用QQ", 1.0),
    ("request", r"下载.{0,8}(?:app|APP|客户端|软件|安全控件)|安装.{0,6}(?:app|APP|控件|软件)", 1.5),
    ("request", r"登录|登陆|认证|验证|激活", 1.0),
    ("threat", r"失效|停用|冻结|注销|锁定|异常|过期|停机|欠费|逮捕|涉嫌|违法|洗钱", 1.5),
    ("urgency", r"\d+\s*小时内|今日内|今天内|逾期|限期|尽快处理|立即处理|否则", 1.0),
    ("lure", r"中奖|获奖|理赔|赔偿|退款|退税|补贴|补助|领取|日结|刷单|返利|高收益|内幕", 1.5),
    ("lure", r"贷款|额度|无抵押|征信|校园贷", 1.5),
    ("request", r"\bverif(?:y|ication)\b|\bconfirm your\b|\bsecurity code\b|\bpassword\b", 1.5),
    ("threat", r"\bsuspend|\blocked\b|\bunusual activity\b|\bexpire[sd]?\b|\bblocked\b", 1.5),
    ("urgency", r"\burgent\b|\bimmediately\b|\bwithin \d+ ?h", 1.0),
    ("lure", r"\bwon\b|\bwinner\b|\bprize\b|\bselected\b|\brefund\b", 1.5),
    ("lure", r"\bparcel\b|\bpackage\b|\bdelivery\b|\bcustoms\b", 1.0),
    ("request", r"\bclaim\b|\bredeem\b|\bredeliver", 1.0),
    ("request", r"\bpay\b.{0,40}\bfee\b|\bfee\b.{0,20}\bpay", 1.5),
    # UK premium-rate numbers (09...), the payment rail of the prize texts in uci_sms.
    ("request", r"\b(?:call|text|ring|dial)\s+0?9\d{8,9}\b", 1.5),
    # The English smishing of 2021-2025 (parcel fees, tolls, bank alerts, refunds, KYC,
    # crypto): where to act, what is threatened, and the bait.
    ("request", r"\blog ?(?:in|on)\b|\bsign ?in\b|\bupdate (?:your )?(?:payment|billing|card|details|address|information)", 1.0),
    ("threat", r"\bunauthori[sz]ed\b|\bunpaid\b|\boverdue\b|\bdisconnected\b|\bfrozen\b|\bon hold\b|\blate fee\b|\bpenalty\b|\bfinal notice\b", 1.5),
    ("lure", r"\bgift card\b|\bpre-?approved\b|\bfree spins\b|\b\d+ ?% (?:daily|weekly|monthly) returns?\b", 1.5),
    ("request", r"\bkyc\b|\bpan card\b|\bgas fee\b", 1.5),
)  # fmt: skip
# One compiled pattern per row: CPython's re skips ahead on a literal prefix per pattern,
# which a single alternation of named groups defeats (measured 45 against 18 us/message).
_LATIN_LETTER_RE = re.compile("[A-Za-z]")
_COMPILED_CUES = tuple((fam, re.compile(p, re.IGNORECASE), w) for fam, p, w in _GENERIC_CUES)
# For each row of _GENERIC_CUES, lower-case fragments of which every match contains one:
# a row is searched only when one of them is in the lower-cased message (a substring test
# is a fast C scan; the Latin rows start with \b and the case-insensitive ones cannot
# skip ahead, 2-7 us each). tests/unit/core/test_sms_fraudtypes.py checks them against
# strings generated from each pattern.
# "|"-separated; empty (None): no needles, the row is a plain alternation of Chinese words
# that re scans as fast as the substring tests.
_CUE_NEEDLES: tuple[tuple[str, ...] | None, ...] = tuple(
    tuple(row.split("|")) if row else None
    for row in (
        "验证码|动态码|校验码",
        "安全账户|安全帐户",
        "屏幕共享|共享屏幕",
        "卡号|身份证号|密码|cvv",
        "转账|汇款|打款|垫付|保证金|解冻|手续费",
        "加|警用",
        "下载|安装",
        "",
        "",
        "小时内|今日内|今天内|逾期|限期|尽快处理|立即处理|否则",
        "中奖|获奖|理赔|赔偿|退款|退税|补贴|补助|领取|日结|刷单|返利|高收益|内幕",
        "贷款|额度|无抵押|征信|校园贷",
        "verif|confirm your|security code|password",
        "suspend|locked|unusual activity|expire",
        "urgent|immediately|within ",
        "won|winner|prize|selected|refund",
        "parcel|package|delivery|customs",
        "claim|redeem|redeliver",
        "fee",
        "call|text|ring|dial",
        "log|sign|update ",
        "unauthori|unpaid|overdue|disconnected|frozen|on hold|late fee|penalty|final notice",
        "gift card|approved|free spins|return",
        "kyc|pan card|gas fee",
    )
)
# Characters that re.IGNORECASE matches to an ASCII letter but that str.lower() does not
# turn into it (dotted and dotless i, long s, Kelvin sign): with one of them in the text the
# needles are not trusted and every row is searched.
_CASE_ODD_RE = re.compile("[\u0130\u0131\u017f\u212a]")
_CUES_WITH_NEEDLES = tuple(zip(_COMPILED_CUES, _CUE_NEEDLES, strict=True))


# Returned for the common case (no anchor); frozen, so one shared instance is safe.
_NO_EVIDENCE = ScamEvidence(0.0, ())


class FraudTyper:
    """Rank fraud types and measure scam evidence with hand-written lexicons.

    Parameters
    ----------
    taxonomy : Mapping[str, FraudType]
        Types to rank (default: the whole taxonomy).
    brands : Iterable[Brand]
        Brand lexicon for impersonation cues.
    min_raw : float
        Minimum summed cue weight for a type to be reported.

    Examples
    --------
    >>> t = FraudTyper()
    >>> [s.code for s in t.rank("【ETC】您的ETC已失效，请于24小时内登录认证", top_k=1)]
    ['NV-05']
    >>> t.evidence("妈，我今晚不回家吃饭了").score
    0.0
    """

    def __init__(
        self,
        taxonomy: Mapping[str, FraudType] = TAXONOMY,
        *,
        brands: Iterable[Brand] = DEFAULT_BRANDS,
        min_raw: float = 2.0,
    ) -> None:
        self.taxonomy = taxonomy
        self.brands = tuple(brands)
        self.min_raw = min_raw
        names = sorted({n for b in self.brands for n in b.names}, key=len, reverse=True)
        # Plain literal alternations (no look-arounds) keep re's fast literal scan; Latin
        # names are then checked as whole words, so "EMS" does not fire inside "items".
        self._cjk_re = re.compile("|".join(re.escape(n) for n in names if not n.isascii()))
        self._latin_names = tuple(n.lower() for n in names if n.isascii())
        self._latin_re = re.compile("|".join(re.escape(n) for n in self._latin_names))
        # Whether any Latin name is in a message, in one pass: with the 78 Latin-script names
        # of the lexicon a substring test per name made the brand look-up 6.9 us a message,
        # with the automaton (about 1.5 us of it) 2.2 us.
        self._latin_automaton = ahocorasick.Automaton()
        for name in self._latin_names:
            self._latin_automaton.add_word(name, name)
        if self._latin_names:
            self._latin_automaton.make_automaton()

    def _brand(self, text: str) -> str | None:
        m = self._cjk_re.search(text)
        if m:
            return m.group(0)
        if _LATIN_LETTER_RE.search(text):
            if not self._latin_names:
                return None
            lower = text.lower()
            # The alternation only finds what the automaton finds first (and cheaper).
            if next(self._latin_automaton.iter(lower), None) is None:
                return None
            for m in self._latin_re.finditer(lower):
                before = lower[m.start() - 1] if m.start() else " "
                after = lower[m.end()] if m.end() < len(lower) else " "
                if not ("a" <= before <= "z" or "a" <= after <= "z"):
                    return m.group(0)
        return None

    def raw_scores(self, text: str) -> dict[str, tuple[float, tuple[str, ...]]]:
        """Summed cue weight and matched fragments for every type with at least one cue."""
        out: dict[str, tuple[float, tuple[str, ...]]] = {}
        for code, ftype in self.taxonomy.items():
            raw = 0.0
            cues: list[str] = []
            for pattern, weight in ftype.lexicon:
                m = pattern.search(text)
                if m:
                    raw += weight
                    cues.append(m.group(0))
            if raw:
                out[code] = (raw, tuple(cues))
        return out

    def rank(self, text: str, top_k: int = 3) -> tuple[TypeScore, ...]:
        """Fraud types ranked by cue strength, strongest first (at most ``top_k``).

        Parameters
        ----------
        text : str
            A scam message or a free-text case report (normalised or raw).
        top_k : int
            How many types to return.
        """
        raw = self.raw_scores(text)
        ranked = sorted(raw.items(), key=lambda kv: (-kv[1][0], kv[0]))
        out: list[TypeScore] = []
        for code, (r, cues) in ranked:
            if r < self.min_raw or len(out) >= top_k:
                break
            if any(t.code == code for t in out):
                continue
            out.append(TypeScore(code, self.taxonomy[code].name_en, round(r / (r + 4.0), 4), cues))
            parent = PARENT_TYPES.get(code)
            if (
                parent is not None
                and parent in self.taxonomy
                and all(t.code != parent for t in out)
            ):
                # A variant is also an instance of its high-incidence type, scored just below.
                ptype = self.taxonomy[parent]
                out.append(TypeScore(parent, ptype.name_en, round(0.9 * r / (r + 4.0), 4), cues))
        return tuple(out[:top_k])

    def evidence(
        self, text: str, indicators: Iterable[Indicator] = (), *, require_anchor: bool = False
    ) -> ScamEvidence:
        """Generic scam evidence: requests, threats, urgency, lures, brands, risky indicators.

        Each cue row counts once; an impersonated brand or public body counts 1.0; each risky
        indicator kind counts three times its risk.

        Parameters
        ----------
        text : str
            Normalised message.
        indicators : Iterable[Indicator]
            Indicators already extracted from it.
        require_anchor : bool
            Return zero evidence without scanning the cues when the message names no brand or
            public body and carries no risky indicator (the scam rule for messages the model
            scores as ``ok`` needs such an anchor; skipping the scan is what keeps the
            common case fast).
        """
        brand = self._brand(text)
        if require_anchor and not brand and indicators == ():
            return _NO_EVIDENCE  # the common case, without building the lists below
        score = 0.0
        cues: list[str] = []
        if brand:
            score += 1.0
            cues.append(f"brand:{brand}")
        seen: set[str] = set()
        for ind in indicators:
            if ind.kind in SCAM_KINDS and ind.kind not in seen:
                seen.add(ind.kind)
                score += 3.0 * ind.risk
                cues.append(f"indicator:{ind.kind}")
        if require_anchor and not cues:
            return _NO_EVIDENCE
        lower = text.lower()
        trusted = text.isascii() or not _CASE_ODD_RE.search(text)
        for (family, pattern, weight), needles in _CUES_WITH_NEEDLES:
            if trusted and needles is not None:
                for needle in needles:
                    if needle in lower:
                        break
                else:
                    continue
            m = pattern.search(text)
            if m:
                score += weight
                cues.append(f"{family}:{m.group(0)}")
        return ScamEvidence(round(score, 3), tuple(cues))
