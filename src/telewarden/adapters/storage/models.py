"""SQLAlchemy 2 typed ORM tables of the embedded store (SQLite by default, PostgreSQL by URL).

Only table definitions belong here; queries live in ``telewarden.adapters.storage.sql`` and the
schema history in ``migrations/versions``. Enum-like columns hold the core's ``StrEnum`` values as
plain short strings so that the schema does not change when a member is added.

Why the decision log keeps single screens but only a summary per file batch: one batch of
traffic can be tens of millions of events; writing a row per event would make the log larger
than the lists it is meant to explain and would make a file screen I/O bound. The full verdicts
of a batch go to the verdict file the operator asked for; the store keeps a ``batch_runs`` row
with the counts by verdict and reason so the run can be audited and reconciled later.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an ``INTEGER PRIMARY KEY``; PostgreSQL gets a 64-bit key.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of every telewarden table."""


class OptInRow(Base):
    """A subscriber's cross-border opt-in (or explicit opt-out) for one scope."""

    __tablename__ = "optins"
    __table_args__ = (UniqueConstraint("msisdn", "scope", name="uq_optins_msisdn_scope"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    msisdn: Mapped[str] = mapped_column(String(32), index=True)
    """E.164 form of the subscriber number."""
    scope: Mapped[str] = mapped_column(String(8))
    """``calls``, ``sms`` or ``both``."""
    opted_in: Mapped[bool]
    """False records an explicit opt-out."""
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(64))


class ListEntryRow(Base):
    """One deny- or allow-list entry: an exact E.164 number or a ``+digits`` prefix."""

    __tablename__ = "list_entries"
    # The unique (kind, pattern) index serves upserts, exact and prefix look-ups, and loading
    # one list; a further index would only slow down million-row imports.
    __table_args__ = (UniqueConstraint("kind", "pattern", name="uq_list_entries_kind_pattern"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    """``deny`` or ``allow``."""
    pattern: Mapped[str] = mapped_column(String(32))
    match: Mapped[str] = mapped_column(String(8))
    """``exact`` or ``prefix``."""
    source: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(256))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PolicyVersionRow(Base):
    """One version of the ``PolicySettings`` document; the highest ``version`` is in force."""

    __tablename__ = "policy_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))


class AuditRow(Base):
    """Who changed what, when, with the state before and after (JSON, ``None`` when absent)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_key", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    """``optin``, ``list_entry``, ``list`` (bulk import) or ``policy``."""
    entity_key: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    """``create``, ``update``, ``delete`` or ``import``."""
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """``row_hash`` of the row before (``GENESIS`` for the first): the tamper-evident chain."""
    row_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 of ``prev_hash`` and this row's content (``core.disposal.audit_chain``)."""


class DecisionRow(Base):
    """One single-event screen (CLI or API), with the full decision as JSON."""

    __tablename__ = "decision_log"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    ingress: Mapped[str] = mapped_column(String(16))
    caller: Mapped[str] = mapped_column(String(64))
    callee: Mapped[str] = mapped_column(String(64), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    sip_status: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(64))
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)


class BatchRunRow(Base):
    """Summary of one file batch: counts that reconcile, not one row per event."""

    __tablename__ = "batch_runs"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    output: Mapped[str] = mapped_column(Text)
    rows_read: Mapped[int] = mapped_column(BigInteger)
    screened: Mapped[int] = mapped_column(BigInteger)
    quarantined: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    """``{"by_verdict": {...}, "by_reason": {...}}``."""
