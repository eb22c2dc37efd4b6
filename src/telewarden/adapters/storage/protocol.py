"""What the CLI, API and runners need from a store, independent of the database behind it.

``ScreeningStore`` is implemented by ``telewarden.adapters.storage.sql.SqlStore`` (SQLite or
PostgreSQL) and by ``telewarden.adapters.memory.MemoryStore`` (tests, demos). The records here are
plain dataclasses so this module imports no database library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from telewarden.core.numbers import NumberIntel
from telewarden.core.screening import (
    ContentInspector,
    Decision,
    ListEntry,
    ListKind,
    MatchKind,
    NumberList,
    OptIn,
    OptInBook,
    OptInScope,
    PolicySettings,
    Screener,
    ScreeningEvent,
)

Progress = Callable[[int], None]
"""Called with the number of rows just processed (an increment, not a total)."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One change: who made it, when, to what, and the state before and after."""

    at: dt.datetime
    actor: str
    entity: str
    """``optin``, ``list_entry``, ``list`` (a bulk import) or ``policy``."""
    entity_key: str
    action: str
    """``create``, ``update``, ``delete`` or ``import``."""
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A logged single screen."""

    at: dt.datetime
    actor: str
    event: dict[str, Any]
    decision: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """Counts of one screened file; ``rows_read == screened + quarantined``."""

    started_at: dt.datetime
    finished_at: dt.datetime
    source: str
    output: str
    rows_read: int
    screened: int
    quarantined: int
    duration_s: float
    by_verdict: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class ImportReport:
    """Reconciled counts of a bulk list import.

    ``rows_read == accepted + quarantined`` and ``accepted == inserted + updated + duplicates``,
    where ``duplicates`` counts later rows of the file repeating an earlier row's pattern (the
    later one wins).
    """

    kind: ListKind
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    inserted: int = 0
    updated: int = 0
    total_after: int = 0
    duration_s: float = 0.0

    @property
    def reconciles(self) -> bool:
        """Whether every row read is accounted for exactly once."""
        return (
            self.rows_read == self.accepted + self.quarantined
            and self.accepted == self.inserted + self.updated + self.duplicates
        )

    def settle(self, *, count_before: int, count_after: int, duration_s: float) -> None:
        """Derive inserted and updated rows from the list sizes before and after the import."""
        self.total_after = count_after
        self.inserted = count_after - count_before
        self.updated = self.accepted - self.duplicates - self.inserted
        self.duration_s = duration_s

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, used for the audit log and ``--json`` output."""
        return {
            "kind": str(self.kind),
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "inserted": self.inserted,
            "updated": self.updated,
            "total_after": self.total_after,
            "duration_s": round(self.duration_s, 3),
        }


def optin_to_dict(optin: OptIn) -> dict[str, Any]:
    """JSON-ready form of an opt-in, as the audit log stores it."""
    return {
        "msisdn": optin.msisdn,
        "scope": str(optin.scope),
        "opted_in": optin.opted_in,
        "at": optin.at.isoformat(),
        "source": optin.source,
    }


def entry_to_dict(kind: ListKind, entry: ListEntry) -> dict[str, Any]:
    """JSON-ready form of a list entry, as the audit log stores it."""
    return {
        "kind": str(kind),
        "pattern": entry.pattern,
        "match": str(entry.match),
        "source": entry.source,
        "reason": entry.reason,
    }


def event_to_dict(event: ScreeningEvent) -> dict[str, Any]:
    """JSON-ready form of a screening event (the SMS body is left out of logs on purpose)."""
    return {
        "caller": event.caller,
        "callee": event.callee,
        "channel": str(event.channel),
        "ingress": str(event.ingress),
        "at": event.at.isoformat() if event.at else None,
        "attestation": event.attestation,
    }


