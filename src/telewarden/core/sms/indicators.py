"""Indicators of compromise found in SMS text: links, look-alike domains, numbers, cards, wallets.

What belongs here: extraction and validation of the concrete things a scam message carries
(``domain.md`` section e): URLs (also obfuscated), short links from a configurable shortener
list, APK and other download links, look-alike brand domains (brand lexicon, confusable
characters, IDN/punycode, brand names inside other domains, government bodies outside
``.gov.cn``), phone numbers classified by :class:`telewarden.core.numbers.NumberIntel`, bank
card numbers that pass the Luhn check, and crypto addresses whose checksum validates
(Bitcoin Base58Check and Bech32/Bech32m, Ethereum EIP-55 with Keccak-256, TRON Base58Check
with prefix ``0x41``). Checksums cut false positives: a 34-character random string is not a
wallet unless its checksum says so.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

import base58
import bech32
from Crypto.Hash import keccak

from telewarden.core.sms.normalise import TLD_PATTERN, normalise

__all__ = [
    "DEFAULT_BRANDS",
    "DEFAULT_SHORTENERS",
    "Brand",
    "Indicator",
    "IndicatorExtractor",
    "IndicatorKind",
    "NumberAnalyser",
    "btc_address_type",
    "eth_checksum_status",
    "luhn_valid",
    "tron_address_valid",
]


class IndicatorKind(StrEnum):
    """What an extracted indicator is."""

    URL = "url"
    SHORT_LINK = "short_link"
    DOWNLOAD_LINK = "download_link"
    IP_HOST = "ip_host"
    LOOKALIKE_DOMAIN = "lookalike_domain"
    BRAND_IN_DOMAIN = "brand_in_domain"
    IDN_DOMAIN = "idn_domain"
    GOV_OUTSIDE_GOV_CN = "gov_outside_gov_cn"
    PHONE_NUMBER = "phone_number"
    BANK_CARD = "bank_card"
    CRYPTO_BTC = "crypto_btc"
    CRYPTO_ETH = "crypto_eth"
    CRYPTO_TRON = "crypto_tron"
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, value: str) -> IndicatorKind:
        """Parse a kind name, mapping anything unknown to ``UNKNOWN``."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            return cls.UNKNOWN


# Kinds that on their own point to fraud rather than marketing; used by the verdict rule.
SCAM_KINDS: frozenset[IndicatorKind] = frozenset(
    {
        IndicatorKind.DOWNLOAD_LINK,
        IndicatorKind.IP_HOST,
        IndicatorKind.LOOKALIKE_DOMAIN,
        IndicatorKind.BRAND_IN_DOMAIN,
        IndicatorKind.IDN_DOMAIN,
        IndicatorKind.GOV_OUTSIDE_GOV_CN,
        IndicatorKind.CRYPTO_BTC,
        IndicatorKind.CRYPTO_ETH,
        IndicatorKind.CRYPTO_TRON,
        IndicatorKind.BANK_CARD,
    }
)


