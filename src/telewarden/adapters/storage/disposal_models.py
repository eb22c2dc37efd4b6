"""Tables of disposal: cases, flags, measures, appeals, notices, cards by ID, credit listings,
linked accounts, platform endpoints, the cascade outbox and its dead letters.

Created by migration ``0002_disposal``. Cases are small aggregates (a few flags, measures and
appeals), so ``SqlDisposalStore.commit`` rewrites a case's measures and appeals whole under an
optimistic version check rather than diffing them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from telewarden.adapters.storage.models import Base, _BigId

_Ts = DateTime(timezone=True)


class CaseRow(Base):
    """One case; ``due_at`` is its earliest timer, so the timer job reads one index."""

    __tablename__ = "dispo_cases"
    __table_args__ = (
        Index(
            "uq_dispo_cases_live_msisdn",
            "msisdn",
            unique=True,
            sqlite_where=text("state != 'cleared'"),
            postgresql_where=text("state != 'cleared'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(32), index=True)
    id_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[dt.datetime] = mapped_column(_Ts)
    updated_at: Mapped[dt.datetime] = mapped_column(_Ts)
    due_at: Mapped[dt.datetime | None] = mapped_column(_Ts, nullable=True, index=True)
    state_before_appeal: Mapped[str | None] = mapped_column(String(16), nullable=True)
    version: Mapped[int] = mapped_column(Integer)


class FlagRow(Base):
    """A flag taken into a case; ``key`` makes intake idempotent."""

    __tablename__ = "dispo_flags"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    case_id: Mapped[str] = mapped_column(String(40), index=True)
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(_Ts)
    reason: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)


class MeasureRow(Base):
    """One measure (``telewarden.core.disposal.Measure``)."""

    __tablename__ = "dispo_measures"
    __table_args__ = (Index("ix_dispo_measures_state_msisdn", "state", "msisdn"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(40), index=True)
    msisdn: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(20))
    approval: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(128))
    remedy_channel: Mapped[str] = mapped_column(Text)
    documents: Mapped[list[str]] = mapped_column(JSON)
    proposed_at: Mapped[dt.datetime] = mapped_column(_Ts)
    proposed_by: Mapped[str] = mapped_column(String(64))
    in_force_at: Mapped[dt.datetime | None] = mapped_column(_Ts, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deadline: Mapped[dt.datetime | None] = mapped_column(_Ts, nullable=True)
    escalate_to: Mapped[str | None] = mapped_column(String(16), nullable=True)
    term_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    blocks_while_pending: Mapped[bool] = mapped_column(Boolean)
    ended_at: Mapped[dt.datetime | None] = mapped_column(_Ts, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lift_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    escalated_from: Mapped[str | None] = mapped_column(String(40), nullable=True)


class AppealRow(Base):
    """One appeal."""

    __tablename__ = "dispo_appeals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(40), index=True)
    lodged_at: Mapped[dt.datetime] = mapped_column(_Ts)
    review_due: Mapped[dt.datetime] = mapped_column(_Ts)
    grounds: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[dt.datetime | None] = mapped_column(_Ts, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str] = mapped_column(Text)
    overdue_reported: Mapped[bool] = mapped_column(Boolean)


class NoticeRow(Base):
    """A notice rendered for the subscriber."""

    __tablename__ = "dispo_notices"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(40), index=True)
    measure_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    msisdn: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(4))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(_Ts)


class CardRow(Base):
    """A subscriber card and the keyed hash of its ID document (never the ID number)."""

    __tablename__ = "dispo_cards"

    msisdn: Mapped[str] = mapped_column(String(32), primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    activated_at: Mapped[dt.datetime | None] = mapped_column(_Ts, nullable=True)


class CreditListingRow(Base):
    """A credit listing of an ID document."""

    __tablename__ = "credit_listings"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    basis: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[dt.datetime] = mapped_column(_Ts)
    ends_at: Mapped[dt.datetime] = mapped_column(_Ts)
    term_years: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))
    lifted_at: Mapped[dt.datetime | None] = mapped_column(_Ts, nullable=True)
    lift_reason: Mapped[str] = mapped_column(Text)


class LinkedAccountRow(Base):
    """An internet account registered with a number, as its platform reported it."""

    __tablename__ = "linked_accounts"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    account: Mapped[str] = mapped_column(String(128), primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(32), index=True)


class EndpointRow(Base):
    """A platform's webhook URL and signing secret."""

    __tablename__ = "cascade_endpoints"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)


class OutboxRow(Base):
    """One cascade message; written in the transaction of the measure that caused it."""

    __tablename__ = "cascade_outbox"
    __table_args__ = (Index("ix_cascade_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(128))
    msisdn: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str] = mapped_column(String(40))
    measure_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(_Ts)
    lease_until: Mapped[dt.datetime | None] = mapped_column(_Ts, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(_Ts)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(_Ts, nullable=True)
    ack: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class DeadLetterRow(Base):
    """A message the worker gave up on, for an operator to inspect and replay."""

    __tablename__ = "cascade_dead_letters"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text)
    dead_at: Mapped[dt.datetime] = mapped_column(_Ts)
