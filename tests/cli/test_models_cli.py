"""`telewarden models list|show|register|shadow|promote|rollback|drift` end to end on SQLite."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from typer.testing import CliRunner

from telewarden.cli.main import app
from telewarden.core.errors import ConfigurationError, ConflictError, InvalidInputError


def _run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def _fails(*args: str) -> BaseException | None:
    return CliRunner().invoke(app, list(args)).exception


def test_register_shadow_promote_drift_and_roll_back(home: Path, tmp_path: Path) -> None:
    from telewarden.adapters.sms_model import load_default_model, save_model

    basis = "test: synthetic messages"
    _run("policy", "set", "content_inspection", "true", "--legal-basis", basis)
    shipped = load_default_model()
    eager = copy.copy(shipped)
    eager.threshold_ = 1e-6
    eager.cjk_threshold_ = 1e-6 if shipped.cjk_threshold_ is not None else None
    one = save_model(shipped, tmp_path / "one.npz")
    two = save_model(eager, tmp_path / "two.npz")
    card = tmp_path / "card.md"
    card.write_text("# SMS model, December\n", encoding="utf-8")
    msgs = tmp_path / "msgs.tsv"
    msgs.write_text("text\nsee you at eight\n明天早上八点开会\nrunning late sorry\n", "utf-8")

    out = _run("models", "register", str(one), "--actor", "ana", "--data", "zh_sms=30000",
               "--metric", "zh_sms_f1=0.9479", "--card", str(card))  # fmt: skip
    assert "registered sms version 1" in out
    assert "version 2" in _run("models", "register", str(two), "--actor", "ana")
    assert isinstance(_fails("models", "register", str(one), "--data", "zh_sms"), InvalidInputError)
    shown = json.loads(_run("models", "show", "1"))
    assert shown["card"] == "# SMS model, December\n" and shown["metrics"] == {"zh_sms_f1": 0.9479}
    assert shown["data"] == [{"name": "zh_sms", "rows": 30000, "ids": ""}]

    refused = _fails("models", "promote", "1", "--actor", "ana", "--reason", "mine")
    assert isinstance(refused, ConflictError)
    assert "version 1" in _run("models", "promote", "1", "--actor", "sup", "--reason", "cv")

    shadow = json.loads(
        _run(
            "models", "shadow", "--candidate", "2", "--input", str(msgs), "--json", "--actor", "ana"
        )
    )
    assert (shadow["rows"], shadow["current"], shadow["candidate"]) == (3, 1, 2)
    assert shadow["agree"] == 0 and len(shadow["disagreements"]) == 3
    assert shadow["disagreements"][0]["line"] == 2

    assert "version 1 -> version 2" in _run("models", "promote", "2", "--actor", "sup",
                                            "--reason", "shadow looked fine")  # fmt: skip
    listed = json.loads(_run("models", "list", "--json"))
    assert [v["serving"] for v in listed["versions"]] == [False, True]
    out_file = tmp_path / "out.tsv"
    _run("sms", "classify", "--input", str(msgs), "--output", str(out_file))
    verdicts = [ln.split("\t")[1] for ln in out_file.read_text("utf-8").splitlines()[1:]]
    assert "ok" not in verdicts, "sms classify used the promoted version"
    drift = json.loads(_run("models", "drift", "--json"))
    assert drift["version"] == 2 and [d["rows"] for d in drift["days"]] == [6]
    assert "ALARM" not in _run("models", "drift")

    back = _run("models", "rollback", "--actor", "sup", "--reason", "too many flags")
    assert "version 2 -> version 1" in back
    two.write_bytes(two.read_bytes() + b"!")
    _run("models", "rollback", "--actor", "sup", "--reason", "back to shipped")
    damaged = _fails("models", "promote", "2", "--actor", "sup", "--reason", "again")
    assert isinstance(damaged, ConfigurationError) and "SHA-256" in str(damaged)
    assert isinstance(
        _fails("models", "rollback", "--actor", "sup", "--reason", "x"), ConflictError
    )
