"""The first match of each of many regexes in one text, searched only where a match can start.

What belongs here: :func:`literal_prefixes`, the lower-cased literal words that every match of
a pattern begins with (read from the pattern's parse tree), and :class:`CueTable`, which finds
those words in the lower-cased text in one Aho-Corasick pass and then tries the pattern
(``pattern.match(text, start)``) at those places only, leftmost first. ``pattern.search`` tries
``pattern.match`` at every position from the left and returns the first that matches, so the
first success among the places where a match can start is the same match; a case-insensitive
pattern with a leading ``\\b`` cannot skip ahead and costs 2-9 us per search on 400
characters, a handful of ``match`` calls a fraction of a microsecond. Rows with no literal
prefix keep ``pattern.search``, behind their substring needles when they have some (a row is
searched only when one of its needles is in the lower-cased text).

The lower-cased text has the indices of the text, and a case-insensitive literal is found in
it as its lower case, unless the text has one of the characters that ``re.IGNORECASE`` folds
onto an ASCII letter but ``str.lower`` does not (``_CASE_ODD``: dotted and dotless i, long s,
Kelvin sign; ``"\\u0130".lower()`` is also two characters long): such a text is searched row
by row with ``pattern.search``, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from re import _constants as sre
from re import _parser as sre_parse
from typing import Any

import ahocorasick

__all__ = ["CueTable", "TextScan", "literal_prefixes"]

_CASE_ODD_RE = re.compile("[\u0130\u0131\u017f\u212a]")
_MAX_PREFIXES = 256
# Zero-width and consuming nothing: skipped when reading the words a match begins with.
_ZERO_WIDTH = frozenset({sre.AT})


def _safe_char(ch: str) -> bool:
    """A character whose case-insensitive matches are exactly those ``str.lower`` agrees on."""
    return ch.isascii() or ch.lower() == ch == ch.upper() == ch.casefold()


def _sequence(items: Any) -> tuple[list[str], bool]:
    """The literal beginnings of a parsed sequence, and whether they are the whole of it."""
    prefixes = [""]
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op is sre.LITERAL:
            ch = chr(av)
            if not _safe_char(ch):
                return prefixes, False
            prefixes = [p + ch.lower() for p in prefixes]
            continue
        if op is sre.BRANCH:
            alternatives = [_sequence(alt) for alt in av[1]]
            heads = [h for hs, _ in alternatives for h in hs]
            if len(prefixes) * len(heads) > _MAX_PREFIXES:
                return prefixes, False
            prefixes = [p + h for p in prefixes for h in heads]
            if not all(complete for _, complete in alternatives):
                return prefixes, False
            continue
        if op is sre.IN and all(
            o is sre.LITERAL and _safe_char(chr(c)) for o, c in av
        ):  # a class of plain characters, such as [$£€]
            heads = list(dict.fromkeys(chr(c).lower() for _, c in av))
            if len(prefixes) * len(heads) > _MAX_PREFIXES:
                return prefixes, False
            prefixes = [p + h for p in prefixes for h in heads]
            continue
        if op is sre.SUBPATTERN and not av[1] and not av[2]:
            heads, complete = _sequence(av[3])
            if len(prefixes) * len(heads) > _MAX_PREFIXES:
                return prefixes, False
            prefixes = [p + h for p in prefixes for h in heads]
            if not complete:
                return prefixes, False
            continue
        return prefixes, False
    return prefixes, True


def literal_prefixes(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-cased words one of which every match of ``pattern`` begins with (None if none).

    Examples
    --------
    >>> literal_prefixes(re.compile(r"\\b(?:call|Text)\\s+\\d|\\bfee\\b", re.IGNORECASE))
    ('call', 'text', 'fee')
    >>> literal_prefixes(re.compile(r"\\d+ ?%|\\bpay")) is None
    True
    """
    heads, _ = _sequence(sre_parse.parse(pattern.pattern, pattern.flags))
    if not heads or any(not h for h in heads):
        return None
    return tuple(dict.fromkeys(heads))


def _automaton(words: dict[str, tuple[list[int], list[int]]]) -> Any:
    """word -> (length, rows starting with it, rows containing it); None without words."""
    if not words:
        return None
    automaton = ahocorasick.Automaton()
    for word, (starting, containing) in words.items():
        automaton.add_word(word, (len(word), tuple(starting), tuple(containing)))
    automaton.make_automaton()
    return automaton


class _NoWords:
    """An automaton without words: finds nothing."""

    @staticmethod
    def iter(text: str) -> tuple[()]:
        return ()


_EMPTY = _NoWords()