@dataclass(frozen=True, slots=True)
class Indicator:
    """One thing extracted from a message.

    Parameters
    ----------
    kind : IndicatorKind
        What it is.
    value : str
        The normalised value (host, URL, E.164 number, address).
    detail : str
        Why it was flagged, in words.
    risk : float
        0 (neutral) to 1 (fraud on its own), a hand-set weight documented in the model card.
    """

    kind: IndicatorKind
    value: str
    detail: str = ""
    risk: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "kind": str(self.kind),
            "value": self.value,
            "detail": self.detail,
            "risk": self.risk,
        }


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand or public body scammers impersonate.

    Parameters
    ----------
    key : str
        Short ASCII key looked for inside domain names (``icbc``, ``10086``, ``etc``).
    names : tuple[str, ...]
        Names as they appear in text (Chinese and English).
    domains : tuple[str, ...]
        Official registrable domains; a host equal to or under one of them is genuine.
    government : bool
        A public body: its sites live under ``.gov.cn``.
    """

    key: str
    names: tuple[str, ...]
    domains: tuple[str, ...] = ()
    government: bool = False


DEFAULT_SHORTENERS: frozenset[str] = frozenset(
    {
        "t.cn",
        "url.cn",
        "w.url.cn",
        "dwz.cn",
        "dwz.date",
        "suo.im",
        "suo.nz",
        "6du.in",
        "sohu.gg",
        "bit.ly",
        "tinyurl.com",
        "goo.gl",
        "ow.ly",
        "is.gd",
        "v.gd",
        "t.co",
        "tiny.cc",
        "cutt.ly",
        "rebrand.ly",
        "shorturl.at",
        "rb.gy",
        "s.id",
        "t.ly",
        "u.nu",
        "qr.net",
        "tb.cn",
        "c.tb.cn",
        "m.tb.cn",
    }
)
"""Default URL shorteners (``domain.md`` e.1); pass your own list to the extractor."""

DEFAULT_BRANDS: tuple[Brand, ...] = (
    Brand("icbc", ("工商银行", "工行", "ICBC"), ("icbc.com.cn", "icbc.com")),
    Brand("ccb", ("建设银行", "建行", "CCB"), ("ccb.com", "ccb.cn")),
    Brand("abchina", ("农业银行", "农行"), ("abchina.com",)),
    Brand("boc", ("中国银行", "中行"), ("boc.cn", "bankofchina.com")),
    Brand("bankcomm", ("交通银行", "交行"), ("bankcomm.com",)),
    Brand("cmbchina", ("招商银行", "招行"), ("cmbchina.com",)),
    Brand("psbc", ("邮储银行", "邮政储蓄"), ("psbc.com",)),
    Brand("citic", ("中信银行", "中信"), ("citicbank.com", "citic.com")),
    Brand("cgb", ("广发银行",), ("cgbchina.com.cn",)),
    Brand("pingan", ("平安银行", "中国平安", "平安"), ("pingan.com", "pingan.com.cn")),
    Brand("unionpay", ("银联", "云闪付", "UnionPay"), ("unionpay.com", "95516.com")),
    Brand("alipay", ("支付宝", "Alipay"), ("alipay.com",)),
    Brand("wechat", ("微信", "财付通", "WeChat"), ("weixin.qq.com", "qq.com", "tenpay.com")),
    Brand("taobao", ("淘宝", "天猫", "Taobao"), ("taobao.com", "tmall.com", "tb.cn")),
    Brand("jd", ("京东", "JD.com"), ("jd.com",)),
    Brand("pinduoduo", ("拼多多",), ("pinduoduo.com", "yangkeduo.com")),
    Brand("douyin", ("抖音",), ("douyin.com",)),
    Brand("kuaishou", ("快手",), ("kuaishou.com",)),
    Brand("10086", ("中国移动", "移动", "10086", "掌上营业厅"), ("10086.cn", "chinamobile.com")),
    Brand("10010", ("中国联通", "联通", "10010"), ("10010.com", "10010.cn", "chinaunicom.com")),
    Brand("10000", ("中国电信", "电信", "10000"), ("189.cn", "chinatelecom.com.cn")),
    Brand("12306", ("12306", "铁路"), ("12306.cn",)),
    Brand("sfexpress", ("顺丰",), ("sf-express.com", "sf-express.com.cn")),
    Brand("ems", ("EMS", "中国邮政"), ("ems.com.cn", "chinapost.com.cn")),
    Brand("piccc", ("中国人保", "人保"), ("picc.com", "picc.com.cn")),
    Brand("etc", ("ETC",), ("95022.com", "etcsd.com", "cxetc.com")),
    Brand("apple", ("Apple", "iCloud", "苹果"), ("apple.com", "icloud.com")),
    Brand("paypal", ("PayPal",), ("paypal.com",)),
    Brand("amazon", ("Amazon", "亚马逊"), ("amazon.com", "amazon.co.uk", "amazon.cn")),
    Brand("dhl", ("DHL",), ("dhl.com",)),
    Brand("fedex", ("FedEx",), ("fedex.com",)),
    Brand("usps", ("USPS",), ("usps.com",)),
    Brand("royalmail", ("Royal Mail",), ("royalmail.com",)),
    Brand("hmrc", ("HMRC",), ("gov.uk",), government=True),
    # Brands and public bodies of the English-language smishing waves (US, UK, Australia,
    # India, Singapore; 2021-2025): banks, couriers, toll roads, platforms, tax and health.
    # Keys are what such domains contain; a key that is also inside common words is left out
    # (Chase in "purchase", Linkt in "linktr.ee"), and keys under four letters match whole
    # labels only.
    Brand("wellsfargo", ("Wells Fargo",), ("wellsfargo.com", "wf.com")),
    Brand("bankofamerica", ("Bank of America",), ("bankofamerica.com", "bofa.com")),
    Brand("citibank", ("Citibank",), ("citi.com", "citibank.com")),
    Brand("hsbc", ("HSBC",), ("hsbc.com", "hsbc.co.uk", "hsbc.com.hk", "hsbc.com.cn")),
    Brand("barclays", ("Barclays",), ("barclays.co.uk", "barclays.com")),
    Brand("natwest", ("NatWest",), ("natwest.com",)),
    Brand("lloyds", ("Lloyds",), ("lloydsbank.com", "lloydsbank.co.uk", "lloydsbankinggroup.com")),
    Brand("santander", ("Santander",), ("santander.co.uk", "santander.com")),
    Brand("halifax", ("Halifax",), ("halifax.co.uk",)),
    Brand("monzo", ("Monzo",), ("monzo.com",)),
    Brand("revolut", ("Revolut",), ("revolut.com",)),
    Brand("commbank", ("CommBank", "Commonwealth Bank"), ("commbank.com.au", "cba.com.au")),
    Brand("westpac", ("Westpac",), ("westpac.com.au",)),
    Brand("dbs", ("DBS", "POSB"), ("dbs.com", "dbs.com.sg", "posb.com.sg")),
    Brand("ocbc", ("OCBC",), ("ocbc.com",)),
    Brand("hdfc", ("HDFC",), ("hdfcbank.com", "hdfc.com")),
    Brand("icici", ("ICICI",), ("icicibank.com", "icici.com")),
    Brand("sbi", ("SBI", "YONO"), ("sbi.co.in", "onlinesbi.sbi", "onlinesbi.com")),
    Brand("paytm", ("Paytm",), ("paytm.com",)),
    Brand("coinbase", ("Coinbase",), ("coinbase.com",)),
    Brand("binance", ("Binance",), ("binance.com",)),
    Brand("netflix", ("Netflix",), ("netflix.com",)),
    Brand("microsoft", ("Microsoft",), ("microsoft.com", "office.com", "live.com", "outlook.com")),
    Brand("office365", ("Office 365",), ("microsoft.com", "office.com")),
    Brand("google", ("Google", "Gmail"), ("google.com", "gmail.com", "g.co", "youtube.com")),
    Brand("facebook", ("Facebook",), ("facebook.com", "fb.com", "fb.me", "meta.com")),
    Brand("instagram", ("Instagram",), ("instagram.com",)),
    Brand("whatsapp", ("WhatsApp",), ("whatsapp.com", "wa.me")),
    Brand("walmart", ("Walmart",), ("walmart.com",)),
    Brand("ebay", ("eBay",), ("ebay.com", "ebay.co.uk")),
    Brand("ups", ("UPS",), ("ups.com",)),
    Brand("evri", ("Evri", "Hermes"), ("evri.com",)),
    Brand("dpd", ("DPD",), ("dpd.co.uk", "dpd.com")),
    Brand("parcelforce", ("Parcelforce",), ("parcelforce.com",)),
    Brand("auspost", ("Australia Post", "AusPost"), ("auspost.com.au",)),
    Brand("singpost", ("SingPost",), ("singpost.com",)),
    Brand("ezpass", ("E-ZPass", "EZPass"), ("e-zpassny.com", "ezpassnj.com", "e-zpassiag.com")),
    Brand("sunpass", ("SunPass",), ("sunpass.com",)),
    Brand("irs", ("IRS",), ("irs.gov",), government=True),
    Brand("dvla", ("DVLA",), ("gov.uk",), government=True),
    Brand("nhs", ("NHS",), ("nhs.uk",), government=True),
    Brand("mygov", ("myGov",), ("my.gov.au",), government=True),
    Brand("ato", ("ATO", "Australian Taxation Office"), ("ato.gov.au",), government=True),
    Brand("singpass", ("Singpass",), ("singpass.gov.sg",), government=True),
    Brand("iras", ("IRAS",), ("iras.gov.sg",), government=True),
    Brand(
        "gongan", ("公安", "派出所", "警方", "刑侦", "反诈中心"), ("mps.gov.cn",), government=True
    ),
    Brand("police", ("police",), (), government=True),
    Brand("court", ("法院", "court"), ("court.gov.cn",), government=True),
    Brand("jcy", ("检察院",), ("spp.gov.cn",), government=True),
    Brand("yibao", ("医保", "医疗保障局", "医保局"), ("nhsa.gov.cn",), government=True),
    Brand("shebao", ("社保", "人社", "人力资源和社会保障"), ("mohrss.gov.cn",), government=True),
    Brand("tax", ("税务", "个税", "退税"), ("chinatax.gov.cn",), government=True),
    Brand("12123", ("交管", "交警", "车管所", "12123"), ("122.gov.cn",), government=True),
    Brand("gov", ("政府", "国务院"), ("gov.cn",), government=True),
)
"""Seed brand lexicon (``domain.md`` e.7): banks, carriers, platforms, couriers, public bodies."""

_GOV_SUFFIXES = (
    ".gov.cn", ".gov", ".gov.uk", ".gov.hk", ".gov.mo", ".gov.sg", ".gov.tw", ".gov.au",
    ".gov.in", ".nic.in", ".gc.ca", ".govt.nz", ".gov.my", ".gov.ph", ".nhs.uk",
)  # fmt: skip
_TLDS = TLD_PATTERN
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#@!$&'*+,;=%\[\]]"
_URL_RE = re.compile(
    rf"(?:https?://{_URL_CHARS}+)"
    rf"|(?<![A-Za-z0-9@.\-])(?:www\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])?\.)+"
    rf"(?:{_TLDS}|xn--[a-z0-9\-]+)(?![A-Za-z0-9\-])(?::\d{{2,5}})?(?:/{_URL_CHARS}*)?",
    re.IGNORECASE,
)
# What _URL_RE needs at the least, found with one fast scan for a literal: a scheme
# (first branch), or a dot after a letter or digit followed by a TLD that ends the host
# (second branch, same flags as _URL_RE). Most messages with a dot have no link.
_URL_GUARD_RE = re.compile(
    rf"\.(?<=[A-Za-z0-9]\.)(?:(?:{_TLDS})(?![A-Za-z0-9\-])|xn--)", re.IGNORECASE
)
# A cheaper, looser test searched before it: case-insensitive patterns do not skip ahead to
# their literal, this one does. The classes hold the characters re.IGNORECASE matches to an
# ASCII letter besides the letters themselves (dotted and dotless i, long s, Kelvin sign).
_CI_LETTERS = "A-Za-z\u0130\u0131\u017f\u212a"
_URL_PRE_GUARD_RE = re.compile(rf"\.[{_CI_LETTERS}](?<=[0-9{_CI_LETTERS}]\.[{_CI_LETTERS}])")
# Host names written in Unicode (not punycode): labels of word characters before a TLD.
_IDN_RE = re.compile(r"(?<![\w.-])((?:[\w-]+\.)+(?:com|cn|net|org|xyz|top))(?![\w-])")
# Its end, which every match has: searched first because it starts with a literal.
_IDN_GUARD_RE = re.compile(r"\.(?:com|cn|net|org|xyz|top)(?![\w-])")
_ASCII_DIGITS = "0123456789"
_DIGIT_RE = re.compile(r"\d")
_IP_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_NUMBER_RE = re.compile(r"(?<![A-Za-z0-9.])(?:\+|00)?\d(?:[\d\- ]{3,22})\d(?![A-Za-z0-9])")
_BTC_BASE58_RE = re.compile(r"(?<![A-Za-z0-9])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9])")
_BECH32_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71})(?![A-Za-z0-9])"
)
_ETH_RE = re.compile(r"(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![A-Za-z0-9])")
_TRON_RE = re.compile(r"(?<![A-Za-z0-9])T[1-9A-HJ-NP-Za-km-z]{33}(?![A-Za-z0-9])")
# Every crypto pattern above is made of ASCII letters and digits only and is bounded by
# non-alphanumerics on both sides, so each match is a whole maximal run of alphanumerics,
# at least 14 long (``bc1`` + 11), that starts with 1, 3, b, B, T or 0. Those runs are
# found in one scan (the first character is a set re skips ahead to; the look-behind after
# it says the run starts there), then each pattern is tried on them whole: four look-behind
# scans of the text cost about 8 us a message, this under 1 us.
_CRYPTO_RUN_RE = re.compile(r"[13bBT0](?<![A-Za-z0-9][13bBT0])[A-Za-z0-9]{13,}")
_CRYPTO_PATTERNS = tuple(
    re.compile(p.pattern.replace("(?<![A-Za-z0-9])", "").replace("(?![A-Za-z0-9])", ""))
    for p in (_BECH32_RE, _BTC_BASE58_RE, _ETH_RE, _TRON_RE)
)
_DOWNLOAD_HOSTS = frozenset({"fir.im", "pgyer.com", "fir.vip", "betaqr.com", "app.box"})
_DOWNLOAD_WORDS = ("download", "xiazai", "/apk", ".apk", "install", "/app/", "/d/")
_CONFUSABLE = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "i": "l",
        "|": "l",
        "5": "s",
        "3": "e",
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "х": "x",
        "у": "y",
        "і": "l",
        "ӏ": "l",
        "ɡ": "g",
        "ո": "n",
        "ѕ": "s",
    }
)
_BECH32M_CONST = 0x2BC830A3


class NumberAnalyser(Protocol):
    """What the extractor needs from the number intelligence (``NumberIntel.analyse``)."""

    def analyse(self, raw: str) -> Any:
        """Return an object with ``e164, origin, origin_label, kind, valid, is_service_number``."""
        ...


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn check used by payment card numbers.

    Examples
    --------
    >>> luhn_valid("6222020200112233445"), luhn_valid("4111111111111111")
    (False, True)
    """
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _base58check_payload(address: str) -> bytes | None:
    try:
        return bytes(base58.b58decode_check(address))
    except ValueError:
        return None


