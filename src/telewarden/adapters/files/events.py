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

import polars as pl

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


def _check_row(
    channels: dict[str | None, Any],
    ingresses: dict[str | None, Any],
    line: int,
    caller: str | None,
    callee: str | None,
    ingress: str | None,
    at: Any,
    channel: str | None,
    text: str | None,
    attestation: str | None,
) -> ScreeningEvent | QuarantinedRow:
    """The event of one row, or the row quarantined with the first problem found."""
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
        raw = dict(zip((*REQUIRED, *OPTIONAL), values, strict=True))
        return QuarantinedRow(line, reason, raw)
    assert caller is not None and callee is not None
    return ScreeningEvent(caller, callee, channel_value, ingress_value, at_value, attestation, text)


@dataclass(slots=True)
class EventFrameChunk:
    """A slice of the file as a frame of usable rows, plus the rows quarantined.

    ``frame`` has ``line, caller, callee, channel, ingress, at, attestation, text``, with
    ``channel`` and ``ingress`` already normalised to their enum values (``call``, ``sms``;
    ``domestic``, ``international``, ``unknown``) and ``attestation`` upper-cased; ``at`` is
    the file's value (validated, not converted).
    """

    frame: pl.DataFrame
    quarantined: list[QuarantinedRow] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Rows of the file this chunk accounts for."""
        return self.frame.height + len(self.quarantined)


FRAME_COLUMNS = ("line", "caller", "callee", "channel", "ingress", "at", "attestation", "text")


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
    encoding : str, optional
        The CSV's encoding (default strict UTF-8).
    """

    def __init__(
        self, path: Path, *, chunk_rows: int = 50_000, encoding: str | None = None
    ) -> None:
        self.path = path
        self.chunk_rows = chunk_rows
        self._table = read_table(path, required=REQUIRED, optional=OPTIONAL, encoding=encoding)

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
                checked = _check_row(
                    channels, ingresses, line, caller, callee, ingress, at, channel, text,
                    attestation,
                )  # fmt: skip
                if isinstance(checked, QuarantinedRow):
                    chunk.quarantined.append(checked)
                    continue
                chunk.events.append(checked)
                chunk.lines.append(line)
            yield chunk

    def iter_frames(self) -> Iterator[EventFrameChunk]:
        """Yield the file as frames: the same rows accepted and quarantined as ``__iter__``.

        The checks run as column expressions; only the rows they reject go through the
        row-by-row check, which words the quarantine reason.
        """
        channels = _lookup(Channel.from_str, Channel.UNKNOWN)
        channels[None] = Channel.CALL
        ingresses = _lookup(Ingress.from_str, Ingress.UNKNOWN)
        empty = pl.DataFrame(schema=self._frame_schema())
        if self._table.rejected:
            yield EventFrameChunk(empty, list(self._table.rejected))
        names = (LINE, *REQUIRED, *OPTIONAL)
        for part in self._table.frames(self.chunk_rows):
            channel = _enum_values(part, "channel", channels)
            ingress = _enum_values(part, "ingress", ingresses)
            attestation = pl.col("attestation").str.to_uppercase()
            ok = (
                pl.col("caller").is_not_null()
                & pl.col("callee").is_not_null()
                & channel.is_not_null()
                & ingress.is_not_null()
                & _at_ok(part)
                & (attestation.is_null() | attestation.is_in(sorted(ATTESTATIONS)))
            )
            marked = part.with_columns(
                channel.alias("_channel"),
                ingress.alias("_ingress"),
                attestation.alias("_attestation"),
                ok.alias("_ok"),
            )
            good = marked.filter(pl.col("_ok")).select(
                pl.col(LINE).cast(pl.Int64).alias("line"),
                "caller",
                "callee",
                pl.col("_channel").alias("channel"),
                pl.col("_ingress").alias("ingress"),
                "at",
                pl.col("_attestation").alias("attestation"),
                "text",
            )
            chunk = EventFrameChunk(good)
            extra: list[ScreeningEvent] = []
            extra_lines: list[int] = []
            bad = marked.filter(~pl.col("_ok")).select(names)
            for row in bad.iter_rows():
                line, caller, callee, ingress_raw, at, channel_raw, text, att = row
                checked = _check_row(
                    channels, ingresses, line, caller, callee, ingress_raw, at, channel_raw,
                    text, att,
                )  # fmt: skip
                if isinstance(checked, QuarantinedRow):
                    chunk.quarantined.append(checked)
                else:  # the expressions were stricter than the row check: keep the row
                    extra.append(checked)
                    extra_lines.append(line)
            if extra:
                more = pl.DataFrame(
                    {
                        "line": extra_lines,
                        "caller": [e.caller for e in extra],
                        "callee": [e.callee for e in extra],
                        "channel": [e.channel.value for e in extra],
                        "ingress": [e.ingress.value for e in extra],
                        "at": bad.filter(pl.col(LINE).is_in(extra_lines))["at"],
                        "attestation": [e.attestation for e in extra],
                        "text": [e.text for e in extra],
                    },
                    schema=good.schema,
                )
                chunk.frame = pl.concat([good, more]).sort("line")
            yield chunk

    def _frame_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {name: pl.String for name in FRAME_COLUMNS}
        schema["line"] = pl.Int64
        return schema


def _enum_values(part: pl.DataFrame, name: str, lookup: dict[str | None, Any]) -> pl.Expr:
    """The enum value of each text (null: unrecognised), parsed once per distinct text."""
    mapping: dict[str, str | None] = {}
    for value in part.get_column(name).unique().to_list():
        if value is not None:
            parsed = lookup[value]
            mapping[value] = None if parsed is None else parsed.value
    default = lookup[None]
    return (
        pl.when(pl.col(name).is_null())
        .then(pl.lit(default.value, dtype=pl.String))
        .otherwise(pl.col(name).replace_strict(mapping, default=None, return_dtype=pl.String))
    )


def _at_ok(part: pl.DataFrame) -> pl.Expr:
    """True where ``at`` is absent or an ISO-8601 time (each distinct text parsed once)."""
    if part.schema["at"] != pl.String:
        return pl.lit(True)
    bad: list[str] = []
    for value in part.get_column("at").unique().to_list():
        if value is None:
            continue
        try:
            parse_time(value)
        except (ValueError, TypeError):
            bad.append(value)
    if not bad:
        return pl.lit(True)
    return ~pl.col("at").is_in(bad).fill_null(False)
