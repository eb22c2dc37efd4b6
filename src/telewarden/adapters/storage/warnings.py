"""``SqlWarningStore``: warnings and outcomes in the SQL store, each write audited with it.

It shares the engine (and the ``audit_log`` table) of a :class:`SqlStore`; a warning and its
audit record are written in one transaction, so the log never misses a warning sent.
"""

from __future__ import annotations

from sqlalchemy import func, insert, select

from telewarden.adapters.storage.protocol import private_audit_document
from telewarden.adapters.storage.sql import SqlStore, _utc, append_audit
from telewarden.adapters.storage.warning_models import WarningOutcomeRow, WarningRow
from telewarden.core.errors import NotFoundError
from telewarden.core.ports import AuditRecord
from telewarden.core.warning import Outcome, OutcomeRecord, WarningNotice

__all__ = ["SqlWarningStore"]


def _row(warning: WarningNotice) -> dict[str, object]:
    return {
        "warning_id": warning.warning_id,
        "msisdn": warning.msisdn,
        "subject": warning.subject,
        "subject_kind": warning.subject_kind,
        "fraud_type": warning.fraud_type,
        "campaign_key": warning.campaign_key,
        "band": warning.band,
        "risk": warning.risk,
        "created_at": warning.created_at,
        "send_at": warning.send_at,
        "document": warning.as_dict(),
    }


class SqlWarningStore:
    """The ``WarningStore`` over a :class:`SqlStore`'s engine (SQLite or PostgreSQL)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def save_warnings(self, warnings: list[WarningNotice], *, actor: str) -> int:
        """Store new warnings, skipping ids already stored; one audit record per warning."""
        if not warnings:
            return 0
        ids = list({w.warning_id for w in warnings})
        now = self.store.clock.now()
        with self.store.engine.begin() as conn:
            known: set[str] = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                known.update(
                    conn.execute(
                        select(WarningRow.warning_id).where(WarningRow.warning_id.in_(chunk))
                    ).scalars()
                )
            fresh: dict[str, WarningNotice] = {}
            for w in warnings:
                if w.warning_id not in known:
                    fresh.setdefault(w.warning_id, w)
            if not fresh:
                return 0
            conn.execute(insert(WarningRow), [_row(w) for w in fresh.values()])
            # Through the audit chain, so that `telewarden audit verify` covers warnings too.
            append_audit(
                conn,
                [
                    AuditRecord(
                        now,
                        actor,
                        "warning",
                        w.warning_id,
                        "create",
                        None,
                        # The warned subscriber's number only hashed: the warning row keeps
                        # it in clear because sending the warning needs it.
                        private_audit_document(self.store.keyring, w.as_dict(), w.msisdn),
                    )
                    for w in fresh.values()
                ],
            )
        return len(fresh)

    def get_warning(self, warning_id: str) -> WarningNotice | None:
        """One warning, None when unknown."""
        with self.store.engine.connect() as conn:
            doc = conn.execute(
                select(WarningRow.document).where(WarningRow.warning_id == warning_id)
            ).scalar()
        return WarningNotice.from_dict(doc) if doc is not None else None

    def list_warnings(self, *, msisdn: str | None = None, limit: int = 50) -> list[WarningNotice]:
        """The newest warnings first (by decision time), optionally of one subscriber."""
        query = select(WarningRow.document).order_by(
            WarningRow.created_at.desc(), WarningRow.id.desc()
        )
        if msisdn is not None:
            query = query.where(WarningRow.msisdn == msisdn)
        with self.store.engine.connect() as conn:
            docs = conn.execute(query.limit(limit)).scalars().all()
        return [WarningNotice.from_dict(d) for d in docs]

    def count_warnings(self) -> int:
        """Every stored warning."""
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(WarningRow)).scalar_one())

    def record_outcome(
        self, warning_id: str, outcome: Outcome, *, note: str, actor: str
    ) -> OutcomeRecord:
        """Record an outcome, audited; ``NotFoundError`` for an unknown warning."""
        at = self.store.clock.now()
        record = OutcomeRecord(warning_id, outcome, note, actor, at)
        with self.store.engine.begin() as conn:
            exists = conn.execute(
                select(WarningRow.id).where(WarningRow.warning_id == warning_id)
            ).first()
            if exists is None:
                raise NotFoundError(f"no warning {warning_id!r}")
            conn.execute(
                insert(WarningOutcomeRow),
                {
                    "warning_id": warning_id,
                    "outcome": str(outcome),
                    "note": note,
                    "actor": actor,
                    "at": at,
                },
            )
            append_audit(
                conn,
                [
                    AuditRecord(
                        at,
                        actor,
                        "warning_outcome",
                        warning_id,
                        "create",
                        None,
                        {"outcome": str(outcome), "note": note},
                    )
                ],
            )
        return record

    def outcomes_for(self, warning_id: str) -> list[OutcomeRecord]:
        """The outcomes of one warning, oldest first."""
        query = (
            select(WarningOutcomeRow)
            .where(WarningOutcomeRow.warning_id == warning_id)
            .order_by(WarningOutcomeRow.id)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            OutcomeRecord(r.warning_id, Outcome.from_str(r.outcome), r.note, r.actor, _utc(r.at))
            for r in rows
        ]