def btc_address_type(address: str) -> str | None:
    """Validate a Bitcoin mainnet address and say which kind it is.

    Base58Check (P2PKH ``1…``, P2SH ``3…``) checks the double-SHA-256 checksum and version;
    SegWit addresses check the Bech32 checksum for witness v0 and the Bech32m constant
    (BIP-350) for v1 and later, rejecting the other encoding.

    Returns
    -------
    str or None
        ``"p2pkh"``, ``"p2sh"``, ``"p2wpkh"``, ``"p2wsh"``, ``"p2tr"``, ``"segwit_v<N>"``, or
        None when the checksum or structure is wrong.

    Examples
    --------
    >>> btc_address_type("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    'p2pkh'
    >>> btc_address_type("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb") is None
    True
    """
    if address[:1] in ("1", "3"):
        payload = _base58check_payload(address)
        if payload is None or len(payload) != 21:
            return None
        return {0x00: "p2pkh", 0x05: "p2sh"}.get(payload[0])
    return _segwit_type(address)


def _segwit_type(address: str) -> str | None:
    if address.lower() != address and address.upper() != address:
        return None
    addr = address.lower()
    pos = addr.rfind("1")
    if addr[:pos] != "bc" or pos + 7 > len(addr) or len(addr) > 90:
        return None
    if any(c not in bech32.CHARSET for c in addr[pos + 1 :]):
        return None
    data = [bech32.CHARSET.find(c) for c in addr[pos + 1 :]]
    # bech32 1.2.0 only knows the BIP-173 constant; its polymod gives the BIP-350 one too.
    const = bech32.bech32_polymod(bech32.bech32_hrp_expand("bc") + data)
    if const not in (1, _BECH32M_CONST) or len(data) < 7:
        return None
    version = data[0]
    program = bech32.convertbits(data[1:-6], 5, 8, False)
    if program is None or not 2 <= len(program) <= 40 or version > 16:
        return None
    if version == 0:
        if const != 1:
            return None
        return {20: "p2wpkh", 32: "p2wsh"}.get(len(program))
    if const != _BECH32M_CONST:
        return None
    if version == 1 and len(program) == 32:
        return "p2tr"
    return f"segwit_v{version}"


