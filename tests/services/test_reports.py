"""Reports and outcomes as data: strict import, analysts' labels, case outcomes, export.

The store behaviour runs on SQLite and on PostgreSQL (skipped when no server runs here).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.memory_disposal import MemoryDisposalStore
from telewarden.adapters.memory_reports import MemoryReportStore
from telewarden.adapters.storage.reports_sql import SqlReportStore
from telewarden.adapters.storage.sql import SqlStore
from telewarden.core.disposal.ports import Card
from telewarden.core.errors import InvalidInputError, NotFoundError
from telewarden.core.ports import FixedClock, Flag
from telewarden.core.reports import Label, LabelSource, ReportKind
from telewarden.services.audit import verify_audit
from telewarden.services.disposal import DisposalService
from telewarden.services.police import import_feedback
from telewarden.services.reports import (
    case_outcome_labels,
    export_training,
    import_reports,
    label_report,
    write_outcome_labels,
)
from telewarden.testing.reports import check_report_store

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
GOOD = [
    "text,msisdn,reporter,reported_at,claimed_type",
    "您的快递丢失，请点击链接办理理赔,+8613800001111,s1,2026-12-01T08:00:00+08:00,scam",
    ",+86 138 0000 2222,s2,2026-12-01T09:00:00Z,harassment",
    '"Your parcel is held, pay the fee at hxxp://parcel-fee.top",,s3,2026-12-01T10:00:00Z,',
]
BAD = [
    ",,s4,2026-12-01T10:00:00Z,scam",  # neither text nor number
    "hello,,s5,2026-12-01,scam",  # no time zone
    "hello,12345,s6,2026-12-01T10:00:00Z,scam",  # not E.164
    "hello,,,2026-12-01T10:00:00Z,scam",  # no reporter
    'hello,"unterminated,s7,2026-12-01T10:00:00Z,scam',  # a broken quote
]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tw.db'}"
    else:
        url = request.getfixturevalue("fresh_pg_url")
    opened = SqlStore.open(url, clock=FixedClock(T0))
    try:
        yield opened
    finally:
        opened.close()


def test_the_sql_report_store_passes_the_conformance_suite(store: SqlStore) -> None:
    check_report_store(lambda: SqlReportStore(store.engine, store.clock))
    assert verify_audit(store).ok


def test_the_memory_report_store_passes_the_conformance_suite_and_imports() -> None:
    memory = MemoryStore(clock=FixedClock(T0))
    check_report_store(lambda: MemoryReportStore(memory))
    assert verify_audit(memory).ok


def test_an_import_into_the_memory_twin_reconciles_the_same_way(tmp_path: Path) -> None:
    reports = MemoryReportStore(MemoryStore(clock=FixedClock(T0)))
    run = import_reports(reports, _file(tmp_path, GOOD + BAD), actor="ana")
    assert (run.rows_read, run.imported, run.quarantined) == (8, 3, 5)
    assert reports.count_reports()["unlabelled"] == 3


def _file(tmp_path: Path, lines: list[str], name: str = "reports.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_quarantines_bad_rows_with_line_and_reason_and_counts_reconcile(
    store: SqlStore, tmp_path: Path
) -> None:
    reports = SqlReportStore(store.engine, store.clock)
    run = import_reports(reports, _file(tmp_path, GOOD + BAD), actor="ana")
    assert run.rows_read == run.imported + run.quarantined == 8
    assert (run.imported, run.sms, run.msisdn, run.quarantined) == (3, 2, 1, 5)
    with run.quarantine.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["line"]) for r in rows] == [5, 6, 7, 8, 9]
    assert "neither text nor msisdn" in rows[0]["reason"]
    assert "no time zone" in rows[1]["reason"]
    assert "not E.164" in rows[2]["reason"]
    stored = reports.list_reports(limit=10)
    assert [r.report.kind for r in reversed(stored)] == [
        ReportKind.SMS,
        ReportKind.MSISDN,
        ReportKind.SMS,
    ]
    first = stored[-1]
    assert first.report.msisdn == "+8613800001111"
    assert first.report.reported_at == dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
    assert (first.report.source, first.report.line, first.imported_at) == ("reports.csv", 2, T0)
    assert stored[-2].report.msisdn == "+8613800002222"
    audit = store.audit_log(entity="reports")
    assert audit[0].after == {"rows": 3} and audit[0].actor == "ana"


def test_a_file_of_bad_rows_imports_nothing(store: SqlStore, tmp_path: Path) -> None:
    reports = SqlReportStore(store.engine, store.clock)
    with pytest.raises(InvalidInputError, match="every one of the 5 rows"):
        import_reports(reports, _file(tmp_path, [GOOD[0], *BAD]), actor="ana")
    assert reports.count_reports()["sms"] == 0
    with pytest.raises(InvalidInputError, match="more than --max-quarantine-share"):
        import_reports(reports, _file(tmp_path, GOOD + BAD), actor="ana", max_quarantine_share=0.5)
    assert reports.list_reports() == []


def test_a_file_without_text_or_msisdn_columns_is_refused(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'tw.db'}", clock=FixedClock(T0))
    reports = SqlReportStore(store.engine, store.clock)
    path = _file(tmp_path, ["reporter,reported_at", "s1,2026-12-01T08:00:00Z"])
    with pytest.raises(InvalidInputError, match="text or an msisdn column"):
        import_reports(reports, path, actor="ana")
    store.close()


def test_every_label_keeps_its_source_actor_and_time_and_is_audited(
    store: SqlStore, tmp_path: Path
) -> None:
    reports = SqlReportStore(store.engine, store.clock)
    import_reports(reports, _file(tmp_path, GOOD), actor="ana")
    sms_id = next(r.id for r in reports.list_reports() if r.report.kind is ReportKind.SMS)
    clock = FixedClock(T0 + dt.timedelta(hours=1))
    label_report(reports, sms_id, "scam", actor="ana", clock=clock, note="link to a fake site")
    clock.at += dt.timedelta(hours=1)
    label_report(reports, sms_id, "HAM", actor="sup", clock=clock)
    got = reports.get_report(sms_id)
    assert got.label is Label.HAM
    assert [(x.label, x.source, x.actor, x.labelled_at) for x in got.labels] == [
        (Label.SCAM, LabelSource.ANALYST, "ana", T0 + dt.timedelta(hours=1)),
        (Label.HAM, LabelSource.ANALYST, "sup", T0 + dt.timedelta(hours=2)),
    ]
    audit = store.audit_log(entity="report_label")
    assert [(a.action, a.actor) for a in reversed(audit)] == [("create", "ana"), ("update", "sup")]
    assert audit[0].before == {"label": "scam", "source": "analyst"}
    assert verify_audit(store).ok
    counts = reports.count_reports()
    assert (counts["ham"], counts["scam"], counts["unlabelled"]) == (1, 0, 2)
    with pytest.raises(InvalidInputError, match="scam or ham"):
        label_report(reports, sms_id, "spam", actor="ana", clock=clock)
    with pytest.raises(NotFoundError):
        label_report(reports, 999_999, "scam", actor="ana", clock=clock)


def test_export_writes_labelled_sms_only_unless_reporters_are_trusted(
    store: SqlStore, tmp_path: Path
) -> None:
    reports = SqlReportStore(store.engine, store.clock)
    out = tmp_path / "train.tsv"
    import_reports(reports, _file(tmp_path, GOOD), actor="ana")
    with pytest.raises(NotFoundError, match="no labelled SMS reports"):
        export_training(reports, out)
    assert not out.exists()
    sms = [r.id for r in reports.list_reports() if r.report.kind is ReportKind.SMS]
    label_report(reports, sms[0], "scam", actor="ana", clock=FixedClock(T0))
    done = export_training(reports, out)
    assert (done.scam, done.ham, done.skipped_unlabelled) == (1, 0, 1)
    lines = out.read_text("utf-8").splitlines()
    assert lines[0] == "label\ttext\treport\tsource\tlabelled_at"
    assert lines[1].startswith("scam\tYour parcel is held") and "\tanalyst\t" in lines[1]
    done = export_training(reports, out, trust_reporters=True)
    assert (done.scam, done.from_reporters) == (2, 1)
    assert "\tsubscriber\t" in out.read_text("utf-8")


def test_case_outcomes_become_labels_with_their_source(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    cases = MemoryDisposalStore(MemoryStore(clock=clock))
    numbers = ["+8613800000001", "+8613800000002", "+8613800000003"]
    cases.import_cards([Card(n, f"id{n[-1]}") for n in numbers], actor="ops", source_name="s")
    counter = itertools.count(1)
    service = DisposalService(cases, clock, make_id=lambda p: f"{p}{next(counter)}")
    ids = [
        service.take_flag(Flag(n, "msisdn", "sim_bank_imei", T0, "4 IMSIs"), key=n) for n in numbers
    ]
    assert all(ids)
    clock.at = T0 + dt.timedelta(hours=2)
    report = import_feedback(
        service, [(2, ids[0], "confirmed", "case 2026-77"), (3, ids[1], "not_fraud", "")], by="pol"
    )
    assert (report.confirmed, report.cleared) == (1, 1)
    service.appeal(str(ids[2]), grounds="mine", channel="hotline")
    clock.at = T0 + dt.timedelta(hours=3)
    service.decide_appeal(str(ids[2]), upheld=True, by="sup")
    labels = case_outcome_labels(cases.store, cases)
    got = {(o.msisdn, o.label, o.source) for o in labels}
    assert (numbers[0], Label.SCAM, LabelSource.POLICE_FEEDBACK) in got
    assert (numbers[1], Label.HAM, LabelSource.POLICE_FEEDBACK) in got
    assert (numbers[2], Label.HAM, LabelSource.APPEAL) in got
    assert all(o.labelled_at >= T0 + dt.timedelta(hours=2) for o in labels)
    assert [o.labelled_at for o in labels] == sorted(o.labelled_at for o in labels)
    out = tmp_path / "outcomes.csv"
    assert write_outcome_labels(labels, out) == 3
    with out.open(encoding="utf-8") as handle:
        rows = {r["msisdn"]: r for r in csv.DictReader(handle)}
    assert (rows[numbers[0]]["label"], rows[numbers[0]]["source"]) == ("1", "police_feedback")
    assert (rows[numbers[2]]["label"], rows[numbers[2]]["outcome"]) == ("0", "ham")
