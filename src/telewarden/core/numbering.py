"""Bulk number analysis: phonenumbers' metadata compiled into tables, applied to a column.

:class:`~telewarden.core.numbers.NumberIntel` analyses one string at a time through
``phonenumbers`` (about 100 us a distinct number). This module answers the same question for a
whole column of distinct strings at once, with the library's own metadata compiled into a
:class:`NumberingPlan`: per country calling code, its regions in the library's order, each
region's leading digits, number-type patterns (as anchored regular expressions) and possible
lengths, the national prefix for parsing, the possible-length verdict per national-number
length, and the carrier prefix table. Polars runs the patterns over the column.

The scalar path stays the reference: :func:`analyse_frame` returns, row for row, the fields of
:meth:`NumberIntel.analyse_uncached`, and ``tests/unit/core/test_numbering.py`` holds every row
to exact agreement. The tables answer the strings in explicit international form (``+CC...``
or ``00CC...``, ASCII digits only, 7 to 20 digits after the prefix) whose analysis is the
plain ``phonenumbers`` one; everything else goes to :meth:`NumberIntel.analyse`:

- ``+86``/``0086`` numbers (service numbers, 400/800, province and city: the CN rules of
  :mod:`telewarden.core.numbers`; most of them take the per-prefix mobile path anyway);
- strings the impersonation check could claim (``+110...``, ``+96110...``, ``+12381...``);
- a country code followed by a non-empty match of its national prefix for parsing when that
  prefix is a pattern rather than plain digits (``phonenumbers.parse`` strips or transforms it
  even after ``+``; a plain-digit prefix such as ``0`` is stripped here exactly as parse does);
- anything with separators, letters or other lengths.

phonenumbers stays the single source of truth: the plan is compiled from the installed
library on first use (about a second, cached per ``phonenumbers.__version__``), so upgrading
the library regenerates it; nothing is written to disk.
"""

from __future__ import annotations

import functools
import re._constants as _src
import re._parser as _sre
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import phonenumbers
import polars as pl
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    PhoneMetadata,
    PhoneNumberType,
    ValidationResult,
)
from phonenumbers.carrierdata import CARRIER_DATA

from telewarden.core.numbers import (
    _KIND_BY_PN_TYPE,
    _ORIGIN_BY_REGION,
    _POSSIBLE_REASON,
    NumberInfo,
    NumberIntel,
    NumberKind,
    Origin,
    region_labels,
)

__all__ = [
    "INFO_SCHEMA",
    "NumberingPlan",
    "analyse_frame",
    "analyse_international",
    "compile_plan",
    "infos_frame",
]

INFO_SCHEMA: dict[str, pl.DataType] = {
    "raw": pl.String(),
    "e164": pl.String(),
    "national": pl.String(),
    "country_code": pl.Int64(),
    "region": pl.String(),
    "origin": pl.String(),
    "origin_label": pl.String(),
    "origin_label_zh": pl.String(),
    "kind": pl.String(),
    "valid": pl.Boolean(),
    "invalid_reason": pl.String(),
    "carrier": pl.String(),
    "province": pl.String(),
    "city": pl.String(),
    "high_risk_origin": pl.Boolean(),
    "is_service_number": pl.Boolean(),
    "location_zh": pl.String(),
    "explicit_country_code": pl.Boolean(),
    "impersonates": pl.String(),
    "service_name": pl.String(),
}
"""Every :class:`NumberInfo` field as a column (enums as their string values), in field order."""

_UNKNOWN = int(PhoneNumberType.UNKNOWN)
# The order in which phonenumbers' _number_type_helper tries the types after the general desc;
# bit 0 of a match mask is the general desc, bits 1-8 these, bit 9 fixed line, bit 10 mobile.
_SPECIAL_TYPES: tuple[tuple[str, int], ...] = (
    ("premium_rate", int(PhoneNumberType.PREMIUM_RATE)),
    ("toll_free", int(PhoneNumberType.TOLL_FREE)),
    ("shared_cost", int(PhoneNumberType.SHARED_COST)),
    ("voip", int(PhoneNumberType.VOIP)),
    ("personal_number", int(PhoneNumberType.PERSONAL_NUMBER)),
    ("pager", int(PhoneNumberType.PAGER)),
    ("uan", int(PhoneNumberType.UAN)),
    ("voicemail", int(PhoneNumberType.VOICEMAIL)),
)
_DESCS = ("general_desc", *(name for name, _ in _SPECIAL_TYPES), "fixed_line", "mobile")
_FIXED_BIT = 1 << 9
_MOBILE_BIT = 1 << 10
# phonenumbers' _MAX_LENGTH_FOR_NSN: a longer national number is a parse error.
_MAX_NSN_DIGITS = 17
# Widest string handled: 20 digits after "+" (numbers.py's own limit), so at most 19 national.
_WIDTH = 20
# The CN rules of numbers.py (service numbers, 400/800, location) stay on the scalar path, and
# so do the strings the impersonation check looks at (``+110...``, ``+96110...``, ``+12381...``).
_SCALAR_ONLY = ("86", "110", "96110", "12381")


