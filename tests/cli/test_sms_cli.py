"""`telewarden sms` and `telewarden eval sms` driven through the group's own Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from telewarden.adapters.sms_model import save_model
from telewarden.cli.sms import app, write_eval_block
from telewarden.core.errors import ConfigurationError
from telewarden.core.sms.classifier import FeatureConfig, fit_model

runner = CliRunner()
ETC = "【ETC】您的ETC已失效，请于24小时内登录 etc-renz.com 认证，逾期停用"
HAM = ["妈，我今晚不回家吃饭了", "明天早上八点开会", "ok see you later", "周末一起去爬山吧"] * 6
SPAM = ["全场五折优惠，点击领取，回复TD退订", "FREE prize, text WIN now", "楼盘特价，欢迎来电"] * 8


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts = [f"{t} {i}" for i, t in enumerate(HAM + SPAM)]
    cfg = FeatureConfig(char_ngrams=(1, 3), word_ngrams=None, char_bits=14)
    model = fit_model(texts, [0] * len(HAM) + [1] * len(SPAM), config=cfg, c=10.0)
    return save_model(model, tmp_path_factory.mktemp("m") / "m.npz")


def _args(model_file: Path) -> list[str]:
    return ["--model", str(model_file), "--no-numbers"]


def test_classify_tsv_keeps_columns_and_quarantines_bad_rows(
    tmp_path: Path, model_file: Path
) -> None:
    src = tmp_path / "in.tsv"
    src.write_text(
        f"id\ttext\n1\t{ETC}\n2\t妈，我今晚不回家吃饭了\n3\ttoo\tmany\tfields\n4\t全场五折优惠\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.tsv"
    result = runner.invoke(
        app, ["classify", "--input", str(src), "--output", str(out), *_args(model_file)]
    )
    assert result.exit_code == 0, result.output
    rows = [ln.split("\t") for ln in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == ["id", "text", "verdict", "score", "fraud_types", "indicators"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "4"]
    assert rows[1][2] == "scam" and rows[1][4].startswith("NV-05")
    assert any(i["value"] == "etc-renz.com" for i in json.loads(rows[1][5]))
    assert rows[2][2] == "ok"
    assert "read 4 = accepted 3 + quarantined 1" in result.output
    assert "messages/s" in result.output
    quarantine = (tmp_path / "out.tsv.quarantine.tsv").read_text(encoding="utf-8")
    assert "4\t4 fields, header has 2" in quarantine


def test_classify_jsonl_with_custom_text_column(tmp_path: Path, model_file: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"body": ETC, "msisdn": "+8613800138000"}, ensure_ascii=False)
        + "\nnot json\n"
        + json.dumps({"other": 1})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        ["classify", "-i", str(src), "-o", str(out), "--text-column", "body", *_args(model_file)],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1 and rows[0]["msisdn"] == "+8613800138000"
    assert rows[0]["verdict"] == "scam"
    assert "read 3 = accepted 1 + quarantined 2" in result.output


def test_classify_csv_missing_text_column_is_invalid_input(
    tmp_path: Path, model_file: Path
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(
        app, ["classify", "-i", str(src), "-o", str(tmp_path / "o.csv"), *_args(model_file)]
    )
    assert result.exit_code != 0
    assert "no column 'text'" in str(result.exception)


def test_content_inspection_off_refuses_to_read_messages(
    tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEWARDEN_CONTENT_INSPECTION", "false")
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path))
    result = runner.invoke(app, ["explain", ETC, *_args(model_file)])
    assert isinstance(result.exception, ConfigurationError)
    assert "content inspection is switched off" in str(result.exception)


def test_explain_prints_verdict_indicators_types_and_ngrams(model_file: Path) -> None:
    result = runner.invoke(app, ["explain", ETC, *_args(model_file)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("scam")
    assert "etc-renz.com" in result.output
    assert "NV-05" in result.output
    assert "n-gram" in result.output


def test_train_writes_a_model_that_classify_can_use(tmp_path: Path) -> None:
    src = tmp_path / "labelled.tsv"
    lines = ["label\ttext"] + [f"ham\t{t} {i}" for i, t in enumerate(HAM)]
    lines += [f"spam\t{t} {i}" for i, t in enumerate(SPAM)] + ["weird\tx", f"ham\t{HAM[0]} 0"]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "mine.npz"
    result = runner.invoke(app, ["train", "-i", str(src), "-o", str(out), "--c", "10"])
    assert result.exit_code == 0, result.output
    assert "used 48 + duplicates 1 + quarantined 1" in result.output
    explained = runner.invoke(app, ["explain", "全场五折优惠", "--model", str(out), "--no-numbers"])
    assert explained.output.split()[0] in ("spam", "scam")


def test_eval_block_rewrite_touches_only_its_block(tmp_path: Path) -> None:
    doc = tmp_path / "evaluation.md"
    doc.write_text(
        "# E\n<!-- BEGIN eval-sms: x -->\nold\n<!-- END eval-sms -->\n"
        "<!-- BEGIN eval-numbers -->\nkeep\n<!-- END eval-numbers -->\n",
        encoding="utf-8",
    )
    write_eval_block(doc, "new figures")
    text = doc.read_text(encoding="utf-8")
    assert "new figures" in text and "old" not in text and "keep" in text
