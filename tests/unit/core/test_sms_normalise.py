"""Normalisation undoes the obfuscations scam senders use."""

from __future__ import annotations

import pytest

from telewarden.core.sms.normalise import EMOJI_TOKEN, deobfuscate_links, fold_for_model, normalise


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
        ("电话xxxxxxxx", "电话00000000"),
        ("138****5678", "00000000000"),
        ("XMAS box", "xmas box"),
        ("Call 0845", "call 0000"),
    ],
    ids=["x-mask", "star-mask", "latin-x-kept", "digits"],
)
def test_fold_reads_masks_as_digits(raw: str, expected: str) -> None:
    assert fold_for_model(normalise(raw)) == expected
