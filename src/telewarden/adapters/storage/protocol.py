"""The composite store and the storage helpers shared by ``SqlStore`` and ``MemoryStore``.

The ports themselves, and the records they exchange, live in ``telewarden.core.ports``; they are
re-exported here so adapters have one place to import from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from telewarden.core.ports import (
    AuditLog,
    AuditRecord,
    BatchSummary,
    DecisionLog,
    DecisionRecord,
    ImportReport,
    ListStore,
    OptInStore,
    PolicyStore,
    Progress,
    entry_to_dict,
    event_to_dict,
    optin_to_dict,
)
from telewarden.core.screening import ListEntry, MatchKind, NumberList

__all__ = [
    "AuditRecord",
    "BatchSummary",
    "DecisionRecord",
    "ImportReport",
    "Progress",
    "ScreeningStore",
    "candidate_patterns",
    "entry_to_dict",
    "event_to_dict",
    "fill_number_list",
    "optin_to_dict",
]


@runtime_checkable
class ScreeningStore(PolicyStore, OptInStore, ListStore, AuditLog, DecisionLog, Protocol):
    """All five store ports in one object, as ``SqlStore`` and ``MemoryStore`` provide them.

    Every mutating method takes an ``actor`` and writes an audit record in the same transaction.
    Services ask for the narrowest port they use; this composite is for wiring.
    """


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
