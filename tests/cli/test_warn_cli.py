"""`telewarden warn run|list|outcome` and `telewarden eval warnings` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from telewarden.cli.main import app
from telewarden.core.errors import InvalidInputError, NotFoundError


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    args = ["sim", "--preset", "tiny", "--seed", "5", "--hours", "10", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def _ok(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _flag_file(sim_dir: Path, path: Path) -> Path:
    """Flags for every truth card at its first fraud event plus 10 minutes (a list import)."""
    cards = pl.read_parquet(sim_dir / "truth_cards.parquet").drop_nulls("first_fraud_at")
    cards.select(
        pl.col("msisdn").alias("subject"),
        pl.lit("msisdn").alias("kind"),
        pl.lit("case").alias("source"),
        (pl.col("first_fraud_at") + pl.duration(minutes=10))
        .dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        .alias("at"),
        pl.col("campaign_kind").alias("reason"),
    ).write_csv(path)
    return path


def test_run_with_a_flag_file_writes_outputs_stores_and_records_outcomes(
    home: Path, sim_dir: Path, tmp_path: Path
) -> None:
    flags = _flag_file(sim_dir, tmp_path / "flags.csv")
    out = tmp_path / "out"
    summary = json.loads(
        _ok(
            "warn",
            "run",
            "--records",
            str(sim_dir),
            "--out",
            str(out),
            "--flags",
            str(flags),
            "--no-detect",
            "--json",
        )
    )
    assert summary["flags_by_source"] == {"case": pl.read_csv(flags).height}
    assert summary["warnings"] > 0 and summary["stored"] == summary["warnings"]
    assert sum(summary["decisions"].values()) == summary["assessed"]
    outbox = pl.read_csv(out / "sms_outbox.csv")
    assert outbox.height == summary["deliveries"]["sms"]
    assert not outbox["text_zh"].str.contains("http").any()
    assert pl.read_csv(out / "queue.csv").height == summary["assessed"]

    listed = json.loads(_ok("warn", "list", "--json", "--limit", "5"))
    assert len(listed) == 5
    first = listed[0]["warning_id"]
    assert "reached" in _ok("warn", "outcome", first, "reached", "--note", "hotline call")
    bad = CliRunner().invoke(app, ["warn", "outcome", first, "maybe"])
    assert isinstance(bad.exception, InvalidInputError)  # main() renders it as exit 2
    assert "unknown outcome" in str(bad.exception)
    missing = CliRunner().invoke(app, ["warn", "outcome", "nope", "safe"])
    assert isinstance(missing.exception, NotFoundError)
    # A second run of the same flags stores nothing new: warnings are idempotent.
    again = json.loads(
        _ok(
            "warn",
            "run",
            "--records",
            str(sim_dir),
            "--out",
            str(out),
            "--flags",
            str(flags),
            "--no-detect",
            "--json",
        )
    )
    assert again["stored"] == 0


def test_run_on_a_missing_folder_is_invalid_input(home: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["warn", "run", "--records", str(tmp_path / "none")])
    assert isinstance(result.exception, InvalidInputError)


def test_eval_warnings_prints_the_required_figures(sim_dir: Path) -> None:
    out = json.loads(_ok("eval", "warnings", "--records", str(sim_dir), "--seeds", "5", "--json"))
    for key in (
        "victims_with_loss",
        "warned_before_loss",
        "median_lead_minutes",
        "warnings_sent",
        "warned_never_exposed",
    ):
        assert key in out
    assert out["warned_never_exposed"] == 0
    assert out["warned_before_loss"] <= out["victims_with_loss"]
    bad = CliRunner().invoke(app, ["eval", "warnings", "--seeds", "x"])
    assert isinstance(bad.exception, InvalidInputError)
