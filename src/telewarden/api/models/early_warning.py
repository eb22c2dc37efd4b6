"""Models of early warning: warnings sent and their statistics."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class WarningOut(BaseModel):
    """A warning sent to a subscriber exposed to a flagged number, sender or link."""

    warning_id: str
    msisdn: str
    subject: str
    subject_kind: str
    fraud_type: str
    flag_source: str
    risk: float
    band: str
    reasons: list[str]
    created_at: dt.datetime
    send_at: dt.datetime
    channels: list[str]
    text_zh: str
    text_en: str


class WarningPage(BaseModel):
    """The newest warnings first."""

    items: list[WarningOut]
    total: int


class WarningStatsOut(BaseModel):
    """Warnings sent, counted."""

    total: int
    by_band: dict[str, int]
    by_fraud_type: dict[str, int]
    by_channel: dict[str, int]
    by_day: dict[str, int]
