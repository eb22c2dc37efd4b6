"""In-memory allow and deny lists of exact numbers and ``+``-led digit prefixes.

A :class:`NumberList` holds millions of entries cheaply: patterns map to a small integer that
indexes a de-duplicated table of ``(source, reason)`` pairs, so a 1M-row list from one feed
stores one copy of its source and reason. Matching is one dict look-up for the exact number,
then one look-up per prefix length actually present in the list, longest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from telewarden.core.errors import InvalidInputError
from telewarden.core.screening.types import ListEntry, MatchKind

__all__ = ["NumberList", "normalise_pattern"]


def normalise_pattern(pattern: str) -> str:
    """Return ``pattern`` as ``+`` and digits, or raise :class:`InvalidInputError`.

    Examples
    --------
    >>> normalise_pattern(" 8617012 ")
    '+8617012'
    >>> normalise_pattern("+86 170-12")
    '+8617012'
    """
    text = pattern.strip().replace(" ", "").replace("-", "")
    digits = text[1:] if text.startswith("+") else text
    if not digits or not (digits.isdigit() and digits.isascii()):
        raise InvalidInputError(f"list pattern {pattern!r} is not '+' followed by digits")
    return "+" + digits


class NumberList:
    """Exact numbers and prefixes, each with the source and reason it was listed for.

    Examples
    --------
    >>> deny = NumberList()
    >>> deny.add(ListEntry("+8617012", MatchKind.PREFIX, "miit", "virtual operator range"))
    >>> deny.add(ListEntry("+8613800138000", MatchKind.EXACT, "police", "confirmed fraud"))
    >>> deny.match("+8617012345678").reason
    'virtual operator range'
    >>> deny.match("+8613800138000").match.value
    'exact'
    >>> deny.match("+8613900000000") is None
    True
    >>> len(deny)
    2
    """

    def __init__(self, entries: Iterable[ListEntry] = ()) -> None:
        self._exact: dict[str, int] = {}
        self._prefix: dict[str, int] = {}
        self._meta: list[tuple[str, str]] = []
        self._meta_index: dict[tuple[str, str], int] = {}
        self._prefix_lengths: tuple[int, ...] = ()
        # Bumped on every change so callers can invalidate anything derived from the list.
        self.version = 0
        self.active = False
        """True when the list has at least one entry (an attribute, so a hot path can skip
        ``match`` on an empty list without a call)."""
        self.extend(entries)

    def __len__(self) -> int:
        return len(self._exact) + len(self._prefix)

    def __iter__(self) -> Iterator[ListEntry]:
        meta = self._meta
        for pattern, idx in self._exact.items():
            yield ListEntry(pattern, MatchKind.EXACT, *meta[idx])
        for pattern, idx in self._prefix.items():
            yield ListEntry(pattern, MatchKind.PREFIX, *meta[idx])

    def __contains__(self, pattern: object) -> bool:
        return isinstance(pattern, str) and (pattern in self._exact or pattern in self._prefix)

    @property
    def prefix_lengths(self) -> tuple[int, ...]:
        """Distinct prefix lengths present (characters including ``+``), longest first."""
        return self._prefix_lengths

    def _meta_id(self, source: str, reason: str) -> int:
        key = (source, reason)
        idx = self._meta_index.get(key)
        if idx is None:
            idx = len(self._meta)
            self._meta.append(key)
            self._meta_index[key] = idx
        return idx

    def add(self, entry: ListEntry) -> None:
        """Add or replace one entry (the pattern is normalised to ``+`` and digits)."""
        pattern = normalise_pattern(entry.pattern)
        idx = self._meta_id(entry.source, entry.reason)
        if entry.match is MatchKind.PREFIX:
            self._prefix[pattern] = idx
            if len(pattern) not in self._prefix_lengths:
                self._prefix_lengths = tuple(sorted({*self._prefix_lengths, len(pattern)})[::-1])
        else:
            self._exact[pattern] = idx
        self.version += 1
        self.active = bool(self._exact or self._prefix)

    def extend(self, entries: Iterable[ListEntry]) -> int:
        """Add many entries; return how many were added."""
        count = 0
        for entry in entries:
            self.add(entry)
            count += 1
        return count

    def add_exact_many(self, patterns: Iterable[str], source: str, reason: str) -> int:
        """Bulk-add exact E.164 numbers sharing one source and reason; return the count.

        Patterns must already be ``+`` and digits (this path skips normalisation for speed).
        """
        idx = self._meta_id(source, reason)
        before = len(self._exact)
        self._exact.update(dict.fromkeys(patterns, idx))
        self.version += 1
        self.active = bool(self._exact or self._prefix)
        return len(self._exact) - before

    def remove(self, pattern: str) -> bool:
        """Remove the exact entry and the prefix entry for ``pattern``; True if any existed."""
        try:
            key = normalise_pattern(pattern)
        except InvalidInputError:
            return False
        found = self._exact.pop(key, None) is not None
        if self._prefix.pop(key, None) is not None:
            found = True
            lengths = {len(p) for p in self._prefix}
            self._prefix_lengths = tuple(sorted(lengths)[::-1])
        if found:
            self.version += 1
            self.active = bool(self._exact or self._prefix)
        return found

    def clear(self) -> None:
        """Remove every entry."""
        self._exact.clear()
        self._prefix.clear()
        self._prefix_lengths = ()
        self.version += 1
        self.active = bool(self._exact or self._prefix)

    def exact_patterns(self) -> list[str]:
        """Every exact pattern (for a batch pre-filter)."""
        return list(self._exact)

    def prefixes(self, length: int) -> list[str]:
        """Every prefix pattern of ``length`` characters (for a batch pre-filter)."""
        return [p for p in self._prefix if len(p) == length]

    def match(self, e164: str) -> ListEntry | None:
        """Return the exact entry for ``e164``, else the longest matching prefix, else None."""
        idx = self._exact.get(e164)
        if idx is not None:
            return ListEntry(e164, MatchKind.EXACT, *self._meta[idx])
        if self._prefix_lengths:
            prefix = self._prefix
            for length in self._prefix_lengths:
                if length <= len(e164):
                    key = e164[:length]
                    idx = prefix.get(key)
                    if idx is not None:
                        return ListEntry(key, MatchKind.PREFIX, *self._meta[idx])
        return None