# -- patterns as automata ----------------------------------------------------------------------
#
# phonenumbers' patterns use digits, character classes, groups, alternation and bounded or
# unbounded repetition (and "$" in a few national prefixes). Every question asked of them here
# is existential (does the whole number match; does some prefix match), so greedy and lazy
# repetition are the same, and a deterministic automaton over the ten digits answers exactly.

_DIGITS = 10
_PAD = 10  # the filler after a number's last digit: every state stays where it is
_ALL = (1 << _DIGITS) - 1


class _UnsupportedPattern(ValueError):
    """A pattern construct the automaton compiler does not handle (its country goes scalar)."""


class _Nfa:
    """Thompson automaton over the digits: epsilon edges and digit-set edges per state."""

    def __init__(self) -> None:
        self.eps: list[list[int]] = []
        self.moves: list[list[tuple[int, int]]] = []
        self.tags: dict[int, int] = {}

    def state(self) -> int:
        self.eps.append([])
        self.moves.append([])
        return len(self.eps) - 1

    def add(self, pattern: str, tag: int, *, drop_end_anchor: bool = False) -> int:
        """Add ``pattern`` from a new start state; its end state carries bit ``tag``."""
        start = self.state()
        end = self._seq(_sre.parse(pattern), start, drop_end_anchor)
        self.tags[end] = self.tags.get(end, 0) | (1 << tag)
        return start

    def _seq(self, items: Any, s: int, drop: bool) -> int:
        for op, av in items:
            s = self._node(op, av, s, drop)
        return s

    def _node(self, op: Any, av: Any, s: int, drop: bool) -> int:
        if op is _src.LITERAL or op is _src.IN:
            mask = _char_mask(op, av)
            t = self.state()
            if mask:
                self.moves[s].append((mask, t))
            return t
        if op is _src.SUBPATTERN:
            if av[1] or av[2]:
                raise _UnsupportedPattern("inline flags")
            return self._seq(av[3], s, drop)
        if op is _src.BRANCH:
            end = self.state()
            for alternative in av[1]:
                a = self.state()
                self.eps[s].append(a)
                self.eps[self._seq(alternative, a, drop)].append(end)
            return end
        if op is _src.MAX_REPEAT or op is _src.MIN_REPEAT:
            low, high, items = av
            for _ in range(low):
                s = self._seq(items, s, drop)
            if high == _src.MAXREPEAT:
                loop = self.state()
                self.eps[s].append(loop)
                self.eps[self._seq(items, loop, drop)].append(loop)
                return loop
            for _ in range(high - low):
                end = self.state()
                a = self.state()
                self.eps[s].append(end)
                self.eps[s].append(a)
                self.eps[self._seq(items, a, drop)].append(end)
                s = end
            return s
        if op is _src.AT and drop and av in (_src.AT_END, _src.AT_END_STRING):
            # Dropping "$" lets more prefixes match: a superset, used only where a superset
            # is safe (which strings to send to the scalar path).
            return s
        raise _UnsupportedPattern(f"{op} {av}")

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(seen)
        while stack:
            for t in self.eps[stack.pop()]:
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        return frozenset(seen)


def _char_mask(op: Any, av: Any) -> int:
    """The digits a LITERAL or IN node accepts, as a 10-bit mask (other characters never occur)."""
    if op is _src.LITERAL:
        return 1 << (av - 48) if 48 <= av <= 57 else 0
    mask = 0
    negate = False
    for kind, value in av:
        if kind is _src.LITERAL:
            mask |= 1 << (value - 48) if 48 <= value <= 57 else 0
        elif kind is _src.RANGE:
            for code in range(max(value[0], 48), min(value[1], 57) + 1):
                mask |= 1 << (code - 48)
        elif kind is _src.CATEGORY and value is _src.CATEGORY_DIGIT:
            mask = _ALL
        elif kind is _src.NEGATE:
            negate = True
        else:
            raise _UnsupportedPattern(f"{kind} {value}")
    return (~mask & _ALL) if negate else mask


_MAX_STATES = 200_000


@dataclass(frozen=True, slots=True)
class _Dfa:
    """A deterministic automaton: ``table[state, digit]`` (digit 10 = filler), ``accept[state]``
    (the bits of the patterns that accept there); state 0 is dead, state 1 the start."""

    table: np.ndarray[Any, np.dtype[np.int32]]
    accept: np.ndarray[Any, np.dtype[np.int64]]

    def run(
        self, digits: np.ndarray[Any, Any], *, prefix: bool = False, nonempty: bool = False
    ) -> np.ndarray[Any, Any]:
        """Accept bits per number; ``digits`` holds one number per COLUMN (position by row,
        int32). Of the whole number, or (``prefix``) OR-ed over every prefix (``nonempty``: of
        length at least 1)."""
        # One flat gather per position: state * 11 + digit (8x a 2-D fancy index).
        flat = self.table.ravel()
        width = self.table.shape[1]
        state = np.ones(digits.shape[1], dtype=np.int32)
        hit = np.zeros(digits.shape[1], dtype=np.int64)
        if prefix and not nonempty:
            hit |= self.accept[state]
        for row in digits:
            state = np.take(flat, state * width + row)
            if prefix:
                hit |= np.take(self.accept, state)
        return hit if prefix else np.take(self.accept, state)


