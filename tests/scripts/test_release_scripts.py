"""Release tooling in scripts/: the model-card block of docs/evaluation.md and the default model."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from telewarden.adapters.sms_model import load_model
from telewarden.core.ports import FixedClock
from telewarden.services.evaluation_sms import SmsEvaluation, evaluate_sms

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report(small_sms_data: Path) -> SmsEvaluation:
    clock = FixedClock(dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    return evaluate_sms(small_sms_data, clock=clock, folds=2, quick=True)


def test_eval_block_rewrite_touches_only_its_block(tmp_path: Path) -> None:
    doc = tmp_path / "evaluation.md"
    doc.write_text(
        "# E\n<!-- BEGIN eval-sms: x -->\nold\n<!-- END eval-sms -->\n"
        "<!-- BEGIN eval-numbers -->\nkeep\n<!-- END eval-numbers -->\n",
        encoding="utf-8",
    )
    _script("write_evaluation_sms").write_eval_block(doc, "new figures")
    text = doc.read_text(encoding="utf-8")
    assert "new figures" in text and "old" not in text and "keep" in text


def test_evaluation_measures_every_set_and_names_the_missing_ones(
    report: SmsEvaluation, small_sms_data: Path
) -> None:
    assert {name: m.n for name, m in report.spam.items()} == {"zh_sms": 100, "uci_sms": 100}
    assert {name: m.n_positive for name, m in report.spam.items()} == {"zh_sms": 40, "uci_sms": 40}
    assert len(report.fold_thresholds) == 2
    assert (report.check.n_spam, report.check.n_ham) == (40, 40)
    assert sum(report.check.counts["ham"].values()) == 40
    assert report.fraud_texts is None and report.fraud_news is None
    assert set(report.missing) == {"fraud_texts_zh", "fraud_news_zh"}
    assert report.to_dict()["run_on"] == "2026-12-03"


def test_block_renders_every_section_from_the_report(report: SmsEvaluation) -> None:
    block = _script("write_evaluation_sms").render_block(report)
    assert block.startswith(
        "Command: `uv run python scripts/write_evaluation_sms.py --folds 2 --quick` (2026-12-03)."
    )
    m = report.spam["uci_sms"]
    assert f"| uci_sms | 100 | 40 | {m.precision:.4f} | {m.recall:.4f} | {m.f1:.4f} |" in block
    for heading in ("Spam detection", "generalisation check", "Fraud types", "Issue #17"):
        assert heading in block
    assert "fraud_news_zh missing at" in block
    b = report.spam_before["uci_sms"]
    assert f"| uci_sms | {b.f1:.4f} | {m.f1:.4f} | {b.precision:.4f} | {m.precision:.4f} |" in block
    for name in ("check_en_types.tsv", "check_zh_fbs.tsv", "check_wallet_scams.tsv"):
        assert f"| {name} | all |" in block


def test_out_of_distribution_checks_cover_every_row_of_their_sets(report: SmsEvaluation) -> None:
    sizes = {r.name: r.n for r in report.checks}
    assert sizes == {
        "check_en_types.tsv": 48,
        "check_zh_fbs.tsv": 40,
        "check_wallet_scams.tsv": 20,
        "check_legit_notices.tsv": 50,
    }
    for result in report.checks:
        assert sum(total for _, total in result.by_type.values()) == result.n
        assert sum(sum(c.values()) for c in result.counts.values()) == result.n
        right = sum(good for good, _ in result.by_type.values())
        assert right == result.n - len(result.wrong)


def test_default_model_script_writes_a_loadable_model_with_provenance(
    small_sms_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "default_model.npz"
    train = _script("train_default_sms_model")
    assert train.main(["--data", str(small_sms_data), "--output", str(output)]) == 0
    meta = load_model(output).meta
    assert meta["n_by_set"] == {"zh_sms": 100, "uci_sms": 100}
    assert meta["command"] == "uv run python scripts/train_default_sms_model.py"
    assert "trained on 200 messages (80 spam)" in capsys.readouterr().out
