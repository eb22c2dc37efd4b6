"""``SqlStore``: the ``ScreeningStore`` over SQLAlchemy 2 (a SQLite file by default, or PostgreSQL).

Bulk list imports stage chunks of about 50,000 rows in a temporary table (SQLite: DBAPI
``executemany``; PostgreSQL: ``COPY``) and then upsert them with one ``INSERT ... SELECT ...
ON CONFLICT`` in pattern order, all inside ONE transaction: a transaction per row would cost a
journal sync each, key-ordered inserts keep the unique index's pages hot, and one transaction
makes an import all-or-nothing. Single-row changes use the ORM-mapped Core statements.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url

from telewarden.adapters.clock import SystemClock
from telewarden.adapters.storage.migrate import upgrade
from telewarden.adapters.storage.models import (
    AuditRow,
    BatchRunRow,
    DecisionRow,
    ListEntryRow,
    OptInRow,
    PolicyVersionRow,
)
from telewarden.adapters.storage.protocol import (
    AuditRecord,
    BatchSummary,
    DecisionRecord,
    ImportReport,
    Progress,
    candidate_patterns,
    entry_to_dict,
    ephemeral_keyring,
    private_decision,
    private_optin,
)
from telewarden.core.disposal.audit_chain import GENESIS, ChainEntry, entry_hash
from telewarden.core.errors import ConfigurationError
from telewarden.core.ports import Clock
from telewarden.core.privacy import KeyRing, number_keys
from telewarden.core.screening import (
    Decision,
    ListEntry,
    ListKind,
    MatchKind,
    NumberList,
    OptIn,
    OptInScope,
    PolicySettings,
    ScreeningEvent,
)

_MATCH = {m.value: m for m in MatchKind}
_GROUP_SEPARATOR = "\x1f"
"""ASCII unit separator: never part of a pattern, which is ``+`` and digits."""
_ENTRY_PARAMS: dict[str, Any] = {
    name: bindparam(name) for name in ("kind", "pattern", "match", "source", "reason", "added_at")
}
_SCOPE = {s.value: s for s in OptInScope}


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes even for ``timezone=True`` columns; we only store UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets a screen read while an import writes; NORMAL sync is durable at checkpoints only,
    # which is the usual trade for an embedded store.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MiB of page cache (negative = KiB): the (kind, pattern) index of a million-entry list
    # no longer fits the 2 MiB default, and every insert into it would read pages from disk.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600): it holds subscriber data.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def create_store_engine(url: str) -> Engine:
    """An engine for ``url``; creates the folder of a SQLite file when missing."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError, but be tolerant of drivers
        raise ConfigurationError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private(Path(parsed.database).expanduser())
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def append_audit(conn: Connection, records: list[AuditRecord]) -> None:
    """Append ``records`` to the audit chain inside the caller's transaction.

    Ids are assigned here (last id + 1) because each row's hash covers its id. Two writers racing
    for the same id collide on the primary key and one transaction fails: the chain never forks.
    On PostgreSQL a transaction-scoped advisory lock makes writers wait for each other instead.
    """
    if not records:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK})
    last = conn.execute(
        select(AuditRow.id, AuditRow.row_hash).order_by(AuditRow.id.desc()).limit(1)
    ).first()
    next_id = (last.id + 1) if last is not None else 1
    prev = (last.row_hash or GENESIS) if last is not None else GENESIS
    rows = []
    for r in records:
        # The hash covers the values as stored (the columns hold 64 and 128 characters).
        actor, entity_key = r.actor[:64], r.entity_key[:128]
        digest = entry_hash(
            prev, next_id, r.at, actor, r.entity, entity_key, r.action, r.before, r.after
        )
        rows.append(
            {
                "id": next_id,
                "at": r.at,
                "actor": actor,
                "entity": r.entity,
                "entity_key": entity_key,
                "action": r.action,
                "before": r.before,
                "after": r.after,
                "prev_hash": prev,
                "row_hash": digest,
            }
        )
        prev = digest
        next_id += 1
    conn.execute(insert(AuditRow), rows)


