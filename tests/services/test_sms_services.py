"""SMS use cases: the legal gate, the message reader's quarantine and counts, training reports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telewarden.adapters.files.messages import MessageFormat, open_messages
from telewarden.adapters.files.quarantine import read_quarantine
from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.sms_model import load_model, save_model
from telewarden.core.errors import ConfigurationError, InvalidInputError
from telewarden.core.ports import FixedClock
from telewarden.core.screening import PolicySettings
from telewarden.core.sms.classifier import FeatureConfig, fit_model
from telewarden.services.context import AppContext, Gates
from telewarden.services.sms_classify import ClassifierOptions, classify_file, explain_message
from telewarden.services.sms_training import train_from_file

AT = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
HAM = ["妈，我今晚不回家吃饭了", "明天早上八点开会", "ok see you later", "周末一起去爬山吧"] * 6
SPAM = ["全场五折优惠，点击领取，回复TD退订", "FREE prize, text WIN now", "楼盘特价，欢迎来电"] * 8


def _ctx(*, stored: bool | None = True, gate: bool | None = None) -> AppContext:
    """The gate opened explicitly in the stored policy, with a basis (it is closed by default).

    ``stored=None`` stores no policy at all: the built-in defaults.
    """
    store = MemoryStore(clock=FixedClock(AT))
    if stored is not None:
        basis = "test fixture: synthetic messages" if stored else None
        policy = PolicySettings(content_inspection=stored, content_legal_basis=basis)
        store.set_policy(policy, actor="test")
    gates = Gates() if gate is None else Gates(content_inspection=gate)  # None: the default
    return AppContext(store=store, clock=FixedClock(AT), gates=gates)


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> ClassifierOptions:
    texts = [f"{t} {i}" for i, t in enumerate(HAM + SPAM)]
    cfg = FeatureConfig(char_ngrams=(1, 3), word_ngrams=None, char_bits=14)
    model = fit_model(texts, [0] * len(HAM) + [1] * len(SPAM), config=cfg, c=10.0)
    path = save_model(model, tmp_path_factory.mktemp("m") / "m.npz")
    return ClassifierOptions(model=path, numbers=False)


@pytest.mark.parametrize(
    ("stored", "gate"),
    [
        pytest.param(False, None, id="stored-policy-off"),
        pytest.param(True, False, id="gate-off"),
        pytest.param(None, None, id="default-closed"),
    ],
)
def test_every_content_use_case_refuses_while_the_gate_is_closed(
    tmp_path: Path, options: ClassifierOptions, stored: bool | None, gate: bool | None
) -> None:
    ctx = _ctx(stored=stored, gate=gate)
    source = tmp_path / "in.tsv"
    source.write_text("label\ttext\nspam\tFREE prize\nham\thello\n", encoding="utf-8")
    calls = {
        "sms classify": lambda: classify_file(ctx, source, tmp_path / "o.tsv", options=options),
        "sms explain": lambda: explain_message(ctx, "FREE prize", options),
        "sms train": lambda: train_from_file(ctx, source, tmp_path / "m.npz"),
    }
    for what, call in calls.items():
        with pytest.raises(ConfigurationError, match="content inspection is switched off") as exc:
            call()
        assert str(exc.value).startswith(what)
        # Every refusal says how to open the gate lawfully.
        assert "--legal-basis" in str(exc.value) and "legal review" in str(exc.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tsv"]


def test_classify_quarantines_with_true_lines_and_counts_reconcile(
    tmp_path: Path, options: ClassifierOptions
) -> None:
    source = tmp_path / "in.csv"
    # Line 3 holds a quoted body spanning two lines, so the short row after it is on line 5.
    source.write_text(
        'id,text\n1,hello there\n2,"FREE prize\ntext WIN now"\n3\n4,楼盘特价，欢迎来电\n\n5,a,b\n',
        encoding="utf-8",
    )
    output = tmp_path / "out.csv"
    totals: list[int] = []
    steps: list[int] = []
    report = classify_file(
        _ctx(), source, output, options=options, on_total=totals.append, progress=steps.append
    )
    assert (report.rows_read, report.accepted, report.quarantined) == (6, 3, 3)
    assert sum(report.by_verdict.values()) == report.accepted
    assert sum(steps) == report.rows_read
    bad = read_quarantine(tmp_path / "out.quarantine.csv")
    assert [(b.line, b.reason) for b in bad] == [
        (5, "1 fields but the header has 2"),
        (7, "blank line"),
        (8, "3 fields but the header has 2"),
    ]
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert [r["id"] for r in rows] == ["1", "2", "4"]
    assert rows[1]["text"] == "FREE prize\ntext WIN now"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("fmt", ["tsv", "jsonl"])
def test_classify_shares_repeated_bodies_across_batches_and_writes_the_same_rows(
    tmp_path: Path, options: ClassifierOptions, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    import telewarden.services.sms_classify as service
    from telewarden.core.sms.inspector import SmsClassifier

    bodies = [*HAM[:4], *SPAM[:3], "call +44 7700 900123 now", "FREE entry 08452810075"]
    texts = [bodies[(i * 7) % len(bodies)] for i in range(60)]
    source = tmp_path / f"in.{fmt}"
    if fmt == "tsv":
        source.write_text(
            "id\ttext\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(texts)), encoding="utf-8"
        )
    else:
        source.write_text(
            "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)),
            encoding="utf-8",
        )
    classified: list[str] = []
    plain = SmsClassifier.classify_many

    def counting(self: SmsClassifier, batch: list[str]) -> list[object]:
        classified.extend(batch)
        return plain(self, batch)  # type: ignore[return-value]

    monkeypatch.setattr(SmsClassifier, "classify_many", counting)
    monkeypatch.setattr(service, "BATCH_ROWS", 8)
    shared = classify_file(_ctx(), source, tmp_path / f"shared.{fmt}", options=options)
    assert sorted(classified) == sorted(bodies)  # each distinct body once for the whole file
    # A memo too small to outlive a batch: every batch classifies its own bodies.
    monkeypatch.setattr(service, "MEMO_TEXTS", 1)
    classified.clear()
    alone = classify_file(_ctx(), source, tmp_path / f"alone.{fmt}", options=options)
    assert len(classified) > len(bodies)
    assert (tmp_path / f"shared.{fmt}").read_bytes() == (tmp_path / f"alone.{fmt}").read_bytes()
    assert shared.by_verdict == alone.by_verdict
    assert sum(shared.by_verdict.values()) == len(texts)


def test_classify_leaves_no_output_when_the_input_is_unusable(
    tmp_path: Path, options: ClassifierOptions
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": "hi"}) + "\n", encoding="utf-8")
    output = tmp_path / "out.csv"
    with pytest.raises(InvalidInputError, match="no such file"):
        classify_file(_ctx(), tmp_path / "missing.csv", output, options=options)
    with pytest.raises(InvalidInputError, match="no column 'body'"):
        classify_file(
            _ctx(), source, output, fmt=MessageFormat.CSV, text_column="body", options=options
        )
    assert not output.exists()


def test_train_quarantines_unknown_labels_and_stamps_the_clock(tmp_path: Path) -> None:
    source = tmp_path / "labelled.jsonl"
    rows = [{"label": "ham", "text": f"{t} {i}"} for i, t in enumerate(HAM)]
    rows += [{"label": "SPAM", "text": f"{t} {i}"} for i, t in enumerate(SPAM)]
    rows.insert(3, {"label": "maybe", "text": "odd"})
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + ["{broken"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = train_from_file(_ctx(), source, tmp_path / "mine.npz", c=10.0)
    assert (report.used, report.duplicates, report.quarantined) == (48, 0, 2)
    assert report.rows_read == len(lines)
    bad = read_quarantine(tmp_path / "mine.quarantine.csv")
    assert [(b.line, b.reason) for b in bad] == [
        (4, "unknown label 'maybe'"),
        (50, "invalid JSON: Expecting property name enclosed in double quotes"),
    ]
    assert load_model(tmp_path / "mine.npz").meta["trained_at"] == "2026-12-03T12:00:00+00:00"


def test_train_needs_both_classes(tmp_path: Path) -> None:
    source = tmp_path / "one.tsv"
    source.write_text("label\ttext\nham\ta\nham\tb\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="both ok and not-ok"):
        train_from_file(_ctx(), source, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


_field = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\r\n\x00"),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_field, min_size=0, max_size=4), max_size=12))
def test_reader_accepts_or_quarantines_every_row_at_its_line(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]
) -> None:
    path = tmp_path_factory.mktemp("r") / "in.tsv"
    path.write_text("\n".join(["id\ttext", *("\t".join(r) for r in rows)]) + "\n", "utf-8")
    with open_messages(path, MessageFormat.TSV, "text") as table:
        accepted = [row.line for row in table.rows]
        rejected = [row.line for row in table.rejected]
    good = [line for line, r in enumerate(rows, start=2) if len(r) == 2]
    assert accepted == good
    assert sorted(accepted + rejected) == list(range(2, len(rows) + 2))


@pytest.mark.parametrize("stored", [None, True], ids=["default-closed", "opened-with-basis"])
def test_screen_file_reads_message_bodies_only_behind_an_opened_gate(
    tmp_path: Path, stored: bool | None
) -> None:
    from telewarden.core.screening import ContentFinding
    from telewarden.services.screen_file import screen_file_from_store

    asked: list[str] = []

    class _Inspector:
        def inspect(self, text: str) -> ContentFinding:
            asked.append(text)
            return ContentFinding(verdict="scam", score=1.0, detail="test scam")

    ctx = _ctx(stored=stored)
    ctx.inspector_factory = _Inspector
    source = tmp_path / "events.csv"
    source.write_text("caller,callee,channel,text\n13900139000,13800138000,sms,pay now\n")
    screen_file_from_store(ctx, source, tmp_path / "v.csv", actor="test")
    [reason] = pl.read_csv(tmp_path / "v.csv")["reason"].to_list()
    if stored:
        assert (asked, reason) == (["pay now"], "content_scam")
    else:
        assert (asked, reason) == ([], "domestic")
