"""Benchmark of the streaming detectors against their previous code, run in the same process.

Run ``uv run python bench/detectors.py [--records DIR] [--baseline-rev REV] [--repeat N]``.

``--records`` is a folder written by ``telewarden sim`` (default: one simulated with
``--preset day --seed 7`` into a temporary folder). The baseline is
``telewarden/core/detectors/streaming.py`` as it was at ``--baseline-rev`` (read with
``git show``, so run it from a clone), loaded as a separate module; both replay the same calls
table with ``detect_stream``, alternately, and the alerts must be identical. Reported: calls
per CPU second (``time.process_time``, so a busy machine distorts it less than wall time) for
each, and their ratio, per repetition.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import polars as pl

from telewarden.core.detectors import streaming

ROOT = Path(__file__).resolve().parents[1]
MODULE = "src/telewarden/core/detectors/streaming.py"


def _baseline(rev: str, folder: Path) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{rev}:{MODULE}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    path = folder / "baseline_streaming.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_streaming", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_streaming"] = module
    spec.loader.exec_module(module)
    return module


def _replay(
    module: ModuleType, calls: pl.DataFrame, subscribers: pl.DataFrame
) -> tuple[list, float]:
    started = time.process_time()
    alerts = [a.as_row() for a in module.detect_stream(calls, subscribers, module.DetectorConfig())]
    return alerts, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path)
    parser.add_argument("--baseline-rev", default="8d89b9a")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        records = args.records
        if records is None:
            records = Path(tmp) / "day"
            subprocess.run(
                [sys.executable, "-m", "telewarden.cli.main", "sim", "--preset", "day",
                 "--seed", "7", "--out", str(records)],
                check=True, capture_output=True,
            )  # fmt: skip
        calls = pl.read_parquet(records / "calls.parquet")
        subscribers = pl.read_parquet(records / "subscribers.parquet")
        baseline = _baseline(args.baseline_rev, Path(tmp))
        print(f"{calls.height:,} calls; baseline {args.baseline_rev} vs working tree")
        for i in range(args.repeat):
            old, old_s = _replay(baseline, calls, subscribers)
            new, new_s = _replay(streaming, calls, subscribers)
            if [tuple(map(str, a)) for a in old] != [tuple(map(str, a)) for a in new]:
                raise SystemExit("the alerts differ from the baseline's")
            print(
                f"run {i + 1}: baseline {calls.height / old_s:,.0f} calls/CPU-s, "
                f"current {calls.height / new_s:,.0f} calls/CPU-s, ratio {old_s / new_s:.2f}x "
                f"({len(new)} identical alerts)"
            )


if __name__ == "__main__":
    main()
