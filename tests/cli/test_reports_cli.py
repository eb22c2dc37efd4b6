"""`telewarden reports import|label|list|show|export|outcomes` end to end on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from telewarden.cli.main import app
from telewarden.core.errors import InvalidInputError


def _run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_an_analyst_imports_labels_and_exports_reports(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "reports.tsv"
    path.write_text(
        "text\tmsisdn\treporter\treported_at\tclaimed_type\n"
        "【银行】您的账户异常，请登录 icbc-verify.top 解冻\t\ts1\t2026-12-01T08:00:00Z\tscam\n"
        "\t+8613800001111\ts2\t2026-12-01T09:00:00Z\tcall\n"
        "bad row\t\ts3\tyesterday\tscam\n",
        encoding="utf-8",
    )
    counts = json.loads(_run("reports", "import", str(path), "--json", "--actor", "ana"))
    assert counts["rows_read"] == 3
    assert (counts["imported"], counts["quarantined"]) == (2, 1)
    listed = json.loads(_run("reports", "list", "--kind", "sms", "--json"))
    assert listed["counts"]["unlabelled"] == 2
    (sms,) = listed["reports"]
    out = _run("reports", "label", str(sms["id"]), "--label", "scam", "--actor", "ana")
    assert "scam by ana" in out
    shown = json.loads(_run("reports", "show", str(sms["id"])))
    assert shown["labels"][0]["source"] == "analyst"
    refused = CliRunner().invoke(app, ["reports", "label", str(sms["id"]), "--label", "maybe"])
    assert isinstance(refused.exception, InvalidInputError)
    target = tmp_path / "train.tsv"
    assert "1 scam, 0 ham" in _run("reports", "export", "--output", str(target))
    assert target.read_text("utf-8").splitlines()[1].startswith("scam\t【银行】")
    assert "0 outcome labels" in _run("reports", "outcomes")
