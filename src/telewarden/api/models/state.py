"""Models of the operator state: opt-ins, lists, policy, audit, decisions and statistics."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool

from telewarden.api.models.common import Number, Page, StrictModel


class OptInRequest(StrictModel):
    """A subscriber's opt-in (or, with ``opted_in=false``, explicit opt-out)."""

    msisdn: str = Number
    scope: Literal["calls", "sms", "both"] = "both"
    opted_in: StrictBool = True
    source: str = Field("api", min_length=1, max_length=64)


class OptInOut(BaseModel):
    """An opt-in record."""

    msisdn: str
    scope: str
    opted_in: bool
    at: dt.datetime
    source: str


class OptInChangeOut(BaseModel):
    """The record stored and whether it replaced one."""

    optin: OptInOut
    replaced: bool


class OptInsOut(BaseModel):
    """A subscriber's opt-in records."""

    msisdn: str
    optins: list[OptInOut]


class ListEntryIn(StrictModel):
    """One deny- or allow-list entry."""

    pattern: str = Field(min_length=1, max_length=32, description="A number, or +digits prefix")
    match: Literal["exact", "prefix"] | None = None
    reason: str = Field("", max_length=256)
    source: str = Field("api", min_length=1, max_length=128)


class ListEntryOut(BaseModel):
    """A stored entry."""

    pattern: str
    match: str
    source: str
    reason: str


class ListEntryChange(BaseModel):
    """The entry as stored and whether it replaced one."""

    entry: ListEntryOut
    replaced: bool


class ListPage(Page):
    """Entries in pattern order."""

    items: list[ListEntryOut]


class PolicyOut(BaseModel):
    """The policy in force."""

    version: int = Field(description="0 means the built-in defaults")
    policy: dict[str, Any]


class PolicySetting(StrictModel):
    """One dotted setting, e.g. ``region_overrides.广东.cross_border_block_calls`` = ``false``."""

    key: str = Field(min_length=1, max_length=200)
    value: Any = Field(description="Any JSON value")
    legal_basis: str | None = Field(
        None,
        max_length=500,
        description="Required to open content_inspection (true): the lawful basis and legal "
        "review reference, stored and audited; 422 without it",
    )


class PolicyChangeOut(BaseModel):
    """The outcome of a policy change."""

    key: str
    value: Any
    version: int
    changed: bool
    translated_from: str | None


class AuditOut(BaseModel):
    """One audit record."""

    at: dt.datetime
    actor: str
    entity: str
    entity_key: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(Page):
    """Audit records, newest first."""

    items: list[AuditOut]


class DecisionOut(BaseModel):
    """A logged single screen."""

    at: dt.datetime
    actor: str
    event: dict[str, Any]
    decision: dict[str, Any]


class DecisionPage(Page):
    """Logged single screens, newest first."""

    items: list[DecisionOut]


class DecisionCountOut(BaseModel):
    """Single screens of one day, channel, verdict and reason."""

    day: dt.date
    channel: str
    verdict: str
    reason: str
    count: int


class BatchDayOut(BaseModel):
    """Batches started on one day."""

    day: dt.date
    runs: int
    screened: int
    blocked: int
    by_reason: dict[str, int]


class StatisticsOut(BaseModel):
    """Counts since ``since``."""

    since: dt.datetime
    totals: dict[str, int]
    decisions: list[DecisionCountOut]
    batches: list[BatchDayOut]


class NumberProfileOut(BaseModel):
    """What the store knows about one number."""

    raw: str
    e164: str | None
    analysis: dict[str, Any]
    deny: list[dict[str, str]]
    allow: list[dict[str, str]]
    optins: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
