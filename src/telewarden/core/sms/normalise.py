"""Text normalisation and de-obfuscation of SMS bodies before features and indicators.

What belongs here: pure string transforms that undo the tricks scam senders use to get past
keyword filters (full-width characters, words split with spaces or punctuation, emoji,
masked digits, ``hxxp`` and full-width dots in links) and that make Chinese and English
messages from different sources look alike to the model (digits folded to ``0``, the
``x`` masks of the zh_sms set read as digits). Nothing here knows about labels or models.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

__all__ = ["EMOJI_TOKEN", "deobfuscate_links", "fold_for_model", "normalise"]

EMOJI_TOKEN = "\u25c6"
"""One placeholder character standing for any emoji or pictograph (``◆``)."""

# Zero-width and bidi marks are used to split keywords invisibly; drop them outright.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad\u202a\u202b\u202c\u202d\u202e"
# A character class, not ``str.translate``: translate looks every character up in a dict
# (about 5 us for a 70-character Chinese message), the regex scans in C (about 0.5 us).
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE_CHARS}]")
# Dot look-alikes that NFKC leaves alone but that senders use inside host names.
_DOTS = "\u3002\uff61\u2024\u2027\u00b7\u30fb\u16eb"
# A dot look-alike after a letter, digit or hyphen and before a letter or digit. The
# look-behind comes after the dot so that re skips ahead to the dots.
_DOT_LIKE_RE = re.compile(rf"[{_DOTS}](?<=[A-Za-z0-9-][{_DOTS}])(?=[A-Za-z0-9])")
_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\u2b00-\u2bff\ufe0f\u20e3]+"
)
# The same set, one character, BMP ranges first: searched before the sub (about 0.5 us
# against 1.2 us for the sub on a Chinese message without emoji).
_ANY_EMOJI_RE = re.compile(
    "[\u20e3\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff\U0001f900-\U0001f9ff]"
)
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
# A separator (space, dash, dot, star, underscore, slash, pipe) between two CJK characters
# is an obfuscation: 免-费 / 免 费 / 免*费 read as 免费.
# Written as (?<=[CJK])[SEP]+(?=[CJK]) with the look-behind after the first separator, so
# that re skips ahead to the separators instead of testing the look-behind everywhere.
_CJK_SEP = r"[\s\-_.*|/\\~·]"
_CJK_SPLIT_RE = re.compile(rf"{_CJK_SEP}(?<=[{_CJK}]{_CJK_SEP}){_CJK_SEP}*(?=[{_CJK}])")
# Three or more single Latin letters separated by single spaces: "F R E E" -> "FREE".
_SPACED_LATIN_RE = re.compile(r"\b(?:[A-Za-z] ){2,}[A-Za-z]\b")
# What _SPACED_LATIN_RE needs at the least (letter, space, letter, space, letter, then the
# end of a word: its last three letters), searched first: it starts with a literal space,
# which re skips ahead to, where a pattern starting with ``\b`` is tried at every position.
# Without the final ``\b`` the guard passed 93 % of long English messages ("Ok I am"), each
# then paying the 8 us substitution for nothing.
_SPACED_LATIN_GUARD_RE = re.compile(r" [A-Za-z] [A-Za-z](?<=[A-Za-z] [A-Za-z] [A-Za-z])\b")
_WS_RE = re.compile(r"\s+")
_HXXP_RE = re.compile(r"\bh[xX*]{2}p(s?)(?=\s*[:：])", re.IGNORECASE)
_BRACKET_DOT_RE = re.compile(r"\s*[\[\(\{<]\s*(?:\.|dot|点)\s*[\]\)\}>]\s*", re.IGNORECASE)
TOP_LEVEL_DOMAINS: tuple[str, ...] = (
    "com", "cn", "net", "org", "top", "xyz", "vip", "cc", "info", "me", "io", "co", "app",
    "shop", "club", "site", "online", "ly", "gl", "gd", "uk", "us", "hk", "tw", "mo", "ru",
    "tk", "ml", "ga", "cf", "gq", "pw", "biz", "live", "link", "icu", "fun", "ink", "work",
    "wang", "cloud", "tech", "store", "pro", "asia", "mobi", "tv", "in", "jp", "kr", "sg",
    "my", "ph", "vn", "th", "id", "la", "kh", "mm", "im", "de", "fr", "nl", "es", "it", "ca",
    "au", "nz", "ws", "su", "cyou", "buzz", "rest", "bond", "sbs", "cfd", "lat", "today",
    "win", "bid", "loan", "men", "date", "party", "review", "trade", "download", "xin", "ren",
    "ltd",
    # Generic domains of the smishing waves against English-speaking countries (parcel, toll,
    # bank and refund lures, 2021-2025) and region codes of those countries.
    "help", "support", "delivery", "care", "services", "click", "email", "digital", "bet",
    "world", "global", "center", "network", "website", "space", "host", "life", "one", "best",
    "mom", "beauty", "quest", "monster", "cam", "cx", "ke", "ng", "za", "pk", "br", "mx", "tr",
    "eu", "ie", "ae", "ai", "to",
)  # fmt: skip
"""Top-level domains a host in a message is recognised by when it has no scheme: the common
generic ones, those cheap ones scam links favour, and the region codes of the area. One list
for de-obfuscation here and for link extraction in :mod:`telewarden.core.sms.indicators`."""

WORD_LIKE_DOMAINS: frozenset[str] = frozenset({
    "top", "vip", "info", "me", "co", "app", "shop", "club", "site", "online", "us", "live",
    "link", "fun", "ink", "work", "cloud", "tech", "store", "pro", "tv", "in", "my", "ph",
    "th", "id", "la", "im", "de", "es", "it", "ca", "au", "today", "win", "bid", "loan", "men",
    "date", "party", "review", "trade", "download", "rest", "bond", "buzz", "help", "support",
    "delivery", "care", "services", "click", "email", "digital", "bet", "world", "global",
    "center", "network", "website", "space", "host", "life", "one", "best", "mom", "beauty",
    "quest", "monster", "cam", "to", "ai",
})  # fmt: skip
"""Those of :data:`TOP_LEVEL_DOMAINS` that are also English words (or common abbreviations):
after a sentence's full stop they start the next sentence ("Ok. Me too", "Done. Top up")."""


