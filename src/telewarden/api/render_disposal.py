"""How ``/v1`` shows disposal and early warning: cases, measures, appeals, notices, listings,
warnings as their response models (``api/models/disposal.py``, ``api/models/early_warning.py``)."""

from __future__ import annotations

from telewarden.api import models as m
from telewarden.core.disposal.credit import CreditListing
from telewarden.core.disposal.model import Appeal, Case, Measure
from telewarden.core.disposal.ports import StoredNotice
from telewarden.core.warning.engine import WarningNotice
from telewarden.services import casework

__all__ = [
    "appeal_out",
    "case_out",
    "case_summary",
    "listing_out",
    "measure_out",
    "notice_out",
    "warning_out",
]


def measure_out(x: Measure) -> m.MeasureOut:
    """A measure as the API shows it."""
    return m.MeasureOut(
        id=x.id, case_id=x.case_id, msisdn=x.msisdn, kind=x.kind.value, state=str(x.state),
        approval=str(x.approval), reason=x.reason, proposed_at=x.proposed_at,
        proposed_by=x.proposed_by, in_force_at=x.in_force_at, approved_by=x.approved_by,
        deadline=x.deadline, expires_at=x.expires_at, ended_at=x.ended_at, ended_by=x.ended_by,
        lift_reason=str(x.lift_reason) if x.lift_reason else None,
        remedy_channel=x.remedy_channel,
    )  # fmt: skip


def appeal_out(a: Appeal, msisdn: str | None = None, overdue: bool = False) -> m.AppealOut:
    """An appeal as the API shows it."""
    return m.AppealOut(
        id=a.id, case_id=a.case_id, msisdn=msisdn, state=a.state.value, lodged_at=a.lodged_at,
        review_due=a.review_due, overdue=overdue, grounds=a.grounds, channel=a.channel,
        decided_at=a.decided_at, decided_by=a.decided_by, note=a.note,
    )  # fmt: skip


def notice_out(n: StoredNotice) -> m.NoticeOut:
    """A stored notice."""
    return m.NoticeOut(
        measure_id=n.measure_id, created_at=n.created_at, lang=n.notice.lang,
        subject=n.notice.subject, body=n.notice.body,
    )  # fmt: skip


def case_summary(c: Case) -> m.CaseSummaryOut:
    """A case as the queue shows it."""
    return m.CaseSummaryOut(
        id=c.id, msisdn=c.msisdn, state=c.state.value, opened_at=c.opened_at,
        updated_at=c.updated_at, fraud_types=casework.fraud_types(c), flags=len(c.flags),
        measures_in_force=[str(x.kind) for x in c.measures if str(x.state) == "in_force"],
        measures_pending=len(c.pending()), appeal_under_review=c.open_appeal() is not None,
    )  # fmt: skip


def case_out(c: Case, notices: list[StoredNotice]) -> m.CaseOut:
    """A case with its evidence, measures, appeals and notices."""
    return m.CaseOut(
        **case_summary(c).model_dump(),
        evidence=[
            m.FlagOut(source=f.source, at=f.at, reason=f.reason, score=f.score,
                      evidence=dict(f.evidence))
            for f in c.flags
        ],
        measures=[measure_out(x) for x in c.measures],
        appeals=[appeal_out(a, c.msisdn) for a in c.appeals],
        notices=[notice_out(n) for n in notices],
    )  # fmt: skip


def listing_out(x: CreditListing) -> m.CreditListingOut:
    """A listing (the ID document only by the tail of its keyed hash)."""
    return m.CreditListingOut(
        id=x.id, id_ref=f"…{x.id_hash[-8:]}", basis=x.basis, starts_at=x.starts_at,
        ends_at=x.ends_at, term_years=x.term_years, lifted_at=x.lifted_at,
        lift_reason=x.lift_reason or None,
    )  # fmt: skip


def warning_out(w: WarningNotice) -> m.WarningOut:
    """A stored warning."""
    return m.WarningOut(
        warning_id=w.warning_id, msisdn=w.msisdn, subject=w.subject, subject_kind=w.subject_kind,
        fraud_type=w.fraud_type, flag_source=w.flag_source, risk=w.risk, band=w.band,
        reasons=list(w.reasons), created_at=w.created_at, send_at=w.send_at,
        channels=list(w.channels), text_zh=w.text_zh, text_en=w.text_en,
    )  # fmt: skip