def iter_audit_chain(engine: Engine) -> Iterator[ChainEntry]:
    """Stream the audit log in id order as chain entries."""
    query = select(
        AuditRow.id,
        AuditRow.at,
        AuditRow.actor,
        AuditRow.entity,
        AuditRow.entity_key,
        AuditRow.action,
        AuditRow.before,
        AuditRow.after,
        AuditRow.prev_hash,
        AuditRow.row_hash,
    ).order_by(AuditRow.id)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=10_000).execute(query)
        try:
            for row in result:
                yield ChainEntry(*row)
        finally:
            # A reader that stops early (the first bad row) must close the server-side cursor
            # before the connection goes back to the pool.
            result.close()


_AUDIT_LOCK = 0x7E1E_A0D1
"""Advisory-lock key serialising audit appends on PostgreSQL."""


class SqlStore:
    """The screening store over a SQLAlchemy engine.

    Parameters
    ----------
    engine : Engine
        SQLite or PostgreSQL; the schema must be current (``open`` migrates it).
    clock : Clock, optional
        Source of ``at`` timestamps for audit and log rows.
    keyring : KeyRing, optional
        Keys of the hashes under which subscriber numbers are logged (decision log, opt-in
        audit records); entry points pass the configured ring, the default is a random ring
        for this process only (``docs/privacy.md``).
    """

    def __init__(
        self, engine: Engine, *, clock: Clock | None = None, keyring: KeyRing | None = None
    ) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.keyring: KeyRing = keyring or ephemeral_keyring()

    @classmethod
    def open(
        cls, url: str, *, clock: Clock | None = None, keyring: KeyRing | None = None
    ) -> SqlStore:
        """Connect to ``url`` and migrate the schema to the newest revision."""
        engine = create_store_engine(url)
        try:
            upgrade(engine)
        except Exception as exc:
            engine.dispose()
            raise ConfigurationError(f"cannot open the store at {_safe(url)}: {exc}") from exc
        return cls(engine, clock=clock, keyring=keyring)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    # -- audit ---------------------------------------------------------------------------------

    def _audit(
        self,
        conn: Connection,
        *,
        actor: str,
        entity: str,
        key: str,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        append_audit(
            conn, [AuditRecord(self.clock.now(), actor, entity, key, action, before, after)]
        )

    def iter_audit_chain(self) -> Iterator[ChainEntry]:
        """Every audit entry with its link and hash, in id order (streamed)."""
        return iter_audit_chain(self.engine)

    def audit_log(self, *, entity: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The newest audit records first."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if entity is not None:
            query = query.where(AuditRow.entity == entity)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            AuditRecord(
                at=_utc(r.at),
                actor=r.actor,
                entity=r.entity,
                entity_key=r.entity_key,
                action=r.action,
                before=r.before,
                after=r.after,
            )
            for r in rows
        ]

    def optin_history(self, msisdn: str, *, limit: int = 100) -> list[AuditRecord]:
        """The audit records of the subscriber's opt-ins, newest first.

        The records hold the number hashed; it is hashed here under every key of the ring (and
        looked up in clear for records written before numbers were hashed).
        """
        keys = [
            f"{h}:{scope}"
            for h in [*number_keys(self.keyring, msisdn), msisdn.strip()]
            for scope in OptInScope
        ]
        query = (
            select(AuditRow)
            .where(AuditRow.entity == "optin", AuditRow.entity_key.in_(keys))
            .order_by(AuditRow.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            AuditRecord(_utc(r.at), r.actor, r.entity, r.entity_key, r.action, r.before, r.after)
            for r in rows
        ]

    # -- policy --------------------------------------------------------------------------------
    # (``_stored_policy`` below turns a damaged stored document into one ConfigurationError.)

    def _latest_policy(self, conn: Connection) -> tuple[int, PolicySettings]:
        row = conn.execute(
            select(PolicyVersionRow.version, PolicyVersionRow.document)
            .order_by(PolicyVersionRow.version.desc())
            .limit(1)
        ).first()
        if row is None:
            return 0, PolicySettings()
        return row.version, _stored_policy(row.version, row.document)

    def get_policy(self) -> PolicySettings:
        """The policy in force (defaults when none was ever set)."""
        with self.engine.connect() as conn:
            return self._latest_policy(conn)[1]

    def policy_version(self) -> int:
        """Version of the policy in force; 0 means the built-in defaults."""
        with self.engine.connect() as conn:
            return self._latest_policy(conn)[0]

    def set_policy(self, policy: PolicySettings, *, actor: str) -> int:
        """Store a new policy version and return its number."""
        with self.engine.begin() as conn:
            version, before = self._latest_policy(conn)
            after = policy.model_dump(mode="json")
            conn.execute(
                insert(PolicyVersionRow),
                {
                    "version": version + 1,
                    "document": after,
                    "created_at": self.clock.now(),
                    "actor": actor,
                },
            )
            self._audit(
                conn,
                actor=actor,
                entity="policy",
                key=f"v{version + 1}",
                action="update" if version else "create",
                before=before.model_dump(mode="json"),
                after=after,
            )
        return version + 1

    # -- opt-ins -------------------------------------------------------------------------------

    @staticmethod
    def _optin(row: Any) -> OptIn:
        return OptIn(
            msisdn=row.msisdn,
            scope=_SCOPE[row.scope],
            opted_in=bool(row.opted_in),
            at=_utc(row.at),
            source=row.source,
        )

    def set_optin(self, optin: OptIn, *, actor: str) -> OptIn | None:
        """Create or replace the opt-in for ``(msisdn, scope)``; return the previous one."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(OptInRow).where(
                    OptInRow.msisdn == optin.msisdn, OptInRow.scope == str(optin.scope)
                )
            ).first()
            previous = self._optin(row) if row is not None else None
            values = {
                "opted_in": optin.opted_in,
                "at": optin.at,
                "source": optin.source,
            }
            if row is None:
                conn.execute(
                    insert(OptInRow),
                    {"msisdn": optin.msisdn, "scope": str(optin.scope), **values},
                )
            else:
                conn.execute(update(OptInRow).where(OptInRow.id == row.id).values(**values))
            hashed, after = private_optin(self.keyring, optin)
            self._audit(
                conn,
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
        query = select(OptInRow).where(OptInRow.msisdn == msisdn)
        if scope is not None:
            query = query.where(OptInRow.scope == str(scope))
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            for row in rows:
                conn.execute(delete(OptInRow).where(OptInRow.id == row.id))
                hashed, before = private_optin(self.keyring, self._optin(row))
                self._audit(
                    conn,
                    actor=actor,
                    entity="optin",
                    key=f"{hashed}:{row.scope}",
                    action="delete",
                    before=before,
                    after=None,
                )
        return len(rows)

    def optins_for(self, msisdn: str) -> list[OptIn]:
        """The subscriber's opt-ins, ordered by scope."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(OptInRow).where(OptInRow.msisdn == msisdn).order_by(OptInRow.scope)
            ).all()
        return [self._optin(r) for r in rows]

    def iter_optins(self) -> Iterator[OptIn]:
        """Every opt-in."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(OptInRow)).all()
        return iter([self._optin(r) for r in rows])

    # -- lists ---------------------------------------------------------------------------------

    @staticmethod
    def _entry(row: Any) -> ListEntry:
        return ListEntry(
            pattern=row.pattern, match=_MATCH[row.match], source=row.source, reason=row.reason
        )

    def _get_entry(self, conn: Connection, kind: ListKind, pattern: str) -> ListEntry | None:
        row = conn.execute(
            select(ListEntryRow).where(
                ListEntryRow.kind == str(kind), ListEntryRow.pattern == pattern
            )
        ).first()
        return self._entry(row) if row is not None else None

    def _upsert(self) -> Any:
        """An INSERT that replaces the entry of the same ``(kind, pattern)``."""
        stmt: Any
        if self.dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            stmt = sqlite.insert(ListEntryRow).values(_ENTRY_PARAMS)
        elif self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            stmt = postgresql.insert(ListEntryRow).values(_ENTRY_PARAMS)
        else:  # pragma: no cover - only the two supported databases are configured
            raise ConfigurationError(f"unsupported database {self.dialect!r}")
        return stmt.on_conflict_do_update(
            index_elements=["kind", "pattern"],
            set_={
                "match": stmt.excluded.match,
                "source": stmt.excluded.source,
                "reason": stmt.excluded.reason,
                "added_at": stmt.excluded.added_at,
            },
        )

    def add_entry(self, kind: ListKind, entry: ListEntry, *, actor: str) -> ListEntry | None:
        """Create or replace one list entry; return the previous one."""
        with self.engine.begin() as conn:
            previous = self._get_entry(conn, kind, entry.pattern)
            conn.execute(
                self._upsert(),
                {
                    "kind": str(kind),
                    "pattern": entry.pattern,
                    "match": str(entry.match),
                    "source": entry.source,
                    "reason": entry.reason,
                    "added_at": self.clock.now(),
                },
            )
            self._audit(
                conn,
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
        with self.engine.begin() as conn:
            previous = self._get_entry(conn, kind, pattern)
            if previous is None:
                return None
            conn.execute(
                delete(ListEntryRow).where(
                    ListEntryRow.kind == str(kind), ListEntryRow.pattern == pattern
                )
            )
            self._audit(
                conn,
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
        with self.engine.connect() as conn:
            return self._count(conn, kind)

    @staticmethod
    def _count(conn: Connection, kind: ListKind) -> int:
        return int(
            conn.execute(
                select(func.count()).select_from(ListEntryRow).where(ListEntryRow.kind == str(kind))
            ).scalar_one()
        )

    def list_entries(
        self, kind: ListKind, *, starting_with: str = "", limit: int = 50
    ) -> list[ListEntry]:
        """Up to ``limit`` entries whose pattern starts with ``starting_with``, in pattern order."""
        query = (
            select(ListEntryRow)
            .where(ListEntryRow.kind == str(kind))
            .order_by(ListEntryRow.pattern)
            .limit(limit)
        )
        if starting_with:
            # A range instead of LIKE so the (kind, pattern) index serves it on both databases.
            query = query.where(
                ListEntryRow.pattern >= starting_with,
                ListEntryRow.pattern < starting_with + "\U0010ffff",
            )
        with self.engine.connect() as conn:
            return [self._entry(r) for r in conn.execute(query).all()]

    def iter_entries(self, kind: ListKind) -> Iterator[ListEntry]:
        """Every entry of the list, streamed in batches (for loading a ``NumberList``)."""
        query = select(
            ListEntryRow.pattern, ListEntryRow.match, ListEntryRow.source, ListEntryRow.reason
        ).where(ListEntryRow.kind == str(kind))
        # Sources and reasons repeat across millions of rows: share one string object each.
        shared: dict[str, str] = {}
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=50_000).execute(query)
            for partition in result.partitions():
                for pattern, match, source, reason in partition:
                    yield ListEntry(
                        pattern,
                        _MATCH[match],
                        shared.setdefault(source, source),
                        shared.setdefault(reason, reason),
                    )

    def load_list(self, kind: ListKind, target: NumberList) -> int:
        """Add every entry of the list to ``target``; return how many.

        The database concatenates the patterns of each ``(match, source, reason)`` group into
        one string, so a million-entry list arrives as a handful of rows and Python never
        touches a row at a time: exact groups go to ``NumberList.add_exact_many`` whole.
        """
        if self.dialect == "sqlite":
            # ``+kind`` makes SQLite scan the table in rowid order rather than walk the
            # (kind, pattern) index and fetch every row through it, about 2x slower.
            sql = (
                "select match, source, reason, group_concat(pattern, char(31)) "
                "from list_entries where +kind = ? group by match, source, reason"
            )
        else:
            sql = (
                "select match, source, reason, string_agg(pattern, chr(31)) "
                "from list_entries where kind = %s group by match, source, reason"
            )
        with self.engine.connect() as conn:
            raw = cast(Any, conn.connection.driver_connection)
            cursor = raw.cursor()
            try:
                cursor.execute(sql, (kind.value,))
                groups = cursor.fetchall()
            finally:
                cursor.close()
        count = 0
        for match, source, reason, joined in groups:
            patterns = joined.split(_GROUP_SEPARATOR)
            count += len(patterns)
            if match == MatchKind.EXACT.value:
                target.add_exact_many(patterns, source, reason)
            else:
                for pattern in patterns:
                    target.add(ListEntry(pattern, _MATCH[match], source, reason))
        return count

    def entries_matching(self, kind: ListKind, numbers: Iterable[str]) -> list[ListEntry]:
        """Entries whose pattern is one of ``numbers`` (E.164) or a prefix of one."""
        candidates = sorted(candidate_patterns(numbers))
        if not candidates:
            return []
        query = select(ListEntryRow).where(
            ListEntryRow.kind == str(kind), ListEntryRow.pattern.in_(candidates)
        )
        with self.engine.connect() as conn:
            return [self._entry(r) for r in conn.execute(query).all()]

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
        """Upsert entries chunk by chunk in one transaction, with one audit record for it all.

        ``report`` lets a file reader count ``rows_read`` and ``quarantined`` on the same object
        while it yields the chunks; this method fills in the remaining counts.
        """
        report = report if report is not None else ImportReport(kind=kind)
        started = self.clock.now()
        seen: set[str] = set()
        with self.engine.begin() as conn:
            self._lock_list_entries(conn)
            before = self._count(conn, kind)
            writer: _Writer
            if self.dialect == "postgresql":
                writer = _PostgresCopyWriter(conn, kind, started)
            elif self.dialect == "sqlite":
                writer = _SqliteStagingWriter(conn, kind, started)
            else:  # pragma: no cover - only the two supported databases are configured
                raise ConfigurationError(f"bulk import is not supported on {self.dialect!r}")
            for chunk in chunks:
                rows: dict[str, ListEntry] = {}
                for entry in chunk:
                    if entry.pattern in seen:
                        report.duplicates += 1
                    seen.add(entry.pattern)
                    # Later rows win, as with ``lists add`` of the same pattern twice.
                    rows[entry.pattern] = entry
                report.accepted += len(chunk)
                writer.write(list(rows.values()))
                if progress is not None:
                    progress(len(chunk))
            writer.finish()
            report.settle(
                count_before=before,
                count_after=self._count(conn, kind),
                duration_s=(self.clock.now() - started).total_seconds(),
            )
            self._audit(
                conn,
                actor=actor,
                entity="list",
                key=f"{kind}:{source_name}",
                action="import",
                before={"count": before},
                after=report.as_dict(),
            )
        return report

    def _lock_list_entries(self, conn: Connection) -> None:
        """Serialise imports (and single edits) against this one on PostgreSQL.

        Under READ COMMITTED the before and after counts of an import would include rows other
        transactions committed meanwhile (an audit record said ``"updated": -300000``). SHARE
        ROW EXCLUSIVE conflicts with itself and with the row locks of inserts and deletes, so
        the counts are this import's own. SQLite already has one writer at a time.
        """
        if self.dialect == "postgresql":
            conn.exec_driver_sql("LOCK TABLE list_entries IN SHARE ROW EXCLUSIVE MODE")

    # -- logs ----------------------------------------------------------------------------------

    def log_decision(
        self, event: ScreeningEvent, decision: Decision, *, actor: str, at: dt.datetime
    ) -> None:
        """Append one single-screen decision to the decision log, the numbers as keyed hashes."""
        private = private_decision(self.keyring, event, decision, decision.to_dict())
        with self.engine.begin() as conn:
            conn.execute(
                insert(DecisionRow),
                {
                    "at": at,
                    "actor": actor,
                    "channel": str(event.channel),
                    "ingress": str(event.ingress),
                    "caller": private.caller,
                    "callee": private.callee,
                    "verdict": str(decision.verdict),
                    "reason": str(decision.reason),
                    "rule": decision.rule[:64],
                    "sip_status": decision.sip_status,
                    "origin": decision.origin[:64],
                    "decision": {"event": private.event, **private.document},
                },
            )

    def rehash_clear_numbers(self, *, actor: str, batch_size: int = 1000) -> list[Any]:
        """Rewrite decision-log and audit rows logged in clear (``storage.rehash``): their counts."""
        from telewarden.adapters.storage.rehash import rehash_audit_log, rehash_decision_log

        decisions = rehash_decision_log(self.engine, self.keyring, batch_size=batch_size)
        audit = rehash_audit_log(self.engine, self.keyring, clock=self.clock, actor=actor)
        return [decisions, audit]

    def purge_decisions(self, before: dt.datetime, *, actor: str) -> int:
        """Delete decision-log rows older than ``before``; one audit record says how many."""
        with self.engine.begin() as conn:
            deleted = conn.execute(delete(DecisionRow).where(DecisionRow.at < before)).rowcount
            self._audit(
                conn,
                actor=actor,
                entity="decision_log",
                key="retention",
                action="purge",
                before=None,
                after={"deleted": int(deleted), "older_than": before.isoformat()},
            )
        return int(deleted)

    def recent_decisions(self, *, limit: int = 20) -> list[DecisionRecord]:
        """The newest logged decisions first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(DecisionRow).order_by(DecisionRow.id.desc()).limit(limit)
            ).all()
        records = []
        for r in rows:
            document = dict(r.decision)
            event_doc = document.pop("event", {})
            records.append(
                DecisionRecord(at=_utc(r.at), actor=r.actor, event=event_doc, decision=document)
            )
        return records

    def log_batch(self, summary: BatchSummary, *, actor: str) -> None:
        """Record the summary of one screened file."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(BatchRunRow),
                {
                    "started_at": summary.started_at,
                    "finished_at": summary.finished_at,
                    "actor": actor,
                    "source": summary.source,
                    "output": summary.output,
                    "rows_read": summary.rows_read,
                    "screened": summary.screened,
                    "quarantined": summary.quarantined,
                    "duration_s": summary.duration_s,
                    "counts": {"by_verdict": summary.by_verdict, "by_reason": summary.by_reason},
                },
            )

    def recent_batches(self, *, limit: int = 20) -> list[BatchSummary]:
        """The newest batch summaries first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(BatchRunRow).order_by(BatchRunRow.id.desc()).limit(limit)
            ).all()
        return [
            BatchSummary(
                started_at=_utc(r.started_at),
                finished_at=_utc(r.finished_at),
                source=r.source,
                output=r.output,
                rows_read=r.rows_read,
                screened=r.screened,
                quarantined=r.quarantined,
                duration_s=r.duration_s,
                by_verdict=dict(r.counts.get("by_verdict", {})),
                by_reason=dict(r.counts.get("by_reason", {})),
            )
            for r in rows
        ]


