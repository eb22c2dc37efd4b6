"""Number intelligence: normalisation, origin, kind, validity, carrier/location, caching."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telewarden.core.numbers import (
    NumberIntel,
    NumberKind,
    Origin,
)


@pytest.fixture(scope="module")
def intel() -> NumberIntel:
    return NumberIntel()


# raw, e164, origin, kind, valid
CASES = [
    ("13800138000", "+8613800138000", Origin.MAINLAND, NumberKind.MOBILE, True),
    ("+8613800138000", "+8613800138000", Origin.MAINLAND, NumberKind.MOBILE, True),
    ("008613800138000", "+8613800138000", Origin.MAINLAND, NumberKind.MOBILE, True),
    ("+86 138-0013-8000", "+8613800138000", Origin.MAINLAND, NumberKind.MOBILE, True),
    ("010-12345678", "+861012345678", Origin.MAINLAND, NumberKind.FIXED_LINE, True),
    ("075512345678", "+8675512345678", Origin.MAINLAND, NumberKind.FIXED_LINE, True),
    ("4008123123", "+864008123123", Origin.MAINLAND, NumberKind.TOLL_FREE_400, True),
    ("8008101234", "+868008101234", Origin.MAINLAND, NumberKind.TOLL_FREE_800, True),
    ("95588", "+8695588", Origin.MAINLAND, NumberKind.BANK_SERVICE_95, True),
    ("+86 95588", "+8695588", Origin.MAINLAND, NumberKind.BANK_SERVICE_95, True),
    ("10086", "+8610086", Origin.MAINLAND, NumberKind.CARRIER_SERVICE, True),
    ("10010", "+8610010", Origin.MAINLAND, NumberKind.CARRIER_SERVICE, True),
    ("10000", "+8610000", Origin.MAINLAND, NumberKind.CARRIER_SERVICE, True),
    ("110", "+86110", Origin.MAINLAND, NumberKind.POLICE, True),
    ("122", "+86122", Origin.MAINLAND, NumberKind.POLICE, True),
    ("119", "+86119", Origin.MAINLAND, NumberKind.EMERGENCY, True),
    ("120", "+86120", Origin.MAINLAND, NumberKind.EMERGENCY, True),
    ("96110", "+8696110", Origin.MAINLAND, NumberKind.ANTI_FRAUD, True),
    ("12381", "+8612381", Origin.MAINLAND, NumberKind.ANTI_FRAUD, True),
    ("12321", "+8612321", Origin.MAINLAND, NumberKind.GOVERNMENT_SERVICE, True),
    ("1069012345", "+861069012345", Origin.MAINLAND, NumberKind.SMS_PORT_106, True),
    ("+86 10 6901 2345", "+861069012345", Origin.MAINLAND, NumberKind.FIXED_LINE, True),
    ("106901234567890", "+86106901234567890", Origin.MAINLAND, NumberKind.SMS_PORT_106, True),
    ("+85223456789", "+85223456789", Origin.HONG_KONG, NumberKind.FIXED_LINE, True),
    ("+853 6312 3456", "+85363123456", Origin.MACAO, NumberKind.MOBILE, True),
    ("+886912345678", "+886912345678", Origin.TAIWAN, NumberKind.MOBILE, True),
    ("+85512345678", "+85512345678", Origin.FOREIGN, NumberKind.MOBILE, True),
    ("+1 202 555 0100", "+12025550100", Origin.FOREIGN, NumberKind.FIXED_LINE_OR_MOBILE, True),
    ("14812345678", "+8614812345678", Origin.MAINLAND, NumberKind.UNKNOWN, False),
    ("+8612345", "+8612345", Origin.MAINLAND, NumberKind.GOVERNMENT_SERVICE, True),
    ("+852123", "+852123", Origin.HONG_KONG, NumberKind.UNKNOWN, False),
]


@pytest.mark.parametrize(
    ("raw", "e164", "origin", "kind", "valid"), CASES, ids=[c[0] for c in CASES]
)
def test_analyses_number_forms(
    intel: NumberIntel, raw: str, e164: str, origin: Origin, kind: NumberKind, valid: bool
) -> None:
    info = intel.analyse(raw)
    assert (info.e164, info.origin, info.kind, info.valid) == (e164, origin, kind, valid)
    assert (info.invalid_reason is None) == valid


LABELS = [
    ("+85223456789", "Hong Kong", "中国香港"),
    ("+85363123456", "Macao", "中国澳门"),
    ("+886912345678", "Taiwan", "中国台湾"),
    ("13800138000", "Mainland China", "中国大陆"),
    ("+85512345678", "Cambodia", "柬埔寨"),
    ("+442079460958", "United Kingdom", "英国"),
]


@pytest.mark.parametrize(("raw", "label", "label_zh"), LABELS, ids=[c[1] for c in LABELS])
def test_labels_origin_in_english_and_chinese(
    intel: NumberIntel, raw: str, label: str, label_zh: str
) -> None:
    info = intel.analyse(raw)
    assert (info.origin_label, info.origin_label_zh) == (label, label_zh)


INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("abc", "no digits"),
    ("+86 138x0013", "contains characters other than digits"),
    ("1" * 25, "impossible length: too long"),
    ("+852123", "impossible length: too short"),
    ("14812345678", "unallocated number range"),
    ("+99912345", "unknown country code"),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID, ids=[c[1] + ":" + c[0] for c in INVALID])
def test_reports_explicit_invalid_reason(intel: NumberIntel, raw: str, reason: str) -> None:
    info = intel.analyse(raw)
    assert not info.valid
    assert info.invalid_reason == reason


IMPERSONATIONS = [
    ("+110", "110"),
    ("0110", "110"),
    ("00110", "110"),
    ("+96110", "96110"),
    ("96110123", "96110"),
    ("+95588", "95588"),
    ("0010086", "10086"),
    ("1101", "110"),
    ("+12381", "12381"),
]


@pytest.mark.parametrize(("raw", "target"), IMPERSONATIONS, ids=[c[0] for c in IMPERSONATIONS])
def test_detects_prefixed_service_number_forms(intel: NumberIntel, raw: str, target: str) -> None:
    info = intel.analyse(raw)
    assert info.impersonates == target
    assert not info.is_service_number
    assert not info.valid


@pytest.mark.parametrize("raw", ["110", "+86110", "95588", "10086"], ids=str)
def test_genuine_service_numbers_are_not_impersonations(intel: NumberIntel, raw: str) -> None:
    info = intel.analyse(raw)
    assert info.is_service_number
    assert info.impersonates is None


def test_gives_carrier_and_province_of_mainland_mobiles(intel: NumberIntel) -> None:
    info = intel.analyse("13912345678")
    assert (info.carrier, info.province, info.city) == ("China Mobile", "Jiangsu", "Changzhou")
    assert info.location_zh == "江苏省常州市"


def test_location_is_none_where_the_metadata_does_not_know_it(intel: NumberIntel) -> None:
    info = intel.analyse("17012345678")
    assert info.valid
    assert info.carrier == "China Telecom"
    assert info.province is None and info.city is None


def test_flags_high_risk_origin_from_configured_set() -> None:
    assert NumberIntel().analyse("+85512345678").high_risk_origin
    assert not NumberIntel(high_risk_countries=["gb"]).analyse("+85512345678").high_risk_origin
    assert NumberIntel(high_risk_countries=["gb"]).analyse("+442079460958").high_risk_origin


def test_records_whether_the_country_code_was_explicit(intel: NumberIntel) -> None:
    assert intel.analyse("+85223456789").explicit_country_code
    assert intel.analyse("0085223456789").explicit_country_code
    assert not intel.analyse("13800138000").explicit_country_code


def test_repeated_string_is_served_from_cache() -> None:
    intel = NumberIntel()
    first = intel.analyse("+85223456789")
    assert intel.analyse("+85223456789") is first
    assert len(intel) == 1


def test_cache_is_bounded_and_drops_oldest() -> None:
    intel = NumberIntel(cache_size=2)
    a = intel.analyse("13800138000")
    intel.analyse("13900139000")
    intel.analyse("13700137000")
    assert len(intel) == 2
    assert intel.analyse("13800138000") is not a


def test_fast_mobile_path_matches_full_parse() -> None:
    rng = random.Random(7)
    fast = NumberIntel()
    samples = [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(1500)]
    samples += ["+86" + s for s in samples[:200]] + ["0086" + s for s in samples[200:400]]
    for raw in samples:
        fast.analyse(raw)
    for raw in samples:
        assert fast.analyse(raw) == fast.analyse_uncached(raw), raw


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_analyse_never_raises(raw: str) -> None:
    info = NumberIntel().analyse(raw)
    assert info.valid == (info.invalid_reason is None)
    assert info.e164 is None or info.e164.startswith("+")


@given(st.from_regex(r"\+?[0-9 \-]{0,22}", fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_analyse_never_raises_on_digit_strings(raw: str) -> None:
    info = NumberIntel().analyse(raw)
    assert info.raw == raw


def test_validity_agrees_with_phonenumbers_is_valid_number() -> None:
    import phonenumbers

    rng = random.Random(11)
    ccs = ["1", "44", "852", "853", "886", "855", "63", "95", "856", "60", "86", "81", "49"]
    samples = [f"+{rng.choice(ccs)}{rng.randrange(10**9, 10**11)}" for _ in range(400)]
    samples += [raw for raw, *_ in CASES if raw.startswith("+")]
    intel = NumberIntel()
    for raw in samples:
        info = intel.analyse_uncached(raw)
        if info.e164 is None or info.is_service_number:
            continue
        expected = phonenumbers.is_valid_number(phonenumbers.parse(raw, "CN"))
        assert info.valid == expected, raw
