"""Rewrite rows logged before numbers were hashed into keyed hashes (``telewarden privacy rehash``).

Stores upgraded from a version that logged subscriber numbers in clear keep those rows until the
retention purges them; this rewrites them under the current key instead:

- decision log: in batches of ``batch_size`` rows in id order, one transaction per batch; the
  caller and callee columns and every clear spelling of the two numbers inside the document
  (event, number analyses, trace, message) become ``k<id>:<hex>``;
- audit log (opt-in and warning records): the records are hash-chained, so rewriting one
  changes its hash and every link after it. The chain is verified first (a chain that does not
  hold is refused: re-linking would hide the edit), then the records are rewritten and the
  chain re-linked **in one transaction**, never left half re-linked, and one audit record
  (entity ``privacy``) names the counts and the head hash the chain had before.

Both are idempotent: a row already hashed is counted as such and left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, text, update

from telewarden.adapters.storage.models import AuditRow, DecisionRow
from telewarden.adapters.storage.sql import _AUDIT_LOCK, append_audit
from telewarden.core.disposal.audit_chain import GENESIS, ChainEntry, entry_hash, verify_chain
from telewarden.core.errors import ConfigurationError
from telewarden.core.ports import AuditRecord, Clock
from telewarden.core.privacy import KeyRing, clear_forms, is_number_key, number_key, redact_numbers

__all__ = ["RehashCounts", "rehash_audit_log", "rehash_decision_log"]


@dataclass
class RehashCounts:
    """What one table's pass did: ``read = rehashed + already_hashed + sum(skipped)``."""

    table: str
    read: int = 0
    rehashed: int = 0
    already_hashed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    batches: int = 0

    def skip(self, reason: str) -> None:
        """Count one row left as it is, with why."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def reconciles(self) -> bool:
        """Whether every row read is accounted for."""
        return self.read == self.rehashed + self.already_hashed + sum(self.skipped.values())

    def as_dict(self) -> dict[str, Any]:
        """The counts as JSON."""
        return {
            "table": self.table,
            "read": self.read,
            "rehashed": self.rehashed,
            "already_hashed": self.already_hashed,
            "skipped": dict(sorted(self.skipped.items())),
            "batches": self.batches,
            "reconciles": self.reconciles,
        }


def _side(doc: Mapping[str, Any], side: str) -> Mapping[str, Any]:
    info = doc.get(side)
    return info if isinstance(info, Mapping) else {}


def _private_decision_row(
    ring: KeyRing, caller: str, callee: str, document: dict[str, Any]
) -> tuple[str, str, dict[str, Any]]:
    """The row's numbers as keyed hashes, as ``SqlStore.log_decision`` writes them today."""
    event = _side(document, "event")
    replacements: dict[str, str] = {}
    hashed: dict[str, str] = {}
    for side, stored in (("caller", caller), ("callee", callee)):
        if is_number_key(stored):
            hashed[side] = stored
            continue
        info = _side(document, side)
        e164 = info.get("e164") if isinstance(info.get("e164"), str) else None
        hashed[side] = number_key(ring, e164 or stored)
        forms = clear_forms(stored, info.get("raw"), e164, info.get("national"), event.get(side))
        for form in forms:
            replacements.setdefault(form, hashed[side])
    private: dict[str, Any] = redact_numbers(document, replacements)
    if isinstance(private.get("event"), dict):
        private["event"] = {**private["event"], "caller": hashed["caller"]}
        private["event"]["callee"] = hashed["callee"]
    return hashed["caller"], hashed["callee"], private


