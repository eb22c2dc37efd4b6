"""Protocols the core needs from the outside world; adapters implement them.

The in-memory implementations live in ``telewarden.adapters.memory`` and are what the core's
tests use.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Source of the current time; the core never reads the wall clock itself."""

    def now(self) -> dt.datetime:
        """Return the current time as a UTC-aware datetime."""
        ...


class FixedClock:
    """A clock that always returns the same instant (tests, replays, batch runs).

    Examples
    --------
    >>> import datetime as dt
    >>> FixedClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).now().year
    2026
    """

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        """Return the fixed instant."""
        return self.at