def _dfa(patterns: Sequence[tuple[str, int]], *, drop_end_anchor: bool = False) -> _Dfa:
    """One automaton for several patterns, each tagged with its bit."""
    nfa = _Nfa()
    root = nfa.state()
    for pattern, tag in patterns:
        nfa.eps[root].append(nfa.add(pattern, tag, drop_end_anchor=drop_end_anchor))
    dead: frozenset[int] = frozenset()
    start = nfa.closure([root])
    index: dict[frozenset[int], int] = {dead: 0, start: 1}
    order = [dead, start]
    rows: list[list[int]] = []
    accepts: list[int] = []
    k = 0
    while k < len(order):
        current = order[k]
        k += 1
        accepts.append(functools.reduce(lambda a, s: a | nfa.tags.get(s, 0), current, 0))
        row = []
        for digit in range(_DIGITS):
            bit = 1 << digit
            targets = [t for s in current for mask, t in nfa.moves[s] if mask & bit]
            nxt = nfa.closure(targets) if targets else dead
            j = index.get(nxt)
            if j is None:
                j = index[nxt] = len(order)
                order.append(nxt)
                if len(order) > _MAX_STATES:
                    raise _UnsupportedPattern("automaton too large")
            row.append(j)
        row.append(k - 1)  # the filler keeps the state
        rows.append(row)
    return _Dfa(np.array(rows, dtype=np.int32), np.array(accepts, dtype=np.int64))


def _type_table(same_mobile_and_fixed_line: bool) -> np.ndarray[Any, np.dtype[np.int32]]:
    """``_number_type_helper`` for every match mask (2 ** 11 of them)."""
    out = np.full(1 << len(_DESCS), _UNKNOWN, dtype=np.int32)
    for mask in range(1 << len(_DESCS)):
        if not mask & 1:
            continue
        code = _UNKNOWN
        for bit, (_, special) in enumerate(_SPECIAL_TYPES, start=1):
            if mask & (1 << bit):
                code = special
                break
        else:
            if mask & _FIXED_BIT:
                both = same_mobile_and_fixed_line or mask & _MOBILE_BIT
                code = int(
                    PhoneNumberType.FIXED_LINE_OR_MOBILE if both else PhoneNumberType.FIXED_LINE
                )
            elif not same_mobile_and_fixed_line and mask & _MOBILE_BIT:
                code = int(PhoneNumberType.MOBILE)
        out[mask] = code
    return out


@dataclass(frozen=True, slots=True)
class _Region:
    """One region's (or non-geographic entity's) type patterns as an automaton."""

    region: str
    leading_digits: _Dfa | None
    """Prefix automaton of the leading digits (shared country codes), or None."""
    descs: _Dfa
    """Whole-number automaton of the general desc and every type desc (bit per desc)."""
    lengths: np.ndarray[Any, np.dtype[np.int64]]
    """Per national-number length, the descs whose possible lengths allow it."""
    types: np.ndarray[Any, np.dtype[np.int32]]
    """phonenumbers type code per match mask."""

    def type_codes(self, digits: np.ndarray[Any, Any], lens: np.ndarray[Any, Any]) -> Any:
        return self.types[self.descs.run(digits) & self.lengths[lens]]


def _region(region: str, meta: Any) -> _Region:
    patterns = []
    lengths = np.zeros(_WIDTH + 1, dtype=np.int64)
    for bit, name in enumerate(_DESCS):
        desc = getattr(meta, name)
        if desc is None or not desc.national_number_pattern:
            continue
        patterns.append((desc.national_number_pattern, bit))
        # _is_number_matching_desc: a desc with possible lengths accepts only those.
        allowed = desc.possible_length or range(_WIDTH + 1)
        for length in allowed:
            if 0 <= length <= _WIDTH:
                lengths[length] |= 1 << bit
    leading = meta.leading_digits
    return _Region(
        region=region,
        leading_digits=None if leading is None else _dfa([(leading, 0)]),
        descs=_dfa(patterns),
        lengths=lengths,
        types=_type_table(bool(meta.same_mobile_and_fixed_line_pattern)),
    )


