"""``IndicatorExtractor.extract_many`` (numbers analysed in bulk) gives what ``extract`` gives."""

from __future__ import annotations

import random

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from telewarden.core.numbers import NumberIntel
from telewarden.core.sms.indicators import IndicatorExtractor


def _international_numbers(rng: random.Random) -> list[str]:
    """Example numbers of every region, digits redrawn, in several explicit spellings."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.VOIP):
            num = phonenumbers.example_number_for_type(region, kind)
            if num is None:
                continue
            e164 = phonenumbers.format_number(num, PhoneNumberFormat.E164)
            k = rng.randint(0, 4)
            drawn = e164[: len(e164) - k] + "".join(rng.choice("0123456789") for _ in range(k))
            spelling = rng.choice(["e164", "00", "spaced", "dashed", "short", "long"])
            if spelling == "00":
                drawn = "00" + drawn[1:]
            elif spelling == "spaced":
                drawn = f"{drawn[:4]} {drawn[4:8]} {drawn[8:]}".strip()
            elif spelling == "dashed":
                drawn = f"{drawn[:3]}-{drawn[3:]}"
            elif spelling == "short":
                drawn = drawn[:-2]
            elif spelling == "long":
                drawn += "12"
            out.append(drawn)
    return out


def test_extract_many_agrees_with_extract_on_international_numbers_of_every_region() -> None:
    rng = random.Random(18)
    numbers = _international_numbers(rng)
    templates = [
        "call {} now",
        "【银行】您的账户异常，请致电{}核实",
        "win a prize, text {} or visit www.example.com",
        "{}",
    ]
    texts = [rng.choice(templates).format(n) for n in numbers]
    texts += ["no number here", "code 583920", "call 13800138000", "ring 08452810075"]
    bulk = IndicatorExtractor(numbers=NumberIntel())
    scalar = IndicatorExtractor(numbers=NumberIntel())
    batched = bulk.extract_many(texts)
    assert batched == [scalar.extract(t) for t in texts]
    # The bulk path did answer most of them (not the per-string parse behind the cache).
    assert len(bulk._bulk) > len(numbers) // 2
    phone = [i for found in batched for i in found if i.kind.value == "phone_number"]
    assert len({i.detail for i in phone}) > 5


def test_extract_many_without_a_number_analyser_leaves_numbers_unclassified() -> None:
    texts = ["call +44 7700 900123 now"] * 20
    assert IndicatorExtractor().extract_many(texts) == [IndicatorExtractor().extract(texts[0])] * 20