@runtime_checkable
class ScreeningStore(Protocol):
    """Persistent state of screening: policy, opt-ins, lists, and the logs that explain them.

    Every mutating method takes an ``actor`` and writes an audit record in the same transaction.
    """

    # policy
    def get_policy(self) -> PolicySettings:
        """The policy in force (defaults when none was ever set)."""
        ...

    def policy_version(self) -> int:
        """Version of the policy in force; 0 means the built-in defaults."""
        ...

    def set_policy(self, policy: PolicySettings, *, actor: str) -> int:
        """Store a new policy version and return its number."""
        ...

    # opt-ins
    def set_optin(self, optin: OptIn, *, actor: str) -> OptIn | None:
        """Create or replace the opt-in for ``(msisdn, scope)``; return the previous one."""
        ...

    def remove_optin(self, msisdn: str, scope: OptInScope | None, *, actor: str) -> int:
        """Delete the subscriber's opt-ins (all scopes when ``scope`` is None); return how many."""
        ...

    def optins_for(self, msisdn: str) -> list[OptIn]:
        """The subscriber's opt-ins, ordered by scope."""
        ...

    def iter_optins(self) -> Iterator[OptIn]:
        """Every opt-in."""
        ...

    # lists
    def add_entry(self, kind: ListKind, entry: ListEntry, *, actor: str) -> ListEntry | None:
        """Create or replace one list entry; return the previous one."""
        ...

    def remove_entry(self, kind: ListKind, pattern: str, *, actor: str) -> ListEntry | None:
        """Delete one entry; return it, or None when there was none."""
        ...

    def count_entries(self, kind: ListKind) -> int:
        """Number of entries in the list."""
        ...

    def list_entries(
        self, kind: ListKind, *, starting_with: str = "", limit: int = 50
    ) -> list[ListEntry]:
        """Up to ``limit`` entries whose pattern starts with ``starting_with``, in pattern order."""
        ...

    def iter_entries(self, kind: ListKind) -> Iterator[ListEntry]:
        """Every entry of the list (for loading a ``NumberList``)."""
        ...

    def entries_matching(self, kind: ListKind, numbers: Iterable[str]) -> list[ListEntry]:
        """Entries whose pattern is one of ``numbers`` (E.164) or a prefix of one."""
        ...

    def load_list(self, kind: ListKind, target: NumberList) -> int:
        """Add every entry of the list to ``target`` as fast as the backend allows; the count."""
        ...

    def import_entries(
        self,
        kind: ListKind,
        chunks: Iterable[list[ListEntry]],
        *,
        actor: str,
        source_name: str,
        progress: Progress | None = None,
        report: ImportReport | None = None,
    ) -> ImportReport:
        """Upsert entries chunk by chunk; one audit record for the whole import.

        Later rows of the same pattern win. ``report``, when given, is filled in and returned,
        so a file reader can count ``rows_read`` and ``quarantined`` on it while it yields the
        chunks and the audit record carries the whole reconciliation.
        """
        ...

    # logs
    def audit_log(self, *, entity: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The newest audit records first."""
        ...

    def log_decision(
        self, event: ScreeningEvent, decision: Decision, *, actor: str, at: dt.datetime
    ) -> None:
        """Append one single-screen decision to the decision log."""
        ...

    def recent_decisions(self, *, limit: int = 20) -> list[DecisionRecord]:
        """The newest logged decisions first."""
        ...

    def log_batch(self, summary: BatchSummary, *, actor: str) -> None:
        """Record the summary of one screened file."""
        ...

    def recent_batches(self, *, limit: int = 20) -> list[BatchSummary]:
        """The newest batch summaries first."""
        ...


def candidate_patterns(numbers: Iterable[str]) -> set[str]:
    """Every pattern that can match one of ``numbers``: the number and each of its prefixes.

    Examples
    --------
    >>> sorted(candidate_patterns(["+8613"]))
    ['+8', '+86', '+861', '+8613']
    """
    return {n[:i] for n in numbers if n.startswith("+") for i in range(2, len(n) + 1)}


def fill_number_list(target: NumberList, rows: Iterable[tuple[str, str, str, str]]) -> int:
    """Load ``(pattern, match, source, reason)`` rows into ``target``; return how many.

    Exact entries are grouped by ``(source, reason)`` and added with ``add_exact_many`` (the
    store holds patterns already normalised), which avoids a per-entry call and a per-entry
    ``ListEntry`` for the bulk of a list; prefixes go through ``add`` one by one.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    exact = MatchKind.EXACT.value
    count = 0
    for pattern, match, source, reason in rows:
        count += 1
        if match == exact:
            bucket = groups.get((source, reason))
            if bucket is None:
                bucket = groups[(source, reason)] = []
            bucket.append(pattern)
        else:
            target.add(ListEntry(pattern, MatchKind(match), source, reason))
    for (source, reason), patterns in groups.items():
        target.add_exact_many(patterns, source, reason)
    return count


def load_screener(
    store: ScreeningStore,
    *,
    numbers: NumberIntel | None = None,
    content: ContentInspector | None = None,
    policy: PolicySettings | None = None,
) -> Screener:
    """A ``Screener`` holding ALL of the store's opt-ins and deny/allow lists in memory.

    For batch screening; a single screen should use ``screener_for`` instead. ``policy``
    replaces the store's policy (an entry point applies its settings' legal gates to it).
    """
    policy = policy if policy is not None else store.get_policy()
    if numbers is None:
        numbers = NumberIntel(high_risk_countries=policy.high_risk_countries)
    optins = OptInBook()
    for optin in store.iter_optins():
        optins.set(optin)
    deny = NumberList()
    store.load_list(ListKind.DENY, deny)
    allow = NumberList()
    store.load_list(ListKind.ALLOW, allow)
    return Screener(policy, numbers=numbers, optins=optins, deny=deny, allow=allow, content=content)


def screener_for(
    store: ScreeningStore,
    event: ScreeningEvent,
    *,
    numbers: NumberIntel | None = None,
    content: ContentInspector | None = None,
    policy: PolicySettings | None = None,
) -> Screener:
    """A ``Screener`` loaded with only the state that can affect ``event``.

    The callee's opt-ins and the list entries matching the caller or callee are fetched by
    index, so a single screen costs a few queries however long the lists are. ``policy``
    replaces the store's policy, as in ``load_screener``.
    """
    policy = policy if policy is not None else store.get_policy()
    if numbers is None:
        numbers = NumberIntel(high_risk_countries=policy.high_risk_countries)
    e164s = [
        e
        for e in (numbers.normalise(event.caller), numbers.normalise(event.callee))
        if e is not None
    ]
    optins = OptInBook()
    for msisdn in e164s:
        for optin in store.optins_for(msisdn):
            optins.set(optin)
    deny = NumberList(store.entries_matching(ListKind.DENY, e164s))
    allow = NumberList(store.entries_matching(ListKind.ALLOW, e164s))
    return Screener(policy, numbers=numbers, optins=optins, deny=deny, allow=allow, content=content)