def rehash_decision_log(engine: Engine, ring: KeyRing, *, batch_size: int = 1000) -> RehashCounts:
    """Rewrite decision-log rows still holding numbers in clear; one transaction per batch."""
    counts = RehashCounts("decision_log")
    last_id = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                select(DecisionRow.id, DecisionRow.caller, DecisionRow.callee, DecisionRow.decision)
                .where(DecisionRow.id > last_id)
                .order_by(DecisionRow.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            counts.batches += 1
            for row in rows:
                counts.read += 1
                if is_number_key(row.caller) and is_number_key(row.callee):
                    counts.already_hashed += 1
                    continue
                if not isinstance(row.decision, dict):
                    counts.skip("the stored decision is not a JSON object")
                    continue
                if not row.caller.strip() or not row.callee.strip():
                    counts.skip("an empty caller or callee: no number to hash")
                    continue
                caller, callee, document = _private_decision_row(
                    ring, row.caller, row.callee, row.decision
                )
                conn.execute(
                    update(DecisionRow)
                    .where(DecisionRow.id == row.id)
                    .values(caller=caller, callee=callee, decision=document)
                )
                counts.rehashed += 1
            last_id = rows[-1].id
    return counts


def _private_audit(ring: KeyRing, row: ChainEntry) -> tuple[str, Any, Any] | str | None:
    """The record's (entity_key, before, after) hashed; None when already hashed; else why not."""
    if row.entity == "optin":
        number, sep, scope = row.entity_key.rpartition(":")
        if not sep or not number:
            return "an opt-in record whose key is not <number>:<scope>"
        if is_number_key(number):
            return None
        hashed = number_key(ring, number)
        forms = dict.fromkeys(clear_forms(number), hashed)
        return (
            f"{hashed}:{scope}",
            redact_numbers(row.before, forms),
            redact_numbers(row.after, forms),
        )
    # warning records: the warned subscriber's number in before/after ``msisdn``
    documents = [d for d in (row.before, row.after) if isinstance(d, dict)]
    numbers = {d["msisdn"] for d in documents if isinstance(d.get("msisdn"), str)}
    if not numbers:
        return "a warning record without a subscriber number"
    if all(is_number_key(n) for n in numbers):
        return None
    clear: dict[str, str] = {}
    for number in sorted(n for n in numbers if not is_number_key(n)):
        clear.update(dict.fromkeys(clear_forms(number), number_key(ring, number)))
    return row.entity_key, redact_numbers(row.before, clear), redact_numbers(row.after, clear)


def rehash_audit_log(engine: Engine, ring: KeyRing, *, clock: Clock, actor: str) -> RehashCounts:
    """Rewrite opt-in and warning audit records in clear and re-link the chain, atomically.

    ConfigurationError when the chain does not verify before: re-linking would hide the edit.
    """
    counts = RehashCounts("audit_log")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK})
        rows = [
            ChainEntry(*r)
            for r in conn.execute(
                select(
                    AuditRow.id, AuditRow.at, AuditRow.actor, AuditRow.entity,
                    AuditRow.entity_key, AuditRow.action, AuditRow.before, AuditRow.after,
                    AuditRow.prev_hash, AuditRow.row_hash,
                ).order_by(AuditRow.id)
            )
        ]  # fmt: skip
        report = verify_chain(rows)
        if not report.ok:
            raise ConfigurationError(
                f"the audit chain does not verify (row {report.first_bad_id}: {report.problem}); "
                "rehashing re-links the chain and would hide that: run `telewarden audit verify` "
                "and restore the log first"
            )
        prev, previous_head = GENESIS, report.head_hash
        for row in rows:
            values: dict[str, Any] = {}
            if row.entity in ("optin", "warning"):
                counts.read += 1
                private = _private_audit(ring, row)
                if private is None:
                    counts.already_hashed += 1
                elif isinstance(private, str):
                    counts.skip(private)
                else:
                    counts.rehashed += 1
                    key, before, after = private
                    row = row._replace(entity_key=key, before=before, after=after)
                    values.update(entity_key=key, before=before, after=after)
            digest = entry_hash(
                prev, row.id, row.at, row.actor, row.entity, row.entity_key, row.action,
                row.before, row.after,
            )  # fmt: skip
            if values or row.prev_hash != prev or row.row_hash != digest:
                values.update(prev_hash=prev, row_hash=digest)
                conn.execute(update(AuditRow).where(AuditRow.id == row.id).values(**values))
            prev = digest
        counts.batches = 1
        if counts.rehashed:
            record = AuditRecord(
                clock.now(), actor, "privacy", "rehash", "rehash", {"head_hash": previous_head},
                {**counts.as_dict(), "key": ring.current.key_id},
            )  # fmt: skip
            append_audit(conn, [record])
    return counts
