"""How `telewarden cases` and `telewarden measures` show a case: JSON-ready data or a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telewarden.cli.common import print_json, stdout

if TYPE_CHECKING:
    from telewarden.core.disposal import Case

__all__ = ["case_summary", "render_case"]


def case_summary(case: Case) -> dict[str, Any]:
    """A case as JSON-ready data (no evidence: analysts read it with ``cases show``)."""
    return {
        "id": case.id,
        "msisdn": case.msisdn,
        "state": str(case.state),
        "opened_at": case.opened_at.isoformat(),
        "flags": [f"{f.source}: {f.reason}" for f in case.flags],
        "measures": [
            {
                "id": m.id,
                "kind": str(m.kind),
                "state": str(m.state),
                "approval": str(m.approval),
                "reason": m.reason,
                "in_force_at": m.in_force_at.isoformat() if m.in_force_at else None,
                "deadline": m.deadline.isoformat() if m.deadline else None,
                "expires_at": m.expires_at.isoformat() if m.expires_at else None,
                "lift_reason": str(m.lift_reason) if m.lift_reason else None,
            }
            for m in case.measures
        ],
        "appeals": [
            {"id": a.id, "state": str(a.state), "review_due": a.review_due.isoformat()}
            for a in case.appeals
        ],
    }


def render_case(case: Case, as_json: bool) -> None:
    """Print one case."""
    if as_json:
        print_json(case_summary(case))
        return
    from rich.table import Table

    console = stdout()
    console.print(f"case {case.id}  {case.msisdn}  [bold]{case.state}[/]  opened {case.opened_at}")
    for f in case.flags:
        console.print(f"  flag {f.source} at {f.at}: {f.reason}")
    table = Table("measure", "kind", "state", "approval", "deadline", "ends", "lifted because")
    for m in case.measures:
        table.add_row(
            m.id,
            str(m.kind),
            str(m.state),
            str(m.approval),
            str(m.deadline or ""),
            str(m.expires_at or ""),
            str(m.lift_reason or ""),
        )
    console.print(table)
    for a in case.appeals:
        console.print(f"  appeal {a.id} {a.state}, review due {a.review_due}: {a.grounds}")
