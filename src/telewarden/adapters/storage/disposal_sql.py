"""``SqlDisposalStore``: cases, cards, credit listings and the cascade over SQLAlchemy 2.

It shares the engine (and so the audit chain) of ``SqlStore``. ``commit`` writes a case, its
notices, its outbox messages and its audit records in one transaction, guarded by the case's
version: ``UPDATE ... WHERE version = :seen`` either bumps it or touches no row, in which case the
caller held a stale copy and gets a ``ConflictError``. The cascade worker leases messages with
``lease_until`` (PostgreSQL also skips rows another worker has locked), so a worker killed
mid-send only delays its messages until the lease runs out; they are then re-sent with the
same idempotency key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from telewarden.adapters.storage.disposal_models import (
    AppealRow,
    CardRow,
    CaseRow,
    CreditListingRow,
    DeadLetterRow,
    EndpointRow,
    FlagRow,
    LinkedAccountRow,
    MeasureRow,
    NoticeRow,
    OutboxRow,
)
from telewarden.adapters.storage.sql import SqlStore, _utc, append_audit
from telewarden.core.disposal.cascade import (
    CascadeMessage,
    LinkedAccount,
    MessageKind,
    OutboxState,
    Reconciliation,
)
from telewarden.core.disposal.credit import CreditListing, ListingState
from telewarden.core.disposal.model import (
    Appeal,
    AppealState,
    Approval,
    Case,
    CaseState,
    FlagRecord,
    LiftReason,
    Measure,
    MeasureKind,
    MeasureState,
)
from telewarden.core.disposal.notices import Notice
from telewarden.core.disposal.ports import (
    Card,
    Endpoint,
    OutboxItem,
    StoredNotice,
)
from telewarden.core.errors import ConflictError, NotFoundError
from telewarden.core.ports import AuditRecord

__all__ = ["SqlDisposalStore", "measure_to_dict", "reconciliation_from_counts"]

_CHUNK = 5_000
NO_ACTION = frozenset({"", "none", "ignored", "received"})
"""Acknowledgement actions that mean the platform took the message but did nothing."""


def _opt(value: dt.datetime | None) -> dt.datetime | None:
    return _utc(value) if value is not None else None


def measure_to_dict(m: Measure) -> dict[str, Any]:
    """Columns of a measure row (also the audit form of a measure)."""
    return {
        "id": m.id,
        "case_id": m.case_id,
        "msisdn": m.msisdn,
        "kind": str(m.kind),
        "state": str(m.state),
        "approval": str(m.approval),
        "reason": m.reason,
        "remedy_channel": m.remedy_channel,
        "documents": list(m.documents),
        "proposed_at": m.proposed_at,
        "proposed_by": m.proposed_by,
        "in_force_at": m.in_force_at,
        "approved_by": m.approved_by,
        "deadline": m.deadline,
        "escalate_to": str(m.escalate_to) if m.escalate_to else None,
        "term_s": m.term.total_seconds() if m.term is not None else None,
        "blocks_while_pending": m.blocks_while_pending,
        "ended_at": m.ended_at,
        "ended_by": m.ended_by,
        "lift_reason": str(m.lift_reason) if m.lift_reason else None,
        "escalated_from": m.escalated_from,
    }


def _measure(r: Any) -> Measure:
    return Measure(
        id=r.id,
        case_id=r.case_id,
        msisdn=r.msisdn,
        kind=MeasureKind(r.kind),
        state=MeasureState(r.state),
        approval=Approval(r.approval),
        reason=r.reason,
        remedy_channel=r.remedy_channel,
        documents=tuple(r.documents),
        proposed_at=_utc(r.proposed_at),
        proposed_by=r.proposed_by,
        in_force_at=_opt(r.in_force_at),
        approved_by=r.approved_by,
        deadline=_opt(r.deadline),
        escalate_to=MeasureKind(r.escalate_to) if r.escalate_to else None,
        term=dt.timedelta(seconds=r.term_s) if r.term_s is not None else None,
        blocks_while_pending=bool(r.blocks_while_pending),
        ended_at=_opt(r.ended_at),
        ended_by=r.ended_by,
        lift_reason=LiftReason(r.lift_reason) if r.lift_reason else None,
        escalated_from=r.escalated_from,
    )


def _appeal_to_dict(a: Appeal) -> dict[str, Any]:
    return {
        "id": a.id,
        "case_id": a.case_id,
        "lodged_at": a.lodged_at,
        "review_due": a.review_due,
        "grounds": a.grounds,
        "channel": a.channel,
        "state": str(a.state),
        "decided_at": a.decided_at,
        "decided_by": a.decided_by,
        "note": a.note,
        "overdue_reported": a.overdue_reported,
    }


def _appeal(r: Any) -> Appeal:
    return Appeal(
        id=r.id,
        case_id=r.case_id,
        lodged_at=_utc(r.lodged_at),
        review_due=_utc(r.review_due),
        grounds=r.grounds,
        channel=r.channel,
        state=AppealState(r.state),
        decided_at=_opt(r.decided_at),
        decided_by=r.decided_by,
        note=r.note,
        overdue_reported=bool(r.overdue_reported),
    )


def _listing(r: Any) -> CreditListing:
    return CreditListing(
        id=r.id,
        id_hash=r.id_hash,
        basis=r.basis,
        starts_at=_utc(r.starts_at),
        ends_at=_utc(r.ends_at),
        term_years=r.term_years,
        state=ListingState(r.state),
        lifted_at=_opt(r.lifted_at),
        lift_reason=r.lift_reason,
    )


def _message(r: Any) -> CascadeMessage:
    return CascadeMessage(
        key=r.key,
        platform=r.platform,
        account=r.account,
        msisdn=r.msisdn,
        case_id=r.case_id,
        measure_id=r.measure_id,
        kind=MessageKind(r.kind),
        payload=dict(r.payload),
    )


def reconciliation_from_counts(
    *,
    cards_disposed: int,
    rows: Iterable[tuple[str, str, str, str, str | None]],
) -> Reconciliation:
    """Build the report from ``(platform, account, msisdn, state, ack)`` outbox rows."""
    by_platform: dict[str, dict[str, int]] = {}
    accounts: set[tuple[str, str]] = set()
    cards: set[str] = set()
    totals = {"messages": 0, "delivered": 0, "acknowledged": 0, "acted_on": 0, "dead": 0}
    pending = 0
    for platform, account, msisdn, state, ack in rows:
        counts = by_platform.setdefault(
            platform, {"messages": 0, "delivered": 0, "acted_on": 0, "dead": 0, "pending": 0}
        )
        counts["messages"] += 1
        totals["messages"] += 1
        accounts.add((platform, account))
        cards.add(msisdn)
        if state == OutboxState.DELIVERED:
            counts["delivered"] += 1
            totals["delivered"] += 1
            if ack is not None:
                totals["acknowledged"] += 1
                if ack.lower() not in NO_ACTION:
                    counts["acted_on"] += 1
                    totals["acted_on"] += 1
        elif state == OutboxState.DEAD:
            counts["dead"] += 1
            totals["dead"] += 1
        else:
            counts["pending"] += 1
            pending += 1
    return Reconciliation(
        cards_disposed=cards_disposed,
        cards_with_accounts=len(cards),
        messages=totals["messages"],
        accounts_notified=len(accounts),
        delivered=totals["delivered"],
        acknowledged=totals["acknowledged"],
        acted_on=totals["acted_on"],
        dead=totals["dead"],
        pending=pending,
        by_platform=by_platform,
    )


class SqlDisposalStore:
    """Case, card, credit and cascade store over the engine of a ``SqlStore``.

    Parameters
    ----------
    store : SqlStore
        The screening store whose engine (and audit chain) this store shares.
    """

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.engine: Engine = store.engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    # -- cases ---------------------------------------------------------------------------------

    def _load(self, conn: Connection, row: Any) -> Case:
        case_id = row.id
        flags = [
            FlagRecord(f.key, f.source, _utc(f.at), f.reason, f.score, dict(f.evidence))
            for f in conn.execute(
                select(FlagRow).where(FlagRow.case_id == case_id).order_by(FlagRow.id)
            ).all()
        ]
        measures = [
            _measure(m)
            for m in conn.execute(
                select(MeasureRow)
                .where(MeasureRow.case_id == case_id)
                .order_by(MeasureRow.proposed_at, MeasureRow.id)
            ).all()
        ]
        appeals = [
            _appeal(a)
            for a in conn.execute(
                select(AppealRow)
                .where(AppealRow.case_id == case_id)
                .order_by(AppealRow.lodged_at, AppealRow.id)
            ).all()
        ]
        return Case(
            id=case_id,
            msisdn=row.msisdn,
            opened_at=_utc(row.opened_at),
            state=CaseState(row.state),
            id_doc_hash=row.id_hash,
            flags=flags,
            measures=measures,
            appeals=appeals,
            state_before_appeal=(
                CaseState(row.state_before_appeal) if row.state_before_appeal else None
            ),
            updated_at=_utc(row.updated_at),
            version=row.version,
        )

    def get_case(self, case_id: str) -> Case:
        """The case (``NotFoundError`` when unknown)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(CaseRow).where(CaseRow.id == case_id)).first()
            if row is None:
                raise NotFoundError(f"no case {case_id!r}")
            return self._load(conn, row)

    def live_case_for(self, msisdn: str) -> Case | None:
        """The card's case that is not cleared, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(CaseRow)
                .where(CaseRow.msisdn == msisdn, CaseRow.state != str(CaseState.CLEARED))
                .order_by(CaseRow.opened_at.desc())
                .limit(1)
            ).first()
            return self._load(conn, row) if row is not None else None

    def flag_seen(self, key: str) -> bool:
        """Whether a flag with ``key`` was already taken."""
        with self.engine.connect() as conn:
            return conn.execute(select(FlagRow.id).where(FlagRow.key == key)).first() is not None

    def list_cases(self, *, state: CaseState | None = None, limit: int = 50) -> list[Case]:
        """Newest first."""
        query = select(CaseRow).order_by(CaseRow.opened_at.desc(), CaseRow.id.desc()).limit(limit)
        if state is not None:
            query = query.where(CaseRow.state == str(state))
        with self.engine.connect() as conn:
            return [self._load(conn, r) for r in conn.execute(query).all()]

    def count_cases(self) -> dict[str, int]:
        """Cases by state."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(CaseRow.state, func.count()).group_by(CaseRow.state)).all()
        return {state: int(n) for state, n in rows}

    def purge_cleared(self, before: dt.datetime, *, actor: str) -> int:
        """Delete cleared cases older than ``before`` and what hangs on them; audited."""
        with self.engine.begin() as conn:
            ids = list(
                conn.execute(
                    select(CaseRow.id).where(
                        CaseRow.state == str(CaseState.CLEARED), CaseRow.updated_at < before
                    )
                ).scalars()
            )
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i : i + _CHUNK]
                for table in (FlagRow, MeasureRow, AppealRow, NoticeRow):
                    conn.execute(delete(table).where(table.case_id.in_(chunk)))
                conn.execute(
                    delete(OutboxRow).where(
                        OutboxRow.case_id.in_(chunk), OutboxRow.state != str(OutboxState.PENDING)
                    )
                )
                conn.execute(delete(CaseRow).where(CaseRow.id.in_(chunk)))
            append_audit(
                conn,
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
                ],
            )
        return len(ids)

    def commit(
        self,
        case: Case,
        *,
        audit: list[AuditRecord],
        notices: list[StoredNotice],
        outbox: list[CascadeMessage],
    ) -> None:
        """Write the case, notices, outbox messages and audit records in one transaction."""
        updated = case.updated_at or case.opened_at
        values = {
            "msisdn": case.msisdn,
            "id_hash": case.id_doc_hash,
            "state": str(case.state),
            "opened_at": case.opened_at,
            "updated_at": updated,
            "due_at": case.due_at(),
            "state_before_appeal": (
                str(case.state_before_appeal) if case.state_before_appeal else None
            ),
            "version": case.version + 1,
        }
        try:
            with self.engine.begin() as conn:
                if case.version == 0:
                    conn.execute(insert(CaseRow), {"id": case.id, **values})
                else:
                    done = conn.execute(
                        update(CaseRow)
                        .where(CaseRow.id == case.id, CaseRow.version == case.version)
                        .values(**values)
                    )
                    if done.rowcount != 1:
                        raise ConflictError(
                            f"case {case.id} changed since it was read; reload and retry"
                        )
                known = set(
                    conn.execute(select(FlagRow.key).where(FlagRow.case_id == case.id)).scalars()
                )
                new_flags = [
                    {
                        "key": f.key,
                        "case_id": case.id,
                        "source": f.source,
                        "at": f.at,
                        "reason": f.reason,
                        "score": f.score,
                        "evidence": f.evidence,
                    }
                    for f in case.flags
                    if f.key not in known
                ]
                if new_flags:
                    conn.execute(insert(FlagRow), new_flags)
                conn.execute(delete(MeasureRow).where(MeasureRow.case_id == case.id))
                if case.measures:
                    conn.execute(insert(MeasureRow), [measure_to_dict(m) for m in case.measures])
                conn.execute(delete(AppealRow).where(AppealRow.case_id == case.id))
                if case.appeals:
                    conn.execute(insert(AppealRow), [_appeal_to_dict(a) for a in case.appeals])
                if notices:
                    conn.execute(
                        insert(NoticeRow),
                        [
                            {
                                "case_id": n.case_id,
                                "measure_id": n.measure_id,
                                "msisdn": n.notice.msisdn,
                                "lang": n.notice.lang,
                                "subject": n.notice.subject,
                                "body": n.notice.body,
                                "created_at": n.created_at,
                            }
                            for n in notices
                        ],
                    )
                self._enqueue(conn, outbox, updated)
                append_audit(conn, audit)
        except IntegrityError as exc:
            raise ConflictError(f"case {case.id}: {exc.orig}") from exc
        case.version += 1

    def _enqueue(self, conn: Connection, outbox: list[CascadeMessage], at: dt.datetime) -> None:
        if not outbox:
            return
        keys = [m.key for m in outbox]
        existing = set(conn.execute(select(OutboxRow.key).where(OutboxRow.key.in_(keys))).scalars())
        rows = [
            {
                "key": m.key,
                "platform": m.platform,
                "account": m.account,
                "msisdn": m.msisdn,
                "case_id": m.case_id,
                "measure_id": m.measure_id,
                "kind": str(m.kind),
                "payload": m.payload,
                "state": str(OutboxState.PENDING),
                "attempts": 0,
                "next_attempt_at": at,
                "lease_until": None,
                "created_at": at,
            }
            for m in {m.key: m for m in outbox}.values()
            if m.key not in existing
        ]
        if rows:
            conn.execute(insert(OutboxRow), rows)

    def measures_in_force(self) -> Iterator[Measure]:
        """Every measure in force (to build a ``MeasureBook``)."""
        query = select(MeasureRow).where(MeasureRow.state == str(MeasureState.IN_FORCE))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return iter([_measure(r) for r in rows])

    def cases_due(self, at: dt.datetime, *, limit: int = 1000) -> list[str]:
        """Ids of cases with a timer due at or before ``at``, earliest first."""
        query = (
            select(CaseRow.id)
            .where(CaseRow.due_at.is_not(None), CaseRow.due_at <= at)
            .order_by(CaseRow.due_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def notices_for(self, case_id: str) -> list[StoredNotice]:
        """The case's notices, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(NoticeRow).where(NoticeRow.case_id == case_id).order_by(NoticeRow.id)
            ).all()
        return [
            StoredNotice(
                r.case_id,
                r.measure_id,
                _utc(r.created_at),
                Notice(r.msisdn, r.lang, r.subject, r.body),
            )
            for r in rows
        ]

    # -- cards by ID document ------------------------------------------------------------------

    def _upsert(self, table: Any, keys: list[str], columns: list[str]) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            stmt: Any = postgresql.insert(table)
        else:
            from sqlalchemy.dialects import sqlite

            stmt = sqlite.insert(table)
        return stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in columns}
        )

    def import_cards(self, cards: Iterable[Card], *, actor: str, source_name: str) -> int:
        """Upsert cards in chunks, one transaction and one audit record for the import."""
        stmt = self._upsert(CardRow, ["msisdn"], ["id_hash", "activated_at"])
        count = 0
        with self.engine.begin() as conn:
            chunk: list[dict[str, Any]] = []
            for card in cards:
                chunk.append(
                    {
                        "msisdn": card.msisdn,
                        "id_hash": card.id_hash,
                        "activated_at": card.activated_at,
                    }
                )
                if len(chunk) >= _CHUNK:
                    conn.execute(stmt, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                conn.execute(stmt, chunk)
                count += len(chunk)
            append_audit(
                conn,
                [
                    AuditRecord(
                        self.store.clock.now(),
                        actor,
                        "cards",
                        source_name,
                        "import",
                        None,
                        {"rows": count},
                    )
                ],
            )
        return count

    def card(self, msisdn: str) -> Card | None:
        """The card, or None when it is not one of the carrier's."""
        with self.engine.connect() as conn:
            r = conn.execute(select(CardRow).where(CardRow.msisdn == msisdn)).first()
        return Card(r.msisdn, r.id_hash, _opt(r.activated_at)) if r is not None else None

    def cards_under(self, id_hash: str) -> list[Card]:
        """Every card on the ID, by msisdn."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(CardRow).where(CardRow.id_hash == id_hash).order_by(CardRow.msisdn)
            ).all()
        return [Card(r.msisdn, r.id_hash, _opt(r.activated_at)) for r in rows]

    def known_cards(self, msisdns: Iterable[str]) -> dict[str, Card]:
        """The carrier's cards among ``msisdns``."""
        wanted = sorted(set(msisdns))
        found: dict[str, Card] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), _CHUNK):
                for r in conn.execute(
                    select(CardRow).where(CardRow.msisdn.in_(wanted[i : i + _CHUNK]))
                ).all():
                    found[r.msisdn] = Card(r.msisdn, r.id_hash, _opt(r.activated_at))
        return found

    # -- credit list ---------------------------------------------------------------------------

    def listings_for(self, id_hash: str) -> list[CreditListing]:
        """The ID's listings, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(CreditListingRow)
                .where(CreditListingRow.id_hash == id_hash)
                .order_by(CreditListingRow.starts_at)
            ).all()
        return [_listing(r) for r in rows]

    def save_listing(self, listing: CreditListing, *, actor: str) -> None:
        """Create or update a listing, audited in the same transaction."""
        values = {
            "id": listing.id,
            "id_hash": listing.id_hash,
            "basis": listing.basis,
            "starts_at": listing.starts_at,
            "ends_at": listing.ends_at,
            "term_years": listing.term_years,
            "state": str(listing.state),
            "lifted_at": listing.lifted_at,
            "lift_reason": listing.lift_reason,
        }
        stmt = self._upsert(CreditListingRow, ["id"], [k for k in values if k not in ("id",)])
        with self.engine.begin() as conn:
            before = conn.execute(
                select(CreditListingRow.state).where(CreditListingRow.id == listing.id)
            ).scalar()
            conn.execute(stmt, values)
            append_audit(
                conn,
                [
                    AuditRecord(
                        self.store.clock.now(),
                        actor,
                        "credit_listing",
                        listing.id,
                        "update" if before else "create",
                        {"state": before} if before else None,
                        {
                            k: (v.isoformat() if isinstance(v, dt.datetime) else v)
                            for k, v in values.items()
                        },
                    )
                ],
            )

    def list_listings(self, *, limit: int = 50) -> list[CreditListing]:
        """Newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(CreditListingRow).order_by(CreditListingRow.starts_at.desc()).limit(limit)
            ).all()
        return [_listing(r) for r in rows]

    # -- linked accounts and endpoints ---------------------------------------------------------

    def import_accounts(
        self, accounts: Iterable[LinkedAccount], *, actor: str, source_name: str
    ) -> int:
        """Upsert linked accounts; one transaction and one audit record for the import."""
        stmt = self._upsert(LinkedAccountRow, ["platform", "account"], ["msisdn"])
        count = 0
        with self.engine.begin() as conn:
            chunk: dict[tuple[str, str], dict[str, Any]] = {}
            for a in accounts:
                # Later rows of the same account win, within a chunk as across chunks.
                chunk[(a.platform, a.account)] = {
                    "platform": a.platform,
                    "account": a.account,
                    "msisdn": a.msisdn,
                }
                count += 1
                if len(chunk) >= _CHUNK:
                    conn.execute(stmt, list(chunk.values()))
                    chunk = {}
            if chunk:
                conn.execute(stmt, list(chunk.values()))
            append_audit(
                conn,
                [
                    AuditRecord(
                        self.store.clock.now(),
                        actor,
                        "linked_accounts",
                        source_name,
                        "import",
                        None,
                        {"rows": count},
                    )
                ],
            )
        return count

    def accounts_for(self, msisdn: str) -> list[LinkedAccount]:
        """Accounts registered with the number."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(LinkedAccountRow)
                .where(LinkedAccountRow.msisdn == msisdn)
                .order_by(LinkedAccountRow.platform, LinkedAccountRow.account)
            ).all()
        return [LinkedAccount(r.platform, r.account, r.msisdn) for r in rows]

    def count_accounts(self) -> int:
        """Linked accounts held."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(LinkedAccountRow)).scalar_one()
            )

    def set_endpoint(self, endpoint: Endpoint, *, actor: str) -> None:
        """Create or replace a platform's endpoint (audited without the secret)."""
        stmt = self._upsert(EndpointRow, ["platform"], ["url", "secret"])
        with self.engine.begin() as conn:
            conn.execute(
                stmt,
                {"platform": endpoint.platform, "url": endpoint.url, "secret": endpoint.secret},
            )
            append_audit(
                conn,
                [
                    AuditRecord(
                        self.store.clock.now(),
                        actor,
                        "cascade_endpoint",
                        endpoint.platform,
                        "update",
                        None,
                        {"url": endpoint.url},
                    )
                ],
            )

    def endpoints(self) -> dict[str, Endpoint]:
        """Endpoints by platform."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(EndpointRow)).all()
        return {r.platform: Endpoint(r.platform, r.url, r.secret) for r in rows}

    # -- outbox --------------------------------------------------------------------------------

    def claim(self, *, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[OutboxItem]:
        """Lease up to ``limit`` pending messages due at ``now`` whose lease has run out."""
        query = (
            select(OutboxRow)
            .where(
                OutboxRow.state == str(OutboxState.PENDING),
                OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until <= now),
            )
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            if rows:
                conn.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id.in_([r.id for r in rows]))
                    .values(lease_until=now + lease)
                )
        return [OutboxItem(_message(r), r.attempts) for r in rows]

    def _finish(self, conn: Connection, key: str, **values: Any) -> None:
        conn.execute(
            update(OutboxRow)
            .where(and_(OutboxRow.key == key, OutboxRow.state == str(OutboxState.PENDING)))
            .values(**values)
        )

    def mark_delivered(self, key: str, *, at: dt.datetime, ack: str, attempts: int) -> None:
        """The platform acknowledged the message with the action it took."""
        with self.engine.begin() as conn:
            self._finish(
                conn,
                key,
                state=str(OutboxState.DELIVERED),
                delivered_at=at,
                ack=ack[:64],
                attempts=attempts,
                lease_until=None,
                last_error=None,
            )

    def mark_failed(
        self, key: str, *, at: dt.datetime, error: str, attempts: int, retry_at: dt.datetime
    ) -> None:
        """An attempt failed; try again at ``retry_at``."""
        with self.engine.begin() as conn:
            self._finish(
                conn,
                key,
                attempts=attempts,
                last_error=error[:500],
                next_attempt_at=retry_at,
                lease_until=None,
            )

    def dead_letter(self, key: str, *, at: dt.datetime, error: str, attempts: int) -> None:
        """Give up on the message: it moves to the dead-letter table."""
        with self.engine.begin() as conn:
            row = conn.execute(select(OutboxRow).where(OutboxRow.key == key)).first()
            if row is None or row.state != str(OutboxState.PENDING):
                return
            self._finish(
                conn,
                key,
                state=str(OutboxState.DEAD),
                attempts=attempts,
                last_error=error[:500],
                lease_until=None,
            )
            conn.execute(
                insert(DeadLetterRow),
                {
                    "key": key,
                    "platform": row.platform,
                    "payload": row.payload,
                    "attempts": attempts,
                    "last_error": error[:500],
                    "dead_at": at,
                },
            )

    def requeue_dead(self, *, at: dt.datetime, actor: str) -> int:
        """Put every dead letter back in the outbox (after the platform fixed its endpoint)."""
        with self.engine.begin() as conn:
            keys = list(conn.execute(select(DeadLetterRow.key)).scalars())
            if keys:
                conn.execute(
                    update(OutboxRow)
                    .where(OutboxRow.key.in_(keys), OutboxRow.state == str(OutboxState.DEAD))
                    .values(
                        state=str(OutboxState.PENDING),
                        attempts=0,
                        next_attempt_at=at,
                        lease_until=None,
                    )
                )
                conn.execute(delete(DeadLetterRow).where(DeadLetterRow.key.in_(keys)))
            append_audit(
                conn,
                [
                    AuditRecord(
                        self.store.clock.now(),
                        actor,
                        "cascade",
                        "dead_letters",
                        "requeue",
                        None,
                        {"messages": len(keys)},
                    )
                ],
            )
        return len(keys)

    def outbox_counts(self) -> dict[str, int]:
        """Messages by state."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            ).all()
        return {state: int(n) for state, n in rows}

    def outbox_messages(self) -> list[tuple[str, str, int, str | None]]:
        """``(key, state, attempts, ack)`` of every message, oldest first (for tests and reports)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(OutboxRow.key, OutboxRow.state, OutboxRow.attempts, OutboxRow.ack).order_by(
                    OutboxRow.id
                )
            ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def reconcile(self) -> Reconciliation:
        """Cards disposed, accounts notified, acknowledged, acted on, failed."""
        with self.engine.connect() as conn:
            disposed = conn.execute(
                select(func.count(func.distinct(MeasureRow.msisdn))).where(
                    or_(
                        MeasureRow.kind.in_([str(MeasureKind.RESTRICT), str(MeasureKind.SUSPEND)]),
                        MeasureRow.blocks_while_pending.is_(True),
                    ),
                    MeasureRow.in_force_at.is_not(None),
                )
            ).scalar_one()
            rows = conn.execute(
                select(
                    OutboxRow.platform,
                    OutboxRow.account,
                    OutboxRow.msisdn,
                    OutboxRow.state,
                    OutboxRow.ack,
                )
            ).all()
        return reconciliation_from_counts(
            cards_disposed=int(disposed), rows=[(r[0], r[1], r[2], r[3], r[4]) for r in rows]
        )
