"""In-memory implementations of the adapter protocols, shipped so tests and demos need no database.

``MemoryStore`` behaves like ``SqlStore`` (same audit records, same import counts) but keeps
everything in dictionaries and lists for the life of the object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from telewarden.adapters.clock import SystemClock
from telewarden.adapters.storage.protocol import (
    AuditRecord,
    BatchSummary,
    DecisionRecord,
    ImportReport,
    Progress,
    candidate_patterns,
    entry_to_dict,
    ephemeral_keyring,
    fill_number_list,
    private_decision,
    private_optin,
)
from telewarden.core.disposal.audit_chain import GENESIS, ChainEntry, entry_hash
from telewarden.core.ports import Clock, Flag, SourcedEvent
from telewarden.core.privacy import KeyRing, number_keys
from telewarden.core.screening import (
    Decision,
    ListEntry,
    ListKind,
    NumberList,
    OptIn,
    OptInScope,
    PolicySettings,
    ScreeningEvent,
)

__all__ = ["MemoryDecisionSink", "MemoryEventSource", "MemoryFlagSink", "MemoryStore"]


class MemoryStore:
    """A ``ScreeningStore`` held in memory.

    Parameters
    ----------
    clock : Clock, optional
        Source of audit and log timestamps.
    keyring : KeyRing, optional
        Keys of the hashes under which subscriber numbers are logged (as ``SqlStore``); a
        random ring for this object when not given.
    """

    def __init__(self, *, clock: Clock | None = None, keyring: KeyRing | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.keyring: KeyRing = keyring or ephemeral_keyring()
        self._policies: list[PolicySettings] = []
        self._optins: dict[tuple[str, OptInScope], OptIn] = {}
        self._lists: dict[ListKind, dict[str, ListEntry]] = {k: {} for k in ListKind}
        self._audit: list[AuditRecord] = []
        self._chain: list[ChainEntry] = []
        self._decisions: list[DecisionRecord] = []
        self._batches: list[BatchSummary] = []

    def _record(
        self,
        *,
        actor: str,
        entity: str,
        key: str,
        action: str,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
    ) -> None:
        self.append_audit(
            [AuditRecord(self.clock.now(), actor, entity, key, action, before, after)]
        )

    def append_audit(self, records: list[AuditRecord]) -> None:
        """Append ``records`` to the audit log and its hash chain (as ``sql.append_audit``)."""
        for r in records:
            prev = self._chain[-1].row_hash if self._chain else GENESIS
            assert prev is not None
            entry_id = len(self._chain) + 1
            digest = entry_hash(
                prev, entry_id, r.at, r.actor, r.entity, r.entity_key, r.action, r.before, r.after
            )
            self._audit.append(r)
            self._chain.append(
                ChainEntry(
                    entry_id,
                    r.at,
                    r.actor,
                    r.entity,
                    r.entity_key,
                    r.action,
                    r.before,
                    r.after,
                    prev,
                    digest,
                )
            )

    def iter_audit_chain(self) -> Iterator[ChainEntry]:
        """Every audit entry with its link and hash, in id order."""
        return iter(list(self._chain))

    def audit_log(self, *, entity: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The newest audit records first."""
        records = [r for r in reversed(self._audit) if entity is None or r.entity == entity]
        return records[:limit]

    def optin_history(self, msisdn: str, *, limit: int = 100) -> list[AuditRecord]:
        """The audit records of the subscriber's opt-ins, newest first (hashed under every key)."""
        keys = {
            f"{h}:{scope}"
            for h in [*number_keys(self.keyring, msisdn), msisdn.strip()]
            for scope in OptInScope
        }
        found = [r for r in reversed(self._audit) if r.entity == "optin" and r.entity_key in keys]
        return found[:limit]

    # policy
    def get_policy(self) -> PolicySettings:
        """The policy in force (defaults when none was ever set)."""
        return self._policies[-1] if self._policies else PolicySettings()

    def policy_version(self) -> int:
        """Version of the policy in force; 0 means the built-in defaults."""
        return len(self._policies)

    def set_policy(self, policy: PolicySettings, *, actor: str) -> int:
        """Store a new policy version and return its number."""
        before = self.get_policy().model_dump(mode="json")
        self._policies.append(PolicySettings.model_validate(policy.model_dump()))
        version = len(self._policies)
        self._record(
            actor=actor,
            entity="policy",
            key=f"v{version}",
            action="update" if version > 1 else "create",
            before=before,
            after=policy.model_dump(mode="json"),
        )
        return version

    # opt-ins
    def set_optin(self, optin: OptIn, *, actor: str) -> OptIn | None:
        """Create or replace the opt-in for ``(msisdn, scope)``; return the previous one."""
        key = (optin.msisdn, optin.scope)
        previous = self._optins.get(key)
        self._optins[key] = optin
        hashed, after = private_optin(self.keyring, optin)
        self._record(
            actor=actor,
            entity="optin",
            key=f"{hashed}:{optin.scope}",
            action="update" if previous else "create",
            before=private_optin(self.keyring, previous)[1] if previous else None,
            after=after,
        )
        return previous

    def remove_optin(self, msisdn: str, scope: OptInScope | None, *, actor: str) -> int:
        """Delete the subscriber's opt-ins (all scopes when ``scope`` is None); return how many."""
        keys = [k for k in self._optins if k[0] == msisdn and (scope is None or k[1] == scope)]
        for key in sorted(keys):
            removed = self._optins.pop(key)
            hashed, before = private_optin(self.keyring, removed)
            self._record(
                actor=actor,
                entity="optin",
                key=f"{hashed}:{key[1]}",
                action="delete",
                before=before,
                after=None,
            )
        return len(keys)

    def optins_for(self, msisdn: str) -> list[OptIn]:
        """The subscriber's opt-ins, ordered by scope."""
        return [o for (m, _), o in sorted(self._optins.items()) if m == msisdn]

    def iter_optins(self) -> Iterator[OptIn]:
        """Every opt-in."""
        return iter(list(self._optins.values()))

    # lists
    def add_entry(self, kind: ListKind, entry: ListEntry, *, actor: str) -> ListEntry | None:
        """Create or replace one list entry; return the previous one."""
        previous = self._lists[kind].get(entry.pattern)
        self._lists[kind][entry.pattern] = entry
        self._record(
            actor=actor,
            entity="list_entry",
            key=f"{kind}:{entry.pattern}",
            action="update" if previous else "create",
            before=entry_to_dict(kind, previous) if previous else None,
            after=entry_to_dict(kind, entry),
        )
        return previous

    def remove_entry(self, kind: ListKind, pattern: str, *, actor: str) -> ListEntry | None:
        """Delete one entry; return it, or None when there was none."""
        previous = self._lists[kind].pop(pattern, None)
        if previous is not None:
            self._record(
                actor=actor,
                entity="list_entry",
                key=f"{kind}:{pattern}",
                action="delete",
                before=entry_to_dict(kind, previous),
                after=None,
            )
        return previous

    def count_entries(self, kind: ListKind) -> int:
        """Number of entries in the list."""
        return len(self._lists[kind])

    def list_entries(
        self, kind: ListKind, *, starting_with: str = "", limit: int = 50
    ) -> list[ListEntry]:
        """Up to ``limit`` entries whose pattern starts with ``starting_with``, in pattern order."""
        patterns = sorted(p for p in self._lists[kind] if p.startswith(starting_with))
        return [self._lists[kind][p] for p in patterns[:limit]]

    def iter_entries(self, kind: ListKind) -> Iterator[ListEntry]:
        """Every entry of the list."""
        return iter(list(self._lists[kind].values()))

    def load_list(self, kind: ListKind, target: NumberList) -> int:
        """Add every entry of the list to ``target``; return how many."""
        return fill_number_list(
            target,
            ((e.pattern, e.match.value, e.source, e.reason) for e in self._lists[kind].values()),
        )

    def entries_matching(self, kind: ListKind, numbers: Iterable[str]) -> list[ListEntry]:
        """Entries whose pattern is one of ``numbers`` (E.164) or a prefix of one."""
        entries = self._lists[kind]
        return [entries[p] for p in sorted(candidate_patterns(numbers)) if p in entries]

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
        """Upsert entries chunk by chunk; one audit record for the whole import."""
        report = report if report is not None else ImportReport(kind=kind)
        started = self.clock.now()
        target = self._lists[kind]
        before = len(target)
        seen: set[str] = set()
        # Staged and applied at the end, so an import that fails midway changes nothing
        # (as the SQL store's transaction does).
        staged: dict[str, ListEntry] = {}
        for chunk in chunks:
            for entry in chunk:
                if entry.pattern in seen:
                    report.duplicates += 1
                seen.add(entry.pattern)
                staged[entry.pattern] = entry
            report.accepted += len(chunk)
            if progress is not None:
                progress(len(chunk))
        target.update(staged)
        report.settle(
            count_before=before,
            count_after=len(target),
            duration_s=(self.clock.now() - started).total_seconds(),
        )
        self._record(
            actor=actor,
            entity="list",
            key=f"{kind}:{source_name}",
            action="import",
            before={"count": before},
            after=report.as_dict(),
        )
        return report

    # logs
    def log_decision(
        self, event: ScreeningEvent, decision: Decision, *, actor: str, at: dt.datetime
    ) -> None:
        """Append one single-screen decision to the decision log, the numbers as keyed hashes."""
        private = private_decision(self.keyring, event, decision, decision.to_dict())
        self._decisions.append(DecisionRecord(at, actor, private.event, private.document))

    def purge_decisions(self, before: dt.datetime, *, actor: str) -> int:
        """Delete decisions older than ``before``; one audit record says how many."""
        kept = [d for d in self._decisions if d.at >= before]
        deleted = len(self._decisions) - len(kept)
        self._decisions = kept
        self._record(
            actor=actor,
            entity="decision_log",
            key="retention",
            action="purge",
            before=None,
            after={"deleted": deleted, "older_than": before.isoformat()},
        )
        return deleted

    def recent_decisions(self, *, limit: int = 20) -> list[DecisionRecord]:
        """The newest logged decisions first."""
        return list(reversed(self._decisions))[:limit]

    def log_batch(self, summary: BatchSummary, *, actor: str) -> None:
        """Record the summary of one screened file."""
        self._batches.append(summary)

    def recent_batches(self, *, limit: int = 20) -> list[BatchSummary]:
        """The newest batch summaries first."""
        return list(reversed(self._batches))[:limit]


