"""`telewarden sms` and `telewarden eval sms` driven through the group's own Typer app."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from telewarden.adapters.files.quarantine import read_quarantine
from telewarden.adapters.sms_model import save_model
from telewarden.cli.sms import app
from telewarden.core.errors import ConfigurationError
from telewarden.core.sms.classifier import FeatureConfig, fit_model

runner = CliRunner()
BASIS = "test fixture: synthetic messages, no subscriber content"
ETC = "【ETC】您的ETC已失效，请于24小时内登录 etc-renz.com 认证，逾期停用"
HAM = ["妈，我今晚不回家吃饭了", "明天早上八点开会", "ok see you later", "周末一起去爬山吧"] * 6
SPAM = ["全场五折优惠，点击领取，回复TD退订", "FREE prize, text WIN now", "楼盘特价，欢迎来电"] * 8


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TELEWARDEN_HOME: the SMS commands read the stored policy (the legal gate)."""
    home = tmp_path / "home"
    monkeypatch.setenv("TELEWARDEN_HOME", str(home))
    for name in ("TELEWARDEN_DATABASE_URL", "TELEWARDEN_CONFIG", "TELEWARDEN_CONTENT_INSPECTION"):
        monkeypatch.delenv(name, raising=False)
    # The gate is closed by default: these tests open it explicitly, with a basis.
    from telewarden.cli.main import app as main_app

    args = ["policy", "set", "content_inspection", "true", "--legal-basis", BASIS]
    opened = runner.invoke(main_app, args)
    assert opened.exit_code == 0, opened.output
    return home


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
    [bad] = read_quarantine(tmp_path / "out.quarantine.csv")
    assert (bad.line, bad.reason, bad.raw) == (
        4,
        "4 fields but the header has 2",
        ["3", "too", "many", "fields"],
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks its workers")
def test_classify_with_two_workers_writes_what_one_writes(
    tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import telewarden.services.sms_classify as service

    pools: list[int] = []

    class RecordedPool(service.ClassifierPool):
        def start(self) -> None:
            pools.append(self.workers)
            super().start()

    monkeypatch.setattr(service, "ClassifierPool", RecordedPool)
    src = tmp_path / "in.tsv"
    bodies = [ETC, *HAM, *SPAM]
    src.write_text(
        "id\ttext\n" + "".join(f"{i}\t{bodies[i % len(bodies)]} {i % 97}\n" for i in range(600)),
        encoding="utf-8",
    )
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.tsv"
        args = ["classify", "-i", str(src), "-o", str(out), "--workers", workers]
        result = runner.invoke(app, [*args, *_args(model_file)])
        assert result.exit_code == 0, result.output
        assert "read 600 = accepted 600 + quarantined 0" in result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert pools == [2]  # the small file alone would start none: --workers 2 did
    refused = runner.invoke(app, ["classify", "-i", str(src), "-o", str(out), "--workers", "0"])
    assert refused.exit_code == 2 and not (tmp_path / "out0.tsv").exists()


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


def test_every_content_command_refuses_by_default_saying_how_to_open_the_gate(
    tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path / "fresh"))  # nothing opened there
    src = tmp_path / "in.tsv"
    src.write_text(f"label\ttext\nspam\t{ETC}\nham\t{HAM[0]}\n", encoding="utf-8")
    commands = [
        ["classify", "-i", str(src), "-o", str(tmp_path / "out.tsv"), *_args(model_file)],
        ["explain", ETC, *_args(model_file)],
        ["train", "-i", str(src), "-o", str(tmp_path / "mine.npz")],
    ]
    for command in commands:
        result = runner.invoke(app, command)
        assert isinstance(result.exception, ConfigurationError), command
        message = str(result.exception)
        assert "content inspection is switched off" in message
        assert "policy set content_inspection true --legal-basis" in message
    assert not (tmp_path / "out.tsv").exists() and not (tmp_path / "mine.npz").exists()


def test_opening_the_gate_needs_a_legal_basis_which_is_stored_and_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telewarden.cli.main import app as main_app

    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path / "fresh"))
    refused = runner.invoke(main_app, ["policy", "set", "content_inspection", "true"])
    assert refused.exit_code != 0
    assert "needs its legal basis" in str(refused.exception)
    assert "--legal-basis" in str(refused.exception)
    basis = "AFL Art. 25/32; legal review ref LR-2026-14"
    args = ["policy", "set", "content_inspection", "true", "--legal-basis", basis]
    opened = runner.invoke(main_app, [*args, "--actor", "legal-officer"])
    assert opened.exit_code == 0, opened.output
    shown = json.loads(runner.invoke(main_app, ["policy", "show", "--json"]).output)
    assert shown["policy"]["content_inspection"] is True
    assert shown["policy"]["content_legal_basis"] == basis
    history = json.loads(runner.invoke(main_app, ["policy", "history", "--json"]).output)
    assert history[0]["actor"] == "legal-officer" and history[0]["at"]
    assert history[0]["after"]["content_legal_basis"] == basis
    assert history[0]["before"]["content_inspection"] is False
    closed = runner.invoke(main_app, ["policy", "set", "content_inspection", "false"])
    assert closed.exit_code == 0, closed.output
    shown = json.loads(runner.invoke(main_app, ["policy", "show", "--json"]).output)
    assert shown["policy"]["content_legal_basis"] is None
    direct = runner.invoke(main_app, ["policy", "set", "content_legal_basis", "anything"])
    assert direct.exit_code != 0 and "--legal-basis" in str(direct.exception)


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


