"""`telewarden run` embedded: the whole loop with the number scorer, and without it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from telewarden.cli.main import app
from telewarden.core.errors import InvalidInputError


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    args = ["sim", "--preset", "tiny", "--seed", "8", "--hours", "12", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def _run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_the_loop_keeps_the_scorers_features_and_says_why_it_scores_nothing(
    home: Path, sim_dir: Path, tmp_path: Path
) -> None:
    with_scorer = _run("--records", str(sim_dir), "--out", str(tmp_path / "a"), "--batch", "500")
    scorer = with_scorer["scorer"]
    assert isinstance(scorer, dict)
    assert scorer["scorings"] >= 5  # hourly, where the night leaves hours without traffic
    assert scorer["numbers_scored"] == 0
    assert "fewer than 28" in str(scorer["withheld_because"])
    without = _run(
        "--records", str(sim_dir), "--out", str(tmp_path / "b"), "--batch", "500", "--no-scorer"
    )
    assert "scorer" not in without
    # The advisory scorer changes no verdict.
    for key in ("events", "blocked", "flags", "measures", "warnings"):
        assert with_scorer[key] == without[key]
    verdicts = [pl.read_parquet(tmp_path / d / "verdicts.parquet") for d in ("a", "b")]
    assert verdicts[0].equals(verdicts[1])


def test_the_shipped_model_may_not_act_in_the_loop(home: Path, sim_dir: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--records", str(sim_dir), "--scorer-acts"])
    assert isinstance(result.exception, InvalidInputError)
    assert "card allows it" in str(result.exception)
