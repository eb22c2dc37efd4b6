"""The cue rows tried only where a match can start give what searching every row gives.

``core/sms/cuescan.py`` finds each pattern's literal first words in the lower-cased text and
tries ``pattern.match`` there (issue #18 part 3). The reference is the plain loop
``pattern.search(text)`` over every row, and ``ReferenceTyper.evidence`` /
``_plain_raw_scores`` (the code before the speed work), and the frozen ``notice_kind`` of
``sms_model_reference.py``, on the shipped check sets, long
messages made of them, random texts and generated ones.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telewarden.core.sms import notices
from telewarden.core.sms.cuescan import CueTable, literal_prefixes
from telewarden.core.sms.fraud_typer import (
    _CASE_ODD_RE,
    _COMPILED_CUES,
    _CUE_TABLE,
    _SCHEME_TABLE,
    FraudTyper,
)
from telewarden.core.sms.indicators import IndicatorExtractor
from telewarden.core.sms.normalise import normalise

from . import sms_model_reference as ref_model
from . import sms_reference as ref
from .sms_reference import sms_texts
from .test_sms_fast_scoring import _check_texts, _plain_raw_scores, _random_texts

_TYPER = FraudTyper()
_REFERENCE_TYPER = ref.ReferenceTyper()
_LEXICON = [pattern for ftype in _TYPER.taxonomy.values() for pattern, _ in ftype.lexicon]
_CUE_PATTERNS = [pattern for _, pattern, _ in _COMPILED_CUES]
_ALL_PATTERNS = _CUE_PATTERNS + _LEXICON


def _texts() -> list[str]:
    """Check sets, long messages of five consecutive check-set messages, random texts."""
    checks = _check_texts()
    long = [" ".join(checks[i : i + 5]) for i in range(len(checks) - 5)]
    texts = checks + long + _random_texts(600, seed=18)
    texts += [normalise(t) for t in texts]
    texts += [t.upper() for t in texts[:300]] + [
        "ring 0912345678",
        "during 0912345678",
        "CALL\t09123456789 now",
        "won WON swon won1 won",
        "pay the fee, fee to pay",
        "İ ı ſ K call 0912345678 refund",
        "",
    ]
    return texts


_ALL_TEXTS = _texts()


def _plain(patterns: list[re.Pattern[str]], text: str) -> list[tuple[int, tuple[int, int], str]]:
    out = []
    for i, p in enumerate(patterns):
        m = p.search(text)
        if m:
            out.append((i, m.span(), m.group(0)))
    return out


def _fast(table: CueTable, text: str) -> list[tuple[int, tuple[int, int], str]]:
    return [(i, m.span(), m.group(0)) for i, m in table.first_matches(text)]


def test_enough_rows_are_tried_only_at_their_first_words() -> None:
    # Most cue rows start with literal words; the test below would pass vacuously otherwise.
    assert sum(p is not None for p in _CUE_TABLE.prefixes) >= 35
    assert sum(p is not None for p in _TYPER._lexicon_table.prefixes) >= 100


def test_cue_rows_match_as_a_search_of_every_row() -> None:
    hits = 0
    for text in _ALL_TEXTS:
        found = _fast(_CUE_TABLE, text)
        assert found == _plain(_CUE_PATTERNS, text), text
        hits += len(found)
    assert hits > 1000


def test_lexicon_rows_match_as_a_search_of_every_row() -> None:
    hits = 0
    for text in _ALL_TEXTS:
        found = _fast(_TYPER._lexicon_table, text)
        assert found == _plain(_LEXICON, text), text
        hits += len(found)
    assert hits > 1000


def test_evidence_and_lexicon_scores_equal_the_previous_ones() -> None:
    extractor = ref.ReferenceExtractor()
    for text in _ALL_TEXTS[::3]:
        indicators = extractor.extract(text, normalised=True)
        for anchor in (False, True):
            assert _TYPER.evidence(text, indicators, require_anchor=anchor) == (
                _REFERENCE_TYPER.evidence(text, indicators, require_anchor=anchor)
            ), text
        assert _TYPER.raw_scores(text) == _plain_raw_scores(_TYPER, text), text
        assert _SCHEME_TABLE.any_match(text) == any(
            p.search(text) for fam, p, _ in _COMPILED_CUES if fam == "scheme"
        )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(sms_texts(), st.text(max_size=60)))
def test_rows_match_as_a_search_on_generated_texts(text: str) -> None:
    assert _fast(_CUE_TABLE, text) == _plain(_CUE_PATTERNS, text)
    assert _fast(_TYPER._lexicon_table, text) == _plain(_LEXICON, text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_match_begins_with_one_of_the_first_words(data: st.DataObject) -> None:
    pattern = data.draw(st.sampled_from(_ALL_PATTERNS))
    heads = literal_prefixes(pattern)
    text = data.draw(st.from_regex(pattern))
    if heads is None or _CASE_ODD_RE.search(text):
        return
    lower = text.lower()
    for m in pattern.finditer(text):
        assert any(lower.startswith(h, m.start()) for h in heads), (pattern.pattern, text)


@pytest.mark.parametrize(
    ("source", "flags", "heads"),
    [
        (r"\b(?:call|Text)\s+\d|\bfee\b", re.IGNORECASE, ("call", "text", "fee")),
        (r"(?:银行)?卡号|密码", 0, None),
        (r"\bpay (?:the|a) [\w ]{0,9}fee", 0, ("pay the ", "pay a ")),
        (r"a(?=b)c", 0, ("a",)),
        (r"(?:a|)b", 0, ("ab", "b")),
        (r"x|\d", 0, None),
        (r"é|ß", re.IGNORECASE, None),  # cased non-ASCII letters: not trusted to str.lower
    ],
)
def test_literal_prefixes(source: str, flags: int, heads: tuple[str, ...] | None) -> None:
    assert literal_prefixes(re.compile(source, flags)) == heads


def test_character_classes_of_plain_characters_are_first_words() -> None:
    pattern = re.compile(r"[\[【](?:链接|网址)|[Ab]x|[^a]y", re.IGNORECASE)
    assert literal_prefixes(pattern) is None  # [^a] is not a list of characters
    pattern = re.compile(r"[\[【](?:链接|网址)|[Ab]x", re.IGNORECASE)
    assert literal_prefixes(pattern) == ("[链接", "[网址", "【链接", "【网址", "ax", "bx")


def test_leftmost_match_among_several_starts() -> None:
    table = CueTable([re.compile(r"\bab+c|bb?c", re.IGNORECASE)], [None])
    assert table.prefixes == (("a", "b"),)
    rng = random.Random(3)
    for _ in range(2000):
        text = "".join(rng.choice("abc AB") for _ in range(rng.randint(0, 14)))
        assert _fast(table, text) == _plain(list(table.patterns), text), text


def test_notice_rows_begin_with_literal_words() -> None:
    # All but the digit-led rows are tried at their first words only.
    assert sum(p is None for p in notices._TABLE.prefixes) <= 3


def test_notice_kinds_equal_the_previous_ones_on_long_messages() -> None:
    extractor = IndicatorExtractor()
    official = extractor.official_domains
    texts = _ALL_TEXTS[::2]
    found = extractor.extract_many(texts, normalised=True)
    kinds = [notices.notice_kind(t, i, official) for t, i in zip(texts, found, strict=True)]
    assert kinds == [
        ref_model.notice_kind(t, i, official) for t, i in zip(texts, found, strict=True)
    ]
    plain = [ref_model.notice_kind(t) for t in texts]
    assert [notices.notice_kind(t) for t in texts] == plain
    assert len({k for k in plain if k}) >= 4  # every shape seen


# normalise: the spaced-letter guard now asks for the end of a word after the last letter, the
# hxxp substitution for "xp" or "*p", and whitespace is always joined with str.split.
_LETTERS = "abXY I a 中1_.,-*\t\n\u3000"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(
        st.text(alphabet=_LETTERS, max_size=40),
        st.lists(st.sampled_from(["a", "B", " ", "  ", "hxxp", "h**ps", ":", "//", "x", "\n"])).map(
            "".join
        ),
        sms_texts(),
    )
)
def test_normalise_equals_the_plain_one(text: str) -> None:
    assert normalise(text) == ref.normalise(text)


def test_normalise_equals_the_plain_one_on_long_messages() -> None:
    texts = _ALL_TEXTS + [
        "Ok I am a b c.",
        "F R E E",
        "x a b c",
        "hXXps://a.b",
        "h*xp :x",
        " a  b ",
    ]
    assert [normalise(t) for t in texts] == [ref.normalise(t) for t in texts]


def test_indicators_equal_the_plain_ones_on_long_messages() -> None:
    # The five-digit pre-check counts ASCII digits with str.count in an ASCII text.
    texts = _ALL_TEXTS[::2] + [
        "call 0800 123",
        "call 08001 23",
        "٣٤۵७১ 12345",
        "1 2 3 4",
        "call 99999",
    ]
    fast, plain = IndicatorExtractor(), ref.ReferenceExtractor()
    found = fast.extract_many(texts, normalised=True)
    assert found == [plain.extract(t, normalised=True) for t in texts]
    assert sum(len(f) for f in found) > 200


@pytest.mark.parametrize("names", [("Acme Bank",), ("Acme Bank", "阿克米银行")])
def test_brand_of_an_ascii_text_skips_the_non_ascii_names(names: tuple[str, ...]) -> None:
    from telewarden.core.sms.indicators import Brand

    typer = FraudTyper(brands=[Brand("acme", names)])
    plain = ref.ReferenceTyper(brands=[Brand("acme", names)])
    for text in [
        "hello",
        "ACME BANK alert",
        "阿克米银行",
        "x 阿克米银行 acme bank",
        "",
        *_ALL_TEXTS[:200],
    ]:
        assert typer._brand(text) == plain._brand(text), text
