"""The Spark engine is optional: the embedded default starts and runs without pyspark or Java."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from telewarden.cli.main import app

runner = CliRunner()


def test_the_cli_and_the_batch_use_case_load_without_pyspark() -> None:
    code = (
        "import sys, telewarden.cli.main, telewarden.services.batch, "
        "telewarden.adapters.batch_tables; "
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')]; "
        "assert not loaded, loaded"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_an_unknown_engine_is_a_one_line_input_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["batch", "run", "--engine", "hadoop", "--input", str(tmp_path), "--output", "x"]
    )
    assert result.exit_code != 0
    assert "unknown engine 'hadoop'" in str(result.exception)


def test_an_input_without_contest_tables_is_refused(tmp_path: Path) -> None:
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "other.parquet")
    result = runner.invoke(
        app, ["batch", "run", "--input", str(tmp_path), "--output", str(tmp_path / "out")]
    )
    assert result.exit_code != 0
    assert "no contest table" in str(result.exception)
    assert not (tmp_path / "out").exists()
