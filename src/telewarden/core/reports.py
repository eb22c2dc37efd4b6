"""Subscriber reports and the labels the learning loop trains on (issue #17).

What belongs here: the vocabulary of reports (what a subscriber reported: an SMS body or an
MSISDN, who reported it, when, and what they claim it was), of labels (``scam`` or ``ham``,
each with its source, actor and time) and the :class:`ReportStore` port the use cases talk to.
A report is a claim, never a label: it becomes training data only when an analyst labels it
(``telewarden reports label``) or, on request, when the carrier trusts its reporters. Case
outcomes (police feedback, appeals, analysts' decisions on disposal cases) are labels of an
MSISDN (:class:`OutcomeLabel`). Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from telewarden.core.errors import InvalidInputError

__all__ = [
    "Label",
    "LabelSource",
    "OutcomeLabel",
    "Report",
    "ReportKind",
    "ReportLabel",
    "ReportStore",
    "StoredReport",
]


class ReportKind(StrEnum):
    """What a report names: a message body or a number."""

    SMS = "sms"
    MSISDN = "msisdn"
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, raw: str) -> ReportKind:
        """The member named ``raw`` (any case), else ``UNKNOWN``.

        Examples
        --------
        >>> ReportKind.from_str(" SMS "), ReportKind.from_str("fax")
        (<ReportKind.SMS: 'sms'>, <ReportKind.UNKNOWN: 'unknown'>)
        """
        try:
            return cls(raw.strip().lower())
        except ValueError:
            return cls.UNKNOWN


class Label(StrEnum):
    """The truth about a reported message or number."""

    SCAM = "scam"
    """Fraud or unwanted (the model's not-ok class)."""
    HAM = "ham"
    """Legitimate."""
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, raw: str) -> Label:
        """``scam`` or ``ham`` (any case), else ``UNKNOWN``.

        Examples
        --------
        >>> Label.from_str("Scam"), Label.from_str("spam")
        (<Label.SCAM: 'scam'>, <Label.UNKNOWN: 'unknown'>)
        """
        try:
            return cls(raw.strip().lower())
        except ValueError:
            return cls.UNKNOWN

    @classmethod
    def parse(cls, raw: str) -> Label:
        """``scam`` or ``ham``; InvalidInputError for anything else.

        Examples
        --------
        >>> Label.parse("ham")
        <Label.HAM: 'ham'>
        """
        label = cls.from_str(raw)
        if label is cls.UNKNOWN:
            raise InvalidInputError(f"label must be scam or ham, not {raw!r}")
        return label


class LabelSource(StrEnum):
    """Where a label came from."""

    ANALYST = "analyst"
    """An analyst confirmed it (``telewarden reports label``)."""
    POLICE_FEEDBACK = "police_feedback"
    """The police's feedback on a referred case (``telewarden police feedback``)."""
    APPEAL = "appeal"
    """The decision on a subscriber's appeal against a case's measures."""
    CASE_DECISION = "case_decision"
    """An analyst confirmed or cleared a disposal case."""
    UNKNOWN = "unknown"

    @classmethod
    def from_str(cls, raw: str) -> LabelSource:
        """The member named ``raw``, else ``UNKNOWN``.

        Examples
        --------
        >>> LabelSource.from_str("appeal")
        <LabelSource.APPEAL: 'appeal'>
        """
        try:
            return cls(raw.strip().lower())
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class Report:
    """One subscriber report as imported (before it has an id).

    Parameters
    ----------
    kind : ReportKind
        ``sms`` when ``text`` is given, else ``msisdn``.
    reporter : str
        Who reported (a subscriber's MSISDN or an opaque reporter id).
    reported_at : datetime.datetime
        When the subscriber reported it (UTC-aware).
    text : str or None
        The reported message body.
    msisdn : str or None
        The reported number (the sender of the message, or the caller), E.164.
    claimed_type : str
        What the subscriber said it was (free text, e.g. ``scam``, ``loan``); never a label.
    source : str
        Where the report came from (the imported file's name, a channel).
    line : int
        The line of the imported file it was read from (0 when not from a file).
    """

    kind: ReportKind
    reporter: str
    reported_at: dt.datetime
    text: str | None = None
    msisdn: str | None = None
    claimed_type: str = ""
    source: str = ""
    line: int = 0

    def __post_init__(self) -> None:
        if self.reported_at.tzinfo is None:
            raise InvalidInputError("reported_at must be timezone-aware")
        if not self.text and not self.msisdn:
            raise InvalidInputError("a report names a message text or an msisdn")


@dataclass(frozen=True, slots=True)
class ReportLabel:
    """One label given to a report; a report keeps every label it was ever given."""

    report_id: int
    label: Label
    source: LabelSource
    actor: str
    labelled_at: dt.datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A report with its id, import time and labels (oldest first; the last one counts)."""

    id: int
    report: Report
    imported_at: dt.datetime
    labels: tuple[ReportLabel, ...] = ()

    @property
    def label(self) -> Label | None:
        """The newest label, or None when nobody labelled the report yet."""
        return self.labels[-1].label if self.labels else None


@dataclass(frozen=True, slots=True)
class OutcomeLabel:
    """A label of an MSISDN from a disposal case's outcome."""

    msisdn: str
    label: Label
    source: LabelSource
    actor: str
    labelled_at: dt.datetime
    case_id: str
    note: str = ""


class ReportStore(Protocol):
    """Where reports and their labels are kept (SQL: ``SqlReportStore``)."""

    def add_reports(self, reports: Iterable[Report], *, actor: str, source_name: str) -> int:
        """Store ``reports`` in one transaction with one audit record; how many were stored."""
        ...

    def get_report(self, report_id: int) -> StoredReport:
        """The report with its labels; NotFoundError when unknown."""
        ...

    def list_reports(
        self, *, kind: ReportKind | None = None, labelled: bool | None = None, limit: int = 50
    ) -> list[StoredReport]:
        """The newest reports first, optionally of one kind or (un)labelled only."""
        ...

    def add_label(self, label: ReportLabel) -> None:
        """Record a label (audited with its actor); NotFoundError for an unknown report."""
        ...

    def count_reports(self) -> dict[str, int]:
        """Reports by kind and by current label (``unlabelled`` for none)."""
        ...

    def iter_reports(self, ids: Sequence[int] | None = None) -> Iterable[StoredReport]:
        """Every report (or those of ``ids``) with its labels, oldest first."""
        ...