@dataclass(frozen=True, slots=True)
class _Country:
    """What parsing and analysis need of one country calling code."""

    code: int
    main_region: str
    regions: tuple[_Region, ...]
    national_prefix: _Dfa | None
    """Prefix automaton of a non-literal national prefix for parsing (``$`` dropped)."""
    literal_prefixes: tuple[tuple[int, ...], ...] | None
    """The national prefix for parsing spelled out, when it is a finite, prefix-free set of digit
    strings (``0``, ``[08]``, ``0|180020``) without a transform rule: then exactly one of them
    can match, whatever the pattern's alternation order."""
    general: _Dfa | None
    """The main region's general pattern (what parse tests before and after stripping)."""
    strippable: np.ndarray[Any, np.dtype[np.bool_]]
    """Per length of the stripped number: parse keeps the stripped form."""
    reasons: tuple[str, ...]
    """Invalid reason per national-number length 0..17 (``is_possible_number_with_reason``)."""


def _country(code: int) -> _Country | None:
    regions = COUNTRY_CODE_TO_REGION_CODE[code]
    main = phonenumbers.region_code_for_country_code(code)
    main_meta = PhoneMetadata.metadata_for_region_or_calling_code(code, main)
    if main_meta is None:
        return None
    plans = []
    for region in regions:
        # region_code_for_number skips regions without metadata; number_type reads
        # metadata_for_region_or_calling_code (the non-geographic entity for "001").
        if len(regions) > 1 and PhoneMetadata.metadata_for_region(region.upper()) is None:
            continue
        meta = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        if meta is not None:
            plans.append(_region(region, meta))
    npfp = main_meta.national_prefix_for_parsing
    literals = _spelled_out(npfp) if npfp and not main_meta.national_prefix_transform_rule else None
    # Both depend on the length only: is_possible_number_with_reason and parse's length test
    # read the main region's general possible lengths.
    reasons = [""]
    strippable = np.zeros(_WIDTH + 1, dtype=bool)
    for length in range(1, _WIDTH + 1):
        probe = phonenumbers.PhoneNumber(country_code=code, national_number=int("1" * length))
        possible = phonenumbers.is_possible_number_with_reason(probe)
        strippable[length] = possible not in (
            ValidationResult.TOO_SHORT,
            ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
            ValidationResult.INVALID_LENGTH,
        )
        if length <= _MAX_NSN_DIGITS:
            reasons.append(_POSSIBLE_REASON.get(possible, "unallocated number range"))
    general = main_meta.general_desc.national_number_pattern if main_meta.general_desc else None
    return _Country(
        code=code,
        main_region=main,
        regions=tuple(plans),
        national_prefix=(
            _dfa([(npfp, 0)], drop_end_anchor=True) if npfp and literals is None else None
        ),
        literal_prefixes=literals,
        general=_dfa([(general, 0)]) if general else None,
        strippable=strippable,
        reasons=tuple(reasons),
    )


@dataclass(frozen=True, slots=True)
class NumberingPlan:
    """phonenumbers' metadata as automata and tables: what :func:`analyse_international` reads.

    Get it with :func:`compile_plan`. Countries are compiled on first use (about 5 ms each,
    1 s for all of them); :meth:`compile_all` does them all at once.

    Attributes
    ----------
    version : str
        The ``phonenumbers`` version the plan is compiled from.
    """

    version: str
    _countries: dict[int, _Country | None] = field(default_factory=dict)
    _scalar: set[int] = field(default_factory=set)
    _carriers: list[tuple[int, pl.DataFrame]] = field(default_factory=list)

    def country(self, code: int) -> _Country | None:
        """The compiled country ``code``; None when its numbers must take the scalar path."""
        if code in self._countries:
            return self._countries[code]
        try:
            compiled = _country(code)
        except _UnsupportedPattern:
            compiled = None
        if compiled is None:
            self._scalar.add(code)
        self._countries[code] = compiled
        return compiled

    def compile_all(self) -> frozenset[int]:
        """Compile every country and look up every region's names; return the country codes
        left to the scalar path (none with phonenumbers 9.0)."""
        for code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
            self.country(code)
            for region in regions:
                _labels(region)  # the geocoder's country names (about 3 ms each)
        return frozenset(self._scalar)

    def carriers(self) -> list[tuple[int, pl.DataFrame]]:
        """Carrier prefix tables, longest prefixes first (``_prefix``, ``_carrier``): only
        prefixes with an English name, which may be empty."""
        if not self._carriers:
            by_length: dict[int, tuple[list[str], list[str]]] = {}
            for prefix, names in CARRIER_DATA.items():
                # _prefix_description_for_number: the longest prefix with an entry in the
                # language wins (even an empty one); prefixes without it are passed over.
                name = names.get("en")
                if name is None:
                    continue
                keys, values = by_length.setdefault(len(prefix), ([], []))
                keys.append(prefix)
                values.append(name)
            schema = {"_prefix": pl.String, "_carrier": pl.String}
            self._carriers.extend(
                (length, pl.DataFrame({"_prefix": keys, "_carrier": values}, schema=schema))
                for length, (keys, values) in sorted(by_length.items(), reverse=True)
            )
        return self._carriers


@functools.cache
def _compile(version: str) -> NumberingPlan:
    return NumberingPlan(version=version)


