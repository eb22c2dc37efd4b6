"""Strict text reading: encodings chosen on purpose, and delimited records with their true lines.

Every file-reading path of telewarden (list imports, event files, message files, record
tables, feature files) decodes and splits its text here, so they agree on three rules:

* **Encoding.** UTF-8 is read strictly (a UTF-8 byte-order mark is dropped). A file that is
  not UTF-8 is refused with a message naming ``--encoding``: when it decodes as GB18030 (the
  superset of GBK and GB2312 that Chinese carrier systems still export) the message says so.
  It is never decoded with replacement characters, which silently destroys the text a verdict
  depends on. Guessing GB18030 instead would be unsafe: nearly any byte string decodes as
  GB18030, so a Latin-1 file would come out as plausible-looking Chinese.
* **Records.** A record's line is the physical line it starts on (the header is line 1), also
  after quoted fields that span lines. A record whose quote is never closed, or whose quoted
  field swallows following lines and so ends with the wrong number of fields, is quarantined
  at the line where it starts, and reading resumes on the next line: the rows after a stray
  quote are read, not swallowed.
* **Field counts.** A record with more or fewer fields than the header is quarantined with
  both counts, never padded or truncated.
"""

from __future__ import annotations

import codecs
import csv
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from telewarden.adapters.files.quarantine import QuarantinedRow
from telewarden.core.errors import InvalidInputError

__all__ = [
    "MAX_RECORD_LINES",
    "Record",
    "choose_encoding",
    "decode",
    "iter_records",
    "split_lines",
]

# Message bodies can be long; the csv module's default limit (128 KiB) would reject them.
csv.field_size_limit(sys.maxsize)

MAX_RECORD_LINES = 200
"""A quoted field spanning more lines than this is taken for an unterminated quote."""

_SAMPLE_BYTES = 1 << 20


def choose_encoding(path: Path, sample: bytes, given: str | None = None) -> str:
    """The codec to read ``path`` with, from its first bytes and the user's ``--encoding``.

    Parameters
    ----------
    path : Path
        Named in the error message.
    sample : bytes
        The first bytes of the file (up to about 1 MiB is enough).
    given : str, optional
        The user's ``--encoding``; must name a codec Python knows.

    Raises
    ------
    InvalidInputError
        When ``given`` is unknown, or when no encoding is given and the sample is not UTF-8.

    Examples
    --------
    >>> choose_encoding(Path("a.csv"), "短信".encode())
    'utf-8-sig'
    >>> choose_encoding(Path("a.csv"), "短信".encode("gb18030"))
    Traceback (most recent call last):
    ...
    telewarden.core.errors.InvalidInputError: a.csv: not UTF-8 (byte 0xb6 at offset 0); it reads as GB18030/GBK: pass --encoding gb18030
    """  # noqa: E501
    if given:
        try:
            name = codecs.lookup(given).name
        except LookupError:
            raise InvalidInputError(
                f"unknown --encoding {given!r} (try utf-8 or gb18030)"
            ) from None
        return "utf-8-sig" if name == "utf-8" else name
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is not an error.
        if not (len(sample) >= _SAMPLE_BYTES and exc.start >= len(sample) - 3):
            raise InvalidInputError(_not_utf8(path, sample, exc)) from None
    return "utf-8-sig"


def _not_utf8(path: Path, data: bytes, exc: UnicodeDecodeError) -> str:
    where = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
    try:
        data[: _SAMPLE_BYTES - 4].decode("gb18030")
    except UnicodeDecodeError:
        return f"{path}: not UTF-8 ({where}): pass --encoding with the file's encoding"
    return f"{path}: not UTF-8 ({where}); it reads as GB18030/GBK: pass --encoding gb18030"


def decode(path: Path, data: bytes, encoding: str | None = None) -> str:
    """The text of a whole file's ``data``, decoded strictly (see :func:`choose_encoding`)."""
    codec = choose_encoding(path, data[:_SAMPLE_BYTES], encoding)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if codec == "utf-8-sig":
            raise InvalidInputError(f"{_not_utf8(path, data, exc)} (line {line})") from None
        raise InvalidInputError(
            f"{path}: line {line} is not valid {codec}: pass the right --encoding"
        ) from None
    return text.removeprefix("\ufeff")


