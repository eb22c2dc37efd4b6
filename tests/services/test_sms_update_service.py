"""``sms train --base``: continue training a model file (or the shipped one) on new labels."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.sms_model import load_default_model, load_model
from telewarden.cli.main import app
from telewarden.core.errors import ConfigurationError, InvalidInputError
from telewarden.core.ports import FixedClock
from telewarden.core.screening import PolicySettings
from telewarden.services.context import AppContext, Gates
from telewarden.services.sms_training import update_from_file

AT = dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)
BASIS = "test fixture: the gate opened explicitly on synthetic messages"
LURES = [
    f"我是你的老同学{n}，现在急需一笔钱周转，请先转账到这个账户，明天还你"
    for n in "一二三四五六七八"
]
TRAFFIC = ["妈，我今晚不回家吃饭了", "明天早上八点开会", "ok see you later", "周末一起去爬山吧"]


def _ctx(*, gate: bool = True) -> AppContext:
    store = MemoryStore(clock=FixedClock(AT))
    store.set_policy(
        PolicySettings(content_inspection=True, content_legal_basis=BASIS), actor="test"
    )
    return AppContext(store=store, clock=FixedClock(AT), gates=Gates(content_inspection=gate))


def _files(tmp_path: Path) -> tuple[Path, Path]:
    reports = tmp_path / "reports.tsv"
    reports.write_text(
        "label\ttext\n"
        + "".join(f"scam\t{t}\n" for t in LURES[:6])
        + f"scam\t{LURES[0]}\n"  # a duplicate
        + "maybe\tsomething\n"  # quarantined
        + "ham\t我是你的老同学，周末一起吃饭吧\n",
        encoding="utf-8",
    )
    traffic = tmp_path / "traffic.tsv"
    traffic.write_text("text\n" + "".join(f"{t}\n" for t in TRAFFIC), encoding="utf-8")
    return reports, traffic


def test_updating_the_shipped_model_writes_a_valid_model_with_its_history(
    tmp_path: Path,
) -> None:
    reports, traffic = _files(tmp_path)
    out = tmp_path / "updated.npz"
    report = update_from_file(_ctx(), reports, out, base="shipped", anchors=traffic)
    assert report.rows_read == 9
    assert (report.used, report.positives, report.duplicates, report.quarantined) == (7, 6, 1, 1)
    assert report.anchors == 4 and report.weights_changed > 0
    shipped = load_default_model()
    updated = load_model(out)  # format version and checksum checked
    assert updated.meta["trained_on"] == shipped.meta["trained_on"]
    (entry,) = updated.meta["updates"]
    assert (entry["base"], entry["trained_on"], entry["anchors"]) == (
        "shipped",
        "reports.tsv",
        "traffic.tsv",
    )
    assert entry["at"] == AT.isoformat(timespec="seconds")
    lure = LURES[7:]
    assert updated.score_many(lure)[0] > shipped.score_many(lure)[0]
    # A second update continues from the file and records its checksum.
    again = tmp_path / "again.npz"
    update_from_file(_ctx(), reports, again, base=str(out))
    entries = load_model(again).meta["updates"]
    assert len(entries) == 2 and len(entries[-1]["base_sha256"]) == 64


def test_the_update_asks_the_legal_gate_and_refuses_to_overwrite_its_inputs(
    tmp_path: Path,
) -> None:
    reports, _ = _files(tmp_path)
    with pytest.raises(ConfigurationError):
        update_from_file(_ctx(gate=False), reports, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
    first = tmp_path / "m.npz"
    update_from_file(_ctx(), reports, first)
    with pytest.raises(InvalidInputError):
        update_from_file(_ctx(), reports, first, base=str(first))


def test_cli_sms_train_with_a_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TELEWARDEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEWARDEN_CONTENT_INSPECTION", raising=False)
    opened = CliRunner().invoke(
        app, ["policy", "set", "content_inspection", "true", "--legal-basis", BASIS]
    )
    assert opened.exit_code == 0, opened.output
    reports, traffic = _files(tmp_path)
    out = tmp_path / "cli.npz"
    args = ["sms", "train", "--input", str(reports), "--output", str(out), "--base", "shipped"]
    result = CliRunner().invoke(app, [*args, "--anchors", str(traffic)])
    assert result.exit_code == 0, (result.output, result.exception)
    printed = " ".join(result.output.split())
    assert "used 7 (6 not ok)" in printed and "4 anchor messages" in printed
    assert load_model(out).meta["updates"][0]["n_anchors"] == 4
    plain = ["sms", "train", "--input", str(reports), "--output", str(tmp_path / "x.npz")]
    refused = CliRunner().invoke(app, [*plain, "--anchors", str(traffic)])
    assert isinstance(refused.exception, InvalidInputError)
