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


# -- disposal: cases, measures, appeals --------------------------------------------------------


class FlagOut(BaseModel):
    """A flag the case keeps as evidence: who found the card, when, why, and what they saw."""

    source: str = Field(description="The detector, scorer or person (the case's fraud type)")
    at: dt.datetime
    reason: str
    score: float | None
    evidence: dict[str, Any]


class MeasureOut(BaseModel):
    """A graded measure on a card and where it stands."""

    id: str
    case_id: str
    msisdn: str
    kind: Literal["warn", "reverify", "restrict", "suspend"]
    state: str
    approval: str = Field(description="Who must agree: automatic, analyst or supervisor")
    reason: str
    proposed_at: dt.datetime
    proposed_by: str
    in_force_at: dt.datetime | None
    approved_by: str | None
    deadline: dt.datetime | None
    expires_at: dt.datetime | None
    ended_at: dt.datetime | None
    ended_by: str | None
    lift_reason: str | None
    remedy_channel: str


class AppealOut(BaseModel):
    """A subscriber's appeal and its review deadline."""

    id: str
    case_id: str
    msisdn: str | None = None
    state: Literal["under_review", "upheld", "rejected"]
    lodged_at: dt.datetime
    review_due: dt.datetime
    overdue: bool = False
    grounds: str
    channel: str
    decided_at: dt.datetime | None
    decided_by: str | None
    note: str


class NoticeOut(BaseModel):
    """A notice owed to the subscriber: why, what, until when, and how to appeal."""

    measure_id: str | None
    created_at: dt.datetime
    lang: str
    subject: str
    body: str


class CaseSummaryOut(BaseModel):
    """A case in the queue."""

    id: str
    msisdn: str
    state: Literal["open", "confirmed", "appealed", "cleared"]
    opened_at: dt.datetime
    updated_at: dt.datetime | None
    fraud_types: list[str]
    flags: int
    measures_in_force: list[str] = Field(description="Kinds of the measures in force")
    measures_pending: int
    appeal_under_review: bool


class CaseOut(CaseSummaryOut):
    """A case with its evidence, measures, appeals and the notices sent."""

    evidence: list[FlagOut]
    measures: list[MeasureOut]
    appeals: list[AppealOut]
    notices: list[NoticeOut]


class CasePage(Page):
    """Cases, newest first; ``total`` is null when filtered."""

    items: list[CaseSummaryOut]
    counts: dict[str, int] = Field(description="Every case by state")


class CaseCreate(_Strict):
    """Open (or join) the case of one of the carrier's cards by hand."""

    msisdn: str = Number
    reason: str = Field(min_length=1, max_length=500)


class CaseDecision(_Strict):
    """Confirm fraud (measures stay) or clear the case (every measure lifted at once)."""

    outcome: Literal["confirm", "clear"]
    note: str = Field("", max_length=500)


class MeasureCreate(_Strict):
    """Propose a measure; it waits for the approval the policy asks for (suspend: supervisor)."""

    kind: Literal["warn", "reverify", "restrict", "suspend"]
    reason: str = Field("fraud_abnormal", min_length=1, max_length=200)


class MeasureRejection(_Strict):
    """Why a pending measure is refused."""

    note: str = Field("", max_length=500)


class MeasurePage(BaseModel):
    """Measures in force, newest first."""

    items: list[MeasureOut]
    count: int


class AppealCreate(_Strict):
    """The subscriber's appeal as taken by the hotline, a service hall or the app."""

    grounds: str = Field(min_length=1, max_length=2000)
    channel: str = Field("hotline", min_length=1, max_length=32)


class AppealDecision(_Strict):
    """Decide the appeal under review: upheld lifts every measure and clears the case."""

    upheld: StrictBool
    note: str = Field("", max_length=500)


class AppealPage(BaseModel):
    """Appeals, those under review first, soonest deadline first."""

    items: list[AppealOut]


# -- credit list -------------------------------------------------------------------------------


class CreditListingOut(BaseModel):
    """A credit listing of an ID document (known by its keyed hash only)."""

    id: str
    id_ref: str = Field(description="The last 8 characters of the ID document's keyed hash")
    basis: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    term_years: int
    lifted_at: dt.datetime | None
    lift_reason: str | None


class CreditListingCreate(_Strict):
    """List an ID document (hashed on arrival; never stored or logged in clear)."""

    id_document: str = Field(min_length=4, max_length=64)
    basis: Literal["fraud", "card_trading"]
    term_years: Literal[2, 3]


class CreditListingChange(BaseModel):
    """A new listing, its written notices and the cards sold on the ID."""

    listing: CreditListingOut
    notices: list[NoticeOut]
    cards: list[str]


# -- early warning -----------------------------------------------------------------------------


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


# -- SMS and number scoring --------------------------------------------------------------------


class SmsBatchRequest(_Strict):
    """SMS bodies to classify (behind the legal gate)."""

    texts: list[str] = Field(min_length=1, max_length=1000)

    @field_validator("texts")
    @classmethod
    def _bounded(cls, texts: list[str]) -> list[str]:
        if any(len(t) > 2000 for t in texts):
            raise ValueError("each text is at most 2000 characters")
        return texts


class SmsBatchResponse(BaseModel):
    """One result per text, in request order."""

    count: int
    results: list[dict[str, Any]]


class FeaturePushOut(BaseModel):
    """One feature's value and its push on the score's log-odds."""

    name: str
    value: float
    log_odds: float


class NumberScoreOut(BaseModel):
    """A number's fraud score from the number model and what pushed it."""

    msisdn: str
    score: float
    flagged: bool
    threshold: float
    bias: float
    forest: float | None
    pushes: list[FeaturePushOut]