def split_lines(text: str) -> Iterator[str]:
    """Physical lines, each with its ``\\n`` (the last one may lack it); only ``\\n`` ends one."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


@dataclass(frozen=True, slots=True)
class Record:
    """The fields of one record and the 1-based physical line it starts on."""

    line: int
    fields: list[str]


class _Lines:
    """Lines for a ``csv.reader``, counting them and able to re-read a failed record's tail."""

    def __init__(self, lines: Iterable[str], first_line: int) -> None:
        self._lines = iter(lines)
        self._pending: deque[str] = deque()
        self.taken: list[str] = []
        self.next_line = first_line

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.taken) >= MAX_RECORD_LINES:
            raise _RunawayQuote
        line = self._pending.popleft() if self._pending else next(self._lines)
        self.taken.append(line)
        return line

    def begin(self) -> int:
        """Start a record; return the line it starts on."""
        self.next_line += len(self.taken)
        self.taken = []
        return self.next_line

    def drop_first(self) -> str:
        """Give up the current record: re-read every line but its first, which is returned."""
        first, rest = (self.taken[0] if self.taken else ""), self.taken[1:]
        self._pending.extendleft(reversed(rest))
        self.taken = self.taken[:1]
        return first

    @property
    def exhausted(self) -> bool:
        return not self._pending and not self.taken


class _RunawayQuote(Exception):
    pass


def iter_records(
    lines: Iterable[str],
    *,
    delimiter: str = ",",
    quoting: bool = True,
    width: int | None = None,
    min_width: int | None = None,
    multiline: bool = True,
    first_line: int = 1,
) -> Iterator[Record | QuarantinedRow]:
    """Split ``lines`` into records, quarantining the malformed ones at their true line.

    Parameters
    ----------
    lines : iterable of str
        Physical lines with their line ends (a text file object, or :func:`split_lines`).
    delimiter : str
        Field separator.
    quoting : bool
        Whether ``"`` quotes fields (CSV) or is an ordinary character (tab-separated files).
    width : int, optional
        The number of fields every record must have (the header's); None accepts any.
    min_width : int, optional
        When given, records may have from ``min_width`` to ``width`` fields (headerless files
        whose trailing columns are optional).
    multiline : bool
        Whether a quoted field may span lines; when False such a record is quarantined.
    first_line : int
        The line number of the first line given.

    Yields
    ------
    Record or QuarantinedRow
        Blank lines come as records with no fields; the caller decides what they mean.

    Examples
    --------
    >>> text = 'a,b\\n1,"x\\n2,y\\n3,z,9\\n'
    >>> for r in iter_records(split_lines(text), width=2):
    ...     print(r.line, r.fields if isinstance(r, Record) else r.reason)
    1 ['a', 'b']
    2 unterminated quote (no closing quote before the end of the file)
    3 ['2', 'y']
    4 3 fields but the header has 2
    """
    source = _Lines(lines, first_line)

    def reader() -> Iterator[list[str]]:
        if quoting:
            return csv.reader(source, delimiter=delimiter, strict=True)
        return csv.reader(source, delimiter=delimiter, quoting=csv.QUOTE_NONE)

    records = reader()
    while True:
        line = source.begin()
        problem: str | None = None
        try:
            fields = next(records)
        except StopIteration:
            if source.exhausted:
                return
            problem = "unterminated quote at the end of the file"
            fields = []
        except _RunawayQuote:
            problem = f"unterminated quote (a quoted field ran past {MAX_RECORD_LINES} lines)"
            fields = []
        except csv.Error as exc:
            problem = (
                "unterminated quote (no closing quote before the end of the file)"
                if "unexpected end of data" in str(exc)
                else f"unreadable CSV (check the quotes): {exc}"
            )
            fields = []
        spanned = len(source.taken)
        if problem is None and spanned > 1:
            if not multiline:
                problem = f"a quoted field spans {spanned} lines (unterminated quote?)"
            elif width is not None and not _fits(len(fields), width, min_width):
                problem = (
                    "unterminated quote or quoted field spanning lines with the wrong field "
                    f"count ({spanned} lines)"
                )
        if problem is not None:
            first = source.drop_first()
            yield QuarantinedRow(line, problem, [first.rstrip("\r\n")])
            records = reader()
            continue
        if fields and width is not None and not _fits(len(fields), width, min_width):
            expected = f"{min_width} to {width}" if min_width is not None else f"{width}"
            yield QuarantinedRow(
                line, f"{len(fields)} fields but the header has {expected}", fields
            )
            continue
        if any("\x00" in field for field in fields):
            # PostgreSQL text cannot hold NUL, and no carrier field needs one.
            yield QuarantinedRow(line, "a field holds a NUL character", fields)
            continue
        yield Record(line, fields)


def _fits(count: int, width: int, min_width: int | None) -> bool:
    return (min_width if min_width is not None else width) <= count <= width
