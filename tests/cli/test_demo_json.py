"""`telewarden demo --json` on a fresh simulation: stdout is exactly one JSON document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_json_on_a_fresh_simulation_prints_only_json(tmp_path: Path) -> None:
    env = {**os.environ, "TELEWARDEN_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    env.pop("TELEWARDEN_DATABASE_URL", None)
    out = tmp_path / "tiny"
    done = subprocess.run(
        [
            sys.executable, "-m", "telewarden.cli.main", "demo", "--preset", "tiny",
            "--seed", "11", "--out", str(out), "--fresh", "--json",
        ],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "manifest.json").exists()  # the day was simulated in this run
    figures = json.loads(done.stdout)  # the whole of stdout, nothing before or after
    assert "loop_events_per_second" in figures
    assert "fraud_calls_after_first_detection" in figures
    # The shipped scorer kept every active subscriber's features and, on a day's history,
    # scored nothing, and says why.
    assert figures["scorer"]["subscribers_with_features"] > 100
    assert figures["scorer"]["numbers_scored"] == 0
    assert "fewer than 28" in figures["scorer"]["withheld_because"]
    assert "Simulat" in done.stderr or "calls" in done.stderr  # the tables went to stderr
