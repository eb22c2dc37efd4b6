"""What the disposal services need from storage and the network (implemented in adapters).

``CaseStore.commit`` writes a case, its notices, its cascade messages and its audit records in
ONE transaction: the transactional outbox. A message is never sent for a measure that was rolled
back, and never lost for one that was committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from telewarden.core.disposal.audit_chain import ChainEntry
from telewarden.core.disposal.cascade import CascadeMessage, LinkedAccount, Reconciliation
from telewarden.core.disposal.credit import CreditListing
from telewarden.core.disposal.model import Case, CaseState, Measure
from telewarden.core.disposal.notices import Notice
from telewarden.core.ports import AuditRecord

__all__ = [
    "AuditChain",
    "Card",
    "CardRegistry",
    "CaseStore",
    "CascadeStore",
    "CreditStore",
    "Endpoint",
    "OutboxItem",
    "StoredNotice",
    "WebhookResponse",
    "WebhookTransport",
]


@dataclass(frozen=True, slots=True)
class StoredNotice:
    """A notice as kept with its case."""

    case_id: str
    measure_id: str | None
    created_at: dt.datetime
    notice: Notice


@runtime_checkable
class CaseStore(Protocol):
    """Cases with their flags, measures, appeals and notices."""

    def get_case(self, case_id: str) -> Case:
        """The case (``NotFoundError`` when unknown)."""
        ...

    def live_case_for(self, msisdn: str) -> Case | None:
        """The card's case that is not cleared, if any."""
        ...

    def flag_seen(self, key: str) -> bool:
        """Whether a flag with ``key`` was already taken."""
        ...

    def list_cases(self, *, state: CaseState | None = None, limit: int = 50) -> list[Case]:
        """Newest first."""
        ...

    def commit(
        self,
        case: Case,
        *,
        audit: list[AuditRecord],
        notices: list[StoredNotice],
        outbox: list[CascadeMessage],
    ) -> None:
        """Write everything in one transaction; ``ConflictError`` when ``case`` is stale.

        On success ``case.version`` is the stored version.
        """
        ...

    def measures_in_force(self) -> Iterator[Measure]:
        """Every measure in force (to build a ``MeasureBook``)."""
        ...

    def cases_due(self, at: dt.datetime, *, limit: int = 1000) -> list[str]:
        """Ids of cases with a timer due at or before ``at``."""
        ...

    def notices_for(self, case_id: str) -> list[StoredNotice]:
        """The case's notices, oldest first."""
        ...

    def count_cases(self) -> dict[str, int]:
        """Cases by state."""
        ...

    def purge_cleared(self, before: dt.datetime, *, actor: str) -> int:
        """Delete cleared cases last changed before ``before``, with their flags, measures,
        appeals, notices and settled cascade messages (PIPL Art. 19: keep no longer than
        needed); one audit record; return how many cases."""
        ...


@dataclass(frozen=True, slots=True)
class Card:
    """A subscriber card and the keyed hash of the ID document it was sold on."""

    msisdn: str
    id_hash: str
    activated_at: dt.datetime | None = None


@runtime_checkable
class CardRegistry(Protocol):
    """Cards by ID document (the one-ID query, O3)."""

    def import_cards(self, cards: Iterable[Card], *, actor: str, source_name: str) -> int:
        """Upsert cards; return how many rows were taken."""
        ...

    def card(self, msisdn: str) -> Card | None:
        """The card, or None when it is not one of the carrier's."""
        ...

    def cards_under(self, id_hash: str) -> list[Card]:
        """Every card on the ID, by msisdn."""
        ...


@runtime_checkable
class CreditStore(Protocol):
    """Credit listings of ID documents."""

    def listings_for(self, id_hash: str) -> list[CreditListing]:
        """The ID's listings, oldest first."""
        ...

    def save_listing(self, listing: CreditListing, *, actor: str) -> None:
        """Create or update a listing (audited)."""
        ...

    def list_listings(self, *, limit: int = 50) -> list[CreditListing]:
        """Newest first."""
        ...


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a platform takes its webhooks, and the secret they are signed with."""

    platform: str
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A claimed outbox message (leased to one worker until ``lease_until``)."""

    message: CascadeMessage
    attempts: int


@runtime_checkable
class CascadeStore(Protocol):
    """Linked accounts, platform endpoints, the outbox and its dead letters."""

    def import_accounts(
        self, accounts: Iterable[LinkedAccount], *, actor: str, source_name: str
    ) -> int:
        """Upsert linked accounts; return how many rows were taken."""
        ...

    def accounts_for(self, msisdn: str) -> list[LinkedAccount]:
        """Accounts registered with the number."""
        ...

    def count_accounts(self) -> int:
        """Linked accounts held."""
        ...

    def set_endpoint(self, endpoint: Endpoint, *, actor: str) -> None:
        """Create or replace a platform's endpoint (audited; the secret is not)."""
        ...

    def endpoints(self) -> dict[str, Endpoint]:
        """Endpoints by platform."""
        ...

    def claim(self, *, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[OutboxItem]:
        """Lease up to ``limit`` pending messages due at ``now`` whose lease has run out."""
        ...

    def mark_delivered(self, key: str, *, at: dt.datetime, ack: str, attempts: int) -> None:
        """The platform acknowledged the message with the action it took."""
        ...

    def mark_failed(
        self, key: str, *, at: dt.datetime, error: str, attempts: int, retry_at: dt.datetime
    ) -> None:
        """An attempt failed; try again at ``retry_at``."""
        ...

    def dead_letter(self, key: str, *, at: dt.datetime, error: str, attempts: int) -> None:
        """Give up on the message: it moves to the dead-letter table."""
        ...

    def requeue_dead(self, *, at: dt.datetime, actor: str) -> int:
        """Put every dead letter back in the outbox, due at ``at`` with its attempts reset."""
        ...

    def outbox_counts(self) -> dict[str, int]:
        """Messages by state."""
        ...

    def reconcile(self) -> Reconciliation:
        """Cards disposed, accounts notified, acknowledged, acted on, failed."""
        ...


@runtime_checkable
class AuditChain(Protocol):
    """The audit log as a hash chain, oldest first."""

    def iter_audit_chain(self) -> Iterator[ChainEntry]:
        """Every audit entry with its link and hash, in id order."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """What a platform answered (status 0: no answer at all)."""

    status: int
    body: bytes
    error: str = ""


@runtime_checkable
class WebhookTransport(Protocol):
    """Posts one webhook; never raises for network trouble (it is a response with status 0)."""

    def post(
        self, url: str, body: bytes, headers: dict[str, str], *, timeout_s: float
    ) -> WebhookResponse:
        """POST ``body`` to ``url``."""
        ...
