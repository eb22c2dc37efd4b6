"""Issue 12 through the command line: --encoding and --max-quarantine-share are wired, a run
that quarantines every row exits non-zero, and a damaged model is exit 3 with one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from telewarden.cli.main import app, main
from telewarden.core.errors import InvalidInputError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TELEWARDEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEWARDEN_CONFIG", raising=False)
    return tmp_path / "home"


def test_lists_import_takes_encoding(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "deny.csv"
    path.write_bytes("pattern,reason\n13800138000,冒充客服\n".encode("gb18030"))
    runner = CliRunner()
    refused = runner.invoke(app, ["lists", "import", "deny", str(path)])
    assert isinstance(refused.exception, InvalidInputError)
    assert "--encoding gb18030" in str(refused.exception)
    done = runner.invoke(app, ["lists", "import", "deny", str(path), "--encoding", "gb18030"])
    assert done.exit_code == 0, done.output
    assert "imported 1" in done.output


def test_screen_file_exits_2_when_every_row_is_quarantined(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.csv"
    events.write_text("caller,callee\n,13800138000\n13900139000,\n")
    argv = ["telewarden", "screen", "file", str(events), "-o", str(tmp_path / "v.csv")]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "every one of the 2 rows was quarantined" in capsys.readouterr().err


def test_a_truncated_number_model_is_exit_3_with_one_line(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.json.gz"
    from telewarden.adapters import number_model

    shipped = Path(number_model.__file__).resolve().parents[1] / "data/numbers/model.json.gz"
    model.write_bytes(shipped.read_bytes()[:100_000])
    features = tmp_path / "f.csv"
    features.write_text("phone_no_m,voc_calltype1\na,1\n")
    argv = ["telewarden", "numbers", "score", "--features", str(features), "-o",
            str(tmp_path / "s.csv"), "--model", str(model)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 3
    err = capsys.readouterr().err
    # One message (Rich wraps a long path at the test terminal width), never a traceback.
    assert err.startswith("error:") and "truncated gzip data" in err and "Traceback" not in err
