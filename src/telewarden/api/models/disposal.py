"""Models of disposal: cases, measures, appeals, notices and the credit list."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool

from telewarden.api.models.common import Number, Page, StrictModel


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


class CaseCreate(StrictModel):
    """Open (or join) the case of one of the carrier's cards by hand."""

    msisdn: str = Number
    reason: str = Field(min_length=1, max_length=500)


class CaseDecision(StrictModel):
    """Confirm fraud (measures stay) or clear the case (every measure lifted at once)."""

    outcome: Literal["confirm", "clear"]
    note: str = Field("", max_length=500)


class MeasureCreate(StrictModel):
    """Propose a measure; it waits for the approval the policy asks for (suspend: supervisor)."""

    kind: Literal["warn", "reverify", "restrict", "suspend"]
    reason: str = Field("fraud_abnormal", min_length=1, max_length=200)


class MeasureRejection(StrictModel):
    """Why a pending measure is refused."""

    note: str = Field("", max_length=500)


class MeasurePage(BaseModel):
    """Measures in force, newest first."""

    items: list[MeasureOut]
    count: int


class AppealCreate(StrictModel):
    """The subscriber's appeal as taken by the hotline, a service hall or the app."""

    grounds: str = Field(min_length=1, max_length=2000)
    channel: str = Field("hotline", min_length=1, max_length=32)


class AppealDecision(StrictModel):
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


class CreditListingCreate(StrictModel):
    """List an ID document (hashed on arrival; never stored or logged in clear)."""

    id_document: str = Field(min_length=4, max_length=64)
    basis: Literal["fraud", "card_trading"]
    term_years: Literal[2, 3]


class CreditListingChange(BaseModel):
    """A new listing, its written notices and the cards sold on the ID."""

    listing: CreditListingOut
    notices: list[NoticeOut]
    cards: list[str]
