"""The SMS text paths written plainly, kept as the reference for the fast ones.

The package's normalisation, indicator extraction and scam evidence skip work with guards
and rewritten patterns; the tests compare them with these plain versions (copied from the
code before the speed work on issue #4, and since then changed with the package's rules,
such as which spaced dots are a host's) and require identical outputs on any text. Slow on
purpose; nothing in the package imports this. The domain lists are data, shared with the
package.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from hypothesis import strategies as st

from telewarden.core.sms.fraud_typer import _COMPILED_CUES, FraudTyper, ScamEvidence
from telewarden.core.sms.indicators import (
    _BECH32_RE,
    _BTC_BASE58_RE,
    _CONFUSABLE,
    _DOWNLOAD_WORDS,
    _ETH_RE,
    _GOV_SUFFIXES,
    _IDN_RE,
    _IP_RE,
    _TRON_RE,
    SCAM_KINDS,
    Indicator,
    IndicatorExtractor,
    IndicatorKind,
    _host_tokens,
    btc_address_type,
    eth_checksum_status,
    tron_address_valid,
)
from telewarden.core.sms.inspector import ContentVerdict, SmsClassifier, SmsResult
from telewarden.core.sms.normalise import MAX_HOST_LABELS, TOP_LEVEL_DOMAINS, WORD_LIKE_DOMAINS
from telewarden.core.sms.notices import notice_kind

EMOJI_TOKEN = "\u25c6"

_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad\u202a\u202b\u202c\u202d\u202e",
    ),
    None,
)
# Dot look-alikes that NFKC leaves alone but that senders use inside host names.
_DOTS = "\u3002\uff61\u2024\u2027\u00b7\u30fb\u16eb"
_DOT_LIKE_RE = re.compile(rf"([A-Za-z0-9-])[{_DOTS}](?=[A-Za-z0-9])")
_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\u2b00-\u2bff\ufe0f\u20e3]+"
)
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
# A separator (space, dash, dot, star, underscore, slash, pipe) between two CJK characters
# is an obfuscation: 免-费 / 免 费 / 免*费 read as 免费.
_CJK_SPLIT_RE = re.compile(rf"(?<=[{_CJK}])[\s\-_.*|/\\~·]+(?=[{_CJK}])")
# Three or more single Latin letters separated by single spaces: "F R E E" -> "FREE".
_SPACED_LATIN_RE = re.compile(r"\b(?:[A-Za-z] ){2,}[A-Za-z]\b")
_WS_RE = re.compile(r"\s+")
_HXXP_RE = re.compile(r"\bh[xX*]{2}p(s?)(?=\s*[:：])", re.IGNORECASE)
_BRACKET_DOT_RE = re.compile(r"\s*[\[\(\{<]\s*(?:\.|dot|点)\s*[\]\)\}>]\s*", re.IGNORECASE)
_WORD_DOT_RE = re.compile(
    rf"(?<=[A-Za-z0-9-])\s*(?:\bdot\b|点)\s*(?=(?:{'|'.join(TOP_LEVEL_DOMAINS)}|gov)\b)",
    re.IGNORECASE,
)
# Spaces around the dots of a host name that ends in a known top-level domain, lower or upper
# case: "etc-renz . com" -> "etc-renz.com"; word-like domains only with a space before the dot;
# at most MAX_HOST_LABELS labels, the chain before the domain as long as it can be.
_STRONG = "|".join(d for d in TOP_LEVEL_DOMAINS if d not in WORD_LIKE_DOMAINS)
_WEAK = "|".join(d for d in TOP_LEVEL_DOMAINS if d in WORD_LIKE_DOMAINS)
_SPACED_HOST_RE = re.compile(
    rf"(?<![A-Za-z0-9.-])[A-Za-z0-9-]+(?:\s*\.\s*[A-Za-z0-9-]+){{0,{MAX_HOST_LABELS - 2}}}"
    rf"(?:\s*\.\s*(?:{_STRONG}|{_STRONG.upper()})|\s+\.\s*(?:{_WEAK}|{_WEAK.upper()}))"
    r"(?![A-Za-z0-9-])"
)


def _join_host(match: re.Match[str]) -> str:
    # Labels and the separators between them; a separator joins when it is the last one
    # or spaced like the last one (space before the dot, space after it).
    parts = re.split(r"(\s*\.\s*)", match.group())
    labels, seps = parts[0::2], parts[1::2]

    def form(sep: str) -> tuple[bool, bool]:
        return sep[:1].isspace(), sep[-1:].isspace()

    out = labels[0]
    for i, sep in enumerate(seps):
        out += "." if i == len(seps) - 1 or form(sep) == form(seps[-1]) else sep
        out += labels[i + 1]
    return out


_SPACED_SCHEME_RE = re.compile(r"\b(https?)\s*[:：]\s*/\s*/\s*", re.IGNORECASE)
# zh_sms masks every digit as "x"; a run of x not inside a Latin word is a masked number.
_MASK_X_RE = re.compile(r"(?<![A-Za-wyz])[xX]+(?![A-Za-wyz])")
_MASK_STAR_RE = re.compile(r"(?<=\d)[*＊]+|[*＊]+(?=\d)")
_DIGIT_RE = re.compile(r"\d")


def deobfuscate_links(text: str) -> str:
    text = _DOT_LIKE_RE.sub(r"\1.", text)
    if "xx" in text or "XX" in text or "**" in text:
        text = _HXXP_RE.sub(r"http\1", text)
    if "[" in text or "(" in text or "{" in text or "<" in text:
        text = _BRACKET_DOT_RE.sub(".", text)
    if "dot" in text.lower() or "点" in text:
        text = _WORD_DOT_RE.sub(".", text)
    text = _SPACED_HOST_RE.sub(_join_host, text)
    if "//" in text.replace(" ", ""):
        text = _SPACED_SCHEME_RE.sub(lambda m: m.group(1).lower() + "://", text)
    return text


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    if not text.isascii():
        text = _EMOJI_RE.sub(EMOJI_TOKEN, text)
        text = _CJK_SPLIT_RE.sub("", text)
    if " " in text:
        text = _SPACED_LATIN_RE.sub(lambda m: m.group(0).replace(" ", ""), text)
    text = deobfuscate_links(text)
    return _WS_RE.sub(" ", text).strip()


def fold_for_model(text: str) -> str:
    if "x" in text or "X" in text:
        text = _MASK_X_RE.sub(lambda m: "0" * len(m.group(0)), text)
    if "*" in text or "＊" in text:
        text = _MASK_STAR_RE.sub(lambda m: "0" * len(m.group(0)), text)
    return _DIGIT_RE.sub("0", text.lower())


_FIVE_DIGITS_RE = re.compile(r"(?:\d\D*){5}")
_DOWNLOAD_HOSTS = ("fir.im", "pgyer.com", "fir.vip", "betaqr.com", "app.box")
_LATIN_LETTER_RE = re.compile("[A-Za-z]")


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


class ReferenceExtractor(IndicatorExtractor):
    """IndicatorExtractor with the extraction methods as they were."""

    def extract(self, text: str, *, normalised: bool = False) -> tuple[Indicator, ...]:
        if not normalised:
            text = normalise(text)
        found: list[Indicator] = []
        has_dot = "." in text
        if has_dot or "xn--" in text:
            self._links(text, found)
        if has_dot and not text.isascii():
            for m in _IDN_RE.finditer(text):
                host = m.group(1).lower()
                if not host.isascii() and any(
                    not label.isascii() and label.isalnum() for label in host.split(".")
                ):
                    found.append(self._idn(host, host))
        if _FIVE_DIGITS_RE.search(text):
            self._numbers(text, found, self.numbers.analyse if self.numbers else None)
        if len(text) >= 14:
            self._crypto(text, found)
        return tuple(found)

    def check_host(self, host: str, url: str = "") -> list[Indicator]:
        out: list[Indicator] = []
        url = url or host
        lower_url = url.lower()
        if any(_under(host, s) for s in self._shorteners):
            out.append(Indicator(IndicatorKind.SHORT_LINK, url, f"URL shortener {host}", 0.5))
        if lower_url.endswith(".apk") or ".apk?" in lower_url:
            out.append(Indicator(IndicatorKind.DOWNLOAD_LINK, url, "direct APK download", 0.9))
        elif any(_under(host, d) for d in _DOWNLOAD_HOSTS) or any(
            w in lower_url for w in _DOWNLOAD_WORDS
        ):
            out.append(Indicator(IndicatorKind.DOWNLOAD_LINK, url, "app download page", 0.6))
        if _IP_RE.match(host):
            out.append(Indicator(IndicatorKind.IP_HOST, host, "IP-literal host", 0.7))
            return out
        if "xn--" in host or not host.isascii():
            out.append(self._idn(host, url))
            return out
        if any(_under(host, d) for d in self._official):
            return out
        out.extend(self._brand_checks(host))
        return out

    def _brand_checks(self, host: str) -> list[Indicator]:
        tokens = _host_tokens(host)
        skeleton_tokens = [t.translate(_CONFUSABLE) for t in tokens]
        is_gov_host = host.endswith(_GOV_SUFFIXES)
        out: list[Indicator] = []
        for brand in self._brands:
            key = brand.key
            # Short keys (etc, ccb, boc) only as a whole label part, longer ones anywhere.
            literal = any(t == key or (len(key) >= 4 and key in t) for t in tokens)
            if not literal and len(key) >= 4:
                skel = key.translate(_CONFUSABLE)
                if any(t == skel or skel in t for t in skeleton_tokens):
                    out.append(
                        Indicator(
                            IndicatorKind.LOOKALIKE_DOMAIN,
                            host,
                            f"look-alike of {key} ({'/'.join(brand.names[:1])})",
                            0.9,
                        )
                    )
                    continue
            if not literal:
                continue
            if brand.government and not is_gov_host:
                out.append(
                    Indicator(
                        IndicatorKind.GOV_OUTSIDE_GOV_CN,
                        host,
                        f"public body '{key}' on a non-government domain",
                        0.9,
                    )
                )
            elif not brand.government:
                out.append(
                    Indicator(
                        IndicatorKind.BRAND_IN_DOMAIN,
                        host,
                        f"brand '{key}' ({brand.names[0]}) inside a domain it does not own",
                        0.8,
                    )
                )
        return out

    def _idn(self, host: str, url: str) -> Indicator:
        try:
            shown = host.encode("ascii").decode("idna") if host.isascii() else host
        except UnicodeError:
            shown = host
        skeleton = shown.translate(_CONFUSABLE)
        for brand in self._brands:
            if len(brand.key) >= 4 and brand.key.translate(_CONFUSABLE) in skeleton:
                return Indicator(
                    IndicatorKind.IDN_DOMAIN, url, f"IDN homoglyph of {brand.key}: {shown}", 0.95
                )
        return Indicator(IndicatorKind.IDN_DOMAIN, url, f"internationalised domain {shown}", 0.6)

    def _crypto(self, text: str, found: list[Indicator]) -> None:
        for m in _BECH32_RE.finditer(text):
            kind = btc_address_type(m.group(0))
            if kind:
                found.append(
                    Indicator(IndicatorKind.CRYPTO_BTC, m.group(0), f"bitcoin {kind}", 0.8)
                )
        for m in _BTC_BASE58_RE.finditer(text):
            kind = btc_address_type(m.group(0))
            if kind:
                found.append(
                    Indicator(IndicatorKind.CRYPTO_BTC, m.group(0), f"bitcoin {kind}", 0.8)
                )
        for m in _ETH_RE.finditer(text):
            status = eth_checksum_status(m.group(0))
            if status:
                found.append(
                    Indicator(IndicatorKind.CRYPTO_ETH, m.group(0), f"EVM address ({status})", 0.8)
                )
        for m in _TRON_RE.finditer(text):
            if tron_address_valid(m.group(0)):
                found.append(Indicator(IndicatorKind.CRYPTO_TRON, m.group(0), "TRON address", 0.8))


class ReferenceTyper(FraudTyper):
    """FraudTyper with the brand look-up and scam evidence as they were."""

    def _brand(self, text: str) -> str | None:
        m = self._cjk_re.search(text)
        if m:
            return m.group(0)
        if _LATIN_LETTER_RE.search(text):
            lower = text.lower()
            for m in self._latin_re.finditer(lower):
                before = lower[m.start() - 1] if m.start() else " "
                after = lower[m.end()] if m.end() < len(lower) else " "
                if not ("a" <= before <= "z" or "a" <= after <= "z"):
                    return m.group(0)
        return None

    def evidence(
        self, text: str, indicators: Iterable[Indicator] = (), *, require_anchor: bool = False
    ) -> ScamEvidence:
        score = 0.0
        cues: list[str] = []
        brand = self._brand(text)
        if brand:
            score += 1.0
            cues.append(f"brand:{brand}")
        seen: set[str] = set()
        for ind in indicators:
            if ind.kind in SCAM_KINDS and ind.kind not in seen:
                seen.add(ind.kind)
                score += 3.0 * ind.risk
                cues.append(f"indicator:{ind.kind}")
        anchored = bool(cues)
        for family, pattern, weight in _COMPILED_CUES:
            m = pattern.search(text)
            if m:
                score += weight
                cues.append(f"{family}:{m.group(0)}")
                if family == "scheme":
                    anchored = True
                    distinct = {x.group(0).lower() for x in pattern.finditer(text)}
                    score += min(len(distinct) - 1, 2) * 1.0
        if require_anchor and not anchored:
            return ScamEvidence(0.0, ())
        return ScamEvidence(round(score, 3), tuple(cues))
        return ScamEvidence(round(score, 3), tuple(cues))


def reference_classify_many(clf: SmsClassifier, texts: Sequence[str]) -> list[SmsResult]:
    """SmsClassifier.classify_many as it was, on the reference text paths."""
    extractor = ReferenceExtractor(
        shorteners=clf.extractor.shorteners,
        brands=clf.extractor.brands,
        numbers=clf.extractor.numbers,
    )
    typer = ReferenceTyper(clf.typer.taxonomy, brands=clf.typer.brands, min_raw=clf.typer.min_raw)
    norm = [normalise(t) for t in texts]
    ready = [fold_for_model(n) for n in norm]
    scores = clf.model.score_many(ready, prepared=True)
    thresholds = clf.model.thresholds_for(ready)
    out: list[SmsResult] = []
    for text, p, thr in zip(norm, scores, thresholds, strict=True):
        indicators = extractor.extract(text, normalised=True)
        spam_scored = bool(p >= thr)
        evidence = typer.evidence(text, indicators, require_anchor=not spam_scored)
        if (spam_scored and evidence.score >= clf.rule.with_score) or (
            evidence.score >= clf.rule.alone
        ):
            verdict = ContentVerdict.SCAM
        elif spam_scored:
            verdict = ContentVerdict.SPAM
        else:
            verdict = ContentVerdict.OK
        if verdict is not ContentVerdict.OK and notice_kind(
            text, indicators, clf.extractor.official_domains
        ):
            verdict = ContentVerdict.OK
        types = typer.rank(text, clf.top_types) if verdict is ContentVerdict.SCAM else ()
        out.append(SmsResult(verdict, float(p), float(thr), indicators, evidence, types))
    return out


# Pieces that trigger every guard and fast path: obfuscated links, look-alike and IDN hosts,
# shorteners, downloads, IPs, real crypto addresses and one-character corruptions of them,
# card and phone numbers, masks, spaced letters, brands, cue words in both scripts, and the
# characters re.IGNORECASE folds onto ASCII letters (İ ı ſ K).
PIECES = (
    "hxxp://etc-renz[.]com",
    "hXXps : // icbc-vip . com/a.apk",
    "etc-renz。com",
    "www.1cbc.com",
    "www.аpple.com",
    "xn--pple-43d.com",
    "工商银行.com",
    "平安。cn",
    "http://192.168.1.1/x",
    "bit.ly/abc",
    "t.cn/AbC",
    "fir.im/xyz",
    "gov-cn.top",
    "12306-cn.com",
    "support-paypa1.com",
    "etc-renz dot com",
    "etc点com",
    "a . b . com",
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    "0xdAC17F958D2ee523a2206206994597C13D831ec7",
    "0xdac17f958d2ee523a2206206994597c13d831ec7",
    "0xdAC17F958D2ee523a2206206994597C13D831eC7",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u",
    "4111111111111111",
    "6222 0202 0011 2233 445",
    "+85212345678",
    "00442071234567",
    "400-123-4567",
    "138****5678",
    "xxxxxxxx",
    "XXxX",
    "F R E E",
    "免 费 领 取",
    "免-费",
    "ＥＴＣ",
    "１２３４５",
    "🎁🎁",
    "\u200b验\u200b证\u200b码",
    "中国移动10086",
    "ICBC",
    "PayPal",
    "items",
    "call 09061701461",
    "verify your password",
    "verİfy",
    "ſuspend",
    "clKim",
    "ıtems",
    "你的账户已冻结，请于24小时内登录",
    "加微信",
    "下载APP",
    "安全账户",
    "pay the fee",
    "URGENT",
    "within 24h",
    "² ٣",
)
ALPHABET = (
    "abcdoptxXTBb0139 .-_*|/\\~·。．・:：/@[](){}<>点免费验证码银行\u200b\u00ad\t\n\u3000"
    "ＡＢ１２İıſK🎁\ufe0f"
)


def sms_texts() -> st.SearchStrategy[str]:
    """Random messages made of the pieces above and characters around them."""
    piece = st.one_of(st.sampled_from(PIECES), st.text(alphabet=ALPHABET, max_size=4))
    return st.lists(piece, max_size=10).map("".join)
