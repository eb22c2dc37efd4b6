"""Fuzz suite of issue 12: malformed CSV/TSV/JSONL/Parquet for every command that reads a file.

Each property drives one use case (the code behind a command) with generated files that mix
well-formed rows (written by the csv/json writers, so quotes, commas, line breaks, NUL-free
text, emoji and CJK are escaped correctly) with broken ones (unterminated quotes, wrong field
counts, NaN/inf/negative numbers, blank lines), optionally with a BOM, in GB18030, with
duplicate columns. The command must either refuse with a telewarden error whose message is one
line, or finish with counts that reconcile; it never raises anything else (a traceback), never
changes its input, and every row it accepts is exactly a well-formed row of the source.

Bounded: ``MAX_EXAMPLES`` per property and no deadline; the suite generates
``MAX_EXAMPLES * 5`` = 150 files per run (about 45 s on a loaded 2-core machine).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telewarden.adapters.files.quarantine import read_quarantine
from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.sms_model import save_model
from telewarden.core.errors import TelewardenError
from telewarden.core.ports import FixedClock
from telewarden.core.screening import ListKind, PolicySettings, Screener
from telewarden.core.sms.classifier import FeatureConfig, fit_model
from telewarden.services.context import AppContext, Gates
from telewarden.services.lists import import_list
from telewarden.services.number_features import compute_features
from telewarden.services.screen_file import screen_file
from telewarden.services.sms_classify import ClassifierOptions, classify_file

MAX_EXAMPLES = 30
AT = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
BASIS = "test fixture: the gate opened explicitly on synthetic messages"
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TEXT = st.text(alphabet=st.sampled_from(list("ab ,\"\n\r\t;xyz中文短信😀'")), max_size=12)
NUMBER_TEXT = st.sampled_from(
    ["13800138000", "+85223456789", "17012*", "", "NaN", "inf", "-5", "😀", "0086", "abc"]
)


@st.composite
def rows_and_breaks(draw: st.DrawFn, field: st.SearchStrategy[str]) -> list[tuple[str, str | None]]:
    """(id, value) rows; value None marks a broken row (written raw, malformed)."""
    n = draw(st.integers(1, 12))
    out: list[tuple[str, str | None]] = []
    for i in range(n):
        broken = draw(st.booleans()) and draw(st.booleans())
        out.append((f"r{i}", None if broken else draw(field)))
    return out


BROKEN = st.sampled_from(['"unterminated', "a,b,c,d", '"x"y', '"a""b', "\x00"])


def _csv_file(
    rows: list[tuple[str, str | None]], header: list[str], broken: list[str], delimiter: str = ","
) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    k = 0
    for row_id, value in rows:
        if value is None:
            buf.write(f"{row_id}{delimiter}{broken[k % len(broken)]}\n")
            k += 1
        else:
            writer.writerow([row_id, value])
    return buf.getvalue()


def _write(path: Path, text: str, bom: bool, gbk: bool) -> bytes:
    data = text.encode("gb18030") if gbk else text.encode("utf-8")
    if bom and not gbk:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)
    return data


def _one_line(exc: TelewardenError) -> None:
    assert str(exc) and "\n" not in str(exc).strip(), str(exc)


def _ctx() -> AppContext:
    store = MemoryStore(clock=FixedClock(AT))
    store.set_policy(
        PolicySettings(content_inspection=True, content_legal_basis=BASIS), actor="fuzz"
    )
    return AppContext(store=store, clock=FixedClock(AT), gates=Gates(content_inspection=True))


@pytest.fixture(scope="module")
def sms_options(tmp_path_factory: pytest.TempPathFactory) -> ClassifierOptions:
    texts = ["hello there", "see you", "FREE prize now", "click to win"] * 4
    cfg = FeatureConfig(char_ngrams=(1, 2), word_ngrams=None, char_bits=10)
    model = fit_model([f"{t} {i}" for i, t in enumerate(texts)], [0, 0, 1, 1] * 4, config=cfg)
    return ClassifierOptions(model=save_model(model, tmp_path_factory.mktemp("m") / "m.npz"))


@FUZZ
@given(
    rows=rows_and_breaks(TEXT),
    broken=st.lists(BROKEN, min_size=1, max_size=3),
    fmt=st.sampled_from(["csv", "tsv", "jsonl"]),
    bom=st.booleans(),
    gbk=st.booleans(),
)
def test_fuzz_sms_classify(
    tmp_path_factory: pytest.TempPathFactory,
    sms_options: ClassifierOptions,
    rows: list[tuple[str, str | None]],
    broken: list[str],
    fmt: str,
    bom: bool,
    gbk: bool,
) -> None:
    tmp = tmp_path_factory.mktemp("sms")
    if fmt == "jsonl":
        text = "".join(
            json.dumps({"id": i, "text": v}, ensure_ascii=False) + "\n"
            if v is not None
            else '{"id": "' + i + '", "text": ' + broken[0] + "\n"
            for i, v in rows
        )
    elif fmt == "tsv":  # TSV has no quoting: a well-formed value holds no tab or line break
        rows = [
            (i, None if v is None else v.replace("\t", " ").replace("\r", " ").replace("\n", " "))
            for i, v in rows
        ]
        text = "id\ttext\n" + "".join(
            f"{i}\t{v}\n" if v is not None else f"{i}\t{broken[0]}\tx\n" for i, v in rows
        )
    else:
        text = _csv_file(rows, ["id", "text"], broken)
    source = tmp / f"in.{fmt}"
    data = _write(source, text, bom, gbk)
    good = {i: v for i, v in rows if v is not None}
    try:
        report = classify_file(_ctx(), source, tmp / f"out.{fmt}", options=sms_options)
    except TelewardenError as exc:
        _one_line(exc)
        assert gbk or not good or "quarantined" in str(exc), str(exc)
        assert source.read_bytes() == data
        return
    assert source.read_bytes() == data
    assert report.accepted + report.quarantined == report.rows_read
    out = tmp / f"out.{fmt}"
    if fmt == "jsonl":
        accepted = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    else:
        delimiter = "\t" if fmt == "tsv" else ","
        quoting = csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL
        with out.open(encoding="utf-8", newline="") as handle:
            accepted = list(csv.DictReader(handle, delimiter=delimiter, quoting=quoting))
    assert len(accepted) == report.accepted
    for row in accepted:
        assert row["id"] in good and row["text"] == good[row["id"]], (row, good)


@FUZZ
@given(
    rows=rows_and_breaks(NUMBER_TEXT),
    broken=st.lists(BROKEN, min_size=1, max_size=3),
    duplicate=st.booleans(),
    bom=st.booleans(),
)
def test_fuzz_screen_file(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, str | None]],
    broken: list[str],
    duplicate: bool,
    bom: bool,
) -> None:
    tmp = tmp_path_factory.mktemp("events")
    header = ["caller", "CALLEE" if duplicate else "callee"] + (["Callee"] if duplicate else [])
    text = _csv_file(
        [(v or "", "13800138000") if v is not None else ("x", None) for _, v in rows],
        header[:2],
        broken,
    )
    if duplicate:
        text = "caller,CALLEE,Callee\n" + text.split("\n", 1)[1]
    source = tmp / "events.csv"
    data = _write(source, text, bom, gbk=False)
    try:
        run = screen_file(Screener(), source, tmp / "v.csv")
    except TelewardenError as exc:
        _one_line(exc)
        assert source.read_bytes() == data
        return
    assert not duplicate
    assert source.read_bytes() == data
    summary = run.summary
    assert summary.screened + summary.quarantined == summary.rows_read
    verdicts = pl.read_csv(tmp / "v.csv", infer_schema=False)
    assert verdicts.height == summary.screened
    callers = {v.strip() for v in (v for _, v in rows) if v is not None}
    assert set(verdicts["caller"].to_list()) <= callers


@FUZZ
@given(rows=rows_and_breaks(NUMBER_TEXT), broken=st.lists(BROKEN, min_size=1, max_size=3))
def test_fuzz_parquet_events(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, str | None]],
    broken: list[str],
) -> None:
    tmp = tmp_path_factory.mktemp("pq")
    source = tmp / "events.parquet"
    callers = [v if v is not None else broken[0] for _, v in rows]
    nested = len(rows) % 3 == 0
    frame = pl.DataFrame({"caller": callers, "callee": ["13800138000"] * len(rows)})
    if nested:
        frame = frame.with_columns(
            pl.col("callee").map_elements(lambda v: [v], return_dtype=pl.List(pl.String))
        )
    frame.write_parquet(source)
    data = source.read_bytes()
    try:
        run = screen_file(Screener(), source, tmp / "v.parquet")
    except TelewardenError as exc:
        _one_line(exc)
        assert nested or all(not c.strip() for c in callers), str(exc)
        return
    finally:
        assert source.read_bytes() == data
    assert run.summary.screened + run.summary.quarantined == run.summary.rows_read == len(rows)


@FUZZ
@given(
    rows=rows_and_breaks(NUMBER_TEXT),
    broken=st.lists(BROKEN, min_size=1, max_size=3),
    gbk=st.booleans(),
)
def test_fuzz_lists_import(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, str | None]],
    broken: list[str],
    gbk: bool,
) -> None:
    tmp = tmp_path_factory.mktemp("lists")
    text = _csv_file(
        [(v, "理由") if v is not None else ("13900139000", None) for _, v in rows],
        ["pattern", "reason"],
        broken,
    )
    source = tmp / "deny.csv"
    data = _write(source, text, bom=False, gbk=gbk)
    store = MemoryStore(clock=FixedClock(AT))
    try:
        run = import_list(store, ListKind.DENY, source, actor="fuzz")
    except TelewardenError as exc:
        _one_line(exc)
        assert store.count_entries(ListKind.DENY) == 0
        assert source.read_bytes() == data
        return
    assert source.read_bytes() == data
    report = run.report
    assert report.reconciles
    assert report.accepted + report.quarantined == report.rows_read
    for entry in store.list_entries(ListKind.DENY, limit=100):
        assert entry.reason == "理由"
    if report.quarantined:
        assert all(q.line >= 2 for q in read_quarantine(run.quarantine))


@FUZZ
@given(
    durations=st.lists(
        st.sampled_from(["30", "0", "NaN", "inf", "-inf", "-5", "1e3", "😀", "", '"7"', "3.5"]),
        min_size=1,
        max_size=10,
    ),
    broken=st.booleans(),
)
def test_fuzz_numbers_features(
    tmp_path_factory: pytest.TempPathFactory, durations: list[str], broken: bool
) -> None:
    tmp = tmp_path_factory.mktemp("voc")
    lines = [
        "phone_no_m,opposite_no_m,calltype_id,start_datetime,call_dur,city_name,county_name,imei_m"
    ]
    for i, d in enumerate(durations):
        lines.append(f"n{i % 3},o{i},1,2020-01-0{1 + i % 9} 10:00:00,{d},成都,武侯区,i{i}")
    if broken:
        lines.insert(2, 'n9,"o,1,2020-01-01 10:00:00,5,成都,武侯区,i')
    source = tmp / "voc.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = source.read_bytes()
    try:
        report = compute_features(tmp / "features.csv", contest={"voc": source})
    except TelewardenError as exc:
        _one_line(exc)
        assert source.read_bytes() == data
        return
    assert source.read_bytes() == data
    assert report.accepted + report.quarantined == report.rows_read == len(durations) + broken
    features = pl.read_csv(tmp / "features.csv")
    numeric = features.select(pl.exclude("phone_no_m")).cast(pl.Float64)
    assert not any(
        numeric[c].is_nan().any() or numeric[c].is_infinite().any() for c in numeric.columns
    )
