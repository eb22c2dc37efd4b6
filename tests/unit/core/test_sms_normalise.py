"""Normalisation undoes the obfuscations scam senders use."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telewarden.core.sms.normalise import (
    EMOJI_TOKEN,
    deobfuscate_links,
    fold_for_model,
    literal_trie,
    normalise,
)

from . import sms_reference as ref
from .sms_reference import sms_texts


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＥＴＣ认证", "ETC认证"),
        ("免 费 领 取", "免费领取"),
        ("免-费.领*取", "免费领取"),
        ("F R E E entry", "FREE entry"),
        ("中\u200b奖", "中奖"),
        ("🎁🎁大礼", f"{EMOJI_TOKEN}大礼"),
        ("a   b\n c", "a b c"),
    ],
    ids=["full-width", "spaced-cjk", "punctuated-cjk", "spaced-latin", "zero-width", "emoji", "ws"],
)
def test_normalise_undoes_obfuscation(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hxxp://evil.com", "http://evil.com"),
        ("hXXps://evil.com", "https://evil.com"),
        ("evil[.]com", "evil.com"),
        ("evil(dot)com", "evil.com"),
        ("evil点com", "evil.com"),
        ("evil。com", "evil.com"),
        ("evil . com", "evil.com"),
        ("http : / / evil.com", "http://evil.com"),
    ],
    ids=[
        "hxxp",
        "hxxps",
        "bracket-dot",
        "word-dot",
        "chinese-dot",
        "ideographic",
        "spaces",
        "scheme",
    ],
)
def test_deobfuscates_links(raw: str, expected: str) -> None:
    assert deobfuscate_links(normalise(raw)) == expected


def test_sentence_full_stop_is_not_turned_into_a_host_dot() -> None:
    assert normalise("我到了。明天见") == "我到了。明天见"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("etc-renz. com 认证", "etc-renz.com 认证"),
        ("www . etc-renz . com", "www.etc-renz.com"),
        ("WWW. ABC. COM", "WWW.ABC.COM"),
        ("www.etc-renz . com/a", "www.etc-renz.com/a"),
        ("pay at a . top", "pay at a.top"),
        ("Visit us. etc-renz . com", "Visit us. etc-renz.com"),
        ("etc-renz\t.\tcom 认证", "etc-renz.com 认证"),
        ("www . icbc . com . cn", "www.icbc.com.cn"),
        ("etc-renz . co . uk", "etc-renz.co.uk"),
        ("登录 icbc-vip . wang 认证", "登录 icbc-vip.wang 认证"),
    ],
    ids=[
        "space-after",
        "spaced-throughout",
        "upper-case",
        "last-dot",
        "word-tld",
        "sentence-then-host",
        "tab-spaced",
        "second-level-domain",
        "country-second-level",
        "cheap-domain",
    ],
)
def test_spaced_host_is_joined(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ok. Me watching tv too.",
        "Sorry I am late. Co workers kept me.",
        "Done. Top up tomorrow",
        "ok. top up tomorrow",
        "ok. me too",
        "see us. www.etc.com",
        "ok. see you at 5.30",
        "Its normally hot mail. Com you see!",
    ],
)
def test_sentences_are_not_read_as_hosts(text: str) -> None:
    # A full stop then a word that is also a top-level domain ("Me", "Co", "top") used to be
    # joined into a host ("Ok.Me") and reported as a link.
    assert normalise(text) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("电话xxxxxxxx", "电话00000000"),
        ("138****5678", "00000000000"),
        ("XMAS box", "xmas box"),
        ("Call 0845", "call 0000"),
    ],
    ids=["x-mask", "star-mask", "latin-x-kept", "digits"],
)
def test_fold_reads_masks_as_digits(raw: str, expected: str) -> None:
    assert fold_for_model(normalise(raw)) == expected


# The fast paths (guards before the regexes, rewritten patterns) against the code as it was.
_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(text=st.one_of(sms_texts(), st.text(max_size=40)))
def test_normalise_and_fold_give_what_the_plain_code_gives(text: str) -> None:
    assert normalise(text) == ref.normalise(text)
    assert deobfuscate_links(text) == ref.deobfuscate_links(text)
    assert fold_for_model(text) == ref.fold_for_model(text)
    assert fold_for_model(normalise(text)) == ref.fold_for_model(ref.normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "a\u200b",  # only an invisible mark makes it non-ASCII
        "免 \t 费",
        "免 - x费",
        "a。b。c",
        "a。。b",
        "-。b",
        "a  . b . cd",
        "a.\tcd",
        "etc-renz\t.\tcom",  # whitespace other than a space around the dot of a host
        "etc-renz.\ncom 认证",
        "www\n.\netc\n.\ncom",
        "x xX xxxa Xx 9xx",
        "A B C d e F",
        "a b",
        "hxxp\t: / / a.com",
        "a\u3000\u3000b",
    ],
)
def test_edge_cases_match_the_plain_code(text: str) -> None:
    assert normalise(text) == ref.normalise(text)
    assert deobfuscate_links(text) == ref.deobfuscate_links(text)
    assert fold_for_model(normalise(text)) == ref.fold_for_model(ref.normalise(text))


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.text(alphabet="abc.-", min_size=1, max_size=4), min_size=1, max_size=12),
    probe=st.text(alphabet="abc.-", max_size=5),
)
def test_literal_trie_matches_exactly_its_words(words: list[str], probe: str) -> None:
    pattern = re.compile(literal_trie(words))
    assert all(pattern.fullmatch(w) for w in words)
    assert bool(pattern.fullmatch(probe)) == (probe in words)
