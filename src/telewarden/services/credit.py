"""Use cases at ID-document level: the one-ID query, the sale check, the credit list (O3, O17).

ID document numbers enter here and leave as keyed hashes (``core.disposal.credit.id_key``); the
store and the audit log never see them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from telewarden.core.disposal.credit import (
    DEFAULT_CARDS_PER_ID,
    CreditListing,
    SaleCheck,
    check_sale,
    id_key,
    plan_listing,
)
from telewarden.core.disposal.notices import LANGUAGES, Notice, render_credit_notice
from telewarden.core.disposal.ports import Card, CardRegistry, CreditStore
from telewarden.core.errors import NotFoundError
from telewarden.core.ports import Clock
from telewarden.services.disposal import new_id

__all__ = ["CreditService", "ListingReport"]


class IdStore(CardRegistry, CreditStore, Protocol):
    """Cards by ID and credit listings."""


@dataclass(frozen=True, slots=True)
class ListingReport:
    """A new listing, its written notices and the cards it affects."""

    listing: CreditListing
    notices: list[Notice]
    cards: list[Card]


class CreditService:
    """ID-document use cases under one hash key.

    Parameters
    ----------
    store
        Cards by ID and credit listings.
    clock
        When listings start and sales are checked.
    key
        The carrier's hash key (``TELEWARDEN_HASH_KEY``).
    remedy_channel
        Where a listed person appeals or applies for credit repair.
    """

    def __init__(
        self,
        store: IdStore,
        clock: Clock,
        key: bytes,
        *,
        remedy_channel: str = "the public security organ that made the finding, or 10000",
        make_id: Callable[[str], str] = new_id,
    ) -> None:
        self.store = store
        self.clock = clock
        self.key = key
        self.remedy_channel = remedy_channel
        self.make_id = make_id

    def id_hash(self, id_document: str) -> str:
        """The keyed hash the store knows the ID document by."""
        return id_key(self.key, id_document)

    def cards_under(self, id_document: str) -> list[Card]:
        """The one-ID query: every card sold on the ID document."""
        return self.store.cards_under(self.id_hash(id_document))

    def check_sale(self, id_document: str, *, limit: int = DEFAULT_CARDS_PER_ID) -> SaleCheck:
        """May one more card be sold on this ID? (credit list first, then the card limit)."""
        digest = self.id_hash(id_document)
        return check_sale(
            cards_held=len(self.store.cards_under(digest)),
            limit=limit,
            listings=self.store.listings_for(digest),
            at=self.clock.now(),
        )

    def list_id(
        self,
        id_document: str,
        *,
        basis: str,
        term_years: int,
        by: str,
        start: dt.datetime | None = None,
    ) -> ListingReport:
        """List the ID for ``term_years`` (2 or 3; 5 in a row at most) and write the notices."""
        digest = self.id_hash(id_document)
        listing = plan_listing(
            self.store.listings_for(digest),
            id_hash=digest,
            basis=basis,
            start=start or self.clock.now(),
            term_years=term_years,
            listing_id=self.make_id("L"),
        )
        self.store.save_listing(listing, actor=by)
        reference = f"…{digest[-8:]}"
        notices = [
            render_credit_notice(
                subject_ref=reference,
                basis=basis,
                starts_at=listing.starts_at,
                ends_at=listing.ends_at,
                term_years=listing.term_years,
                remedy_channel=self.remedy_channel,
                lang=lang,
            )
            for lang in LANGUAGES
        ]
        return ListingReport(listing, notices, self.store.cards_under(digest))

    def lift(self, id_document: str, listing_id: str, *, reason: str, by: str) -> CreditListing:
        """Lift a listing early: appeal upheld or credit repaired."""
        for listing in self.store.listings_for(self.id_hash(id_document)):
            if listing.id == listing_id:
                lifted = listing.lifted(at=self.clock.now(), reason=reason)
                self.store.save_listing(lifted, actor=by)
                return lifted
        raise NotFoundError(f"no listing {listing_id!r} on that ID document")
