"""The ports: what the core and the services need from the outside world.

Each port is a small ``Protocol``; adapters implement them (memory twins in
``telewarden.adapters.memory``, SQL in ``telewarden.adapters.storage.sql``) and every
implementation passes the same conformance suite (``telewarden.testing``). The record types the
ports exchange are plain dataclasses, so this module imports no database, broker or web library.

Store ports (state of screening, each mutation audited in the same transaction):
:class:`PolicyStore`, :class:`OptInStore`, :class:`ListStore`, :class:`AuditLog`,
:class:`DecisionLog`. Stream seams (the live loop and the service plug in here):
:class:`Clock`, :class:`EventSource`, :class:`DecisionSink`, :class:`FlagSink`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from telewarden.core.screening.lists import NumberList
from telewarden.core.screening.settings import PolicySettings
from telewarden.core.screening.types import (
    Decision,
    ListEntry,
    ListKind,
    OptIn,
    OptInScope,
    ScreeningEvent,
)

__all__ = [
    "AuditLog",
    "AuditRecord",
    "BatchSummary",
    "Clock",
    "DecisionLog",
    "DecisionRecord",
    "DecisionSink",
    "EventSource",
    "FixedClock",
    "Flag",
    "FlagSink",
    "ImportReport",
    "ListStore",
    "OptInStore",
    "PolicyStore",
    "Progress",
    "SourcedEvent",
    "entry_to_dict",
    "event_to_dict",
    "optin_to_dict",
]


# ---------------------------------------------------------------------------------------------
# time


@runtime_checkable
class Clock(Protocol):
    """Source of the current time; the core never reads the wall clock itself."""

    def now(self) -> dt.datetime:
        """Return the current time as a UTC-aware datetime."""
        ...


class FixedClock:
    """A clock that always returns the same instant (tests, replays, batch runs).

    Examples
    --------
    >>> import datetime as dt
    >>> FixedClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).now().year
    2026
    """

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        """Return the fixed instant."""
        return self.at


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


# ---------------------------------------------------------------------------------------------
# store ports


@runtime_checkable
class PolicyStore(Protocol):
    """Versioned screening policy; every change is audited."""

    def get_policy(self) -> PolicySettings:
        """The policy in force (defaults when none was ever set)."""
        ...

    def policy_version(self) -> int:
        """Version of the policy in force; 0 means the built-in defaults."""
        ...

    def set_policy(self, policy: PolicySettings, *, actor: str) -> int:
        """Store a new policy version and return its number."""
        ...


@runtime_checkable
class OptInStore(Protocol):
    """Subscribers' opt-ins to cross-border calls and SMS."""

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

    def optin_history(self, msisdn: str, *, limit: int = 100) -> list[AuditRecord]:
        """The audit records of the subscriber's opt-ins (every scope), newest first.

        The records hold the number as a keyed hash (``telewarden.core.privacy``): the store
        hashes ``msisdn`` under every key of its ring (and matches rows kept in clear).
        """
        ...


@runtime_checkable
class ListStore(Protocol):
    """The deny and allow lists."""

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


@runtime_checkable
class AuditLog(Protocol):
    """Who changed what, when; written by the other ports' mutations."""

    def audit_log(self, *, entity: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The newest audit records first."""
        ...


@runtime_checkable
class DecisionLog(Protocol):
    """Single screens and batch summaries, for explaining verdicts afterwards."""

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


# ---------------------------------------------------------------------------------------------
# stream seams: where the live loop, the broker adapters and the service plug in


@dataclass(frozen=True, slots=True)
class SourcedEvent:
    """An event with its position in the source, so a sink can acknowledge it idempotently."""

    position: str
    """Opaque, unique within the source (file and line, stream sequence, ...)."""
    event: ScreeningEvent


@runtime_checkable
class EventSource(Protocol):
    """Call and SMS events in event-time order, each with a position to acknowledge."""

    def events(self) -> Iterator[SourcedEvent]:
        """Yield events until the source is exhausted (a live source may never be)."""
        ...

    def acknowledge(self, position: str) -> None:
        """Every effect of the event at ``position`` has been taken by the sinks."""
        ...


@runtime_checkable
class DecisionSink(Protocol):
    """Takes verdicts; idempotent on ``position`` (a redelivered event is not counted twice)."""

    def put(self, position: str, event: ScreeningEvent, decision: Decision) -> None:
        """Take the verdict of the event at ``position``."""
        ...


@dataclass(frozen=True, slots=True)
class Flag:
    """A number (card, sender, domain, wallet) found suspicious by a detector, scorer or list."""

    subject: str
    """What is flagged: an E.164 number, a domain or a wallet address."""
    kind: str
    """``msisdn``, ``sender``, ``domain`` or ``wallet``."""
    source: str
    """The detector, scorer, list or person that raised it (``sim_bank``, ``scorer``, ...)."""
    at: dt.datetime
    reason: str
    score: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class FlagSink(Protocol):
    """Takes flags (to open cases, apply measures, warn the exposed); idempotent on ``key``."""

    def put(self, key: str, flag: Flag) -> None:
        """Take ``flag``; a second ``put`` with the same ``key`` changes nothing."""
        ...