def eth_checksum_status(address: str) -> str | None:
    """Check an Ethereum address against EIP-55 (Keccak-256 of the lower-case hex).

    Returns
    -------
    str or None
        ``"checksum"`` when the mixed case matches, ``"unverified"`` for all-lower or
        all-upper hex (no checksum to check), None when the mixed case is wrong.

    Examples
    --------
    >>> eth_checksum_status("0xdAC17F958D2ee523a2206206994597C13D831ec7")
    'checksum'
    >>> eth_checksum_status("0xdAC17F958D2ee523a2206206994597C13D831eC7") is None
    True
    """
    hexpart = address[2:]
    if len(hexpart) != 40 or address[:2] not in ("0x", "0X"):
        return None
    try:
        int(hexpart, 16)
    except ValueError:
        return None
    if hexpart == hexpart.lower() or hexpart == hexpart.upper():
        return "unverified"
    digest = keccak.new(digest_bits=256, data=hexpart.lower().encode("ascii")).hexdigest()
    for ch, nibble in zip(hexpart, digest[:40], strict=True):
        if ch.isalpha() and ch.isupper() != (int(nibble, 16) >= 8):
            return None
    return "checksum"


def tron_address_valid(address: str) -> bool:
    """Whether a TRON address is Base58Check of 21 bytes starting with ``0x41``.

    Examples
    --------
    >>> tron_address_valid("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    True
    >>> tron_address_valid("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u")
    False
    """
    payload = _base58check_payload(address)
    return payload is not None and len(payload) == 21 and payload[0] == 0x41