def test_stored_policy_closes_the_gate_for_every_content_command(
    tmp_path: Path,
    model_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from telewarden.cli.main import app as main_app
    from telewarden.cli.main import main

    switched = runner.invoke(main_app, ["policy", "set", "content_inspection", "false"])
    assert switched.exit_code == 0, switched.output
    src = tmp_path / "in.tsv"
    src.write_text(f"label\ttext\nspam\t{ETC}\nham\t{HAM[0]}\n", encoding="utf-8")
    commands = [
        ["classify", "-i", str(src), "-o", str(tmp_path / "out.tsv"), *_args(model_file)],
        ["explain", ETC, *_args(model_file)],
        ["train", "-i", str(src), "-o", str(tmp_path / "mine.npz")],
    ]
    monkeypatch.setenv("COLUMNS", "1000")  # Rich would wrap the one line at 80 columns
    for command in commands:
        monkeypatch.setattr(sys, "argv", ["telewarden", "sms", *command])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        assert exited.value.code == 3, command
        assert captured.err.count("\n") == 1, captured.err
        assert f"error: sms {command[0]} reads message bodies" in captured.err
        assert "content inspection is switched off" in captured.err
        assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "in.tsv"]


def test_eval_sms_prints_figures_and_writes_only_the_output_file(
    small_sms_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telewarden.cli.main import app as main_app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEWARDEN_SHARED_DATA", raising=False)
    missing = runner.invoke(main_app, ["eval", "sms"])
    assert "pass --data or set TELEWARDEN_SHARED_DATA" in str(missing.exception)
    monkeypatch.setenv("TELEWARDEN_SHARED_DATA", str(small_sms_data))
    out = tmp_path / "figures" / "sms.json"
    args = ["eval", "sms", "--folds", "2", "--quick", "--limit", "60", "--output", str(out)]
    result = runner.invoke(main_app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert {k: v["n"] for k, v in figures["spam"].items()} == {"zh_sms": 60, "uci_sms": 60}
    assert figures["limit"] == 60 and figures["quick"] is True
    assert "Spam detection: shipped protocol, joint 2-fold CV" in result.stdout
    assert "fraud_news_zh: missing at" in result.stdout
    written = sorted(
        p.relative_to(tmp_path).as_posix()
        for p in tmp_path.rglob("*")
        if p.relative_to(tmp_path).parts[0] != "home"  # the fixture's store (the gate opened)
    )
    assert written == ["figures", "figures/sms.json"]


def test_importing_the_sms_commands_loads_no_model_library() -> None:
    import subprocess

    probe = (
        "import sys, telewarden.cli.sms, telewarden.cli.eval_sms; "
        "print(sorted(m for m in ('sklearn', 'scipy', 'lightgbm') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