def compile_plan() -> NumberingPlan:
    """The :class:`NumberingPlan` of the installed ``phonenumbers`` (one per version).

    Examples
    --------
    >>> plan = compile_plan()
    >>> plan.version == phonenumbers.__version__
    True
    >>> [r.region for r in plan.country(44).regions]
    ['GB', 'GG', 'IM', 'JE']
    """
    return _compile(phonenumbers.__version__)


# -- the vectorised analysis -------------------------------------------------------------------


def _digit_matrix(nsn: pl.Series) -> np.ndarray[Any, np.dtype[np.int32]]:
    """National numbers as COLUMNS of digit values (row = position), padded with the filler 10
    (":" is "9" + 1)."""
    if nsn.len() == 0:
        return np.zeros((_WIDTH, 0), dtype=np.int32)
    joined = nsn.str.pad_end(_WIDTH, ":").str.join("").item()
    flat = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    return np.ascontiguousarray((flat.reshape(-1, _WIDTH) - 48).T, dtype=np.int32)


def _spelled_out(pattern: str, longest: int = 8) -> tuple[tuple[int, ...], ...] | None:
    """The digit strings ``pattern`` matches, if finitely many, short and prefix-free; or None."""
    if "$" in pattern:
        return None
    try:
        dfa = _dfa([(pattern, 0)])
    except _UnsupportedPattern:
        return None
    found: list[tuple[int, ...]] = []
    frontier: list[tuple[int, tuple[int, ...]]] = [(1, ())]
    while frontier:
        state, spelled = frontier.pop()
        if dfa.accept[state]:
            found.append(spelled)
            if len(found) > 64:
                return None
        for digit in range(_DIGITS):
            nxt = int(dfa.table[state, digit])
            if nxt:
                if len(spelled) >= longest:
                    return None  # too long or a loop
                frontier.append((nxt, (*spelled, digit)))
    if not found or () in found:
        return None
    for a in found:
        for b in found:
            if a != b and b[: len(a)] == a:
                return None
    return tuple(sorted(found))


def _strip(country: _Country, sub: Any, sub_lens: Any) -> Any:
    """_maybe_strip_national_prefix_carrier_code for a spelled-out prefix, as parse applies it:
    how many digits each row loses (``sub`` and ``sub_lens`` are updated in place)."""
    assert country.literal_prefixes is not None
    dropped = np.zeros(sub.shape[1], dtype=np.int64)
    for prefix in country.literal_prefixes:
        k = len(prefix)
        if sub.shape[0] <= k:
            continue
        starts = dropped == 0
        for j, digit in enumerate(prefix):
            starts &= sub[j] == digit
        if starts.any():
            strip = _strip_rows(country, sub, sub_lens, starts, k)
            dropped[strip] = k
    return dropped


def _strip_rows(country: _Country, sub: Any, sub_lens: Any, starts: Any, k: int) -> Any:
    """Of the rows that start with a ``k``-digit national prefix, those parse strips it from."""
    shifted = np.full_like(sub, _PAD)
    shifted[:-k] = sub[k:]
    if country.general is not None:
        viable = (country.general.run(sub) & 1) != 0
        viable_after = (country.general.run(shifted) & 1) != 0
        # A number the general pattern takes whole keeps its prefix when the rest does not fit.
        starts &= ~(viable & ~viable_after)
    strip = starts & country.strippable[np.maximum(sub_lens - k, 0)]
    sub[:, strip] = shifted[:, strip]
    sub_lens[strip] -= k
    return strip


def _classify(
    plan: NumberingPlan, codes: np.ndarray[Any, Any], digits: np.ndarray[Any, Any], lens: Any
) -> tuple[list[str], Any, Any, Any, Any]:
    """Per row: region index (into the returned names; -1: none), type code, scalar flag, and
    how many national-prefix digits parse strips."""
    n = codes.shape[0]
    stripped = np.zeros(n, dtype=np.int64)
    names: list[str] = []
    index: dict[str, int] = {}
    region = np.full(n, -1, dtype=np.int32)
    types = np.full(n, _UNKNOWN, dtype=np.int32)
    scalar = np.zeros(n, dtype=bool)
    order = np.argsort(codes, kind="stable")
    present, starts = np.unique(codes[order], return_index=True)
    bounds = [*starts.tolist(), n]
    for k, code in enumerate(present.tolist()):
        rows = order[bounds[k] : bounds[k + 1]]
        country = plan.country(int(code))
        if country is None:
            scalar[rows] = True
            continue
        sub_lens = lens[rows].copy()
        sub = np.take(digits[: max(1, int(sub_lens.max()))], rows, axis=1)
        if country.literal_prefixes is not None:
            stripped[rows] = _strip(country, sub, sub_lens)
        elif country.national_prefix is not None:
            # Where the national prefix for parsing matches a non-empty prefix, parse may strip
            # or transform it: those rows take the scalar path.
            scalar[rows] = country.national_prefix.run(sub, prefix=True, nonempty=True) != 0
        ids = []
        for plan_region in country.regions:
            if plan_region.region not in index:
                index[plan_region.region] = len(names)
                names.append(plan_region.region)
            ids.append(index[plan_region.region])
        if len(country.regions) == 1:
            region[rows] = ids[0]
            types[rows] = country.regions[0].type_codes(sub, sub_lens)
            continue
        # _region_code_for_number_from_list: the first region whose leading digits match, or
        # (a region without them) under whose patterns the number has a type.
        got = np.full(rows.shape[0], -1, dtype=np.int32)
        got_types = np.full(rows.shape[0], _UNKNOWN, dtype=np.int32)
        for rid, plan_region in zip(ids, country.regions, strict=True):
            open_ = got == -1
            if not open_.any():
                break
            codes_here = plan_region.type_codes(sub, sub_lens)
            if plan_region.leading_digits is not None:
                claim = plan_region.leading_digits.run(sub, prefix=True) != 0
            else:
                claim = codes_here != _UNKNOWN
            take = open_ & claim
            got[take] = rid
            got_types[take] = codes_here[take]
        region[rows] = got
        types[rows] = got_types
    return names, region, types, scalar, stripped


