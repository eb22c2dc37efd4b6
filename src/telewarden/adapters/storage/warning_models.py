"""ORM tables of early warning (migration ``0003_warnings``): warnings and their outcomes.

Kept apart from ``models.py`` so the warning tables can evolve with their use case; they share
its ``Base``. A warning row keeps the queryable fields as columns and the whole
``WarningNotice`` (texts, reasons, channels, exposing record) as one JSON document.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telewarden.adapters.storage.models import Base

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class WarningRow(Base):
    """One warning sent to one subscriber for one campaign."""

    __tablename__ = "warnings"
    __table_args__ = (UniqueConstraint("warning_id", name="uq_warnings_warning_id"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    warning_id: Mapped[str] = mapped_column(String(40))
    msisdn: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(256))
    subject_kind: Mapped[str] = mapped_column(String(16))
    fraud_type: Mapped[str] = mapped_column(String(32))
    campaign_key: Mapped[str] = mapped_column(String(128))
    band: Mapped[str] = mapped_column(String(16))
    risk: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    send_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    """``WarningNotice.as_dict()``."""


class WarningOutcomeRow(Base):
    """What came of a warning (reached, safe, loss reported, unreachable, disputed)."""

    __tablename__ = "warning_outcomes"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    warning_id: Mapped[str] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
