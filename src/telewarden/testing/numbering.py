"""The agreement check of the bulk number analysis against the scalar reference.

:func:`world_numbers` draws number strings from every region phonenumbers knows (example
numbers of every type, the same with their last digits redrawn, random national numbers behind
each country code, random digit strings, ``00`` spellings); :func:`check_bulk_agreement` runs
:func:`telewarden.core.numbering.analyse_frame` over them and compares every field, row by row,
with :meth:`NumberIntel.analyse_uncached` (a full ``phonenumbers`` parse). Any difference is
returned; the tests and ``bench/numbers_bulk.py`` require none.

Examples
--------
>>> import random
>>> raws = world_numbers(random.Random(1), 2_000)
>>> check_bulk_agreement(raws).disagreements
[]
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from telewarden.core.numbering import INFO_SCHEMA, analyse_frame, analyse_international
from telewarden.core.numbers import NumberIntel

__all__ = ["AgreementReport", "check_bulk_agreement", "example_numbers", "world_numbers"]

_TYPES = tuple(t for t in vars(PhoneNumberType).values() if isinstance(t, int))


def example_numbers() -> list[str]:
    """The E.164 example number of every type of every region and non-geographic entity.

    Examples
    --------
    >>> "+12015550123" in example_numbers()
    True
    """
    out: list[str] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in _TYPES:
            num = phonenumbers.example_number_for_type(region, kind)
            if num is not None:
                out.append(phonenumbers.format_number(num, PhoneNumberFormat.E164))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        num = phonenumbers.example_number_for_non_geo_entity(code)
        if num is not None:
            out.append(phonenumbers.format_number(num, PhoneNumberFormat.E164))
    return sorted(set(out))


def _redraw(rng: random.Random, e164: str) -> str:
    """``e164`` with its last 1 to 6 digits redrawn and sometimes one digit added or dropped."""
    keep = max(2, len(e164) - rng.randint(1, 6))
    tail = len(e164) - keep + rng.choice((0, 0, 0, -1, 1))
    return e164[:keep] + "".join(rng.choice("0123456789") for _ in range(max(0, tail)))


def world_numbers(rng: random.Random, n: int) -> list[str]:
    """``n`` number strings (duplicates possible) from every region, real-looking and random.

    About half are example numbers with redrawn tails (real-looking, mostly valid), a quarter
    a known country code plus 4 to 14 random digits, the rest random ``+`` digit strings of 7
    to 20 digits; one in ten is written with ``00`` instead of ``+``.
    """
    examples = example_numbers()
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    digits = "0123456789"
    out: list[str] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.5:
            s = _redraw(rng, rng.choice(examples))
        elif r < 0.75:
            size = rng.randint(4, 14)
            s = f"+{rng.choice(codes)}" + "".join(rng.choice(digits) for _ in range(size))
        else:
            size = rng.randint(7, 20)
            s = "+" + "".join(rng.choice(digits) for _ in range(size))
        if rng.random() < 0.1:
            s = "00" + s[1:]
        out.append(s)
    return out


@dataclass
class AgreementReport:
    """What :func:`check_bulk_agreement` found.

    Attributes
    ----------
    numbers : int
        Distinct strings compared.
    from_tables : int
        How many of them the compiled tables answered (the rest took the scalar path).
    disagreements : list of tuple
        ``(raw, field, bulk value, scalar value)`` for every differing field.
    """

    numbers: int = 0
    from_tables: int = 0
    disagreements: list[tuple[str, str, object, object]] = field(default_factory=list)


def check_bulk_agreement(
    raws: Sequence[str], *, intel: NumberIntel | None = None
) -> AgreementReport:
    """Compare every field of the bulk analysis of ``raws`` with the scalar reference."""
    intel = intel or NumberIntel()
    distinct = sorted(set(raws))
    done, _ = analyse_international(distinct, high_risk_countries=intel.high_risk_countries)
    frame = analyse_frame(intel, distinct)
    report = AgreementReport(numbers=len(distinct), from_tables=done.height)
    names = list(INFO_SCHEMA)
    for row in frame.iter_rows():
        raw = row[0]
        info = intel.analyse_uncached(raw)
        for name, value in zip(names, row, strict=True):
            expected = getattr(info, name)
            expected = getattr(expected, "value", expected)
            if value != expected:
                report.disagreements.append((raw, name, value, expected))
    if frame.height != len(distinct):
        report.disagreements.append(("<rows>", "count", frame.height, len(distinct)))
    return report
