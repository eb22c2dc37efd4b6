"""Tables of the learning loop: subscriber reports and their labels (migration ``0005_reports``).

Kept out of ``models.py`` so the screening tables and the learning tables change apart. A
label row is never updated or deleted: a new label is a new row, so every label keeps its
source, actor and time, and the newest one counts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telewarden.adapters.storage.models import Base, _BigId


class ReportRow(Base):
    """One subscriber report: an SMS body or an MSISDN, who reported it, when, and the claim."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    """``sms`` or ``msisdn``."""
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    msisdn: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    reporter: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    claimed_type: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    """The imported file's name (or another channel)."""
    line: Mapped[int] = mapped_column(Integer)
    """Line of the imported file (0 when not from a file)."""
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReportLabelRow(Base):
    """One label of one report, with where it came from, who gave it and when."""

    __tablename__ = "report_labels"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    label: Mapped[str] = mapped_column(String(8))
    """``scam`` or ``ham``."""
    source: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    labelled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(String(256))
