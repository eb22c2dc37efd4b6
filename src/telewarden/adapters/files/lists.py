"""Deny/allow list files: CSV or Parquet with columns ``pattern[,match,source,reason]``.

A pattern is a number (normalised to E.164 by ``NumberIntel.normalise``) or a prefix, written
``+8617012``, ``0086170*`` or ``17012*`` (national digits take +86 and lose a trunk ``0``).
``match`` is ``exact`` or ``prefix``; when absent, a trailing ``*`` means prefix. A CSV may
omit the header, in which case the columns are taken in that order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from telewarden.adapters.files.quarantine import QuarantinedRow
from telewarden.adapters.files.table import LINE, read_table
from telewarden.core.numbers import NumberIntel
from telewarden.core.screening import ListEntry, MatchKind

COLUMNS = ("pattern", "match", "source", "reason")
MIN_PREFIX_DIGITS = 3
"""A shorter prefix (``+86``, ``+95``) would deny a whole country: that is policy, not a list."""
MAX_SOURCE = 128
MAX_REASON = 256

_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"\d+")
_CN_MOBILE_ANCHORED = r"^(?:\+86|0086)?(1[3-9]\d{9})$"
_CN_MOBILE = re.compile(_CN_MOBILE_ANCHORED)
_MATCHES = {"exact": MatchKind.EXACT, "prefix": MatchKind.PREFIX, "range": MatchKind.PREFIX}


def normalise_prefix(raw: str, country_code: str = "86") -> str | None:
    """A ``+digits`` prefix from ``+8617012``, ``008617012``, ``17012`` or ``010``; else None.

    Examples
    --------
    >>> normalise_prefix("17012*"), normalise_prefix("00852 6"), normalise_prefix("010")
    ('+8617012', '+8526', '+8610')
    >>> normalise_prefix("+86-abc") is None
    True
    """
    text = _SEPARATORS.sub("", raw).rstrip("*")
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):
        digits = text[2:]
    else:
        digits = country_code + (text[1:] if text.startswith("0") else text)
    if not _DIGITS.fullmatch(digits) or digits.startswith("0") or len(digits) > 15:
        return None
    return "+" + digits


def parse_pattern(
    numbers: NumberIntel,
    pattern: str | None,
    match: str | None,
    source: str | None,
    reason: str | None,
    default_source: str,
) -> ListEntry | str:
    """The list entry for one row, or the reason the row is rejected.

    Examples
    --------
    >>> numbers = NumberIntel(cache_size=16)
    >>> parse_pattern(numbers, "17012*", None, None, None, "file").pattern
    '+8617012'
    >>> parse_pattern(numbers, "+86", "prefix", None, None, "file")
    'prefix +86 is shorter than 3 digits'
    """
    if pattern is None or not pattern.strip():
        return "missing pattern"
    pattern = pattern.strip()
    if match is None or not match.strip():
        kind = MatchKind.PREFIX if pattern.endswith("*") else MatchKind.EXACT
    else:
        found = _MATCHES.get(match.strip().lower())
        if found is None:
            return f"unknown match {match!r} (use exact or prefix)"
        kind = found
    if kind is MatchKind.PREFIX:
        normalised = normalise_prefix(pattern)
        if normalised is None:
            return f"not a number prefix: {pattern!r}"
        if len(normalised) - 1 < MIN_PREFIX_DIGITS:
            return f"prefix {normalised} is shorter than {MIN_PREFIX_DIGITS} digits"
    else:
        if "*" in pattern:
            return f"exact match with a wildcard: {pattern!r}"
        mobile = _CN_MOBILE.fullmatch(pattern)
        # The bulk of a list is mainland mobiles, whose E.164 form ``normalise`` would give
        # as "+86" + the 11 digits; skipping the call keeps a 1M-row import in seconds.
        normalised = "+86" + mobile.group(1) if mobile else numbers.normalise(pattern)
        if normalised is None:
            return f"not a valid number: {pattern!r}"
    if source is not None and len(source) > MAX_SOURCE:
        return f"source longer than {MAX_SOURCE} characters"
    if reason is not None and len(reason) > MAX_REASON:
        return f"reason longer than {MAX_REASON} characters"
    return ListEntry(normalised, kind, source or default_source, reason or "")


@dataclass(slots=True)
class ListChunk:
    """Usable entries of one slice of the file and the rows quarantined from it."""

    entries: list[ListEntry] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Rows of the file this chunk accounts for."""
        return len(self.entries) + len(self.quarantined)