def literal_trie(words: Iterable[str]) -> str:
    """A regex matching exactly ``words``, written as a trie of their characters.

    ``re`` tries the branches of an alternation one by one at each position; with a list of
    127 domains each dot of a message cost 127 attempts. As a trie it costs one attempt per
    distinct first character, then one per character that matches. (Inside a longer pattern
    the two forms can differ only in which of two words of different length is tried first,
    which no pattern here depends on: each is followed by a boundary that at most one of
    them can meet.)

    Examples
    --------
    >>> literal_trie(["com", "cn", "co", "net"])
    '(?:c(?:n|o(?:m)?)|net)'
    >>> bool(re.fullmatch(literal_trie(["com", "cn", "co"]), "co"))
    True
    """
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        parts = [re.escape(ch) + branch(child) for ch, child in sorted(node.items()) if ch]
        if not parts:
            return ""
        if len(parts) == 1 and "" not in node:
            return parts[0]
        return "(?:" + "|".join(parts) + (")?" if "" in node else ")")

    return branch(root)


TLD_PATTERN = literal_trie(TOP_LEVEL_DOMAINS)
"""Regex source matching exactly one of :data:`TOP_LEVEL_DOMAINS` (lower case)."""

_WORD_DOT_RE = re.compile(
    rf"(?<=[A-Za-z0-9-])\s*(?:\bdot\b|点)\s*(?=(?:{literal_trie((*TOP_LEVEL_DOMAINS, 'gov'))})\b)",
    re.IGNORECASE,
)
# Spaces around the dots of a host name: "etc-renz . com" -> "etc-renz.com". Only a host
# that ends in a known top-level domain is joined, or every sentence would become one
# ("Ok. Me watching tv" read as the host "Ok.Me"). Word-like domains join only when a space
# comes before the dot ("etc . top"); the others also after "etc. com". A domain written in
# title case ("Com", "Me") is a sentence start, so only lower or upper case count. The chain of
# labels before the domain is greedy (so "www . icbc . com . cn" keeps its ".cn") and bounded:
# an unbounded chain made a long text of short sentences cost quadratic time.
_TLDS_UNLIKE_WORDS = tuple(d for d in TOP_LEVEL_DOMAINS if d not in WORD_LIKE_DOMAINS)
_TLDS_LIKE_WORDS = tuple(d for d in TOP_LEVEL_DOMAINS if d in WORD_LIKE_DOMAINS)
MAX_HOST_LABELS = 10
"""Longest spaced-out host joined, in labels (domain included)."""


