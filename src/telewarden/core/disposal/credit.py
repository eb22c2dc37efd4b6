"""ID documents and the credit list: keyed hashes, the cards-per-ID limit, listing terms.

ID documents are never stored in clear: :func:`id_key` is an HMAC-SHA256 under the carrier's
key, so the store can join every card of one ID (the one-ID query, O3) without holding the ID
number, and a leaked table cannot be reversed by hashing every possible ID number without the key.

Credit listings (AFL Art. 31, O17/O17a): for fraud convictions or for selling, renting or lending
cards, a listing lasts 2 or 3 years, at most 5 years in a row; it ends automatically, and appeal
or credit repair lifts it early. While listed, no new card is sold on the ID.

Examples
--------
>>> id_key(b"k", "11010119900307803X") == id_key(b"k", " 11010119900307803x ")
True
>>> import datetime as dt
>>> at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
>>> first = plan_listing([], id_hash="h", basis="card_trading", start=at, term_years=3,
...                      listing_id="L1")
>>> first.ends_at.year
2029
>>> plan_listing([first], id_hash="h", basis="card_trading", start=first.ends_at,
...              term_years=3, listing_id="L2")
Traceback (most recent call last):
...
telewarden.core.errors.ConflictError: a consecutive listing of ID h may last 2 more years at most (5 in a row)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from telewarden.core.errors import ConflictError, InvalidInputError

__all__ = [
    "BASES",
    "CreditListing",
    "ListingState",
    "SaleCheck",
    "add_years",
    "check_sale",
    "id_key",
    "keyed_hash",
    "plan_listing",
]

TERMS_YEARS = (2, 3)
MAX_CONSECUTIVE_YEARS = 5
BASES = ("fraud", "card_trading")
DEFAULT_CARDS_PER_ID = 5
"""Five active cards per ID with one operator (six-ministry notice, 2016; O3)."""


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, hex (the store's form of numbers and IDs)."""
    if not key:
        raise InvalidInputError("the hash key is empty")
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def id_key(key: bytes, id_document: str) -> str:
    """The keyed hash of an ID document number, after trimming and upper-casing (``x`` == ``X``)."""
    normalised = "".join(id_document.split()).upper()
    if not normalised:
        raise InvalidInputError("empty ID document number")
    return keyed_hash(key, "id:" + normalised)


def add_years(at: dt.datetime, years: int) -> dt.datetime:
    """``at`` plus whole calendar years; 29 February becomes 28 February in a common year."""
    try:
        return at.replace(year=at.year + years)
    except ValueError:
        return at.replace(year=at.year + years, day=28)


class ListingState(StrEnum):
    """A listing is active until its end, or lifted early by appeal or credit repair."""

    ACTIVE = "active"
    LIFTED = "lifted"


@dataclass(frozen=True, slots=True)
class CreditListing:
    """One listing of one ID document."""

    id: str
    id_hash: str
    basis: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    term_years: int
    state: ListingState = ListingState.ACTIVE
    lifted_at: dt.datetime | None = None
    lift_reason: str = ""

    def active(self, at: dt.datetime) -> bool:
        """Whether the listing bites at ``at``; it ends by itself at ``ends_at``."""
        return self.state is ListingState.ACTIVE and self.starts_at <= at < self.ends_at

    def lifted(self, *, at: dt.datetime, reason: str) -> CreditListing:
        """The listing lifted early (appeal upheld, credit repair)."""
        if self.state is not ListingState.ACTIVE or at >= self.ends_at:
            raise ConflictError(f"listing {self.id} is not active")
        return replace(self, state=ListingState.LIFTED, lifted_at=at, lift_reason=reason)


def plan_listing(
    existing: Iterable[CreditListing],
    *,
    id_hash: str,
    basis: str,
    start: dt.datetime,
    term_years: int,
    listing_id: str,
) -> CreditListing:
    """A new listing, refused when its term or the run of consecutive listings is too long.

    A listing continues a run when it starts before the previous one ends; the run's length is
    counted from the first listing's start to the new listing's end.
    """
    if term_years not in TERMS_YEARS:
        raise InvalidInputError(f"a listing lasts 2 or 3 years, not {term_years}")
    if basis not in BASES:
        raise InvalidInputError(f"listing basis must be one of {', '.join(BASES)}")
    mine = sorted(
        (x for x in existing if x.id_hash == id_hash and x.state is ListingState.ACTIVE),
        key=lambda x: x.starts_at,
    )
    run_start = start
    # Walk back through listings that this one continues (each starting before the next ends).
    cursor = start
    for previous in reversed(mine):
        if previous.ends_at >= cursor and previous.starts_at <= cursor:
            run_start = previous.starts_at
            cursor = previous.starts_at
    if any(x.active(start) for x in mine):
        start = max(x.ends_at for x in mine if x.active(start))
    ends = add_years(start, term_years)
    if ends > add_years(run_start, MAX_CONSECUTIVE_YEARS):
        used = (start - run_start).days // 365
        raise ConflictError(
            f"a consecutive listing of ID {id_hash} may last "
            f"{MAX_CONSECUTIVE_YEARS - used} more years at most ({MAX_CONSECUTIVE_YEARS} in a row)"
        )
    return CreditListing(listing_id, id_hash, basis, start, ends, term_years)


@dataclass(frozen=True, slots=True)
class SaleCheck:
    """Whether a new card may be sold on an ID, and why not."""

    allowed: bool
    cards_held: int
    limit: int
    reason: str = ""


def check_sale(
    *, cards_held: int, limit: int, listings: Iterable[CreditListing], at: dt.datetime
) -> SaleCheck:
    """The sale check: credit listing first, then the cards-per-ID limit (O3, O17)."""
    if limit < 1:
        raise InvalidInputError("the cards-per-ID limit must be at least 1")
    active = [x for x in listings if x.active(at)]
    if active:
        ends = max(x.ends_at for x in active)
        return SaleCheck(
            False, cards_held, limit, f"ID is on the credit list until {ends.date().isoformat()}"
        )
    if cards_held >= limit:
        return SaleCheck(
            False, cards_held, limit, f"ID already holds {cards_held} cards (limit {limit})"
        )
    return SaleCheck(True, cards_held, limit)
