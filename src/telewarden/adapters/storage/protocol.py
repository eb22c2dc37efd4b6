"""The composite store and the storage helpers shared by ``SqlStore`` and ``MemoryStore``.

The ports themselves, and the records they exchange, live in ``telewarden.core.ports``; they are
re-exported here so adapters have one place to import from.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

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
from telewarden.core.privacy import KeyRing, NumberKey, clear_forms, number_key, redact_numbers
from telewarden.core.screening import (
    Decision,
    ListEntry,
    MatchKind,
    NumberList,
    OptIn,
    ScreeningEvent,
)

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
    "PrivateDecision",
    "ephemeral_keyring",
    "private_audit_document",
    "private_decision",
    "private_optin",
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


def ephemeral_keyring() -> KeyRing:
    """A random key ring for this process only: private, but look-ups end with the process.

    Stores fall back to it when no ring is handed in (tests, in-memory demos); entry points
    always hand in the configured ring (``Settings.number_keyring``).
    """
    return KeyRing(NumberKey("tmp", secrets.token_bytes(32)))


@dataclass(frozen=True, slots=True)
class PrivateDecision:
    """A decision as the log keeps it: the numbers as keyed hashes, everywhere in the document."""

    caller: str
    callee: str
    event: dict[str, Any]
    document: dict[str, Any]


def private_decision(
    ring: KeyRing, event: ScreeningEvent, decision: Decision, document: dict[str, Any]
) -> PrivateDecision:
    """``document`` (the decision's JSON) and the event with caller and callee hashed.

    A number is hashed in its E.164 form when it has one (so a look-up by any spelling that
    analyses to it finds the row), else as given. Every clear form of either number (as given,
    E.164, national, digits alone) is replaced wherever it appears: number analyses, trace
    details, messages.
    """
    caller = number_key(ring, decision.caller.e164 or event.caller)
    callee = number_key(ring, decision.callee.e164 or event.callee)
    replacements: dict[str, str] = {}
    for info, raw, hashed in (
        (decision.caller, event.caller, caller),
        (decision.callee, event.callee, callee),
    ):
        for form in clear_forms(raw, info.raw, info.e164, info.national):
            replacements.setdefault(form, hashed)
    private_event = redact_numbers(event_to_dict(event), replacements)
    private_event["caller"], private_event["callee"] = caller, callee
    return PrivateDecision(caller, callee, private_event, redact_numbers(document, replacements))


def private_audit_document(ring: KeyRing, document: dict[str, Any], msisdn: str) -> dict[str, Any]:
    """``document`` with the subscriber number ``msisdn`` hashed wherever it appears (warnings'
    audit records: the warned subscriber; the fraud number they were warned about stays)."""
    hashed = number_key(ring, msisdn)
    redacted: dict[str, Any] = redact_numbers(document, dict.fromkeys(clear_forms(msisdn), hashed))
    return redacted


def private_optin(ring: KeyRing, optin: OptIn) -> tuple[str, dict[str, Any]]:
    """The number hash of an opt-in and its audit form (``optin_to_dict`` with it hashed)."""
    hashed = number_key(ring, optin.msisdn)
    return hashed, optin_to_dict(optin) | {"msisdn": hashed}
