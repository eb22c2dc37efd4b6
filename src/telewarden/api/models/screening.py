"""Models of screening: one event, a batch, SMS classification and number scores."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, field_validator

from telewarden.api.models.common import Number, StrictModel


class ScreenRequest(StrictModel):
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


class BatchEvent(StrictModel):
    """One event of a batch."""

    caller: str = Field(max_length=64)
    callee: str = Field(max_length=64)
    channel: Literal["call", "sms"] = "call"
    ingress: Literal["domestic", "international", "unknown"] = "unknown"
    text: str | None = Field(None, max_length=2000)


class BatchRequest(StrictModel):
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


class SmsClassifyRequest(StrictModel):
    """An SMS body to classify."""

    text: str = Field(min_length=1, max_length=5000)


class SmsBatchRequest(StrictModel):
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
