"""Legitimate transactional notices told apart from spam without the sender registry.

What belongs here: recognising the shape of the messages banks, couriers, carriers, clinics
and apps send every day (one-time codes with a "do not share" line, account movements with
an amount and a balance, parcel pick-up and delivery notices, bills, bookings, anti-fraud
advisories) and the vetoes that keep a scam dressed as a notice out (links off the brands'
own domains, masked-link placeholders, risky indicators, marketing words, calls to act now).

The spam model learnt Chinese from zh_sms, whose ham is sentence fragments with no sender
signature, no ``您`` and no amount, so every Chinese bank or courier notice looks like its
spam; its English comes from 2011 UK texts where amounts and ``Reply STOP`` were marketing.
:func:`notice_kind` is hand-written from how such notices are worded (``domain.md`` (e) and
the carriers' own templates), never fitted to any data, and the scam rule
(:class:`telewarden.core.sms.inspector.SmsClassifier`) asks it only about messages the model
scores as spam.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from telewarden.core.sms.cuescan import CueTable, TextScan, literal_prefixes
from telewarden.core.sms.indicators import SCAM_KINDS, Indicator, IndicatorKind

__all__ = ["NOTICE_SHAPES", "any_of", "notice_kind"]

_AMOUNT = (
    r"(?:[$£€¥]|rs\.?|inr|sgd|gbp|usd|aud|hkd|人民币|rmb)\s?[\d,]+(?:\.\d{1,2})?"
    r"|[\d,]+(?:\.\d{1,2})?\s?(?:元|块|gbp|usd|sgd|aud)"
)
# Each shape as the alternations that must all match. The parts of a shape with more than one
# must match on the first line (as ``^(?=.*PART)`` does; a normalised text has one line).
_SHAPE_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # A one-time code and the line that tells the customer never to pass it on.
    (
        "otp",
        (
            r"验证码|校验码|动态码|动态密码|verification code|security code|one-time pass"
            r"|\botp\b|\bcode\b",
            r"\d{4,8}|\d{3}[- ]\d{3}",
            r"请勿|切勿|勿向|不要|告知他人|泄露|如非本人|don'?t share|do not share"
            r"|never share|not share|ignore this|didn'?t request|did not request",
        ),
    ),
    # Money moved on an account or card, with the amount (and usually the balance).
    (
        "account",
        (
            _AMOUNT,
            r"支出|收入|消费|转入|转出|入账|存入|扣款|账单金额|还款日|余额"
            r"|debited|credited|you spent|received a payment|transaction|balance|payment of"
            r"|transfer of|minimum due|is due|direct debit",
        ),
    ),
    # A parcel that has arrived, been signed for or will be delivered.
    (
        "parcel",
        (
            r"取件码|已签收|快件已|包裹已到|丰巢|驿站|派送中|正在派送|\bwas delivered\b"
            r"|\bwill be delivered\b|\bready to collect\b|\bout for delivery\b|\bready for pickup\b"
            r"|\bhas (?:been )?(?:dispatched|shipped)\b",
        ),
    ),
    # Bookings, appointments, trips and bills.
    (
        "booking",
        (
            r"已成功预约|预约成功|您的预约|您已预约|已购|次列车|检票口|候车|值机"
            r"|航班.{0,10}(?:起飞|登机)|账单已生成|流量已使用|剩余.{0,4}GB"
            r"|\bappointment\b|\breservation\b|\bbooking\b|\bcheck in\b|\bconfirmed for\b"
            r"|\btable for\b|\bdeparts\b|\bis delayed\b|\bschool will close\b|\bbill of\b",
        ),
    ),
)
NOTICE_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (
        kind,
        re.compile(
            parts[0] if len(parts) == 1 else "^" + "".join(f"(?=.*(?:{p}))" for p in parts),
            re.IGNORECASE,
        ),
    )
    for kind, parts in _SHAPE_PARTS
)
"""(kind, pattern) of each notice shape, first match wins (``advisory`` is tested apart)."""

_VETO_RE = re.compile(
    # Marketing.
    r"优惠|特价|促销|折扣|[0-9x]折|活动|免费|赠送|抢购|低至|秒杀|红包|积分|兑换|中奖|退订|回T|回复TD"
    r"|\bsale\b|\boffer\b|\bdiscount|% off\b|\bfree\b|\bwin\b|\bwinner\b|\bprize\b|\bpromo"
    r"|欢迎|抽奖|热线|团购|预存|开业|参观|坐诊|招聘|加盟|代理|我是|这里是"
    r"|\bdeal\b|\bvoucher|\bcoupon|\bur\b|\bquiz\b|\bquestion\b"
    # Calls to act on the spot, which a notice never needs.
    r"|点击|链接|网址|登录.{0,4}(?:网站|页面)|[\[【](?:链接|网址|url|link)|立即|马上|尽快|否则|逾期"
    r"|冻结|停用|失效|异常|转账|汇款|安全账户|解冻|下载|\bclick\b|\btap\b|\bverify\b|\bconfirm your\b"
    r"|\bupdate your\b|\bimmediately\b|\burgent\b|\bsuspend|\blocked\b|\bpending\b|\bfraud dep"
    r"|\bfraud team\b|\breply (?:yes|y|1)\b|\bwithin \d+ ?h",
    re.IGNORECASE,
)
# Anti-fraud advisories from police, carriers and banks, and the contacts a scam needs.
_ADVISORY_RE = re.compile(
    r"谨防|警惕.{0,6}诈骗|都是诈骗|凡是.{0,20}诈骗|不会.{0,10}(?:索要|要求)|\bnever ask\b"
    r"|\bbeware of (?:scams?|fraud)",
    re.IGNORECASE,
)
# What an impersonator of the anti-fraud centre says and an advisory does not.
_ADVISORY_VETO_RE = re.compile(
    r"我是|这里是|涉嫌|洗钱|案件|配合|下载|提供|核实|冒用|\bthis is\b|\bwe need you\b",
    re.IGNORECASE,
)
_CONTACT_RE = re.compile(
    r"加.{0,3}(?:微信|qq|客服)|微信号|qq号?[:：]?\s*\w|点击|[\[【](?:链接|网址)|whatsapp|telegram",
    re.IGNORECASE,
)
_PLACEHOLDER_RE = re.compile(r"[\[【][^\]】]{0,6}(?:链接|网址|url|link)", re.IGNORECASE)
# Links a notice may carry: on a brand's own domain only.
_LINK_KINDS = frozenset({IndicatorKind.URL, IndicatorKind.SHORT_LINK})


def _alternatives(source: str) -> list[str]:
    """The top-level alternatives of a regex source (``a|(b|c)|[|]`` -> ``a``, ``(b|c)``, ``[|]``)."""
    parts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            # A "]" right after "[" or "[^" is a literal member, not the end of the class.
            if source[i + 1 : i + 2] == "]":
                i += 1
            elif source[i + 1 : i + 3] == "^]":
                i += 2
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    return parts


_QUANTIFIERS = frozenset("?*+{")


def _by_first_char(alternatives: list[str]) -> list[str]:
    """``sale|suspend|tap`` as ``s(?:ale|uspend)|tap``: the same strings matched."""
    groups: dict[str, list[str]] = {}
    kept: list[str] = []
    for alt in alternatives:
        first = alt[:1]
        # Only a plain literal first character, not quantified, can be factored out.
        if first and first not in "\\[(.^$|" and alt[1:2] not in _QUANTIFIERS:
            groups.setdefault(first, []).append(alt[1:])
        else:
            kept.append(alt)
    out = [
        first + (rests[0] if len(rests) == 1 else "(?:" + "|".join(rests) + ")")
        for first, rests in groups.items()
    ]
    return out + kept


def _uncased(alternative: str) -> bool:
    """Whether an alternative has no cased character outside its escapes (``\\b``, ``\\d``)."""
    plain = re.sub(r"\\.", "", alternative)
    return plain == plain.lower() == plain.upper()


def any_of(source: str, flags: int = 0) -> tuple[re.Pattern[str], ...]:
    """Patterns one of which finds a match exactly when ``re.compile(source, flags)`` does.

    ``re`` tries every alternative of an alternation at every position of the text, and one
    that starts with ``\\b`` or with a letter under ``IGNORECASE`` cannot be skipped cheaply
    (the marketing veto below, 79 alternatives, cost about 100 us on a 400-character English
    message). Here the alternatives without a cased character (the Chinese words) become one
    pattern of their own, which ``re`` scans with a first-character table; the others share
    their leading ``\\b`` and first character (``\\b(?:s(?:ale\\b|uspend)|...)``). The same
    strings match, at other positions perhaps: only use the result as a yes or no.

    Examples
    --------
    >>> [p.pattern for p in any_of(r"免费|\\bfree\\b|\\bfraud dep|优惠")]
    ['免费|优惠', '\\\\b(?:f(?:ree\\\\b|raud dep))']
    """
    alternatives = _alternatives(source)
    uncased = [a for a in alternatives if _uncased(a)]
    cased = [a for a in alternatives if not _uncased(a)]
    bounded = [a[2:] for a in cased if a.startswith("\\b") and a[2:3].isalpha()]
    rest = [a for a in cased if not (a.startswith("\\b") and a[2:3].isalpha())]
    sources = []
    if uncased:
        sources.append("|".join(_by_first_char(uncased)))
    if bounded or rest:
        words = ["\\b(?:" + "|".join(_by_first_char(bounded)) + ")"] if bounded else []
        sources.append("|".join(words + _by_first_char(rest)))
    return tuple(re.compile(s, flags) for s in sources)


# Every pattern below is a row of one CueTable (core/sms/cuescan.py): one automaton pass over
# the message finds where each row can start, and a row is then tried there only. A group is
# the alternatives of one source, split by any_of and again into those that begin with
# literal words and the others (searched as before): the cased rows, which start with ``\b``
# or a letter under IGNORECASE, cost up to 54 us each on 400 English characters.
_ROWS: list[re.Pattern[str]] = []


def _group(source: str, flags: int = re.IGNORECASE) -> tuple[int, ...]:
    """The rows (appended to ``_ROWS``) one of which matches exactly when ``source`` does."""
    alternatives = _alternatives(source)
    led = [a for a in alternatives if literal_prefixes(re.compile(a, flags)) is not None]
    rest = [a for a in alternatives if literal_prefixes(re.compile(a, flags)) is None]
    patterns = [p for part in (led, rest) if part for p in any_of("|".join(part), flags)]
    _ROWS.extend(patterns)
    return tuple(range(len(_ROWS) - len(patterns), len(_ROWS)))


# The patterns above as groups of rows (same yes or no, see any_of), and each shape's parts.
_VETO = _group(_VETO_RE.pattern)
_ADVISORY = _group(_ADVISORY_RE.pattern)
_ADVISORY_VETO = _group(_ADVISORY_VETO_RE.pattern)
_CONTACT = _group(_CONTACT_RE.pattern)
_SHAPE_TESTS = tuple((kind, tuple(_group(part) for part in parts)) for kind, parts in _SHAPE_PARTS)
_TABLE = CueTable(_ROWS, [None] * len(_ROWS))


def _found(rows: tuple[int, ...], text: str, last_start: int, scan: TextScan | None = None) -> bool:
    """Whether one of the rows matches starting at or before ``last_start``."""
    if scan is None:
        scan = _TABLE.scan(text)
    for row in rows:
        # The leftmost match: if it starts too late, so does every other.
        m = scan.match(row)
        if m is not None and m.start() <= last_start:
            return True
    return False


def _shape(text: str, scan: TextScan | None = None) -> str | None:
    """``NOTICE_SHAPES``' first kind whose pattern matches (the same answer, faster)."""
    if scan is None:
        scan = _TABLE.scan(text)
    end = len(text)
    # ``^(?=.*PART)``: PART must start on the first line (``.`` stops at a line feed).
    first_line_end = text.find("\n")
    if first_line_end < 0:
        first_line_end = end
    for kind, parts in _SHAPE_TESTS:
        last = end if len(parts) == 1 else first_line_end
        if all(_found(part, text, last, scan) for part in parts):
            return kind
    return None


