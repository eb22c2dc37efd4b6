"""Police referral: export a case packet, import the police's feedback, derive labels.

A packet carries the card, the evidence (every flag with its detector, reason and score), the
measures with their times, the appeals and a timeline. Feedback (``confirmed`` or
``not_fraud``) confirms or clears the case; confirmed and cleared cases are the labels the
learning loop trains on (``labels``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from telewarden.core.disposal.model import Case, CaseState
from telewarden.core.errors import ConflictError, InvalidInputError, NotFoundError
from telewarden.services.disposal import DisposalService

__all__ = ["FeedbackReport", "case_packet", "import_feedback", "labels"]

OUTCOMES = ("confirmed", "not_fraud")


def case_packet(case: Case) -> dict[str, Any]:
    """The referral packet of one case (JSON-ready)."""
    timeline: list[dict[str, Any]] = [
        {"at": f.at.isoformat(), "event": "flag", "detail": f"{f.source}: {f.reason}"}
        for f in case.flags
    ]
    for m in case.measures:
        if m.in_force_at is not None:
            timeline.append(
                {"at": m.in_force_at.isoformat(), "event": f"{m.kind} in force", "detail": m.id}
            )
        if m.ended_at is not None:
            timeline.append(
                {"at": m.ended_at.isoformat(), "event": f"{m.kind} {m.state}", "detail": m.id}
            )
    for a in case.appeals:
        timeline.append({"at": a.lodged_at.isoformat(), "event": "appeal lodged", "detail": a.id})
        if a.decided_at is not None:
            timeline.append(
                {"at": a.decided_at.isoformat(), "event": f"appeal {a.state}", "detail": a.id}
            )
    timeline.sort(key=lambda e: e["at"])
    return {
        "case": case.id,
        "state": str(case.state),
        "numbers": [case.msisdn],
        "id_document_hash": case.id_doc_hash,
        "evidence": [
            {
                "source": f.source,
                "at": f.at.isoformat(),
                "reason": f.reason,
                "score": f.score,
                "indicators": f.evidence,
            }
            for f in case.flags
        ],
        "measures": [
            {"id": m.id, "kind": str(m.kind), "state": str(m.state), "reason": m.reason}
            for m in case.measures
        ],
        "timeline": timeline,
    }


@dataclass(slots=True)
class FeedbackReport:
    """``rows == confirmed + cleared + rejected``."""

    rows: int = 0
    confirmed: int = 0
    cleared: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)


def import_feedback(
    service: DisposalService, rows: Iterable[tuple[int, str, str, str]], *, by: str
) -> FeedbackReport:
    """Apply ``(line, case_id, outcome, note)`` rows: confirm the case or clear it."""
    report = FeedbackReport()
    for line, case_id, outcome, note in rows:
        report.rows += 1
        try:
            if outcome not in OUTCOMES:
                raise InvalidInputError(f"outcome must be {' or '.join(OUTCOMES)}")
            decision = "confirm" if outcome == "confirmed" else "clear"
            service.decide(case_id, decision, by=by, note=f"police feedback: {note}")
        except (InvalidInputError, NotFoundError, ConflictError) as exc:
            report.rejected += 1
            report.problems.append(f"line {line}: {exc}")
            continue
        if outcome == "confirmed":
            report.confirmed += 1
        else:
            report.cleared += 1
    return report


def labels(cases: Iterable[Case]) -> list[dict[str, Any]]:
    """One label per decided case: 1 confirmed fraud, 0 cleared, with when and why."""
    out = []
    for c in cases:
        if c.state not in (CaseState.CONFIRMED, CaseState.CLEARED):
            continue
        out.append(
            {
                "msisdn": c.msisdn,
                "label": 1 if c.state is CaseState.CONFIRMED else 0,
                "decided_at": (c.updated_at or c.opened_at).isoformat(),
                "sources": ";".join(sorted({f.source for f in c.flags})),
                "case": c.id,
            }
        )
    return out
