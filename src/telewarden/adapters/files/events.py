"""Event batches from CSV or Parquet: columns ``caller``, ``callee`` and optional ``ingress``,
``at``, ``channel``, ``text``, ``attestation``.

Structural problems (a missing caller or callee, an unknown channel or ingress, a time that is
not ISO-8601) quarantine the row. A caller ID that is not a valid number is NOT a file error:
the screener gives it a verdict with an explicit reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telewarden.adapters.files.quarantine import QuarantinedRow
from telewarden.adapters.files.table import LINE, read_table
from telewarden.core.screening import Channel, Ingress, ScreeningEvent

REQUIRED = ("caller", "callee")
OPTIONAL = ("ingress", "at", "channel", "text", "attestation")
ATTESTATIONS = frozenset({"A", "B", "C"})


def parse_time(value: str | dt.datetime) -> dt.datetime:
    """Parse an ISO-8601 time; a time without an offset is taken as UTC.

    Raises
    ------
    ValueError
        When ``value`` is not ISO-8601.

    Examples
    --------
    >>> parse_time("2026-11-28T10:00:00+08:00").isoformat()
    '2026-11-28T02:00:00+00:00'
    >>> parse_time("2026-11-28 10:00").isoformat()
    '2026-11-28T10:00:00+00:00'
    """
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


@dataclass(slots=True)
class EventChunk:
    """A slice of the file: usable events with their lines, and the rows quarantined."""

    events: list[ScreeningEvent] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Rows of the file this chunk accounts for."""
        return len(self.events) + len(self.quarantined)


def _lookup(enum_from_str: Any, unknown: Any) -> dict[str | None, Any]:
    """A cache of lenient enum parsing that remembers which texts are unrecognised."""

    class _Cache(dict[str | None, Any]):
        def __missing__(self, key: str | None) -> Any:
            value = enum_from_str(key)
            self[key] = None if value is unknown else value
            return self[key]

    cache = _Cache()
    cache[None] = unknown
    return cache


class EventFileReader:
    """Reads an event file once and yields it in chunks of at most ``chunk_rows`` rows.

    A CSV is parsed up front (Polars keeps it as compact columns) and a Parquet file is
    streamed by record batch; either way ``rows_read`` is known before screening starts, so a
    progress bar has a total.

    Parameters
    ----------
    path : Path
        ``.csv`` or ``.parquet``.
    chunk_rows : int
        Rows per yielded chunk.
    """

    def __init__(self, path: Path, *, chunk_rows: int = 50_000) -> None:
        self.path = path
        self.chunk_rows = chunk_rows
        self._table = read_table(path, required=REQUIRED, optional=OPTIONAL)

    @property
    def rows_read(self) -> int:
        """Data rows in the file, usable or not."""
        return self._table.rows_read

    def __iter__(self) -> Iterator[EventChunk]:
        channels = _lookup(Channel.from_str, Channel.UNKNOWN)
        channels[None] = Channel.CALL
        ingresses = _lookup(Ingress.from_str, Ingress.UNKNOWN)
        if self._table.rejected:
            yield EventChunk(quarantined=list(self._table.rejected))
        names = (LINE, *REQUIRED, *OPTIONAL)
        for part in self._table.frames(self.chunk_rows):
            chunk = EventChunk()
            columns = [part.get_column(n).to_list() for n in names]
            for line, caller, callee, ingress, at, channel, text, attestation in zip(
                *columns, strict=True
            ):
                reason = None
                if caller is None:
                    reason = "missing caller"
                elif callee is None:
                    reason = "missing callee"
                channel_value = channels[channel]
                ingress_value = ingresses[ingress]
                if reason is None and channel_value is None:
                    reason = f"unknown channel {channel!r} (use call or sms)"
                if reason is None and ingress_value is None:
                    reason = f"unknown ingress {ingress!r} (use domestic or international)"
                at_value = None
                if reason is None and at is not None:
                    try:
                        at_value = parse_time(at)
                    except (ValueError, TypeError):
                        reason = f"at is not an ISO-8601 time: {at!r}"
                if reason is None and attestation is not None:
                    attestation = attestation.upper()
                    if attestation not in ATTESTATIONS:
                        reason = f"unknown attestation {attestation!r} (use A, B or C)"
                if reason is not None:
                    values = (caller, callee, ingress, at, channel, text, attestation)
                    raw = dict(zip(names[1:], values, strict=True))
                    chunk.quarantined.append(QuarantinedRow(line, reason, raw))
                    continue
                chunk.events.append(
                    ScreeningEvent(
                        caller,
                        callee,
                        channel_value,
                        ingress_value,
                        at_value,
                        attestation,
                        text,
                    )
                )
                chunk.lines.append(line)
            yield chunk