# Precompiled: the re module's cache of 512 patterns is shared, and in a long batch other code
# pushed these out, so each call recompiled them (measured 250 us per _host_of call).
_HOST_END_RE = re.compile(r"[/?#]")
_HOST_TOKEN_SPLIT_RE = re.compile(r"[.\-_]")
_NON_DIGIT_RE = re.compile(r"\D")
_MIN_PLAIN_NUMBER_DIGITS = 7
# Batches with at least this many new explicit international numbers analyse them in bulk
# (below it, the fixed cost of the bulk call exceeds the per-number parses it saves).
_BULK_MIN_NUMBERS = 16
# Where a number written with + or 00 can start (as _NUMBER_RE's own start): texts without one
# skip the scan for the bulk analysis.
_INTL_START_RE = re.compile(r"(?<![A-Za-z0-9.])(?:\+|00)\d")
_BULK_MEMO_SIZE = 100_000


class _NumberFacts(NamedTuple):
    """The fields of a number's analysis that its indicator reads (a bulk-analysed number)."""

    e164: str | None
    origin: str
    origin_label: str
    kind: str
    valid: bool
    is_service_number: bool


def _host_of(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    host = _HOST_END_RE.split(rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host.strip(".").lower()


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _dot_suffixes(host: str) -> list[str]:
    """``host`` and each part after one of its dots: ``_under(host, d)`` iff ``d`` is one."""
    out = [host]
    i = host.find(".")
    while i >= 0:
        out.append(host[i + 1 :])
        i = host.find(".", i + 1)
    return out


def _host_tokens(host: str) -> list[str]:
    return [t for t in _HOST_TOKEN_SPLIT_RE.split(host) if t]


@dataclass(slots=True)
class IndicatorExtractor:
    """Extract typed indicators from one message.

    Parameters
    ----------
    shorteners : Iterable[str]
        Host names of URL shorteners.
    brands : Iterable[Brand]
        Brand lexicon used for look-alike and brand-in-domain checks.
    numbers : NumberAnalyser or None
        Number intelligence used to classify phone numbers (origin, kind, service number);
        without one, numbers are reported unclassified.

    Examples
    --------
    >>> ex = IndicatorExtractor()
    >>> [(i.kind.value, i.value) for i in ex.extract("登录 etc-renz。com 认证")]
    [('url', 'etc-renz.com'), ('brand_in_domain', 'etc-renz.com')]
    """

    shorteners: Iterable[str] = DEFAULT_SHORTENERS
    brands: Iterable[Brand] = DEFAULT_BRANDS
    numbers: NumberAnalyser | None = None
    _shorteners: frozenset[str] = field(init=False, repr=False)
    _brands: tuple[Brand, ...] = field(init=False, repr=False)
    _official: frozenset[str] = field(init=False, repr=False)
    # (brand, key, key is long (4+ characters), confusable skeleton of the key), made once.
    _brand_keys: tuple[tuple[Brand, str, bool, str], ...] = field(init=False, repr=False)
    # Explicit international numbers analysed in bulk by extract_many, by raw string.
    _bulk: dict[str, _NumberFacts] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._shorteners = frozenset(s.lower() for s in self.shorteners)
        self._brands = tuple(self.brands)
        self._official = frozenset(d for b in self._brands for d in b.domains)
        self._brand_keys = tuple(
            (b, b.key, len(b.key) >= 4, b.key.translate(_CONFUSABLE)) for b in self._brands
        )
        self._bulk = {}

    @property
    def official_domains(self) -> frozenset[str]:
        """Registrable domains the brands of the lexicon own (a host under one is genuine)."""
        return self._official

    def extract(self, text: str, *, normalised: bool = False) -> tuple[Indicator, ...]:
        """Return every indicator in ``text``, in order of kind then appearance.

        Parameters
        ----------
        text : str
            Message body (raw, or already passed through ``normalise`` if ``normalised``).
        normalised : bool
            Skip normalisation when the caller already did it.
        """
        if not normalised:
            text = normalise(text)
        return self._extract(text, self.numbers.analyse if self.numbers is not None else None)

    def extract_many(
        self, texts: Sequence[str], *, normalised: bool = False
    ) -> list[tuple[Indicator, ...]]:
        """:meth:`extract` of each text; the batch's new explicit international numbers
        (``+``/``00``) analysed once each, in bulk, from the compiled numbering plan
        (:func:`telewarden.core.numbering.analyse_international`, the same fields as
        ``NumberIntel.analyse``) when the analyser is a ``NumberIntel``.

        Examples
        --------
        >>> from telewarden.core.numbers import NumberIntel
        >>> ex = IndicatorExtractor(numbers=NumberIntel())
        >>> [[i.value for i in f] for f in ex.extract_many(["call +44 7700 900123", "hi"])]
        [['+447700900123'], []]
        """
        if not normalised:
            texts = [normalise(t) for t in texts]
        analyse = self._batch_analyser(texts)
        extract = self._extract
        return [extract(text, analyse) for text in texts]

    def _batch_analyser(self, texts: Sequence[str]) -> Callable[[str], Any] | None:
        """The per-string analysis for a batch: bulk results first, then ``numbers.analyse``."""
        from telewarden.core.numbers import NumberIntel

        intel = self.numbers
        if not isinstance(intel, NumberIntel):
            return intel.analyse if intel is not None else None
        bulk = self._bulk
        cached = intel.cached
        cold = {
            raw
            for text in texts
            if ("+" in text or "00" in text) and _INTL_START_RE.search(text)
            for m in _NUMBER_RE.finditer(text)
            if (raw := m.group(0).strip()).startswith(("+", "00"))
            and raw not in bulk
            and cached(raw) is None
        }
        if len(cold) >= _BULK_MIN_NUMBERS:
            from telewarden.core.numbering import analyse_international

            done, _ = analyse_international(
                sorted(cold), high_risk_countries=intel.high_risk_countries
            )
            if len(bulk) + done.height > _BULK_MEMO_SIZE:
                bulk.clear()
            columns = ("raw", *_NumberFacts._fields)
            for raw, *facts in done.select(columns).iter_rows():
                bulk[raw] = _NumberFacts(*facts)
        if not bulk:
            return intel.analyse
        analyse = intel.analyse

        def lookup(raw: str) -> Any:
            facts = bulk.get(raw)
            return facts if facts is not None else analyse(raw)

        return lookup

    def _extract(self, text: str, analyse: Callable[[str], Any] | None) -> tuple[Indicator, ...]:
        found: list[Indicator] = []
        has_dot = "." in text
        if (has_dot or "xn--" in text) and (
            "://" in text or (_URL_PRE_GUARD_RE.search(text) and _URL_GUARD_RE.search(text))
        ):
            self._links(text, found)
        if has_dot and not text.isascii() and _IDN_GUARD_RE.search(text):
            for m in _IDN_RE.finditer(text):
                host = m.group(1).lower()
                if not host.isascii() and any(
                    not label.isascii() and label.isalnum() for label in host.split(".")
                ):
                    found.append(self._idn(host, host))
        # At least five digits anywhere (what the number pattern below needs at the least). In
        # an ASCII text \d is 0-9 only: ten str.count scans (~1 us on 400 characters) instead of
        # a list of every digit (~5 us).
        if (
            sum(map(text.count, _ASCII_DIGITS)) if text.isascii() else len(_DIGIT_RE.findall(text))
        ) >= 5:
            self._numbers(text, found, analyse)
        if len(text) >= 14:
            self._crypto(text, found)
        return tuple(found)

    def _links(self, text: str, found: list[Indicator]) -> None:
        seen: set[str] = set()
        for m in _URL_RE.finditer(text):
            url = m.group(0).rstrip(".,;:!?)'")
            host = _host_of(url)
            if not host or host in seen or "." not in host:
                continue
            seen.add(host)
            found.append(Indicator(IndicatorKind.URL, url, "link in message", 0.3))
            found.extend(self.check_host(host, url))

    def check_host(self, host: str, url: str = "") -> list[Indicator]:
        """Classify one host name: short link, download site, IP host, look-alike, IDN, gov.

        Examples
        --------
        >>> [i.kind.value for i in IndicatorExtractor().check_host("www.1cbc.com")]
        ['lookalike_domain']
        >>> IndicatorExtractor().check_host("www.icbc.com.cn")
        []
        """
        out: list[Indicator] = []
        url = url or host
        lower_url = url.lower()
        suffixes = _dot_suffixes(host)
        if not self._shorteners.isdisjoint(suffixes):
            out.append(Indicator(IndicatorKind.SHORT_LINK, url, f"URL shortener {host}", 0.5))
        if lower_url.endswith(".apk") or ".apk?" in lower_url:
            out.append(Indicator(IndicatorKind.DOWNLOAD_LINK, url, "direct APK download", 0.9))
        elif not _DOWNLOAD_HOSTS.isdisjoint(suffixes) or any(
            w in lower_url for w in _DOWNLOAD_WORDS
        ):
            out.append(Indicator(IndicatorKind.DOWNLOAD_LINK, url, "app download page", 0.6))
        if _IP_RE.match(host):
            out.append(Indicator(IndicatorKind.IP_HOST, host, "IP-literal host", 0.7))
            return out
        if "xn--" in host or not host.isascii():
            out.append(self._idn(host, url))
            return out
        if not self._official.isdisjoint(suffixes):
            return out
        out.extend(self._brand_checks(host))
        return out

    def _brand_checks(self, host: str) -> list[Indicator]:
        tokens = _host_tokens(host)
        skeleton_tokens = [t.translate(_CONFUSABLE) for t in tokens]
        is_gov_host = host.endswith(_GOV_SUFFIXES)
        out: list[Indicator] = []
        token_set = set(tokens)
        for brand, key, long_key, skel in self._brand_keys:
            # Short keys (etc, ccb, boc) only as a whole label part, longer ones anywhere.
            if long_key:
                literal = False
                for t in tokens:
                    if key in t:
                        literal = True
                        break
            else:
                literal = key in token_set
            if not literal and long_key:
                lookalike = False
                for t in skeleton_tokens:
                    if skel in t:
                        lookalike = True
                        break
                if lookalike:
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
        for _, key, long_key, skel in self._brand_keys:
            if long_key and skel in skeleton:
                return Indicator(
                    IndicatorKind.IDN_DOMAIN, url, f"IDN homoglyph of {key}: {shown}", 0.95
                )
        return Indicator(IndicatorKind.IDN_DOMAIN, url, f"internationalised domain {shown}", 0.6)

    def _numbers(
        self, text: str, found: list[Indicator], analyse: Callable[[str], Any] | None
    ) -> None:
        for m in _NUMBER_RE.finditer(text):
            raw = m.group(0).strip()
            digits = _NON_DIGIT_RE.sub("", raw)
            if len(digits) < 5 or len(digits) > 19:
                continue
            if 16 <= len(digits) <= 19 and not raw.startswith(("+", "00")) and luhn_valid(digits):
                found.append(
                    Indicator(IndicatorKind.BANK_CARD, digits, "card number (Luhn valid)", 0.6)
                )
                continue
            if len(digits) > 15:
                continue
            indicator = self._classify_number(raw, len(digits), analyse)
            if indicator is not None:
                found.append(indicator)

    def _classify_number(
        self, raw: str, n_digits: int, analyse: Callable[[str], Any] | None
    ) -> Indicator | None:
        if analyse is None:
            return Indicator(IndicatorKind.PHONE_NUMBER, raw, "number (not classified)", 0.2)
        info = analyse(raw)
        # Five or six digits without a + or 00 that the number intelligence finds neither
        # valid nor a service number are a code, an order number or an amount ("Your OTP is
        # 583920"), not a phone number: service numbers such as 95588 stay.
        if (
            n_digits < _MIN_PLAIN_NUMBER_DIGITS
            and not raw.startswith(("+", "00"))
            and not getattr(info, "valid", True)
            and not getattr(info, "is_service_number", False)
        ):
            return None
        kind = str(getattr(info, "kind", "unknown"))
        origin = str(getattr(info, "origin", "unknown"))
        label = str(getattr(info, "origin_label", ""))
        value = getattr(info, "e164", None) or raw
        risk = 0.2
        parts = [kind]
        if label:
            parts.append(label)
        if getattr(info, "is_service_number", False):
            parts.append("service number")
        if kind in ("toll_free_400",):
            risk = 0.4
        if origin not in ("mainland", "unknown") and raw.startswith(("+", "00")):
            risk = 0.6
            parts.append("international number")
        if not getattr(info, "valid", True):
            parts.append("invalid")
        return Indicator(IndicatorKind.PHONE_NUMBER, str(value), ", ".join(parts), risk)

    def _crypto(self, text: str, found: list[Indicator]) -> None:
        runs: list[str] = _CRYPTO_RUN_RE.findall(text)
        if not runs:
            return
        bech32_re, base58_re, eth_re, tron_re = _CRYPTO_PATTERNS
        # Same order as four finditer passes: Bech32, Base58 Bitcoin, Ethereum, TRON.
        for run in runs:
            if bech32_re.fullmatch(run):
                kind = btc_address_type(run)
                if kind:
                    found.append(Indicator(IndicatorKind.CRYPTO_BTC, run, f"bitcoin {kind}", 0.8))
        for run in runs:
            if base58_re.fullmatch(run):
                kind = btc_address_type(run)
                if kind:
                    found.append(Indicator(IndicatorKind.CRYPTO_BTC, run, f"bitcoin {kind}", 0.8))
        for run in runs:
            if eth_re.fullmatch(run):
                status = eth_checksum_status(run)
                if status:
                    found.append(
                        Indicator(IndicatorKind.CRYPTO_ETH, run, f"EVM address ({status})", 0.8)
                    )
        for run in runs:
            if tron_re.fullmatch(run) and tron_address_valid(run):
                found.append(Indicator(IndicatorKind.CRYPTO_TRON, run, "TRON address", 0.8))


def brands_mentioned(text: str, brands: Iterable[Brand] = DEFAULT_BRANDS) -> list[Brand]:
    """Brands whose names appear in the text (case-insensitive for Latin names).

    Examples
    --------
    >>> [b.key for b in brands_mentioned("【工商银行】您的账户")]
    ['icbc']
    """
    lower = text.lower()
    return [b for b in brands if any(n.lower() in lower for n in b.names)]


def indicator_summary(indicators: Iterable[Indicator]) -> Mapping[str, int]:
    """Count indicators by kind (for explanations and features)."""
    out: dict[str, int] = {}
    for ind in indicators:
        out[str(ind.kind)] = out.get(str(ind.kind), 0) + 1
    return out


def sha256d(data: bytes) -> bytes:
    """Double SHA-256, the Base58Check checksum hash (exposed for tests)."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()
