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

from telewarden.core.sms.cuescan import CueTable
from telewarden.core.sms.fraud_types_data import PARENT_TYPES
from telewarden.core.sms.fraudtypes import TAXONOMY, FraudType
from telewarden.core.sms.indicators import DEFAULT_BRANDS, SCAM_KINDS, Brand, Indicator

__all__ = ["FraudTyper", "ScamEvidence", "TypeScore", "literal_needles"]


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
    # Schemes beyond brand impersonation (issue #17): each of these rows is also an anchor
    # (see ``FraudTyper.evidence``), so a message the model scores ``ok`` is ``scam`` when
    # such a scheme and enough further cues add up to ``ScamRule.alone``. Chinese rows read
    # masked digits (``x``, ``*``) as digits.
    ("scheme", r"安全(?:账户|帐户|钱包)|转入.{0,6}(?:钱包|地址)|充值地址|提币|钱包地址|USDT|助记词", 2.5),
    ("scheme", r"\b(?:safe|secure|protected|holding|cold)\s+(?:holding\s+)?(?:account|wallet|vault)\b|\bmove (?:your |the )?(?:funds|savings|money|balance|assets)\b|\btransfer (?:the|your) (?:balance|funds|savings)\b|\b(?:recovery|seed) phrase\b|\busdt\b|\bdeposit address\b|\bwallet address\b|\bairdrop\b|\bdouble it\b", 2.5),
    ("scheme", r"稳赚|保本|日收益|每日收益|收益.{0,4}[\dxX*]+%|翻倍|带单|牛股|涨停|内幕消息|荐股|投资群|炒股群|导师|高回报|零风险|躺赚", 2.0),
    ("scheme", r"\bguaranteed (?:daily )?(?:profits?|returns?|income)\b|\b\d+(?:\.\d+)? ?% (?:daily|per day|a day|weekly|monthly)\b|\b(?:daily|weekly|monthly) (?:profits?|returns?)\b|\bdouble (?:your|my) money\b|\bmentor\b|\btrading (?:group|signals?|bot)\b|\bvip (?:trading|investment|group|plan|channel)\b|\binvestment opportunity\b|\bprofits? (?:paid|every)\b", 2.0),
    ("scheme", r"借款|放款|网贷|秒批|秒到账|下款|黑户|不看征信|日息|低息|无抵押|免抵押|代办.{0,4}信用卡|办理信用卡|大额信用卡|包下卡|工本费", 2.0),
    ("scheme", r"\bloans?\b|\bno credit check\b|\bguaranteed approval\b|\bbad credit\b|\binstant cash\b|\bprocessing fee\b", 1.5),
    ("scheme", r"\bno credit check\b|\bguaranteed approval\b|\bbad credit\b|\bno documents\b", 1.5),
    ("scheme", r"首存|首充|彩金|返水|百家乐|真人视讯|棋牌|网投|下注|娱乐城|葡京|博彩|赌场|体育投注|老虎机|六合彩|时时彩", 3.0),
    ("scheme", r"\bcasinos?\b|\bfree spins?\b|\bfree bets?\b|\bbetting\b|\bslots\b|\bslot machines?\b|\bjackpot\b|\bfirst deposit\b|\bwelcome bonus\b", 2.0),
    ("scheme", r"代开.{0,6}发票|发票代开|开具发票|增值税|税点|办证|刻章|各类证件|毕业证|学位证|假证|可查可验", 3.0),
    ("scheme", r"\bauto-?renew(?:ed|al)?\b|\bsubscription\b.{0,40}\b(?:renewed|charged)\b|\bhas been (?:renewed|charged)\b|\binvoice #|\bdispute the charge\b|\bif you did not (?:make|authori[sz]e) this (?:purchase|order|payment)|\bfake (?:id|passport|documents?)\b", 2.0),
    ("scheme", r"兼职|刷单|点赞|日赚|日结|一单一结|佣金|宝妈|在家.{0,4}(?:赚|做|工作)|手机操作|做任务", 2.0),
    ("scheme", r"\bpart[- ]?time\b|\bwork (?:from|at) home\b|\bremote (?:job|work)\b|\bearn (?:rs\.? ?|\$|£|€)?[\d,]+.{0,20}\b(?:daily|per day|a day|each day|per hour)\b|\bpaid (?:daily|every day)\b|\bcommission\b|\b(?:simple|online) tasks?\b|\btask (?:job|work|account)\b|\bflexible online work\b|\brecruit(?:er|ment|ing)\b", 2.0),
    ("scheme", r"双倍(?:退款|赔付|赔偿)|退款.{0,6}(?:联系|客服)|理赔.{0,8}(?:点击|填写|链接)|质量问题|(?:快递|包裹).{0,6}丢失|退税|补贴.{0,6}(?:领取|未领)|分红", 2.0),
    ("scheme", r"\b(?:tax )?refund of\b|\beligible for (?:a |an )?(?:tax )?(?:refund|rebate|reimbursement|compensation)\b|\bwe owe you\b|\brebate\b|\bunclaimed (?:rewards?|refunds?|funds|points)\b", 2.0),
    ("scheme", r"换号码?了|新号码|我是你.{0,4}(?:领导|老板|同学|朋友|老师)|猜猜我是谁|房东.{0,10}(?:换|账户|卡号)|打到.{0,6}账户", 3.0),
    ("scheme", r"\bhi (?:mum|mom|dad)\b|\bnew number\b|\b(?:lost|broke|broken|dropped) my phone\b|\bis this \w+\?|\bwe met at\b|\bwrong number\b", 3.0),
    # Pay first to get paid: the advance fee of loan, investment and withdrawal scams.
    ("request", r"提现资格|先(?:缴纳|交|付).{0,6}(?:保证金|手续费|税|费用|工本费)|缴纳.{0,6}(?:保证金|解冻金)", 2.0),
    ("request", r"\bto withdraw,? (?:first )?pay\b|\bpay (?:the|a) [\w% ]{0,20}(?:tax|fee|deposit) (?:first|to (?:withdraw|release|receive))\b|\bafter you pay the\b", 2.0),
    # Asking for money outright, and the coins such payments go in.
    ("request", r"\b(?:send|transfer|lend)\s+(?:me\s+)?(?:£|\$|€|rs\.? ?)?\d|\bhelp me pay\b|\bpay (?:a|the|my) bill\b|\bto my friend'?s account\b", 1.5),
    ("lure", r"\b(?:bitcoin|btc|eth|usdt|crypto)\b|比特币|虚拟币|数字货币", 1.5),
    # Masked link placeholders of published Chinese spam (digits and links masked): a link
    # the publisher removed, and the ways such texts ask to follow it.
    ("request", r"点击|戳|速登|登录.{0,4}(?:\[|【)", 1.0),
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
        "安全|转入|充值地址|提币|钱包地址|usdt|助记词",
        "safe|secure|protected|holding|cold|move |transfer |phrase|usdt|deposit address|wallet address|airdrop|double it",
        "稳赚|保本|日收益|每日收益|收益|翻倍|带单|牛股|涨停|内幕消息|荐股|投资群|炒股群|导师|高回报|零风险|躺赚",
        "guaranteed|%|daily profit|daily return|weekly profit|weekly return|monthly profit|monthly return|double your|double my|mentor|trading|vip|investment opportunity|profit",
        "借款|放款|网贷|秒批|秒到账|下款|黑户|不看征信|日息|低息|无抵押|免抵押|代办|办理信用卡|大额信用卡|包下卡|工本费",
        "loan|no credit check|guaranteed approval|bad credit|instant cash|processing fee",
        "no credit check|guaranteed approval|bad credit|no documents",
        "首存|首充|彩金|返水|百家乐|真人视讯|棋牌|网投|下注|娱乐城|葡京|博彩|赌场|体育投注|老虎机|六合彩|时时彩",
        "casino|free spin|free bet|betting|slot|jackpot|first deposit|welcome bonus",
        "代开|发票代开|开具发票|增值税|税点|办证|刻章|各类证件|毕业证|学位证|假证|可查可验",
        "auto|subscription|renewed|charged|invoice #|dispute the charge|if you did not|fake",
        "兼职|刷单|点赞|日赚|日结|一单一结|佣金|宝妈|在家|手机操作|做任务",
        "part-time|part time|parttime|work from home|work at home|remote|earn |paid daily|paid every day|commission|task|flexible online work|recruit",
        "双倍|退款|理赔|质量问题|快递|包裹|退税|补贴|分红",
        "refund of|eligible for|we owe you|rebate|unclaimed",
        "换号|新号码|我是你|猜猜我是谁|房东|打到",
        "hi mum|hi mom|hi dad|new number|my phone|is this |we met at|wrong number",
        "提现资格|先|缴纳",
        "to withdraw|pay the|pay a|after you pay the",
        "send|transfer|lend|help me pay|pay a bill|pay the bill|pay my bill|to my friend",
        "bitcoin|btc|eth|usdt|crypto|比特币|虚拟币|数字货币",
        "点击|戳|速登|登录",
    )
)
# Characters that re.IGNORECASE matches to an ASCII letter but that str.lower() does not
# turn into it (dotted and dotless i, long s, Kelvin sign): with one of them in the text the
# needles are not trusted and every row is searched.
_CASE_ODD_RE = re.compile("[\u0130\u0131\u017f\u212a]")
_CUES_WITH_NEEDLES = tuple(zip(_COMPILED_CUES, _CUE_NEEDLES, strict=True))
# The rows of the family ``scheme``: a match anchors the scam rule like a brand does.
_SCHEME_CUES = tuple(row for row in _CUES_WITH_NEEDLES if row[0][0] == "scheme")


