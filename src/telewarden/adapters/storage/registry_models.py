"""Tables of the model registry (migration ``0006_model_registry``).

Versions, the serving history (a promotion or rollback is a new row, never an update, so the
serving version is the newest row's), shadow runs and daily score summaries. Structured fields
(training data, metrics, verdict counts, histograms, disagreements) are JSON text, the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telewarden.adapters.storage.models import Base, _BigId


class ModelVersionRow(Base):
    """One registered model file of a kind."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_model_versions_kind_version"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[str] = mapped_column(Text)
    """JSON list of ``{"name", "rows", "ids"}``."""
    metrics: Mapped[str] = mapped_column(Text)
    """JSON object name -> number."""
    card: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(256))


class ModelServingRow(Base):
    """One promotion or rollback; the newest row of a kind names its serving version."""

    __tablename__ = "model_serving"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    action: Mapped[str] = mapped_column(String(16))
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """None: the shipped model."""
    previous: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(512))


class ShadowRunRow(Base):
    """A candidate scored beside the serving model on one input."""

    __tablename__ = "model_shadow_runs"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    candidate: Mapped[int] = mapped_column(Integer)
    current: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(256))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rows: Mapped[int] = mapped_column(Integer)
    agree: Mapped[int] = mapped_column(Integer)
    current_verdicts: Mapped[str] = mapped_column(Text)
    candidate_verdicts: Mapped[str] = mapped_column(Text)
    disagreements: Mapped[str] = mapped_column(Text)
    """JSON list of the disagreements kept for review."""


class ScoreSummaryRow(Base):
    """Verdict counts and score histogram of one version's scoring on one day."""

    __tablename__ = "model_score_summaries"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    day: Mapped[str] = mapped_column(String(10))
    """ISO date (UTC)."""
    source: Mapped[str] = mapped_column(String(16))
    verdicts: Mapped[str] = mapped_column(Text)
    histogram: Mapped[str] = mapped_column(Text)
