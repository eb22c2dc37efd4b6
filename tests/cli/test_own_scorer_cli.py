"""`numbers train` with outcomes, `numbers domain`, `detect --scorer-acts`, `eval own-scorer`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from telewarden.cli.main import app
from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import FEATURE_NAMES


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return " ".join(result.stdout.split())


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    _ok(CliRunner(), "sim", "--preset", "tiny", "--seed", "3", "--hours", "3",
        "--subscribers", "300", "--out", str(out))  # fmt: skip
    return out


def _model(tmp: Path, separable: bool) -> Path:
    rng = np.random.default_rng(0)
    n = 300
    y = (rng.random(n) < 0.3).astype(int)
    cols = {name: rng.normal(size=n) for name in FEATURE_NAMES}
    cols["voc_calltype1"] = rng.normal(loc=(6.0 if separable else 0.0) * y)
    features = tmp / "features.csv"
    pl.DataFrame(cols).select(
        pl.Series("msisdn", [f"+86138{i:08d}" for i in range(n)]), *FEATURE_NAMES
    ).write_csv(features)
    outcomes = tmp / "outcomes.csv"
    pl.DataFrame({"msisdn": [f"+86138{i:08d}" for i in range(n)], "label": y}).write_csv(outcomes)
    model = tmp / ("precise.json.gz" if separable else "weak.json.gz")
    stdout = _ok(CliRunner(), "numbers", "train", "--features", str(features), "--labels",
                 str(outcomes), "--output", str(model), "--rounds", "15", "--forest-trees", "5",
                 "--folds", "3")  # fmt: skip
    assert "3-fold CV: AUC" in stdout
    assert ("may act on its flags" in stdout) is separable
    return model


@pytest.fixture(scope="module")
def precise(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _model(tmp_path_factory.mktemp("precise"), separable=True)


def test_numbers_domain_accepts_a_models_own_data_and_refuses_a_simulated_day(
    precise: Path, sim_dir: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    stdout = _ok(runner, "numbers", "domain", "--features", str(precise.parent / "features.csv"),
                 "--model", str(precise))  # fmt: skip
    assert "in domain: median PSI" in stdout
    day = tmp_path / "day.csv"
    _ok(runner, "numbers", "features", "--calls", str(sim_dir / "calls.parquet"),
        "--subscribers", str(sim_dir / "subscribers.parquet"), "--output", str(day))  # fmt: skip
    result = runner.invoke(app, ["numbers", "domain", "--features", str(day)])
    assert result.exit_code == 1
    assert "OUT OF DOMAIN" in result.stdout


def test_detect_acts_only_on_a_model_whose_card_allows_it(
    precise: Path, sim_dir: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    args = ["detect", "--records", str(sim_dir), "--output", str(tmp_path / "d")]
    shipped = runner.invoke(app, [*args, "--scorer-acts"])
    assert isinstance(shipped.exception, InvalidInputError)
    assert "stays advisory" in str(shipped.exception)
    weak = _model(tmp_path, separable=False)
    refused = runner.invoke(app, [*args, "--model", str(weak), "--scorer-acts"])
    assert isinstance(refused.exception, InvalidInputError)
    assert "may not act on its flags" in str(refused.exception)
    # The synthetic training set is nothing like the simulated records: the domain check
    # withholds even an allowed model's flags.
    stdout = _ok(runner, *args, "--model", str(precise), "--scorer-acts")
    assert "out of the model's training domain" in stdout
    # Without the domain check: three hours of records withhold the flags unless it acts.
    stdout = _ok(runner, *args, "--model", str(precise), "--no-domain-check")
    assert "fewer than --min-history-days" in stdout
    stdout = _ok(runner, *args, "--model", str(precise), "--no-domain-check", "--scorer-acts")
    assert "(acting: --scorer-acts)" in stdout
    scores = pl.read_csv(tmp_path / "d" / "scores.csv")
    assert not scores["flag_withheld"].any()
    assert scores["flagged"].to_list() == (scores["score"] >= _threshold(precise)).to_list()


def _threshold(model: Path) -> float:
    from telewarden.adapters.number_model import load_model

    return load_model(model).threshold_


def test_eval_own_scorer_trains_on_one_day_and_scores_another(tmp_path: Path) -> None:
    model = tmp_path / "day3.json.gz"
    stdout = _ok(CliRunner(), "eval", "own-scorer", "--preset", "tiny", "--train-seed", "3",
                 "--test-seed", "4", "--folds", "2", "--rounds", "20", "--forest-trees", "10",
                 "--model-output", str(model), "--json")  # fmt: skip
    out = json.loads(stdout)
    own, shipped = out["own_next_day"], out["shipped_next_day"]
    assert (out["train_seed"], out["test_seed"]) == (3, 4)
    assert own["fraud"] == shipped["fraud"] > 0
    assert own["precision"] == own["true_flagged"] / own["flagged"]
    # The shipped model flags most ordinary subscribers of a simulated day and is out of its
    # domain there; the day-3 scorer flags a small share and is in its own domain.
    assert shipped["legit_flag_share"] > 0.3 > own["legit_flag_share"]
    assert out["own_domain"]["in_domain"] and not out["shipped_domain"]["in_domain"]
    assert model.is_file() and (tmp_path / "day3.card.md").is_file()
    same = CliRunner().invoke(app, ["eval", "own-scorer", "--train-seed", "3", "--test-seed", "3"])
    assert isinstance(same.exception, InvalidInputError)
