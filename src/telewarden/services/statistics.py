"""Read models of the console and ``/v1/statistics``: what was stopped per day, a number's file.

Single screens are counted from the decision log by day, channel, verdict and reason (one
grouped query); file and API batches from their ``batch_runs`` summaries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from telewarden.core.errors import InvalidInputError
from telewarden.core.numbers import NumberIntel
from telewarden.core.ports import Clock, DecisionLog, ListStore, OptInStore
from telewarden.core.screening import ListKind
from telewarden.core.service_ports import DecisionCount, ServiceStore

__all__ = ["BatchDay", "NumberProfile", "Statistics", "number_profile", "statistics"]

MAX_DAYS = 366
MAX_BATCH_RUNS = 10_000


@dataclass(frozen=True, slots=True)
class BatchDay:
    """Batches started on one day: events screened, blocked, and counts by reason."""

    day: dt.date
    runs: int
    screened: int
    blocked: int
    by_reason: dict[str, int]


@dataclass(frozen=True, slots=True)
class Statistics:
    """Counts since ``since``."""

    since: dt.datetime
    decisions: list[DecisionCount]
    batches: list[BatchDay]

    def stopped_by_day(self) -> dict[dt.date, dict[str, int]]:
        """Blocked single screens per day and reason (calls and SMS together)."""
        out: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for c in self.decisions:
            if c.verdict == "block":
                out[c.day][c.reason] += c.count
        return {d: dict(v) for d, v in sorted(out.items())}

    def totals(self) -> dict[str, int]:
        """Screens, blocks and labels in the window, per channel and overall."""
        totals: dict[str, int] = defaultdict(int)
        for c in self.decisions:
            totals["screened"] += c.count
            totals[f"screened_{c.channel}"] += c.count
            totals[c.verdict] += c.count
            totals[f"{c.verdict}_{c.channel}"] += c.count
        for b in self.batches:
            totals["batch_screened"] += b.screened
            totals["batch_blocked"] += b.blocked
        return dict(totals)


def statistics(
    service: ServiceStore, log: DecisionLog, clock: Clock, *, days: int = 14
) -> Statistics:
    """Counts of the last ``days`` days (1-366)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"days must be 1-{MAX_DAYS}, not {days}")
    today = clock.now().astimezone(dt.UTC).date()
    since = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), dt.UTC)
    counts = sorted(
        service.decision_counts(since), key=lambda c: (c.day, c.channel, c.verdict, c.reason)
    )
    per_day: dict[dt.date, dict[str, Any]] = {}
    for run in log.recent_batches(limit=MAX_BATCH_RUNS):
        if run.started_at < since:
            continue
        day = run.started_at.astimezone(dt.UTC).date()
        slot = per_day.setdefault(day, {"runs": 0, "screened": 0, "blocked": 0, "by_reason": {}})
        slot["runs"] += 1
        slot["screened"] += run.screened
        slot["blocked"] += run.by_verdict.get("block", 0)
        for reason, n in run.by_reason.items():
            slot["by_reason"][reason] = slot["by_reason"].get(reason, 0) + n
    batches = [BatchDay(day, **slot) for day, slot in sorted(per_day.items())]
    return Statistics(since, counts, batches)


@dataclass(frozen=True, slots=True)
class NumberProfile:
    """What the store knows about one number."""

    raw: str
    e164: str | None
    analysis: dict[str, Any]
    deny: list[dict[str, str]] = field(default_factory=list)
    allow: list[dict[str, str]] = field(default_factory=list)
    optins: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, object]] = field(default_factory=list)


class ProfileSource(OptInStore, ListStore, Protocol):
    """The two ports a number's profile reads."""


def number_profile(
    store: ProfileSource, service: ServiceStore, raw: str, *, limit: int = 50
) -> NumberProfile:
    """Analysis, list entries matching it, opt-ins and the newest decisions about ``raw``."""
    text = raw.strip()
    if not text or len(text) > 64:
        raise InvalidInputError("a number is 1-64 characters")
    intel = NumberIntel(cache_size=16)
    info = intel.analyse(text)
    e164 = info.e164
    if e164 is None:
        return NumberProfile(text, None, info.to_dict())
    forms = {text, e164}
    if info.national and info.country_code == 86:
        forms.add(info.national)
    entries = {
        kind: [
            {"pattern": e.pattern, "match": str(e.match), "source": e.source, "reason": e.reason}
            for e in store.entries_matching(kind, [e164])
        ]
        for kind in (ListKind.DENY, ListKind.ALLOW)
    }
    optins = [
        {"scope": str(o.scope), "opted_in": o.opted_in, "at": o.at, "source": o.source}
        for o in store.optins_for(e164)
    ]
    decisions = service.decisions_about(sorted(forms), limit=limit)
    return NumberProfile(
        text,
        e164,
        info.to_dict(),
        entries[ListKind.DENY],
        entries[ListKind.ALLOW],
        optins,
        decisions,
    )
