"""`telewarden sim`: one command that writes a simulated carrier to a directory.

The tests drive the ``sim`` group's own Typer app (what ``telewarden sim`` runs), so they do not
depend on every other command group importing cleanly.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from telewarden.cli.sim import app
from telewarden.core.errors import InvalidInputError

runner = CliRunner()
SMALL = ["--preset", "tiny", "--hours", "2", "--subscribers", "300"]


def test_sim_writes_parquet_tables_and_reports_what_it_injected(tmp_path: Path) -> None:
    result = runner.invoke(app, [*SMALL, "--seed", "7", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("calls", "sms", "usage", "subscribers", "accounts", "optins", "truth_cards",
                 "truth_events", "truth_victims", "truth_campaigns"):  # fmt: skip
        assert (tmp_path / f"{name}.parquet").is_file(), name
    assert "Injected fraud" in result.output
    assert "records/s" in result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 7
    assert manifest["counts"]["calls"] == pl.read_parquet(tmp_path / "calls.parquet").height


def test_sim_writes_csv_on_request(tmp_path: Path) -> None:
    result = runner.invoke(app, [*SMALL, "--format", "csv", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "calls.csv").is_file()
    assert not (tmp_path / "calls.parquet").exists()


def test_sim_writes_the_contest_tables_for_sichuan(tmp_path: Path) -> None:
    result = runner.invoke(app, [*SMALL, "--format", "sichuan", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("user", "voc", "sms", "app"):
        assert (tmp_path / f"{name}.csv").is_file(), name
    assert (tmp_path / "truth_cards.parquet").is_file()
    # Contents, not just files: the contest's columns, rows its own validation accepts whole,
    # every caller a user, and the labels those of the injected fraud cards.
    from telewarden.core.features.sichuan import TABLE_COLUMNS, validate_table

    tables = {
        name: pl.read_csv(tmp_path / f"{name}.csv", infer_schema=False)
        for name in ("user", "voc", "sms", "app")
    }
    for name, frame in tables.items():
        assert set(TABLE_COLUMNS[name]) <= set(frame.columns), name
        assert frame.height > 0, name
        ok, bad = validate_table(name, frame)
        assert (ok.height, bad.height) == (frame.height, 0), (name, bad.head())
    users = set(tables["user"]["phone_no_m"].to_list())
    assert set(tables["voc"]["phone_no_m"].to_list()) <= users
    labels = tables["user"]["label"].cast(pl.Int64)
    assert set(labels.to_list()) <= {0, 1} and labels.sum() > 0


def test_disable_switches_a_campaign_off(tmp_path: Path) -> None:
    # A day of the tiny preset runs every campaign kind; without that, a --disable that does
    # nothing would pass unseen (issue 12).
    day = ["--preset", "tiny", "--hours", "24", "--subscribers", "300", "--seed", "7"]

    def kinds(*extra: str) -> set[str]:
        out = tmp_path / str(len(extra))
        result = runner.invoke(app, [*day, *extra, "--out", str(out)])
        assert result.exit_code == 0, result.output
        return set(pl.read_parquet(out / "truth_events.parquet")["campaign_kind"].to_list())

    everything = kinds()
    assert {"sim_bank", "wangiri", "robocall"} <= everything
    disabled = kinds("--disable", "sim_bank", "--disable", "wangiri")
    assert disabled == everything - {"sim_bank", "wangiri"}


def test_unknown_preset_is_an_input_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--preset", "galaxy", "--out", str(tmp_path)])
    assert isinstance(result.exception, InvalidInputError)


@pytest.mark.parametrize("option", ["--format", "--disable"], ids=["format", "disable"])
def test_bad_choice_is_a_usage_error(tmp_path: Path, option: str) -> None:
    result = runner.invoke(app, [*SMALL, option, "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2


ADAPTIVE = ["--preset", "tiny", "--hours", "6", "--subscribers", "800", "--adaptive"]


def test_adaptive_sim_with_the_live_loop_writes_outcomes_and_reactions(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, [*ADAPTIVE, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    outcomes = pl.read_parquet(tmp_path / "truth_outcomes.parquet")
    assert "cc-gamer" in outcomes["campaign_id"].to_list()
    assert outcomes["cards_burnt"].sum() > 0  # the Wangiri numbers ring at 2-6 h and are caught
    assert pl.read_parquet(tmp_path / "truth_reactions.parquet").height > 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["adaptive"]["loop"] is True and manifest["adaptive"]["measured_numbers"] > 0
    # the loop's verdicts: calls and SMS rejected (never more than attempted), victims spared
    assert outcomes["rejected"].sum() > 0 and (outcomes["rejected"] <= outcomes["attempts"]).all()
    assert outcomes["victims_prevented"].sum() > 0
    assert "Outcomes per campaign" in result.output


def test_adaptive_sim_without_a_loop_blocks_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, [*ADAPTIVE, "--no-loop", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    outcomes = pl.read_parquet(tmp_path / "truth_outcomes.parquet")
    assert outcomes["blocked"].sum() == 0 and outcomes["cards_burnt"].sum() == 0
    assert pl.read_parquet(tmp_path / "truth_reactions.parquet").height == 0


def test_plain_sim_writes_no_outcome_tables(tmp_path: Path) -> None:
    result = runner.invoke(app, [*SMALL, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "truth_outcomes.parquet").exists()


def test_a_step_that_does_not_divide_an_hour_is_an_input_error(tmp_path: Path) -> None:
    result = runner.invoke(app, [*ADAPTIVE, "--step-s", "7", "--out", str(tmp_path)])
    assert isinstance(result.exception, InvalidInputError)
