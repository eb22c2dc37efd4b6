"""Number, IMEI and IMSI generation for the simulator (vectorised, seeded).

Mobile numbers use real Chinese mobile prefixes, so libphonenumber (``phonenumbers``) considers
them valid; international numbers are drawn around libphonenumber's example mobile number of
each region and kept only when valid there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import phonenumbers
import polars as pl

__all__ = [
    "OFF_NET_PREFIXES",
    "ON_NET_PREFIXES",
    "imeis",
    "imsis",
    "international_numbers",
    "mobile_numbers",
    "prefixed",
]

ON_NET_PREFIXES: tuple[int, ...] = (
    134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 157, 158, 159, 178, 182, 183, 184, 187,
    188, 198,
)  # fmt: skip
"""China Mobile's mobile prefixes: the simulated carrier's own numbers."""

OFF_NET_PREFIXES: tuple[int, ...] = (
    130, 131, 132, 155, 156, 185, 186, 176, 133, 153, 180, 181, 189, 177, 199, 170, 171,
)  # fmt: skip
"""Other carriers' (Unicom, Telecom, MVNO 170/171) prefixes: off-net domestic numbers."""


def mobile_numbers(
    rng: np.random.Generator,
    n: int,
    prefixes: tuple[int, ...],
    exclude: npt.NDArray[Any] | None = None,
) -> npt.NDArray[Any]:
    """Draw ``n`` distinct 11-digit Chinese mobile numbers as int64 (without the 86).

    Parameters
    ----------
    rng : np.random.Generator
        Source of randomness.
    n : int
        How many numbers.
    prefixes : tuple[int, ...]
        Three-digit prefixes to draw from, uniformly.
    exclude : np.ndarray, optional
        Numbers that must not be returned (e.g. already allocated ones).

    Examples
    --------
    >>> nums = mobile_numbers(np.random.default_rng(1), 5, ON_NET_PREFIXES)
    >>> len(set(nums.tolist())), all(len(str(x)) == 11 for x in nums)
    (5, True)
    """
    out = np.empty(0, dtype=np.int64)
    pre = np.asarray(prefixes, dtype=np.int64)
    while out.shape[0] < n:
        need = int((n - out.shape[0]) * 1.05) + 16
        cand = pre[rng.integers(0, pre.shape[0], need)] * 100_000_000 + rng.integers(
            0, 100_000_000, need
        )
        merged = np.concatenate([out, cand])
        _, first = np.unique(merged, return_index=True)
        keep = np.sort(first)
        merged = merged[keep]
        if exclude is not None and exclude.shape[0]:
            merged = merged[~np.isin(merged, exclude)]
        out = merged
    return out[:n]


def prefixed(numbers: npt.NDArray[Any], prefix: str) -> pl.Series:
    """Turn int64 numbers into strings with a prefix (``"+86"`` for E.164).

    Examples
    --------
    >>> prefixed(np.array([13812345678]), "+86").to_list()
    ['+8613812345678']
    """
    return pl.select(
        pl.lit(prefix) + pl.Series(numbers, dtype=pl.Int64).cast(pl.String)
    ).to_series()


def _luhn_check_digits(body: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Luhn check digit of each 14-digit body (int64)."""
    total = np.zeros(body.shape[0], dtype=np.int64)
    rest = body.copy()
    for k in range(14):  # rightmost digit first; it is the one Luhn doubles
        d = rest % 10
        rest //= 10
        if k % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    return (10 - total % 10) % 10


def imeis(rng: np.random.Generator, n: int, tacs: tuple[int, ...]) -> pl.Series:
    """Draw ``n`` 15-digit IMEIs (8-digit TAC, 6-digit serial, Luhn check digit).

    Examples
    --------
    >>> s = imeis(np.random.default_rng(0), 2, (35328011,))
    >>> [len(x) for x in s.to_list()], s.str.starts_with("35328011").all()
    ([15, 15], True)
    """
    tac = np.asarray(tacs, dtype=np.int64)[rng.integers(0, len(tacs), n)]
    body = tac * 1_000_000 + rng.integers(0, 1_000_000, n)
    full = body * 10 + _luhn_check_digits(body)
    return pl.Series(full, dtype=pl.Int64).cast(pl.String).str.zfill(15)


def imsis(rng: np.random.Generator, n: int) -> pl.Series:
    """Draw ``n`` distinct IMSIs of MCC 460 / MNC 00 (China Mobile).

    Examples
    --------
    >>> imsis(np.random.default_rng(0), 3).str.starts_with("46000").all()
    True
    """
    msin = np.unique(rng.integers(0, 10_000_000_000, int(n * 1.01) + 8))
    msin = rng.permutation(msin)[:n]
    return "46000" + pl.Series(msin, dtype=pl.Int64).cast(pl.String).str.zfill(10)


def international_numbers(rng: np.random.Generator, n: int, regions: tuple[str, ...]) -> pl.Series:
    """Draw ``n`` valid mobile numbers (E.164) from the given regions, uniformly over regions.

    Each is libphonenumber's example mobile number with its last digits replaced, kept only if
    libphonenumber considers it valid.

    Examples
    --------
    >>> s = international_numbers(np.random.default_rng(0), 4, ("HK", "TW"))
    >>> s.str.starts_with("+852").sum() + s.str.starts_with("+886").sum()
    4
    """
    out: list[str] = []
    seen: set[str] = set()
    examples: dict[str, tuple[int, str]] = {}
    for region in regions:
        ex = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if ex is None:
            continue
        examples[region] = (int(ex.country_code or 0), str(ex.national_number))
    keys = sorted(examples)
    tries = 0
    while len(out) < n and tries < n * 50 + 100:
        tries += 1
        region = keys[int(rng.integers(0, len(keys)))]
        cc, nat = examples[region]
        k = min(6, len(nat) - 2)
        tail = int(rng.integers(0, 10**k))
        cand = f"+{cc}{nat[:-k]}{tail:0{k}d}"
        parsed = phonenumbers.parse(cand)
        if cand not in seen and phonenumbers.is_valid_number(parsed):
            seen.add(cand)
            out.append(cand)
    return pl.Series(out, dtype=pl.String)
