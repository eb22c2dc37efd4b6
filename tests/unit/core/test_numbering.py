"""Bulk number analysis: exact agreement with the per-string analysis, for every region."""

from __future__ import annotations

import random
import re

import numpy as np
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata

from telewarden.core.numbering import (
    _DIGITS,
    INFO_SCHEMA,
    _dfa,
    analyse_frame,
    analyse_international,
    compile_plan,
)
from telewarden.core.numbers import NumberIntel
from telewarden.testing.numbering import check_bulk_agreement, example_numbers, world_numbers

_DESC_NAMES = (
    "general_desc", "fixed_line", "mobile", "premium_rate", "toll_free", "shared_cost", "voip",
    "personal_number", "pager", "uan", "voicemail",
)  # fmt: skip


def _fail_on(report_disagreements: list[tuple[str, str, object, object]]) -> None:
    assert report_disagreements == [], report_disagreements[:20]


def test_every_country_code_compiles_to_automata() -> None:
    assert compile_plan().compile_all() == frozenset()


def test_agrees_with_phonenumbers_on_every_example_number_of_every_region_and_type() -> None:
    raws = example_numbers()
    assert len(raws) > 1_000
    report = check_bulk_agreement(raws + ["00" + r[1:] for r in raws])
    _fail_on(report.disagreements)
    # nearly all of them come from the tables, not the scalar fallback
    assert report.from_tables > 0.9 * report.numbers


@pytest.mark.slow
def test_agrees_on_real_looking_and_random_numbers_from_every_region() -> None:
    report = check_bulk_agreement(world_numbers(random.Random(20261204), 60_000))
    _fail_on(report.disagreements)
    assert report.from_tables > 0.8 * report.numbers


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\+[0-9]{1,22}", fullmatch=True),
            st.from_regex(r"00[0-9]{1,20}", fullmatch=True),
            st.sampled_from(example_numbers()).flatmap(
                lambda e: st.integers(0, len(e) - 2).flatmap(
                    lambda k: st.from_regex(r"[0-9]{0,8}", fullmatch=True).map(
                        lambda tail: e[: len(e) - k] + tail
                    )
                )
            ),
            st.text(alphabet="+0123456789 -()x", max_size=24),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_property_bulk_equals_scalar_for_any_strings(raws: list[str]) -> None:
    _fail_on(check_bulk_agreement(raws).disagreements)


def test_returns_one_row_per_distinct_string_with_the_numberinfo_schema() -> None:
    raws = ["+85512345678", "110", "", "+999123456789", "+4420123456789012345678", "0085512345678"]
    frame = analyse_frame(NumberIntel(), raws)
    assert dict(frame.schema) == INFO_SCHEMA
    assert sorted(frame.get_column("raw").to_list()) == sorted(raws)


def test_leaves_mainland_and_service_lookalikes_to_the_scalar_path() -> None:
    done, rest = analyse_international(
        ["+8613800138000", "008613800138000", "+11012345", "+9611012345678", "+1 202 555 0100"]
    )
    assert done.height == 0
    assert rest.len() == 5


def test_high_risk_origin_follows_the_configured_set() -> None:
    intel = NumberIntel(high_risk_countries={"GB"})
    frame = analyse_frame(intel, ["+447400123456", "+85512345678"]).sort("raw")
    assert frame.get_column("high_risk_origin").to_list() == [True, False]


def _patterns() -> list[str]:
    out = set()
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            meta = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
            for name in _DESC_NAMES:
                desc = getattr(meta, name)
                if desc is not None and desc.national_number_pattern:
                    out.add(desc.national_number_pattern)
    return sorted(out)


@pytest.mark.parametrize("seed", [1, 2])
def test_automata_accept_exactly_what_python_re_fullmatches(seed: int) -> None:
    rng = random.Random(seed)
    patterns = rng.sample(_patterns(), 150)
    strings = [
        "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 17))) for _ in range(400)
    ]
    for pattern in patterns:
        regex = re.compile(pattern)
        # strings that start like a match are the interesting ones: grow from a matching prefix
        probe = strings + [s[:3] + t[3:] for s, t in zip(strings, strings[1:], strict=False)]
        dfa = _dfa([(pattern, 0)])
        digits = np.full((len(probe), 20), _DIGITS, dtype=np.intp)
        for i, s in enumerate(probe):
            digits[i, : len(s)] = [ord(c) - 48 for c in s]
        got = dfa.run(np.ascontiguousarray(digits.T, dtype=np.int32)) & 1
        want = [1 if regex.fullmatch(s) else 0 for s in probe]
        assert got.tolist() == want, pattern
