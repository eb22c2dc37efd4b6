"""The report and label vocabulary of the learning loop (``core.reports``)."""

from __future__ import annotations

import datetime as dt

import pytest

from telewarden.core.errors import InvalidInputError
from telewarden.core.reports import (
    Label,
    LabelSource,
    Report,
    ReportKind,
    ReportLabel,
    StoredReport,
)

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def test_a_report_needs_a_zone_aware_time_and_a_text_or_an_msisdn() -> None:
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        Report(ReportKind.SMS, "s1", T0.replace(tzinfo=None), text="hi")
    with pytest.raises(InvalidInputError, match="text or an msisdn"):
        Report(ReportKind.SMS, "s1", T0)


def test_the_newest_label_counts() -> None:
    report = Report(ReportKind.MSISDN, "s1", T0, msisdn="+8613800138000")
    assert StoredReport(1, report, T0).label is None
    labels = (
        ReportLabel(1, Label.SCAM, LabelSource.ANALYST, "ana", T0),
        ReportLabel(1, Label.HAM, LabelSource.APPEAL, "sup", T0 + dt.timedelta(hours=1)),
    )
    assert StoredReport(1, report, T0, labels).label is Label.HAM


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("police_feedback", LabelSource.POLICE_FEEDBACK, id="known"),
        pytest.param("rumour", LabelSource.UNKNOWN, id="unknown"),
    ],
)
def test_label_sources_read_from_strings(raw: str, expected: LabelSource) -> None:
    assert LabelSource.from_str(raw) is expected
