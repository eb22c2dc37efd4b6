"""``telewarden demo --serve``: the demo's day kept in a store the console can serve.

The demo's live-loop stage runs over in-memory stores (fast, and a plain ``telewarden demo``
leaves nothing behind). For ``--serve`` this module copies what the loop produced into a fresh
SQL store: the carrier's cards, every case with its flags, measures, appeals and notices, the
warnings sent, and the loop's verdicts as one batch summary per day; then it creates the logins
the demo prints. Every write is audited with the actor ``demo``.

The console then runs on a clock shifted to the evening after the simulated day
(:func:`day_end`), so the dashboard's last days show the simulated one and the measures' terms
and the appeals' review deadlines read as they would on that evening.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from telewarden.core.disposal.model import Case
from telewarden.core.ports import AuditRecord, BatchSummary, Clock
from telewarden.core.screening import PolicySettings
from telewarden.core.service_ports import ServiceStore
from telewarden.services import accounts
from telewarden.services.disposal import DisposalStore
from telewarden.services.loop_demo import LoopDemo
from telewarden.services.loop_disposal import register_cards

__all__ = ["DemoLogin", "KeptDay", "ShiftedClock", "create_logins", "day_end", "keep_day"]

ACTOR = "demo"


@dataclass(frozen=True, slots=True)
class KeptDay:
    """What was copied into the store."""

    cards: int
    cases: int
    measures_in_force: int
    notices: int
    warnings: int
    batches: int


def keep_day(
    loop: LoopDemo,
    *,
    records: Path,
    hash_key: bytes,
    cases: DisposalStore,
    warnings: object,
    screening: object,
    policy: PolicySettings | None = None,
) -> KeptDay:
    """Copy the loop's cards, cases (with notices), warnings and verdicts into the stores.

    ``cases`` must be empty of these case ids (a fresh store): each case is inserted as new.
    ``policy`` (the demo's: content inspection open on simulated traffic) is stored as the
    served store's policy, so the API and console screen the demo's messages as the loop did.
    """
    if policy is not None:
        screening.set_policy(policy, actor=ACTOR)  # type: ignore[attr-defined]
    cards = register_cards(cases, records, hash_key)
    source = loop.cases
    copied = notices = in_force = 0
    for case in source.list_cases(limit=10**9):
        fresh: Case = replace(case, version=0)
        sent = source.notices_for(case.id)
        audit = [
            AuditRecord(
                case.updated_at or case.opened_at, ACTOR, "case", case.id, "demo_imported", None,
                {"msisdn": case.msisdn, "state": str(case.state), "measures": len(case.measures)},
            )
        ]  # fmt: skip
        cases.commit(fresh, audit=audit, notices=sent, outbox=[])
        copied += 1
        notices += len(sent)
        in_force += sum(str(m.state) == "in_force" for m in case.measures)
    saved = warnings.save_warnings(list(loop.run.warnings), actor=ACTOR)  # type: ignore[attr-defined]
    batches = 0
    decisions = loop.run.decisions
    if decisions.height:
        per_day = decisions.with_columns(pl.col("at").dt.date().alias("day"))
        for _day, frame in per_day.group_by("day", maintain_order=True):
            first, last = frame["at"].min(), frame["at"].max()
            assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
            screening.log_batch(  # type: ignore[attr-defined]
                BatchSummary(
                    started_at=first, finished_at=last, source=f"demo:{records.name}",
                    output="live loop", rows_read=frame.height, screened=frame.height,
                    quarantined=0, duration_s=loop.run.seconds,
                    by_verdict=dict(frame.group_by("verdict").len().iter_rows()),
                    by_reason=dict(frame.group_by("reason").len().iter_rows()),
                ),
                actor=ACTOR,
            )  # fmt: skip
            batches += 1
    return KeptDay(cards, copied, in_force, notices, saved, batches)


def day_end(loop: LoopDemo) -> dt.datetime:
    """The evening after the simulated day: its last event plus one hour."""
    decisions = loop.run.decisions
    last = decisions["at"].max() if decisions.height else None
    if not isinstance(last, dt.datetime):
        return dt.datetime.now(dt.UTC)
    return (last if last.tzinfo else last.replace(tzinfo=dt.UTC)) + dt.timedelta(hours=1)


class ShiftedClock:
    """A clock that reads ``start`` at creation and runs on from there at wall-clock pace."""

    def __init__(self, start: dt.datetime, wall: Clock) -> None:
        self.wall = wall
        self.offset = start - wall.now()

    def now(self) -> dt.datetime:
        """The shifted time."""
        return self.wall.now() + self.offset


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A login the demo prints."""

    username: str
    role: str
    password: str


def create_logins(service: ServiceStore, clock: Clock) -> list[DemoLogin]:
    """An analyst (proposes) and a supervisor (approves suspensions), sharing a fresh password."""
    password = secrets.token_urlsafe(12)
    made = []
    for username, role in (("analyst", "analyst"), ("supervisor", "supervisor")):
        accounts.create_user(service, clock, username, password, role, actor=ACTOR)
        made.append(DemoLogin(username, role, password))
    return made
