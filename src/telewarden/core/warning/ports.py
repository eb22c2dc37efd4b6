"""The ports of early warning: where warnings are delivered and where they are kept.

What belongs here: :class:`WarningSink` (SMS gateway, call-list file, app-push webhook; the
adapters are in ``telewarden.adapters.warning_sinks``), :class:`WarningStore` (warnings and
their outcomes, audited; SQL and memory twins in the adapters) and :class:`Outcome`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from telewarden.core.warning.engine import WarningNotice

__all__ = ["Outcome", "OutcomeRecord", "WarningSink", "WarningStore"]


class Outcome(StrEnum):
    """What came of a warning, as the hotline or the subscriber reported it."""

    REACHED = "reached"
    """The subscriber was reached (call answered, push read)."""
    SAFE = "safe"
    """The subscriber confirmed no money was lost."""
    LOSS_REPORTED = "loss_reported"
    """The subscriber reported a loss (before or after the warning)."""
    UNREACHABLE = "unreachable"
    DISPUTED = "disputed"
    """The subscriber appeals the warning (e.g. the flagged number is their contact)."""
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, value: str) -> Outcome:
        """Parse a value, ``UNKNOWN`` when it is not a member."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """One recorded outcome of a warning."""

    warning_id: str
    outcome: Outcome
    note: str
    actor: str
    at: dt.datetime


@runtime_checkable
class WarningSink(Protocol):
    """Delivers warnings (an SMS gateway, a call list, an app push webhook)."""

    name: str

    def deliver(self, warning: WarningNotice) -> bool:
        """Hand over one warning; False when the channel refused it (counted, not raised)."""
        ...

    def close(self) -> None:
        """Flush what the sink buffers (files are written to a temporary name and renamed)."""
        ...


@runtime_checkable
class WarningStore(Protocol):
    """Warnings sent and their outcomes; every write is audited."""

    def save_warnings(self, warnings: list[WarningNotice], *, actor: str) -> int:
        """Store new warnings (a warning id already stored is skipped); return how many added."""
        ...

    def get_warning(self, warning_id: str) -> WarningNotice | None:
        """One warning, None when unknown."""
        ...

    def list_warnings(self, *, msisdn: str | None = None, limit: int = 50) -> list[WarningNotice]:
        """The newest warnings first, optionally of one subscriber."""
        ...

    def count_warnings(self) -> int:
        """Every stored warning."""
        ...

    def record_outcome(
        self, warning_id: str, outcome: Outcome, *, note: str, actor: str
    ) -> OutcomeRecord:
        """Record what came of a warning; ``NotFoundError`` for an unknown warning."""
        ...

    def outcomes_for(self, warning_id: str) -> list[OutcomeRecord]:
        """The outcomes of one warning, oldest first."""
        ...
