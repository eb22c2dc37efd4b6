"""The wall clock, as an adapter for the core's ``Clock`` port."""

from __future__ import annotations

import datetime as dt


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> dt.datetime:
        """Return the current UTC time."""
        return dt.datetime.now(dt.UTC)