def _international(raws: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``raws`` into the explicit international strings the tables may answer (columns
    ``raw``, ``_intl``) and the rest (column ``raw``)."""
    raw = pl.col("raw")
    intl = (
        pl.when(raw.str.contains(r"^\+[1-9][0-9]{6,19}$"))
        .then(raw.str.slice(1))
        .when(raw.str.contains(r"^00[1-9][0-9]{6,17}$"))
        .then(raw.str.slice(2))
    )
    frame = pl.DataFrame({"raw": raws}, schema={"raw": pl.String}).with_columns(intl.alias("_intl"))
    scalar_only = pl.col("_intl").str.starts_with("86")
    for prefix in _SCALAR_ONLY[1:]:
        # The impersonation check looks only at the "+" spelling of these.
        scalar_only = scalar_only | (
            raw.str.starts_with("+") & pl.col("_intl").str.starts_with(prefix)
        )
    eligible = pl.col("_intl").is_not_null() & ~scalar_only
    return frame.filter(eligible), frame.filter(~eligible).select("raw")


_ONE = {str(c) for c in COUNTRY_CODE_TO_REGION_CODE if c < 10}
_TWO = {str(c) for c in COUNTRY_CODE_TO_REGION_CODE if 10 <= c < 100}
_THREE = {str(c) for c in COUNTRY_CODE_TO_REGION_CODE if c >= 100}


def analyse_international(
    raws: Iterable[str] | pl.Series,
    *,
    high_risk_countries: Iterable[str] = (),
    plan: NumberingPlan | None = None,
) -> tuple[pl.DataFrame, pl.Series]:
    """Analyse, in bulk, the strings of ``raws`` the tables can answer.

    Parameters
    ----------
    raws : iterable of str or polars.Series
        Number strings (distinct ones, for speed; duplicates are answered twice).
    high_risk_countries : iterable of str
        Regions whose numbers get ``high_risk_origin`` (as in :class:`NumberIntel`).
    plan : NumberingPlan, optional
        Defaults to :func:`compile_plan`.

    Returns
    -------
    (polars.DataFrame, polars.Series)
        The answered strings with every :class:`NumberInfo` field (:data:`INFO_SCHEMA`, in no
        particular order), and the strings left to :meth:`NumberIntel.analyse`.

    Examples
    --------
    >>> done, rest = analyse_international(["+85512345678", "13800138000", "+447400123456"])
    >>> done.sort("raw").select("raw", "region", "kind", "valid").rows()
    [('+447400123456', 'GB', 'mobile', True), ('+85512345678', 'KH', 'mobile', True)]
    >>> rest.to_list()
    ['13800138000']
    """
    plan = plan or compile_plan()
    series = raws if isinstance(raws, pl.Series) else pl.Series("raw", list(raws), dtype=pl.String)
    frame, rest = _international(series.alias("raw").cast(pl.String))
    if frame.height == 0:
        # Nothing for the tables (a live loop's later batches often bring no new foreign
        # number): skip the fixed cost of the bulk path.
        return pl.DataFrame(schema=INFO_SCHEMA), rest.get_column("raw")
    intl = pl.col("_intl")
    # _extract_country_code: country codes are prefix-free, so the first hit is the only one.
    cc = (
        pl.when(intl.str.slice(0, 1).is_in(_ONE))
        .then(intl.str.slice(0, 1))
        .when(intl.str.slice(0, 2).is_in(_TWO))
        .then(intl.str.slice(0, 2))
        .when(intl.str.slice(0, 3).is_in(_THREE))
        .then(intl.str.slice(0, 3))
    )
    frame = frame.with_columns(cc.alias("_cc")).with_columns(
        intl.str.slice(pl.col("_cc").str.len_bytes()).alias("_nsn"),
        pl.col("_cc").cast(pl.Int64).alias("_code"),
    )
    unknown_code = frame.filter(pl.col("_cc").is_null())
    frame = frame.filter(pl.col("_cc").is_not_null()).with_columns(
        pl.col("_nsn").str.len_bytes().cast(pl.Int64).alias("_len")
    )
    lens = frame.get_column("_len").to_numpy()
    names, region, types, scalar, stripped = _classify(
        plan, frame.get_column("_code").to_numpy(), _digit_matrix(frame.get_column("_nsn")), lens
    )
    frame = frame.with_columns(
        pl.Series("_rid", region, dtype=pl.Int32),
        pl.Series("_type", types, dtype=pl.Int32),
        pl.Series("_scalar", scalar, dtype=pl.Boolean),
        pl.Series("_strip", stripped, dtype=pl.Int64),
    ).with_columns(
        pl.col("_nsn").str.slice(pl.col("_strip")),
        pl.col("_len") - pl.col("_strip"),
    )
    left = frame.filter(pl.col("_scalar")).select("raw")
    typed = frame.filter(~pl.col("_scalar"))
    high_risk = frozenset(c.upper() for c in high_risk_countries)
    answered = _fields(typed, names, plan, high_risk)
    failures = _failures(unknown_code.select("raw"))
    done = pl.concat([answered.select(list(INFO_SCHEMA)), failures], how="vertical")
    left_over = pl.concat([rest, left], how="vertical").get_column("raw")
    return done, left_over


def _failures(rows: pl.DataFrame) -> pl.DataFrame:
    """The fields of strings phonenumbers.parse rejects for an unknown country code."""
    return rows.select(
        pl.col("raw"),
        *(
            pl.lit(value, dtype=INFO_SCHEMA[name]).alias(name)
            for name, value in _unknown_values("unknown country code").items()
        ),
    )


def _unknown_values(reason: str) -> dict[str, Any]:
    return {
        "e164": None,
        "national": None,
        "country_code": None,
        "region": None,
        "origin": Origin.UNKNOWN.value,
        "origin_label": "Unknown",
        "origin_label_zh": "未知",
        "kind": NumberKind.UNKNOWN.value,
        "valid": False,
        "invalid_reason": reason,
        "carrier": None,
        "province": None,
        "city": None,
        "high_risk_origin": False,
        "is_service_number": False,
        "location_zh": None,
        "explicit_country_code": False,
        "impersonates": None,
        "service_name": None,
    }


def _region_table(regions: Sequence[str], high_risk: frozenset[str]) -> pl.DataFrame:
    rows: dict[str, list[Any]] = {
        "_region": [], "_origin": [], "_label": [], "_label_zh": [], "_high_risk": []
    }  # fmt: skip
    for region in regions:
        if region in _ORIGIN_BY_REGION:
            origin, label, label_zh = _ORIGIN_BY_REGION[region]
        else:
            origin = Origin.FOREIGN
            label, label_zh = _labels(region)
        rows["_region"].append(region)
        rows["_origin"].append(origin.value)
        rows["_label"].append(label)
        rows["_label_zh"].append(label_zh)
        rows["_high_risk"].append(region in high_risk)
    return pl.DataFrame(
        rows,
        schema={
            "_region": pl.String, "_origin": pl.String, "_label": pl.String,
            "_label_zh": pl.String, "_high_risk": pl.Boolean,
        },
    )  # fmt: skip


@functools.cache
def _labels(region: str) -> tuple[str, str]:
    return region_labels(region)


_KIND_BY_CODE = {int(code): kind.value for code, kind in _KIND_BY_PN_TYPE.items()}


def _fields(
    typed: pl.DataFrame, names: list[str], plan: NumberingPlan, high_risk: frozenset[str]
) -> pl.DataFrame:
    """Every NumberInfo field from the country code, national number, region and type code."""
    codes = typed.get_column("_code").unique().to_list()
    countries = {code: plan.country(code) for code in codes}
    # No region claimed the number: _from_parsed falls back to the country's main region.
    mains = {str(c): country.main_region for c, country in countries.items() if country}
    by_id = dict(enumerate(names))
    typed = typed.with_columns(
        pl.col("_rid")
        .replace_strict(by_id, default=None, return_dtype=pl.String)
        .fill_null(pl.col("_code").cast(pl.String).replace_strict(mains, return_dtype=pl.String))
        .alias("_region"),
        (pl.col("_len") > _MAX_NSN_DIGITS).alias("_too_long"),
    )
    too_long = typed.filter(pl.col("_too_long"))
    typed = typed.filter(~pl.col("_too_long"))
    regions = _region_table(typed.get_column("_region").unique().to_list(), high_risk)
    reasons = pl.DataFrame(
        [
            (code, length, reason)
            for code, country in countries.items()
            if country is not None
            for length, reason in enumerate(country.reasons)
        ],
        schema={"_code": pl.Int64, "_len": pl.Int64, "_reason": pl.String},
        orient="row",
    )
    valid = pl.col("_type") != _UNKNOWN
    kind = (
        pl.when(valid)
        .then(
            pl.col("_type").replace_strict(
                _KIND_BY_CODE, default=NumberKind.UNKNOWN.value, return_dtype=pl.String
            )
        )
        .otherwise(pl.lit(NumberKind.UNKNOWN.value))
    )
    out = (
        typed.join(regions, on="_region", how="left")
        .join(reasons, on=["_code", "_len"], how="left")
        .with_columns(valid.alias("valid"), kind.alias("kind"))
    )
    out = _with_carrier(out, plan)
    answered = out.select(
        pl.col("raw"),
        ("+" + pl.col("_cc") + pl.col("_nsn")).alias("e164"),
        pl.col("_nsn").alias("national"),
        pl.col("_code").alias("country_code"),
        pl.col("_region").alias("region"),
        pl.col("_origin").alias("origin"),
        pl.col("_label").alias("origin_label"),
        pl.col("_label_zh").alias("origin_label_zh"),
        pl.col("kind"),
        pl.col("valid"),
        pl.when(pl.col("valid"))
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("_reason"))
        .alias("invalid_reason"),
        pl.col("_carrier").alias("carrier"),
        pl.lit(None, dtype=pl.String).alias("province"),
        pl.lit(None, dtype=pl.String).alias("city"),
        pl.col("_high_risk").alias("high_risk_origin"),
        pl.lit(False).alias("is_service_number"),
        pl.lit(None, dtype=pl.String).alias("location_zh"),
        pl.lit(True).alias("explicit_country_code"),
        pl.lit(None, dtype=pl.String).alias("impersonates"),
        pl.lit(None, dtype=pl.String).alias("service_name"),
    )
    failed = _failures(too_long.select("raw")).with_columns(
        pl.lit("impossible length: too long").alias("invalid_reason")
    )
    return pl.concat([answered, failed], how="vertical")


def _with_carrier(out: pl.DataFrame, plan: NumberingPlan) -> pl.DataFrame:
    """``carrier.name_for_valid_number(num, "en") or None`` for valid mobile-ish rows."""
    wanted = pl.col("valid") & pl.col("kind").is_in(
        [NumberKind.MOBILE.value, NumberKind.FIXED_LINE_OR_MOBILE.value]
    )
    out = out.with_row_index("_i")
    need = out.filter(wanted).select("_i", (pl.col("_cc") + pl.col("_nsn")).alias("_digits"))
    found: list[pl.DataFrame] = []
    for length, table in plan.carriers():
        if need.height == 0:
            break
        keyed = need.with_columns(pl.col("_digits").str.slice(0, length).alias("_prefix"))
        hit = keyed.join(table, on="_prefix", how="inner")
        if hit.height:
            found.append(hit.select("_i", "_carrier"))
            need = need.join(hit.select("_i"), on="_i", how="anti")
    names = (
        pl.concat(found, how="vertical")
        if found
        else pl.DataFrame(schema={"_i": pl.UInt32, "_carrier": pl.String})
    )
    names = names.with_columns(
        pl.when(pl.col("_carrier") == "").then(None).otherwise(pl.col("_carrier")).alias("_carrier")
    )
    return out.join(names, on="_i", how="left").drop("_i")


# -- the whole column --------------------------------------------------------------------------


def infos_frame(infos: Sequence[NumberInfo]) -> pl.DataFrame:
    """:class:`NumberInfo` objects as rows of :data:`INFO_SCHEMA`.

    Examples
    --------
    >>> infos_frame([NumberIntel().analyse("110")]).select("raw", "kind").rows()
    [('110', 'police')]
    """
    columns: dict[str, list[Any]] = {}
    for name in INFO_SCHEMA:
        values = [getattr(info, name) for info in infos]
        if name in ("origin", "kind"):
            values = [v.value for v in values]
        columns[name] = values
    return pl.DataFrame(columns, schema=INFO_SCHEMA)


def analyse_frame(intel: NumberIntel, raws: Iterable[str] | pl.Series) -> pl.DataFrame:
    """Every :class:`NumberInfo` field of each string of ``raws``, as :data:`INFO_SCHEMA` rows.

    Strings in explicit international form are answered from the compiled tables
    (:func:`analyse_international`), the rest by ``intel.analyse`` (cached). Rows come in no
    particular order; ``raw`` keys them.

    Examples
    --------
    >>> df = analyse_frame(NumberIntel(), ["+855 12 345 678", "+85512345678", "110"])
    >>> df.sort("raw").select("raw", "e164", "kind").rows()
    [('+855 12 345 678', '+85512345678', 'mobile'), ('+85512345678', '+85512345678', 'mobile'), ('110', '+86110', 'police')]
    """
    done, rest = analyse_international(raws, high_risk_countries=intel.high_risk_countries)
    scalar = infos_frame(intel.analyse_many(rest.to_list()))
    return pl.concat([done, scalar], how="vertical")
