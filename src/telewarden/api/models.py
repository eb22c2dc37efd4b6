"""Request and response models of ``/v1`` (pydantic): the OpenAPI document is built from them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

Number = Field(min_length=1, max_length=64, description="As received: E.164, national or local")

__all__ = [
    "BatchEvent",
    "BatchRequest",
    "BatchResponse",
    "ScreenRequest",
    "ScreenResponse",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScreenRequest(_Strict):
    """One call or SMS to screen before it is answered or delivered."""

    caller: str = Field(
        max_length=64, description="As received; empty when withheld (a verdict, not an error)"
    )
    callee: str = Number
    channel: Literal["call", "sms"] = "call"
    ingress: Literal["domestic", "international", "unknown"] = "unknown"
    at: dt.datetime | None = Field(None, description="Event time (ISO-8601); default now")
    attestation: Literal["A", "B", "C"] | None = Field(None, description="STIR/SHAKEN level")
    text: str | None = Field(
        None, max_length=2000, description="SMS body; inspected only behind the legal gate"
    )
    explain: StrictBool = Field(False, description="Include the rule trace")

    @field_validator("at", mode="before")
    @classmethod
    def _iso_text_only(cls, value: object) -> object:
        # pydantic would read a bare number as Unix time; the schema promises ISO-8601 text.
        if value is not None and not isinstance(value, str | dt.datetime):
            raise ValueError("at must be ISO-8601 text")
        return value


class TraceStep(BaseModel):
    """One rule the screener looked at."""

    rule: str
    priority: int
    fired: bool
    detail: str


class ScreenResponse(BaseModel):
    """The verdict with what a SIP proxy or SMS centre needs to act on it."""

    verdict: Literal["allow", "allow_labelled", "block"]
    reason: str
    rule: str
    sip_status: int = Field(description="0 to let the call through, else the 6xx to reject with")
    sip_reason: str
    origin: str
    origin_zh: str
    message: str
    caller_e164: str | None
    callee_e164: str | None
    screener_version: int
    trace: list[TraceStep] | None = None


class BatchEvent(_Strict):
    """One event of a batch."""

    caller: str = Field(max_length=64)
    callee: str = Field(max_length=64)
    channel: Literal["call", "sms"] = "call"
    ingress: Literal["domestic", "international", "unknown"] = "unknown"
    text: str | None = Field(None, max_length=2000)


class BatchRequest(_Strict):
    """Events to screen in one call; verdicts come back in the same order."""

    events: list[BatchEvent] = Field(min_length=1)


class BatchVerdict(BaseModel):
    """The verdict on one event of a batch (no trace: re-screen one event to explain it)."""

    verdict: Literal["allow", "allow_labelled", "block"]
    reason: str
    rule: str
    sip_status: int
    sip_reason: str
    origin: str


class BatchResponse(BaseModel):
    """Verdicts in request order and their counts."""

    count: int
    by_verdict: dict[str, int]
    verdicts: list[BatchVerdict]


class SmsClassifyRequest(_Strict):
    """An SMS body to classify."""

    text: str = Field(min_length=1, max_length=5000)


class OptInRequest(_Strict):
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


class Removed(BaseModel):
    """How many records were removed."""

    removed: int


class ListEntryIn(_Strict):
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


class Page(BaseModel):
    """One page of a listing: ``next_offset`` is null on the last page."""

    total: int | None = Field(description="Size of the whole listing when known")
    offset: int
    limit: int
    next_offset: int | None


class ListPage(Page):
    """Entries in pattern order."""

    items: list[ListEntryOut]


class PolicyOut(BaseModel):
    """The policy in force."""

    version: int = Field(description="0 means the built-in defaults")
    policy: dict[str, Any]


class PolicySetting(_Strict):
    """One dotted setting, e.g. ``region_overrides.广东.cross_border_block_calls`` = ``false``."""

    key: str = Field(min_length=1, max_length=200)
    value: Any = Field(description="Any JSON value")


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


class LoginRequest(_Strict):
    """A person's credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    """A session token to send as ``Authorization: Bearer``."""

    token: str
    username: str
    role: str
    expires_in_s: int


class Me(BaseModel):
    """Who the credential belongs to."""

    kind: Literal["user", "key"]
    name: str
    role: str


class UserIn(_Strict):
    """A new user."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=10, max_length=1024)
    role: Literal["integrator", "analyst", "supervisor", "auditor", "admin"]


class UserOut(BaseModel):
    """A user (never the password hash)."""

    username: str
    role: str
    created_at: dt.datetime
    disabled: bool


class KeyIn(_Strict):
    """A new integrator key."""

    name: str = Field(min_length=1, max_length=64)


class KeyOut(BaseModel):
    """An API key (never its secret)."""

    key_id: str
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class NewKeyOut(KeyOut):
    """A key just created: ``secret`` is shown this once."""

    secret: str


class Health(BaseModel):
    """Liveness and what is loaded."""

    status: Literal["ok"]
    version: str
    screener_version: int
    in_flight: int