class _Writer(Protocol):
    def write(self, entries: list[ListEntry]) -> None: ...

    def finish(self) -> None: ...


class _SqliteStagingWriter:
    """Stages chunks in an unindexed temporary table, then upserts them in pattern order.

    Inserting a million random patterns straight into the (kind, pattern) index touches a
    random B-tree page per row; one ``INSERT ... SELECT ... ORDER BY pattern`` fills the index
    in key order instead. ``seq`` keeps the file order so the last row of a pattern wins.
    """

    def __init__(self, conn: Connection, kind: ListKind, added_at: dt.datetime) -> None:
        self.raw = cast(Any, conn.connection.driver_connection)
        self.kind = kind.value
        column_type = ListEntryRow.__table__.c.added_at.type.dialect_impl(conn.dialect)
        processor = column_type.bind_processor(conn.dialect)
        self.added_at = processor(added_at) if processor else added_at
        self.raw.execute("drop table if exists temp.tw_list_import")
        self.raw.execute(
            "create temp table tw_list_import "
            "(seq integer primary key, pattern text, match text, source text, reason text)"
        )

    def write(self, entries: list[ListEntry]) -> None:
        if entries:
            self.raw.executemany(
                "insert into temp.tw_list_import (pattern, match, source, reason) "
                "values (?, ?, ?, ?)",
                [(e.pattern, e.match.value, e.source, e.reason) for e in entries],
            )

    def finish(self) -> None:
        # ``where true`` tells SQLite's parser that ON CONFLICT belongs to the INSERT.
        self.raw.execute(
            "insert into list_entries (kind, pattern, match, source, reason, added_at) "
            "select ?, pattern, match, source, reason, ? from temp.tw_list_import where true "
            "order by pattern, seq "
            "on conflict (kind, pattern) do update set match = excluded.match, "
            "source = excluded.source, reason = excluded.reason, added_at = excluded.added_at",
            (self.kind, self.added_at),
        )
        self.raw.execute("drop table temp.tw_list_import")


