"""`eval adaptation`: the curve's plumbing on a generated data folder (figures mean nothing here)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from telewarden.cli.main import app
from telewarden.core.errors import InvalidInputError
from telewarden.services.evaluation_adaptation import evaluate_adaptation

CAMPAIGN = "冒充领导、熟人类"


@pytest.fixture(scope="module")
def data(small_sms_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("adaptation_data")
    shutil.copytree(small_sms_data, root, dirs_exist_ok=True)
    folder = root / "fraud_texts_zh"
    folder.mkdir()
    lures = [f"我是你的领导{i}号，明天来我办公室，先帮我转账{i}千元给这个账户" for i in range(60)]
    other = [f"您好，您的公检法案件{i}需要配合调查，请下载会议软件" for i in range(20)]
    normal = [f"【银行】您的账户{i}已入账，感谢使用" for i in range(20)]
    with (folder / "fraud_texts_5class.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "text"])
        writer.writerows([CAMPAIGN, t] for t in lures)
        writer.writerows(["冒充公检法及政府机关类", t] for t in other)
        writer.writerows(["normal", t] for t in normal)
    return root


def test_the_curve_has_every_step_and_marks_the_ones_beyond_the_campaign(data: Path) -> None:
    result = evaluate_adaptation(data, steps=(10, 30, 500), folds=2, anchors=40)
    assert [s.reports for s in result.steps] == [0, 10, 30, 500]
    assert (result.n_campaign, result.n_held_out, result.n_pool) == (60, 18, 42)
    before, _, after, beyond = result.steps
    assert before.campaign_recall is not None and after.campaign_recall is not None
    assert after.campaign_recall >= before.campaign_recall
    assert beyond.campaign_recall is None and beyond.spam == {}
    assert set(after.spam) == {"zh_sms", "uci_sms"} and after.spam["zh_sms"].n == 100
    goal = result.goal()
    assert goal == {"reports": 500, "measured": False, "met": False}
    json.dumps(result.to_dict(), ensure_ascii=False)


def test_an_unknown_fraud_type_is_refused_with_the_known_ones(data: Path) -> None:
    with pytest.raises(InvalidInputError, match="冒充公检法及政府机关类"):
        evaluate_adaptation(data, campaign=("no such type",), folds=2)


def test_cli_eval_adaptation_prints_json(data: Path) -> None:
    args = ["eval", "adaptation", "--data", str(data), "--folds", "2", "--steps", "0,20"]
    result = CliRunner().invoke(app, [*args, "--anchors", "30", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    figures = json.loads(result.output)
    assert [s["reports"] for s in figures["steps"]] == [0, 20]
    assert figures["campaign"] == [CAMPAIGN] and figures["goal"]["measured"] is False
    bad = CliRunner().invoke(app, [*args[:-1], "zero,1"])
    assert isinstance(bad.exception, InvalidInputError)