def _either_case(names: tuple[str, ...]) -> str:
    return literal_trie([*names, *(n.upper() for n in names)])


_HOST_LABEL = r"[A-Za-z0-9-]+"
_SPACED_HOST_RE = re.compile(
    rf"(?<![A-Za-z0-9.-]){_HOST_LABEL}(?:\s*\.\s*{_HOST_LABEL}){{0,{MAX_HOST_LABELS - 2}}}"
    rf"(?:\s*\.\s*(?:{_either_case(_TLDS_UNLIKE_WORDS)})|\s+\.\s*(?:{_either_case(_TLDS_LIKE_WORDS)}))"
    r"(?![A-Za-z0-9-])"
)
# What every match of _SPACED_HOST_RE that changes the text contains, searched first: its last
# dot with whitespace before or after it (a match whose last dot has none joins nothing, see
# _join_host) and the domain. It starts with a literal dot, which re skips ahead to, so most
# messages cost one fast scan; any whitespace counts (a tab or a line break too).
_SPACED_HOST_HINT_RE = re.compile(
    rf"\.(?:(?<=\s\.)\s*|\s+)(?:{_either_case(TOP_LEVEL_DOMAINS)})"
    r"(?![A-Za-z0-9-])"
)
_DOT_SPACES_RE = re.compile(r"\s*\.\s*")


def _dot_form(separator: str) -> tuple[bool, bool]:
    return separator[0] != ".", separator[-1] != "."


def _join_host(match: re.Match[str]) -> str:
    """Join the last dot's spaces, and those of earlier dots spaced the same way.

    An obfuscated host is spaced alike throughout (``www . etc . com``); a differently
    spaced earlier dot is a sentence's full stop before a host (``see us. www.etc.com``).
    """
    text = match.group()
    separators = list(_DOT_SPACES_RE.finditer(text))
    last = _dot_form(separators[-1].group())
    pieces: list[str] = []
    start = 0
    for i, sep in enumerate(separators):
        pieces.append(text[start : sep.start()])
        joined = i == len(separators) - 1 or _dot_form(sep.group()) == last
        pieces.append("." if joined else sep.group())
        start = sep.end()
    pieces.append(text[start:])
    return "".join(pieces)


_SPACED_SCHEME_RE = re.compile(r"\b(https?)\s*[:：]\s*/\s*/\s*", re.IGNORECASE)
# zh_sms masks every digit as "x"; a run of x not inside a Latin word is a masked number.
# Written as (?<![A-Za-wyz])[xX]+(?![A-Za-wyz]) with the look-behind moved after the first
# x, so the scan starts on an x rather than testing a look-behind at every position.
_MASK_X_RE = re.compile(r"[xX](?<![A-Za-wyz][xX])[xX]*(?![A-Za-wyz])")
_MASK_STAR_RE = re.compile(r"(?<=\d)[*＊]+|[*＊]+(?=\d)")
_DIGIT_RE = re.compile(r"\d")
_ASCII_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


