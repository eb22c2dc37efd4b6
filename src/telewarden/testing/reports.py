"""Conformance suite of the ``ReportStore`` port (``telewarden.core.reports``).

Every implementation (``MemoryReportStore``, ``SqlReportStore`` on SQLite and PostgreSQL, and
any a carrier writes) must pass :func:`check_report_store`: ids from 1 in import order,
newest-first listing with its filters, labels kept in order with source, actor and time, the
newest label counting, counts that add up, and NotFoundError for unknown reports.

Examples
--------
>>> from telewarden.adapters.memory import MemoryStore
>>> from telewarden.adapters.memory_reports import MemoryReportStore
>>> check_report_store(lambda: MemoryReportStore(MemoryStore()))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from telewarden.core.errors import NotFoundError
from telewarden.core.reports import (
    Label,
    LabelSource,
    Report,
    ReportKind,
    ReportLabel,
    ReportStore,
)

__all__ = ["check_report_store"]

_T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def check_report_store(make: Callable[[], ReportStore]) -> None:
    """Run every check on a fresh, empty store made by ``make``."""
    store = make()
    reports = [
        Report(ReportKind.SMS, "s1", _T0, text="转账到安全账户", claimed_type="scam", line=2),
        Report(ReportKind.MSISDN, "s2", _T0, msisdn="+8613800138000", line=3),
        Report(ReportKind.SMS, "s3", _T0, text="see you", msisdn="+447700900123", line=4),
    ]
    assert store.add_reports(reports, actor="ana", source_name="r.csv") == 3
    assert [r.id for r in store.iter_reports()] == [1, 2, 3], "ids from 1 in import order"
    first = store.get_report(1)
    assert first.report.text == "转账到安全账户" and first.report.claimed_type == "scam"
    assert (first.report.source, first.report.line) == ("r.csv", 2), "source and line kept"
    assert first.report.reported_at == _T0 and first.label is None
    assert [r.id for r in store.list_reports()] == [3, 2, 1], "newest first"
    assert [r.id for r in store.list_reports(kind=ReportKind.MSISDN)] == [2]
    assert [r.id for r in store.list_reports(limit=1)] == [3]
    at = _T0 + dt.timedelta(hours=1)
    store.add_label(ReportLabel(1, Label.SCAM, LabelSource.ANALYST, "ana", at, "fake bank"))
    store.add_label(ReportLabel(1, Label.HAM, LabelSource.ANALYST, "sup", at, ""))
    store.add_label(ReportLabel(3, Label.HAM, LabelSource.ANALYST, "ana", at, ""))
    labelled = store.get_report(1)
    assert [(x.label, x.actor) for x in labelled.labels] == [
        (Label.SCAM, "ana"),
        (Label.HAM, "sup"),
    ]
    assert labelled.labels[0].note == "fake bank" and labelled.labels[0].labelled_at == at
    assert labelled.label is Label.HAM, "the newest label counts"
    assert [r.id for r in store.list_reports(labelled=True)] == [3, 1]
    assert [r.id for r in store.list_reports(labelled=False)] == [2]
    assert [r.id for r in store.iter_reports([3, 1])] == [1, 3]
    assert store.count_reports() == {"sms": 2, "msisdn": 1, "scam": 0, "ham": 2, "unlabelled": 1}
    for action in (
        lambda: store.get_report(99),
        lambda: store.add_label(ReportLabel(99, Label.SCAM, LabelSource.ANALYST, "a", at)),
    ):
        try:
            action()
        except NotFoundError:
            continue
        raise AssertionError("an unknown report must raise NotFoundError")