class MemoryEventSource:
    """An ``EventSource`` over events held in memory; positions are their indices.

    Acknowledged positions are remembered so a test can check that every event was settled.
    """

    def __init__(self, events: Iterable[ScreeningEvent], *, name: str = "memory") -> None:
        self._events = list(events)
        self._name = name
        self.acknowledged: set[str] = set()

    def events(self) -> Iterator[SourcedEvent]:
        """Every event once, in the order given (the caller sorts by event time)."""
        for i, event in enumerate(self._events):
            yield SourcedEvent(f"{self._name}:{i}", event)

    def acknowledge(self, position: str) -> None:
        """Remember that ``position`` was settled."""
        self.acknowledged.add(position)


class MemoryDecisionSink:
    """A ``DecisionSink`` keeping verdicts by position (a redelivery replaces, never adds)."""

    def __init__(self) -> None:
        self.decisions: dict[str, tuple[ScreeningEvent, Decision]] = {}

    def put(self, position: str, event: ScreeningEvent, decision: Decision) -> None:
        """Take the verdict of the event at ``position``."""
        self.decisions[position] = (event, decision)

    def taken(self) -> int:
        """Distinct positions taken."""
        return len(self.decisions)


class MemoryFlagSink:
    """A ``FlagSink`` keeping flags by key (a second put of a key changes nothing)."""

    def __init__(self) -> None:
        self.flags: dict[str, Flag] = {}

    def put(self, key: str, flag: Flag) -> None:
        """Take ``flag`` unless ``key`` was taken before."""
        self.flags.setdefault(key, flag)

    def taken(self) -> int:
        """Distinct keys taken."""
        return len(self.flags)