# One Aho-Corasick pass over the lower-cased text, then each row tried only where one of its
# literal first words is (rows without: searched when one of their needles is in the text;
# see core/sms/cuescan.py). With the needles alone, searching the rows whose needle is in
# the text still cost ~31 us a message on 400 English characters, mostly rows whose needle
# is a common fragment ("ring" of "during", "send", "won") and whose \b-led, case-insensitive
# pattern cannot skip ahead.
_CUE_TABLE = CueTable([p for _, p, _ in _COMPILED_CUES], _CUE_NEEDLES)
_SCHEME_TABLE = CueTable([p for (_, p, _), _ in _SCHEME_CUES], [n for _, n in _SCHEME_CUES])


SCHEME_EXTRA = 1.0
"""Added for each further distinct phrase of the same ``scheme`` row (at most two): a text
that names a gambling site, its first-deposit bonus and its rebates says more than one that
names one of them."""


def _scheme_extra(pattern: re.Pattern[str], text: str) -> float:
    distinct = {m.group(0).lower() for m in pattern.finditer(text)}
    return SCHEME_EXTRA * min(len(distinct) - 1, 2)


_REGEX_SYNTAX = frozenset("\\[](){}.*+?^$|")


def literal_needles(source: str) -> tuple[str, ...] | None:
    """The lower-cased words of a pattern that is only literal words (``a|\\bb c\\b``), else None.

    Such a pattern matches (with or without ``IGNORECASE``) only where one of its words is in
    the lower-cased text, when the text has none of the characters of ``_CASE_ODD_RE``.

    Examples
    --------
    >>> literal_needles(r"投资|\\bProfit\\b|trading")
    ('投资', 'profit', 'trading')
    >>> literal_needles(r"在家.{0,4}赚") is None
    True
    """
    needles = []
    for part in source.split("|"):
        word = part.removeprefix("\\b").removesuffix("\\b")
        if not word or any(ch in _REGEX_SYNTAX for ch in word):
            return None
        needles.append(word.lower())
    return tuple(needles)


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
        self._cjk_names = tuple(n for n in names if not n.isascii())
        self._cjk_re = re.compile("|".join(re.escape(n) for n in self._cjk_names))
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
        # The lexicon rows, numbered; each is tried where one of its literal first words is
        # (one automaton pass, core/sms/cuescan.py), the others searched when one of their
        # words is in the message or, without words, always: a scam message's ~200 lexicon
        # searches cost ~700 us on 400 English characters, where most words are absent.
        rows = [(code, ftype.lexicon) for code, ftype in taxonomy.items()]
        self._lexicon_rows = tuple(
            (
                code,
                tuple(
                    (pattern, weight, literal_needles(pattern.pattern))
                    for pattern, weight in lexicon
                ),
            )
            for code, lexicon in rows
        )
        flat = [entry for _, entries in self._lexicon_rows for entry in entries]
        self._lexicon_table = CueTable([e[0] for e in flat], [e[2] for e in flat])
        self._lexicon_of_row = tuple(
            (code, weight) for code, entries in self._lexicon_rows for _, weight, _ in entries
        )

    def _brand(self, text: str) -> str | None:
        # The non-ASCII names cannot be in an ASCII text (1.2 us of regex scan on 400
        # characters); with no such name the empty pattern matches "", which is returned.
        m = None if text.isascii() and self._cjk_names else self._cjk_re.search(text)
        if m:
            return m.group(0)
        if _LATIN_LETTER_RE.search(text):
            if not self._latin_names:
                return None
            lower = text.lower()
            # The matches of ``_latin_re.finditer(lower)`` from the automaton's occurrences
            # (the regex scan cost ~40 us on 400 characters): the leftmost, there the longest
            # name (the alternation is sorted longest first), then on from its end.
            found = sorted(
                (end + 1 - len(name), -len(name), name)
                for end, name in self._latin_automaton.iter(lower)
            )
            resume = 0
            for start, minus_length, name in found:
                if start < resume:
                    continue
                end = start - minus_length
                resume = end
                before = lower[start - 1] if start else " "
                after = lower[end] if end < len(lower) else " "
                if not ("a" <= before <= "z" or "a" <= after <= "z"):
                    return str(name)
        return None

    @staticmethod
    def _has_scheme(text: str, lower: str) -> bool:
        """Whether a ``scheme`` cue row matches (an anchor of the scam rule)."""
        return _SCHEME_TABLE.any_match(text, lower)

    def raw_scores(self, text: str) -> dict[str, tuple[float, tuple[str, ...]]]:
        """Summed cue weight and matched fragments for every type with at least one cue."""
        out: dict[str, tuple[float, tuple[str, ...]]] = {}
        of_row = self._lexicon_of_row
        current: str | None = None
        raw = 0.0
        cues: list[str] = []
        # Rows come in order, so a type's matches are consecutive and its cues in row order.
        for i, m in self._lexicon_table.first_matches(text):
            code, weight = of_row[i]
            if code != current:
                if current is not None and raw:
                    out[current] = (raw, tuple(cues))
                current, raw, cues = code, 0.0, []
            raw += weight
            cues.append(m.group(0))
        if current is not None and raw:
            out[current] = (raw, tuple(cues))
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
            Return zero evidence when the message names no brand or public body, carries no
            risky indicator and matches no ``scheme`` cue (safe-account or wallet transfers,
            investment returns, loans, gambling, fake invoices and IDs, part-time jobs,
            refunds, impostor openers): the scam rule for messages the model scores as
            ``ok`` needs such an anchor.
        """
        brand = self._brand(text)
        if (
            require_anchor
            and not brand
            and indicators == ()
            and not self._has_scheme(text, text.lower())
        ):
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
        lower = text.lower()
        if require_anchor and not cues and not self._has_scheme(text, lower):
            return _NO_EVIDENCE
        for i, m in _CUE_TABLE.first_matches(text, lower):
            family, pattern, weight = _COMPILED_CUES[i]
            score += weight
            cues.append(f"{family}:{m.group(0)}")
            if family == "scheme":
                score += _scheme_extra(pattern, text)
        return ScamEvidence(round(score, 3), tuple(cues))