class ListFileReader:
    """Reads a list file and yields validated, normalised entries in chunks.

    Parameters
    ----------
    path : Path
        ``.csv`` (header optional) or ``.parquet``.
    numbers : NumberIntel
        Normalises exact numbers to E.164.
    default_source : str
        Source recorded for rows without one (the CLI passes the file name).
    chunk_rows : int
        Rows per chunk; the store writes one executemany per chunk.
    encoding : str, optional
        The CSV's encoding (default strict UTF-8).
    """

    def __init__(
        self,
        path: Path,
        numbers: NumberIntel,
        *,
        default_source: str,
        chunk_rows: int = 50_000,
        encoding: str | None = None,
    ) -> None:
        self.path = path
        self.numbers = numbers
        self.default_source = default_source[:MAX_SOURCE]
        self.chunk_rows = chunk_rows
        self._table = read_table(
            path,
            required=COLUMNS[:1],
            optional=COLUMNS[1:],
            headerless_names=COLUMNS,
            encoding=encoding,
            multiline=False,  # no list field holds a line break: a quote spanning lines is a typo
        )

    @property
    def rows_read(self) -> int:
        """Data rows in the file, usable or not."""
        return self._table.rows_read

    def parse(
        self, pattern: str | None, match: str | None, source: str | None, reason: str | None
    ) -> ListEntry | str:
        """The entry for one row, or the reason it is rejected."""
        return parse_pattern(self.numbers, pattern, match, source, reason, self.default_source)

    def __iter__(self) -> Iterator[ListChunk]:
        if self._table.rejected:
            yield ListChunk(quarantined=list(self._table.rejected))
        names = (LINE, *COLUMNS)
        for part in self._table.frames(self.chunk_rows):
            # A list's numbers rarely repeat: drop the analyses of the previous chunk instead
            # of letting the cache grow to (and evict at) its limit.
            self.numbers.clear_cache()
            chunk = ListChunk()
            # Polars finds the rows that are plain mainland mobiles with no explicit or an
            # exact match (the bulk of a real list) in one vectorised pass; only the rest
            # go through ``parse_pattern`` row by row.
            plain = part.select(
                (pl.lit("+86") + pl.col("pattern").str.extract(_CN_MOBILE_ANCHORED, 1)).alias(
                    "e164"
                ),
                pl.col("source").fill_null(self.default_source),
                pl.col("reason").fill_null(""),
                (
                    (pl.col("match").is_null() | (pl.col("match").str.to_lowercase() == "exact"))
                    & (pl.col("source").str.len_chars().fill_null(0) <= MAX_SOURCE)
                    & (pl.col("reason").str.len_chars().fill_null(0) <= MAX_REASON)
                ).alias("simple"),
            )
            fast = plain.select(
                pl.col("e164").is_not_null() & pl.col("simple").fill_null(False)
            ).to_series()
            columns = [part.get_column(n).to_list() for n in names]
            e164s = plain.get_column("e164").to_list()
            sources = plain.get_column("source").to_list()
            reasons = plain.get_column("reason").to_list()
            exact = MatchKind.EXACT
            entries, quarantined = chunk.entries, chunk.quarantined
            for i, (is_fast, line, pattern, match, source, reason) in enumerate(
                zip(fast.to_list(), *columns, strict=True)
            ):
                if is_fast:
                    entries.append(ListEntry(e164s[i], exact, sources[i], reasons[i]))
                    continue
                parsed = self.parse(pattern, match, source, reason)
                if isinstance(parsed, str):
                    raw = {"pattern": pattern, "match": match, "source": source, "reason": reason}
                    quarantined.append(QuarantinedRow(line, parsed, raw))
                else:
                    entries.append(parsed)
            yield chunk