def deobfuscate_links(text: str) -> str:
    """Undo the usual link obfuscations so URL extraction sees a plain URL.

    ``hxxp`` becomes ``http``, ``[.]``/``(dot)``/``点`` and full-width or ideographic dots
    between host labels become ``.``, and the spaces (any whitespace) around the dots of a host
    that ends in a known top-level domain, or after the scheme, are removed.

    Parameters
    ----------
    text : str
        Any text, already NFKC-normalised or not.

    Returns
    -------
    str
        The text with link obfuscations undone; the rest is left as it was.

    Examples
    --------
    >>> deobfuscate_links("hxxps://etc-renz[.]com")
    'https://etc-renz.com'
    >>> deobfuscate_links("登录 etc-renz。com 认证")
    '登录 etc-renz.com 认证'
    """
    if not text.isascii():  # the dot look-alikes are all non-ASCII
        text = _DOT_LIKE_RE.sub(".", text)
    if "xx" in text or "XX" in text or "**" in text:
        lower = text.lower()
        # Every match has h, two of x, X and *, and p: "xxp", "x*p", "*xp" or "**p" lower-cased.
        if "xp" in lower or "*p" in lower:
            text = _HXXP_RE.sub(r"http\1", text)
    if "[" in text or "(" in text or "{" in text or "<" in text:
        text = _BRACKET_DOT_RE.sub(".", text)
    if "dot" in text.lower() or "点" in text:
        text = _WORD_DOT_RE.sub(".", text)
    if "." in text and _SPACED_HOST_HINT_RE.search(text):
        text = _SPACED_HOST_RE.sub(_join_host, text)
    if "/" in text and "//" in text.replace(" ", ""):
        text = _SPACED_SCHEME_RE.sub(lambda m: m.group(1).lower() + "://", text)
    return text


def normalise(text: str) -> str:
    """Normalise an SMS body for indicator extraction and display.

    Applies Unicode NFKC (full-width to half-width letters, digits and punctuation), drops
    invisible characters, replaces emoji by :data:`EMOJI_TOKEN`, joins CJK words split with
    spaces or punctuation and Latin words spelt out letter by letter, undoes link
    obfuscation and collapses whitespace. Case and digits are kept.

    Parameters
    ----------
    text : str
        The raw message body.

    Returns
    -------
    str
        The normalised text.

    Examples
    --------
    >>> normalise("ＥＴＣ 已 失 效，点击 hxxp://etc-renz．com")
    'ETC 已失效,点击 http://etc-renz.com'
    >>> normalise("F R E E entry 🎁🎁")
    'FREE entry ◆'
    """
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        # Every step below is a no-op on an ASCII text, and an invisible mark may be the only
        # non-ASCII character, so ASCII is tested again after dropping them.
        text = _INVISIBLE_RE.sub("", text)
        if not text.isascii():
            if _ANY_EMOJI_RE.search(text):
                text = _EMOJI_RE.sub(EMOJI_TOKEN, text)
            text = _CJK_SPLIT_RE.sub("", text)
    if " " in text and _SPACED_LATIN_GUARD_RE.search(text):
        text = _SPACED_LATIN_RE.sub(lambda m: m.group(0).replace(" ", ""), text)
    text = deobfuscate_links(text)
    # _WS_RE.sub(" ", text).strip(): str.split, re's \s and str.strip all take the characters
    # of Py_UNICODE_ISSPACE as whitespace (about 1 us against 5 for 400 characters). When
    # every whitespace run is already one plain space this is text.strip(), so the test for
    # other whitespace (a regex, 3 us on 400 characters) is not needed.
    return " ".join(text.split())


def fold_for_model(text: str) -> str:
    """Fold a normalised text to what the classifier sees.

    Lower-cases, reads masked digits (``x`` runs outside Latin words, ``*`` next to digits)
    as digits, and folds every digit to ``0`` so a phone number, an amount or a date from
    one data set looks like those of another.

    Parameters
    ----------
    text : str
        Output of :func:`normalise`.

    Returns
    -------
    str
        The folded text.

    Examples
    --------
    >>> fold_for_model("预约电话:xxxxxxxx, 仅需99元")
    '预约电话:00000000, 仅需00元'
    >>> fold_for_model("Call 0845 281 0075 for XMAS")
    'call 0000 000 0000 for xmas'
    """
    if "x" in text or "X" in text:
        text = _MASK_X_RE.sub(lambda m: "0" * len(m.group(0)), text)
    if "*" in text or "＊" in text:
        text = _MASK_STAR_RE.sub(lambda m: "0" * len(m.group(0)), text)
    text = text.lower()
    if text.isascii():
        # The ASCII digits are all \d matches there: one table lookup per byte.
        return text.encode("ascii").translate(_ASCII_DIGITS_TO_ZERO).decode("ascii")
    return _DIGIT_RE.sub("0", text)