class _PostgresCopyWriter:
    """Streams chunks into a temporary table with ``COPY``, then upserts them in one statement.

    ``COPY`` moves rows an order of magnitude faster than INSERT batches; the final
    ``INSERT ... SELECT DISTINCT ON ... ON CONFLICT`` keeps the last row of each pattern.
    """

    def __init__(self, conn: Connection, kind: ListKind, added_at: dt.datetime) -> None:
        self.raw = cast(Any, conn.connection.driver_connection)
        self.kind = kind.value
        self.added_at = added_at
        self.seq = 0
        with self.raw.cursor() as cur:
            cur.execute(
                "create temporary table tw_list_import (seq bigint, pattern text, match text, "
                "source text, reason text) on commit drop"
            )

    def write(self, entries: list[ListEntry]) -> None:
        if not entries:
            return
        with (
            self.raw.cursor() as cur,
            cur.copy(
                "copy tw_list_import (seq, pattern, match, source, reason) from stdin"
            ) as copy,
        ):
            seq = self.seq
            for e in entries:
                seq += 1
                copy.write_row((seq, e.pattern, e.match.value, e.source, e.reason))
            self.seq = seq

    def finish(self) -> None:
        with self.raw.cursor() as cur:
            cur.execute(
                "insert into list_entries (kind, pattern, match, source, reason, added_at) "
                "select distinct on (pattern) %s, pattern, match, source, reason, %s "
                "from tw_list_import order by pattern, seq desc "
                "on conflict (kind, pattern) do update set match = excluded.match, "
                "source = excluded.source, reason = excluded.reason, "
                "added_at = excluded.added_at",
                (self.kind, self.added_at),
            )
            cur.execute("drop table tw_list_import")


def _safe(url: str) -> str:
    """The URL without its password, for error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _stored_policy(version: int, document: Any) -> PolicySettings:
    """The stored policy document as settings; a damaged one is a ConfigurationError (exit 3)."""
    try:
        return PolicySettings.from_stored(document)
    except Exception as exc:  # pydantic's ValidationError, or a document that is not an object
        raise ConfigurationError(
            f"stored policy version {version} is damaged and cannot be used "
            f"({(str(exc).splitlines() or [type(exc).__name__])[0]}); "
            "restore it from the audit log (`telewarden policy history`) or the database backup"
        ) from exc
