"""``MemoryDisposalStore``: the disposal store in memory, for tests and embedding.

Behaves like ``SqlDisposalStore`` (same version checks, same outbox leases, same audit records)
and writes its audit records into the ``MemoryStore`` it is given, so the hash chain is shared.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from telewarden.adapters.memory import MemoryStore
from telewarden.core.disposal.cascade import (
    CascadeMessage,
    LinkedAccount,
    OutboxState,
    Reconciliation,
    disposes,
)
from telewarden.core.disposal.credit import CreditListing
from telewarden.core.disposal.model import Case, CaseState, Measure, MeasureState
from telewarden.core.disposal.ports import Card, Endpoint, OutboxItem, StoredNotice
from telewarden.core.errors import ConflictError, NotFoundError
from telewarden.core.ports import AuditRecord

__all__ = ["MemoryDisposalStore"]


@dataclass(slots=True)
class _Outbox:
    message: CascadeMessage
    state: OutboxState
    attempts: int
    next_attempt_at: dt.datetime
    lease_until: dt.datetime | None = None
    ack: str | None = None
    last_error: str | None = None


class MemoryDisposalStore:
    """Cases, cards, credit listings and the cascade held in memory.

    Parameters
    ----------
    store : MemoryStore
        Where audit records go (its hash chain).
    """

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._cases: dict[str, Case] = {}
        self._flag_keys: set[str] = set()
        self._notices: list[StoredNotice] = []
        self._cards: dict[str, Card] = {}
        self._listings: dict[str, CreditListing] = {}
        self._accounts: dict[tuple[str, str], LinkedAccount] = {}
        self._endpoints: dict[str, Endpoint] = {}
        self._outbox: dict[str, _Outbox] = {}
        self.dead_letters: dict[str, str] = {}

    def state(self) -> dict[str, Any]:
        """What taking flags changes (cases, notices, outbox, audit), for a worker's checkpoint.

        The card registry is left out: it is the carrier's, and a restarted worker imports it
        again before restoring this.
        """
        return {k: v for k, v in vars(self).items() if k != "_cards"}

    def restore(self, state: dict[str, Any]) -> None:
        """Take over a state from :meth:`state` (the cards stay as imported)."""
        for name, value in state.items():
            setattr(self, name, value)

    # cases
    def get_case(self, case_id: str) -> Case:
        """The case (``NotFoundError`` when unknown)."""
        if case_id not in self._cases:
            raise NotFoundError(f"no case {case_id!r}")
        return copy.deepcopy(self._cases[case_id])

    def live_case_for(self, msisdn: str) -> Case | None:
        """The card's case that is not cleared, if any."""
        live = [c for c in self._cases.values() if c.msisdn == msisdn and not c.closed]
        live.sort(key=lambda c: c.opened_at)
        return copy.deepcopy(live[-1]) if live else None

    def flag_seen(self, key: str) -> bool:
        """Whether a flag with ``key`` was already taken."""
        return key in self._flag_keys

    def list_cases(self, *, state: CaseState | None = None, limit: int = 50) -> list[Case]:
        """Newest first."""
        cases = [c for c in self._cases.values() if state is None or c.state is state]
        cases.sort(key=lambda c: (c.opened_at, c.id), reverse=True)
        return [copy.deepcopy(c) for c in cases[:limit]]

    def count_cases(self) -> dict[str, int]:
        """Cases by state."""
        counts: dict[str, int] = {}
        for c in self._cases.values():
            counts[str(c.state)] = counts.get(str(c.state), 0) + 1
        return counts

    def commit(
        self,
        case: Case,
        *,
        audit: list[AuditRecord],
        notices: list[StoredNotice],
        outbox: list[CascadeMessage],
    ) -> None:
        """Store everything at once; ``ConflictError`` when ``case`` is stale."""
        stored = self._cases.get(case.id)
        if (stored.version if stored is not None else 0) != case.version:
            raise ConflictError(f"case {case.id} changed since it was read; reload and retry")
        keys = {f.key for f in case.flags}
        known = {f.key for f in stored.flags} if stored is not None else set()
        if (keys - known) & self._flag_keys:
            raise ConflictError(f"case {case.id}: a flag key is already on another case")
        if not case.closed and any(
            c.msisdn == case.msisdn and not c.closed and c.id != case.id
            for c in self._cases.values()
        ):
            raise ConflictError(f"{case.msisdn} already has a live case")
        case.version += 1
        self._cases[case.id] = copy.deepcopy(case)
        self._flag_keys |= keys
        self._notices.extend(notices)
        at = case.updated_at or case.opened_at
        for m in outbox:
            self._outbox.setdefault(m.key, _Outbox(m, OutboxState.PENDING, 0, at))
        self.store.append_audit(audit)

    def purge_cleared(self, before: dt.datetime, *, actor: str) -> int:
        """Delete cleared cases older than ``before`` and what hangs on them; audited."""
        ids = {
            c.id
            for c in self._cases.values()
            if c.closed and (c.updated_at or c.opened_at) < before
        }
        for case_id in ids:
            case = self._cases.pop(case_id)
            self._flag_keys -= {f.key for f in case.flags}
        self._notices = [n for n in self._notices if n.case_id not in ids]
        self._outbox = {
            k: o
            for k, o in self._outbox.items()
            if o.message.case_id not in ids or o.state is OutboxState.PENDING
        }
        self.store.append_audit(
            [
                AuditRecord(
                    self.store.clock.now(),
                    actor,
                    "cases",
                    "retention",
                    "purge",
                    None,
                    {"cases": len(ids), "before": before.isoformat()},
                )
            ]
        )
        return len(ids)

    def measures_in_force(self) -> Iterator[Measure]:
        """Every measure in force."""
        return iter(
            [
                m
                for c in self._cases.values()
                for m in c.measures
                if m.state is MeasureState.IN_FORCE
            ]
        )

    def cases_due(self, at: dt.datetime, *, limit: int = 1000) -> list[str]:
        """Ids of cases with a timer due at or before ``at``, earliest first."""
        due = [(d, c.id) for c in self._cases.values() if (d := c.due_at()) and d <= at]
        return [case_id for _, case_id in sorted(due)[:limit]]

    def notices_for(self, case_id: str) -> list[StoredNotice]:
        """The case's notices, oldest first."""
        return [n for n in self._notices if n.case_id == case_id]

    # cards
    def import_cards(self, cards: Iterable[Card], *, actor: str, source_name: str) -> int:
        """Upsert cards."""
        count = 0
        for card in cards:
            self._cards[card.msisdn] = card
            count += 1
        self._audit(actor, "cards", source_name, "import", {"rows": count})
        return count

    def card(self, msisdn: str) -> Card | None:
        """The card, or None."""
        return self._cards.get(msisdn)

    def cards_under(self, id_hash: str) -> list[Card]:
        """Every card on the ID, by msisdn."""
        return sorted(
            (c for c in self._cards.values() if c.id_hash == id_hash), key=lambda c: c.msisdn
        )

    def known_cards(self, msisdns: Iterable[str]) -> dict[str, Card]:
        """The carrier's cards among ``msisdns``."""
        return {m: self._cards[m] for m in set(msisdns) if m in self._cards}

    # credit
    def listings_for(self, id_hash: str) -> list[CreditListing]:
        """The ID's listings, oldest first."""
        return sorted(
            (x for x in self._listings.values() if x.id_hash == id_hash), key=lambda x: x.starts_at
        )

    def save_listing(self, listing: CreditListing, *, actor: str) -> None:
        """Create or update a listing (audited)."""
        action = "update" if listing.id in self._listings else "create"
        self._listings[listing.id] = listing
        self._audit(actor, "credit_listing", listing.id, action, {"state": str(listing.state)})

    def list_listings(self, *, limit: int = 50) -> list[CreditListing]:
        """Newest first."""
        return sorted(self._listings.values(), key=lambda x: x.starts_at, reverse=True)[:limit]

    # accounts and endpoints
    def import_accounts(
        self, accounts: Iterable[LinkedAccount], *, actor: str, source_name: str
    ) -> int:
        """Upsert linked accounts."""
        count = 0
        for a in accounts:
            self._accounts[(a.platform, a.account)] = a
            count += 1
        self._audit(actor, "linked_accounts", source_name, "import", {"rows": count})
        return count

    def accounts_for(self, msisdn: str) -> list[LinkedAccount]:
        """Accounts registered with the number."""
        return sorted(
            (a for a in self._accounts.values() if a.msisdn == msisdn),
            key=lambda a: (a.platform, a.account),
        )

    def count_accounts(self) -> int:
        """Linked accounts held."""
        return len(self._accounts)

    def set_endpoint(self, endpoint: Endpoint, *, actor: str) -> None:
        """Create or replace a platform's endpoint."""
        self._endpoints[endpoint.platform] = endpoint
        self._audit(actor, "cascade_endpoint", endpoint.platform, "update", {"url": endpoint.url})

    def endpoints(self) -> dict[str, Endpoint]:
        """Endpoints by platform."""
        return dict(self._endpoints)

    # outbox
    def claim(self, *, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[OutboxItem]:
        """Lease up to ``limit`` due messages."""
        due = [
            o
            for o in self._outbox.values()
            if o.state is OutboxState.PENDING
            and o.next_attempt_at <= now
            and (o.lease_until is None or o.lease_until <= now)
        ]
        due.sort(key=lambda o: o.next_attempt_at)
        for o in due[:limit]:
            o.lease_until = now + lease
        return [OutboxItem(o.message, o.attempts) for o in due[:limit]]

    def _pending(self, key: str) -> _Outbox | None:
        o = self._outbox.get(key)
        return o if o is not None and o.state is OutboxState.PENDING else None

    def mark_delivered(self, key: str, *, at: dt.datetime, ack: str, attempts: int) -> None:
        """The platform acknowledged the message."""
        if (o := self._pending(key)) is not None:
            o.state, o.ack, o.attempts, o.lease_until = OutboxState.DELIVERED, ack, attempts, None

    def mark_failed(
        self, key: str, *, at: dt.datetime, error: str, attempts: int, retry_at: dt.datetime
    ) -> None:
        """An attempt failed; try again at ``retry_at``."""
        if (o := self._pending(key)) is not None:
            o.attempts, o.last_error, o.next_attempt_at, o.lease_until = (
                attempts,
                error,
                retry_at,
                None,
            )

    def dead_letter(self, key: str, *, at: dt.datetime, error: str, attempts: int) -> None:
        """Give up on the message."""
        if (o := self._pending(key)) is not None:
            o.state, o.attempts, o.last_error, o.lease_until = (
                OutboxState.DEAD,
                attempts,
                error,
                None,
            )
            self.dead_letters[key] = error

    def requeue_dead(self, *, at: dt.datetime, actor: str) -> int:
        """Put every dead letter back in the outbox."""
        keys = list(self.dead_letters)
        for key in keys:
            o = self._outbox[key]
            o.state, o.attempts, o.next_attempt_at, o.lease_until = (
                OutboxState.PENDING,
                0,
                at,
                None,
            )
        self.dead_letters.clear()
        self._audit(actor, "cascade", "dead_letters", "requeue", {"messages": len(keys)})
        return len(keys)

    def outbox_counts(self) -> dict[str, int]:
        """Messages by state."""
        counts: dict[str, int] = {}
        for o in self._outbox.values():
            counts[str(o.state)] = counts.get(str(o.state), 0) + 1
        return counts

    def outbox_messages(self) -> list[tuple[str, str, int, str | None]]:
        """``(key, state, attempts, ack)`` of every message."""
        return [(k, str(o.state), o.attempts, o.ack) for k, o in self._outbox.items()]

    def reconcile(self) -> Reconciliation:
        """Cards disposed, accounts notified, acknowledged, acted on, failed."""
        disposed = {
            m.msisdn
            for c in self._cases.values()
            for m in c.measures
            if m.in_force_at is not None
            and disposes(str(m.kind), blocks_while_pending=m.blocks_while_pending)
        }
        rows = [
            (o.message.platform, o.message.account, o.message.msisdn, str(o.state), o.ack)
            for o in self._outbox.values()
        ]
        # Imported here: the SQL store's module loads SQLAlchemy, which a worker over this
        # in-memory store never needs (a second less at every start).
        from telewarden.adapters.storage.disposal_sql import reconciliation_from_counts

        return reconciliation_from_counts(cards_disposed=len(disposed), rows=rows)

    def _audit(
        self, actor: str, entity: str, key: str, action: str, after: dict[str, object]
    ) -> None:
        self.store.append_audit(
            [AuditRecord(self.store.clock.now(), actor, entity, key, action, None, after)]
        )