class CueTable:
    """Rows of patterns, each searched for its first match in a text (see the module docstring).

    Parameters
    ----------
    patterns : Sequence[re.Pattern[str]]
        The rows, in order.
    needles : Sequence[tuple[str, ...] | None]
        For each row, lower-case substrings of which every match contains one (None: the row
        is always searched). Used only for rows without literal prefixes.
    """

    def __init__(
        self, patterns: Sequence[re.Pattern[str]], needles: Sequence[tuple[str, ...] | None]
    ) -> None:
        if len(patterns) != len(needles):
            raise ValueError("one needle entry per pattern")
        self.patterns = tuple(patterns)
        self.prefixes = tuple(literal_prefixes(p) for p in self.patterns)
        # word -> (rows that start with it, rows that contain it as a needle)
        words: dict[str, tuple[list[int], list[int]]] = {}
        always: list[int] = []
        for i, (heads, row_needles) in enumerate(zip(self.prefixes, needles, strict=True)):
            if heads is not None:
                for word in heads:
                    words.setdefault(word, ([], []))[0].append(i)
            elif row_needles is None:
                always.append(i)
            else:
                for word in row_needles:
                    words.setdefault(word, ([], []))[1].append(i)
        self.always = tuple(always)
        # Two automata: a text without non-ASCII characters can only hold the ASCII words, and
        # pyahocorasick walks an ASCII text several times faster without the others (4 against
        # 13 us on 400 characters for the generic cue rows).
        self._automaton = _automaton(words)
        self._ascii_automaton = _automaton({w: v for w, v in words.items() if w.isascii()})

    def scan(self, text: str, lower: str | None = None) -> TextScan:
        """Where each row can match in ``text`` (one automaton pass); ask it with ``match``."""
        automaton: Any
        if text.isascii():
            automaton = self._ascii_automaton or _EMPTY
        elif self._automaton is None:
            automaton = _EMPTY  # every row is searched (none has words)
        elif _CASE_ODD_RE.search(text):
            # str.lower does not find what re.IGNORECASE matches: every row, searched.
            return TextScan(self, text, None, set())
        else:
            automaton = self._automaton
        starts: dict[int, list[int]] = {}
        searched = set(self.always)
        for end, (length, starting, containing) in automaton.iter(
            text.lower() if lower is None else lower
        ):
            begin = end - length + 1
            for i in starting:
                if i in starts:
                    starts[i].append(begin)
                else:
                    starts[i] = [begin]
            searched.update(containing)
        return TextScan(self, text, starts, searched)

    def any_match(self, text: str, lower: str | None = None) -> bool:
        """Whether any row matches ``text``."""
        return bool(self.first_matches(text, lower, first_only=True))

    def first_matches(
        self, text: str, lower: str | None = None, *, first_only: bool = False
    ) -> list[tuple[int, re.Match[str]]]:
        """``(row, pattern.search(text))`` for every row that matches, in row order.

        With ``first_only``, stop at the first row that matches.
        """
        scan = self.scan(text, lower)
        starts = scan.starts
        out: list[tuple[int, re.Match[str]]] = []
        if starts is None:
            rows: Iterable[int] = range(len(self.patterns))
        elif not starts and not scan.searched:
            return out  # nothing to try: the common case of a short message
        else:
            rows = sorted(scan.searched.union(starts))
        patterns, prefixes, searched = self.patterns, self.prefixes, scan.searched
        for i in rows:
            pattern = patterns[i]
            m: re.Match[str] | None = None
            if starts is None or (prefixes[i] is None and i in searched):
                m = pattern.search(text)
            elif i in starts:
                match = pattern.match
                for begin in sorted(starts[i]):
                    m = match(text, begin)
                    if m:
                        break
            if m:
                out.append((i, m))
                if first_only:
                    break
        return out


class TextScan:
    """The places where the rows of a :class:`CueTable` can match one text.

    Parameters
    ----------
    table : CueTable
        The rows.
    text : str
        The text.
    starts : dict[int, list[int]] or None
        For each row with literal first words, where they are in the text (None: the text
        has a character ``str.lower`` does not fold as ``re`` does; every row is searched).
    searched : set[int]
        Rows without first words that may match (one of their needles is in the text).
    """

    __slots__ = ("searched", "starts", "table", "text")

    def __init__(
        self, table: CueTable, text: str, starts: dict[int, list[int]] | None, searched: set[int]
    ) -> None:
        self.table, self.text, self.starts, self.searched = table, text, starts, searched

    def rows(self) -> list[int]:
        """The rows that may match, in order."""
        if self.starts is None:
            return list(range(len(self.table.patterns)))
        return sorted(self.searched.union(self.starts))

    def match(self, row: int) -> re.Match[str] | None:
        """``pattern.search(text)`` of the row."""
        pattern = self.table.patterns[row]
        if self.starts is None:
            return pattern.search(self.text)
        if self.table.prefixes[row] is None:
            return pattern.search(self.text) if row in self.searched else None
        begins = self.starts.get(row)
        if begins is None:
            return None
        match, text = pattern.match, self.text
        for begin in sorted(begins):
            m = match(text, begin)
            if m:
                return m
        return None
