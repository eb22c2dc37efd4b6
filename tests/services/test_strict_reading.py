"""Issue 12, strict reading and safe writing: every example of the issue, through the use cases.

Each test fails on the code before the issue: outputs overwrote inputs, an unterminated quote
swallowed the rows after it, GBK was decoded with replacement characters, NaN durations were
accepted, datetime Parquet columns were rejected row by row, runs that quarantined every row
exited 0, colliding columns and nested Parquet columns were tracebacks.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
import pytest

from telewarden.adapters.files.events import EventFileReader
from telewarden.adapters.files.lists import ListFileReader
from telewarden.adapters.files.quarantine import read_quarantine
from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.records_io import read_table as read_records
from telewarden.adapters.sms_model import load_default_model
from telewarden.core.errors import InvalidInputError
from telewarden.core.numbers import NumberIntel
from telewarden.core.ports import FixedClock
from telewarden.core.records import CALLS_SCHEMA, empty_frame
from telewarden.core.screening import ListKind, PolicySettings, Screener
from telewarden.services.context import AppContext, Gates
from telewarden.services.lists import import_list
from telewarden.services.number_features import compute_features
from telewarden.services.screen_file import screen_file
from telewarden.services.sms_classify import ClassifierOptions, classify_file

AT = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
BASIS = "test fixture: the gate opened explicitly on synthetic messages"
SCAM = "【公安局】您的账户涉嫌洗钱，请立即将资金转入安全账户 http://aq-zh.cn 验证"


def _ctx() -> AppContext:
    store = MemoryStore(clock=FixedClock(AT))
    store.set_policy(
        PolicySettings(content_inspection=True, content_legal_basis=BASIS), actor="test"
    )
    return AppContext(store=store, clock=FixedClock(AT), gates=Gates(content_inspection=True))


OPTIONS = ClassifierOptions(numbers=False)


# -- safe writing -------------------------------------------------------------------------


def test_sms_classify_refuses_an_output_that_is_a_link_to_its_input(tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text("id,text\n1,hello\n", encoding="utf-8")
    linked = tmp_path / "out.csv"
    os.link(source, linked)
    with pytest.raises(InvalidInputError, match="is the input"):
        classify_file(_ctx(), source, linked, options=OPTIONS)
    assert source.read_text(encoding="utf-8") == "id,text\n1,hello\n"


def test_numbers_features_refuses_to_overwrite_its_voc_input(tmp_path: Path) -> None:
    voc = tmp_path / "voc.csv"
    text = (
        "phone_no_m,opposite_no_m,calltype_id,start_datetime,call_dur,city_name,county_name,imei_m\n"
        "a,b,1,2020-01-01 10:00:00,30,成都,武侯区,i\n"
    )
    voc.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError, match="is the input"):
        compute_features(voc, contest={"voc": voc})
    assert voc.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("command", ["screen file", "sms classify", "numbers features"])
def test_an_output_folder_that_cannot_be_created_is_a_clear_error(
    tmp_path: Path, command: str
) -> None:
    # sms classify and numbers features raised a bare NotADirectoryError (a traceback).
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    out = blocker / "out"
    source = tmp_path / "in.csv"
    if command == "screen file":
        source.write_text("caller,callee\n13900139000,13800138000\n")
        run = lambda: screen_file(Screener(), source, out / "verdicts.csv")  # noqa: E731
    elif command == "sms classify":
        source.write_text("id,text\n1,hello\n")
        run = lambda: classify_file(_ctx(), source, out / "o.csv", options=OPTIONS)  # noqa: E731
    else:
        source.write_text(
            "phone_no_m,opposite_no_m,calltype_id,start_datetime,call_dur,city_name,"
            "county_name,imei_m\na,b,1,2020-01-01 10:00:00,30,c,d,i\n"
        )
        run = lambda: compute_features(out / "f.csv", contest={"voc": source})  # noqa: E731
    with pytest.raises(InvalidInputError, match="cannot create the folder"):
        run()


def test_a_failed_run_leaves_no_half_written_output(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("caller,callee\n13900139000,13800138000\n")
    output = tmp_path / "verdicts.csv"
    output.write_text("previous run\n")

    def fail(_rows: int) -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        screen_file(Screener(), events, output, progress=fail)
    assert output.read_text() == "previous run\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# -- unterminated quotes, field counts, line numbers ----------------------------------------


def test_an_unterminated_quote_in_a_deny_list_does_not_swallow_the_entries_after_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deny.csv"
    path.write_text('pattern,reason\n13800138000,a\n"13900139000,b\n13700137000,c\n13600136000,d\n')
    store = MemoryStore(clock=FixedClock(AT))
    run = import_list(store, ListKind.DENY, path, actor="t")
    assert run.report.accepted == 3 and run.report.quarantined == 1
    [bad] = read_quarantine(run.quarantine)
    assert bad.line == 3 and "quote" in bad.reason
    patterns = {e.pattern for e in store.list_entries(ListKind.DENY, limit=10)}
    assert patterns == {"+8613800138000", "+8613700137000", "+8613600136000"}


def test_an_unterminated_quote_in_an_event_file_quarantines_one_row(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text('caller,callee,text\n13900139000,13800138000,"hi\n+85223456789,13800138000,x\n')
    run = screen_file(Screener(), path, tmp_path / "v.csv")
    assert (run.summary.rows_read, run.summary.screened, run.summary.quarantined) == (2, 1, 1)
    verdicts = pl.read_csv(tmp_path / "v.csv", infer_schema=False)
    assert verdicts["line"].to_list() == ["3"]


def test_sms_classify_keeps_the_rows_after_an_unterminated_quote(tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text(f'id,text\n1,"{SCAM}\n2,hello\n3,"two\nlines"\n4,bye\n', encoding="utf-8")
    report = classify_file(_ctx(), source, tmp_path / "o.csv", options=OPTIONS)
    assert (report.accepted, report.quarantined) == (3, 1)
    [bad] = read_quarantine(tmp_path / "o.quarantine.csv")
    assert bad.line == 2 and "quote" in bad.reason
    out = pl.read_csv(tmp_path / "o.csv", infer_schema=False)
    assert out["id"].to_list() == ["2", "3", "4"]
    assert out["text"].to_list()[1] == "two\nlines"


def test_line_numbers_are_true_after_quoted_fields_with_embedded_newlines(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        'caller,callee,text\n13900139000,13800138000,"a\nb\nc"\n13900139000,,x\n'
        "13900139000,13800138000,y,extra\n"
    )
    run = screen_file(Screener(), path, tmp_path / "v.csv")
    assert run.quarantine_path is not None
    bad = read_quarantine(run.quarantine_path)
    assert sorted((b.line, b.reason) for b in bad) == [
        (5, "missing callee"),
        (6, "4 fields but the header has 3"),
    ]


@pytest.mark.parametrize("callee", ["", "   "])
def test_an_empty_callee_is_refused_by_a_single_screen(callee: str) -> None:
    # `screen call --callee ""` returned a verdict (a file screen quarantined the same row).
    from telewarden.core.screening import ScreeningEvent
    from telewarden.services.screening import screen_one

    ctx = _ctx()
    with pytest.raises(InvalidInputError, match="callee"):
        screen_one(ctx, ScreeningEvent("13900139000", callee), actor="t")
    assert ctx.store.recent_decisions() == []


def test_a_short_row_is_quarantined_not_padded(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("caller,callee,ingress\n13900139000,13800138000\n13900139000,13800138000,\n")
    chunks = list(EventFileReader(path))
    assert [q.reason for c in chunks for q in c.quarantined] == ["2 fields but the header has 3"]


def test_a_nul_byte_in_a_list_file_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "deny.csv"
    path.write_bytes(b"pattern,reason\n13800138000,ok\n13900139000,bad\x00reason\n")
    chunks = list(ListFileReader(path, NumberIntel(), default_source="f"))
    assert [q.line for c in chunks for q in c.quarantined] == [3]
    assert [e.pattern for c in chunks for e in c.entries] == ["+8613800138000"]


# -- encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_gbk_messages_are_refused_naming_encoding_then_read_right(
    tmp_path: Path, suffix: str
) -> None:
    row = f'{{"id": "1", "text": "{SCAM}"}}\n' if suffix == "jsonl" else f"id,text\n1,{SCAM}\n"
    utf8, gbk = tmp_path / f"u.{suffix}", tmp_path / f"g.{suffix}"
    utf8.write_text(row, encoding="utf-8")
    gbk.write_bytes(row.encode("gbk"))
    expected = classify_file(_ctx(), utf8, tmp_path / f"u-out.{suffix}", options=OPTIONS)
    assert expected.by_verdict["scam"] + expected.by_verdict["spam"] == 1
    with pytest.raises(InvalidInputError, match="--encoding gb18030"):
        classify_file(_ctx(), gbk, tmp_path / f"g-out.{suffix}", options=OPTIONS)
    got = classify_file(
        _ctx(), gbk, tmp_path / f"g-out.{suffix}", options=OPTIONS, encoding="gb18030"
    )
    assert got.by_verdict == expected.by_verdict
    assert SCAM in (tmp_path / f"g-out.{suffix}").read_text(encoding="utf-8")


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_byte_order_mark_does_not_break_sms_classify(tmp_path: Path, suffix: str) -> None:
    # The text column first: the BOM became part of its name ("no column 'text'").
    row = '{"text": "hello", "id": "1"}\n' if suffix == "jsonl" else "text,id\nhello,1\n"
    source = tmp_path / f"s.{suffix}"
    source.write_bytes(b"\xef\xbb\xbf" + row.encode())
    report = classify_file(_ctx(), source, tmp_path / f"o.{suffix}", options=OPTIONS)
    assert (report.accepted, report.quarantined) == (1, 0)


def test_a_gbk_list_file_is_refused_then_imported_with_encoding(tmp_path: Path) -> None:
    path = tmp_path / "deny.csv"
    path.write_bytes("pattern,reason\n13800138000,冒充公检法\n".encode("gbk"))
    store = MemoryStore(clock=FixedClock(AT))
    with pytest.raises(InvalidInputError, match="--encoding"):
        import_list(store, ListKind.DENY, path, actor="t")
    import_list(store, ListKind.DENY, path, actor="t", encoding="gbk")
    [entry] = store.list_entries(ListKind.DENY, limit=1)
    assert entry.reason == "冒充公检法"


# -- values, columns, Parquet types --------------------------------------------------------


def test_nan_inf_and_negative_durations_are_quarantined(tmp_path: Path) -> None:
    calls = empty_frame(CALLS_SCHEMA).with_columns(pl.all().cast(pl.String))
    path = tmp_path / "calls.csv"
    good = "1,13900139000,13800138000,2026-11-28T10:00:00Z,30,true,domestic"
    lines = [good, good.replace(",30,", ",NaN,"), good.replace(",30,", ",-5,")]
    lines.append(good.replace(",30,", ",😀,"))
    header = "id,caller,callee,start_at,duration_s,answered,ingress"
    path.write_text("\n".join([header, *lines]) + "\n")
    result = read_records(path, "calls")
    assert calls.width and result.accepted == 1
    assert result.quarantine["line"].to_list() == [3, 4, 5]


def test_nan_and_inf_features_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "features.csv"
    path.write_text("phone_no_m,a,b\nx,1,2\ny,NaN,2\nz,1,inf\n")
    from telewarden.services.number_inputs import read_features

    features = read_features(path)
    assert features.frame["phone_no_m"].to_list() == ["x"]
    assert features.quarantine["line"].to_list() == [3, 4]


def test_datetime_parquet_columns_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "calls.parquet"
    pl.DataFrame(
        {
            "id": ["1"],
            "caller": ["13900139000"],
            "callee": ["13800138000"],
            "start_at": [dt.datetime(2026, 11, 28, 10, 0)],  # naive, nanoseconds below
            "duration_s": [30],
            "answered": [True],
            "ingress": ["domestic"],
        }
    ).with_columns(pl.col("start_at").cast(pl.Datetime("ns"))).write_parquet(path)
    result = read_records(path, "calls")
    assert (result.accepted, result.quarantine.height) == (1, 0)
    assert result.frame["start_at"][0] == dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)


def test_datetime_parquet_columns_of_contest_tables_are_accepted(tmp_path: Path) -> None:
    # numbers features --voc voc.parquet: a real datetime start_datetime was cast to text with
    # fractional seconds and every row failed the contest's timestamp check.
    voc = tmp_path / "voc.parquet"
    pl.DataFrame(
        {
            "phone_no_m": ["a", "a"],
            "opposite_no_m": ["b", "c"],
            "calltype_id": [1, 2],
            "start_datetime": [dt.datetime(2020, 1, 1, 10), dt.datetime(2020, 1, 2, 11, 30)],
            "call_dur": [30, 40],
            "city_name": ["成都", "成都"],
            "county_name": ["武侯区", "武侯区"],
            "imei_m": ["i", "i"],
        }
    ).write_parquet(voc)
    report = compute_features(tmp_path / "features.csv", contest={"voc": voc})
    assert (report.numbers, report.rows_read, report.quarantined) == (1, 2, 0)


def test_record_tables_report_true_lines_after_quoted_newlines(tmp_path: Path) -> None:
    # Canonical record CSVs (numbers features --records) numbered rows, not lines: a quoted
    # field spanning two lines put every later line number one short.
    path = tmp_path / "calls.csv"
    good = "1,13900139000,13800138000,2026-11-28T10:00:00Z,30,true,domestic"
    path.write_text(
        "id,caller,callee,start_at,duration_s,answered,ingress\n"
        + good.replace("1,", '"x\ny",', 1)
        + "\n"
        + good.replace(",30,", ",abc,")
        + "\n"
    )
    result = read_records(path, "calls")
    assert result.quarantine["line"].to_list() == [2, 4]


def test_nested_parquet_columns_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pl.DataFrame({"caller": [["1", "2"]], "callee": [{"a": 1}]}).write_parquet(path)
    with pytest.raises(InvalidInputError, match="has type"):
        EventFileReader(path)
    calls = tmp_path / "calls.parquet"
    pl.DataFrame({"id": [["1"]], "caller": ["1"]}).write_parquet(calls)
    with pytest.raises(InvalidInputError, match="has type"):
        read_records(calls, "calls")


@pytest.mark.parametrize("header", ["caller,callee,Caller", "caller,callee,callee"])
def test_duplicate_or_case_colliding_columns_are_refused(tmp_path: Path, header: str) -> None:
    path = tmp_path / "events.csv"
    path.write_text(f"{header}\n13900139000,13800138000,x\n")
    with pytest.raises(InvalidInputError, match="collide"):
        EventFileReader(path)
    messages = tmp_path / "m.csv"
    messages.write_text("text,Text\na,b\n")
    with pytest.raises(InvalidInputError, match="collide"):
        classify_file(_ctx(), messages, tmp_path / "o.csv", options=OPTIONS)


# -- runs with nothing usable --------------------------------------------------------------


def test_a_run_that_quarantines_every_row_fails(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("caller,callee\n,1\n2,\n")
    from telewarden.services.screen_file import screen_file_from_store

    ctx = _ctx()
    with pytest.raises(InvalidInputError, match="every one of the 2 rows"):
        screen_file_from_store(ctx, path, tmp_path / "v.csv", actor="t")


def test_the_quarantine_share_threshold_fails_a_run(tmp_path: Path) -> None:
    path = tmp_path / "deny.csv"
    path.write_text("pattern\n13800138000\nnot-a-number\nalso-bad\n")
    store = MemoryStore(clock=FixedClock(AT))
    with pytest.raises(InvalidInputError, match="max-quarantine-share 0.5"):
        import_list(store, ListKind.DENY, path, actor="t", max_quarantine_share=0.5)
    assert store.count_entries(ListKind.DENY) == 0  # nothing imported
    run = import_list(store, ListKind.DENY, path, actor="t", max_quarantine_share=0.7)
    assert run.report.accepted == 1


def test_the_shipped_sms_model_is_loaded_for_these_tests() -> None:
    assert load_default_model().threshold_ > -10
