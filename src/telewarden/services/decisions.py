"""Decision-log retention: purge the single-event decisions older than a number of days.

The decision log holds subscriber numbers; keeping it only as long as disputes and audits need
(the ``decision_retention_days`` setting, 180 by default) is part of being private by default.
The purge itself is audited (how many rows, older than when).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from telewarden.core.errors import InvalidInputError
from telewarden.core.ports import Clock

__all__ = ["DecisionRetention", "PurgeReport", "purge_decisions"]


class DecisionRetention(Protocol):
    """A store whose decision log can be purged (``SqlStore``, ``MemoryStore``)."""

    def purge_decisions(self, before: dt.datetime, *, actor: str) -> int: ...


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """How many decisions were deleted, and the cut-off they were older than."""

    deleted: int
    older_than: dt.datetime


def purge_decisions(
    store: DecisionRetention, clock: Clock, *, older_than_days: int, actor: str
) -> PurgeReport:
    """Delete decisions logged more than ``older_than_days`` days before ``clock.now()``."""
    if older_than_days < 1:
        raise InvalidInputError(f"--older-than must be at least 1 day, not {older_than_days}")
    cutoff = clock.now() - dt.timedelta(days=older_than_days)
    return PurgeReport(store.purge_decisions(cutoff, actor=actor), cutoff)
