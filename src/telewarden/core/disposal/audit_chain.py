"""The tamper-evident audit chain: each entry hashes its content and the previous entry's hash.

Editing a row changes its hash; deleting one breaks the next row's link; inserting one in the
middle does both. :func:`verify_chain` walks the entries in order and names the first that does
not hold. (An attacker who can rewrite every later row and its hash can forge the chain; anchor
the head hash elsewhere, as ``telewarden audit verify`` prints it, to catch that too.)

Examples
--------
>>> import datetime as dt
>>> at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
>>> first = entry_hash(GENESIS, 1, at, "ana", "case", "C1", "create", None, {"state": "open"})
>>> second = entry_hash(first, 2, at, "ana", "case", "C1", "update", None, None)
>>> rows = [ChainEntry(1, at, "ana", "case", "C1", "create", None, {"state": "open"}, GENESIS, first),
...         ChainEntry(2, at, "ana", "case", "C1", "update", None, None, first, second)]
>>> verify_chain(rows).ok
True
>>> tampered = [rows[0]._replace(actor="eve"), rows[1]]
>>> verify_chain(tampered).first_bad_id
1
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["GENESIS", "ChainEntry", "ChainReport", "entry_hash", "verify_chain"]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""


def _instant(at: dt.datetime) -> str:
    # Databases hand back naive UTC (SQLite) or aware datetimes; hash one form of both.
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    prev_hash: str,
    entry_id: int,
    at: dt.datetime,
    actor: str,
    entity: str,
    entity_key: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> str:
    """SHA-256 over the previous hash and the entry's canonical JSON."""
    document = json.dumps(
        [entry_id, _instant(at), actor, entity, entity_key, action, before, after],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(f"{prev_hash}|{document}".encode()).hexdigest()


class ChainEntry(NamedTuple):
    """One audit row with its link and hash, as the store reads it."""

    id: int
    at: dt.datetime
    actor: str
    entity: str
    entity_key: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str | None
    row_hash: str | None


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of walking the chain."""

    entries: int
    head_hash: str
    first_bad_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """Whether every entry holds."""
        return self.first_bad_id is None


def verify_chain(entries: Iterable[ChainEntry]) -> ChainReport:
    """Walk ``entries`` in id order; report the first whose link or hash does not hold."""
    prev = GENESIS
    count = 0
    for e in entries:
        count += 1
        if e.prev_hash != prev:
            return ChainReport(
                count,
                prev,
                e.id,
                "its link to the previous row is broken (a row was removed, "
                "inserted or edited before it)",
            )
        expected = entry_hash(
            prev, e.id, e.at, e.actor, e.entity, e.entity_key, e.action, e.before, e.after
        )
        if e.row_hash != expected:
            return ChainReport(count, prev, e.id, "its content does not match its hash (edited)")
        prev = expected
    return ChainReport(count, prev)