def _host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    return re.split(r"[/?#:]", rest, maxsplit=1)[0].lower().strip(".")


def notice_kind(
    text: str, indicators: Iterable[Indicator] = (), official: Collection[str] = ()
) -> str | None:
    """The notice shape of a normalised message, or None when it is not a clean notice.

    Parameters
    ----------
    text : str
        Normalised message (``normalise``).
    indicators : Iterable[Indicator]
        Indicators extracted from it: any risky kind, a short link, or a link whose host is
        not under one of ``official`` vetoes the notice.
    official : Collection[str]
        Registrable domains the brands of the lexicon own (``IndicatorExtractor.official``).

    Examples
    --------
    >>> notice_kind("【支付宝】验证码428193，5分钟内有效，请勿泄露给他人。")
    'otp'
    >>> notice_kind("【建设银行】您尾号6688的储蓄卡支出人民币58.00元，余额1,031.20元。")
    'account'
    >>> notice_kind("【建设银行】您尾号6688的储蓄卡支出58.00元，请点击链接解冻") is None
    True
    >>> parcel = "Your parcel will be delivered today. Track at evil-track.top"
    >>> notice_kind(parcel)  # without its indicators, the shape alone
    'parcel'
    >>> link = Indicator(IndicatorKind.URL, "http://evil-track.top", "link", 0.2)
    >>> notice_kind(parcel, [link], official=("sf-express.com",)) is None  # off-brand link
    True
    """
    indicators = tuple(indicators)
    scan = _TABLE.scan(text)
    if (
        not indicators
        and _found(_ADVISORY, text, len(text), scan)
        and not _found(_CONTACT, text, len(text), scan)
        and not _found(_ADVISORY_VETO, text, len(text), scan)
    ):
        # An anti-fraud advisory names the scams it warns of; with no link, number or
        # contact to reach, it asks nothing of the reader.
        return "advisory"
    if _found(_VETO, text, len(text), scan):
        return None
    for ind in indicators:
        if ind.kind in SCAM_KINDS or ind.kind is IndicatorKind.SHORT_LINK:
            return None
        if ind.kind in _LINK_KINDS:
            host = _host(ind.value)
            if not any(host == d or host.endswith("." + d) for d in official):
                return None
    # A masked link left by a publisher ("[链接]") is not a notice; a sender signature
    # ("【工商银行】") is.
    if ("[" in text or "【" in text) and _PLACEHOLDER_RE.search(text):
        return None
    return _shape(text, scan)
