"""Does the number scorer need its random-forest member? (issue #18 part 2, evidence script).

Run: ``uv run python scripts/forest_choice.py [--seeds 0 1 2] [--configs blend300 boost ...]
[--json OUT] [--merge A.json B.json ...] [--data DIR]``.

Cross-validates the shipped scorer's recipe (``NumberScorer``: boosting, optional forest,
inner-fold Platt calibration and F1-best threshold, graph features from training labels only)
with several forest members on the same stratified 5-fold outer splits (one split per outer
seed), and prints for each the test-fold AUC, precision, recall, fraud F1 and Brier at the
model's own operating point (its in-fold threshold), mean and spread (standard deviation) over
the folds, plus the paired per-fold difference against the first configuration. Configurations:

- ``blend300``: the shipped blend (300 forest trees of up to 512 leaves, ``FOREST_PARAMS``);
- ``boost``: the boosting member alone (``forest_rounds=0``);
- ``blend100``: the same forest with 100 trees;
- ``blend100x64``: 100 forest trees of at most 64 leaves (shallower, so cheaper to score).

``--json`` saves the per-fold figures; ``--merge`` prints one table from saved runs (so that
configurations can run in two processes on the same folds).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from telewarden.core.models.number_scorer import FOREST_PARAMS, NumberScorer, cross_validate
from telewarden.services.number_inputs import read_edges, read_features

CONFIGS: dict[str, dict[str, Any]] = {
    "blend300": {},
    "boost": {"forest_rounds": 0},
    "blend100": {"forest_rounds": 100},
    "blend100x64": {"forest_rounds": 100, "forest_params": dict(FOREST_PARAMS, num_leaves=64)},
}
METRICS = ("auc", "precision", "recall", "f1", "brier")


def _save(path: Path | None, seeds: list[int], results: dict[str, dict[str, list[float]]]) -> None:
    if path is not None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"seeds": seeds, "results": results}))
        temporary.replace(path)


def run(
    root: Path, seeds: list[int], configs: list[str], save: Path | None = None
) -> dict[str, dict[str, list[float]]]:
    """Per configuration, per metric, the test-fold figures over every outer seed's folds.

    With ``save``, the figures so far are written there after each seed of each configuration
    (``seeds`` in the file lists the seeds every configuration has completed).
    """
    frame = read_features(root / "sichuan" / "features.csv").frame
    edges = read_edges(root / "sichuan" / "edges.csv")
    y = frame["label"].to_numpy()
    x = frame.drop("label")
    out: dict[str, dict[str, list[float]]] = {}
    for seed in seeds:
        for name in configs:
            started = time.process_time()
            options = CONFIGS[name]
            report = cross_validate(
                x, y, edges, seed=seed, make_scorer=lambda o=options: NumberScorer(**o)
            )
            rows = out.setdefault(name, {m: [] for m in METRICS})
            for fold in report.folds:
                for m in METRICS:
                    rows[m].append(float(getattr(fold, m)))
            print(f"seed {seed} {name}: {time.process_time() - started:.0f} s CPU", file=sys.stderr)
            done = seeds[: seeds.index(seed) + (1 if name == configs[-1] else 0)]
            _save(save, done, {k: v for k, v in out.items()})
    return out


def table(results: dict[str, dict[str, list[float]]], configs: list[str]) -> str:
    """Mean +- standard deviation over folds, and the paired difference to the first config."""
    ref = results[configs[0]]
    lines = [
        "| model | folds | " + " | ".join(METRICS) + f" | paired AUC diff vs {configs[0]} |",
        "|---|---|" + "---|" * (len(METRICS) + 1),
    ]
    for name in configs:
        rows = results[name]
        cells = [f"{np.mean(rows[m]):.4f} +- {np.std(rows[m], ddof=1):.4f}" for m in METRICS]
        diff = np.asarray(rows["auc"]) - np.asarray(ref["auc"])
        better = int((diff > 0).sum())
        paired = (
            f"{diff.mean():+.4f} +- {diff.std(ddof=1):.4f} "
            f"(SE {diff.std(ddof=1) / np.sqrt(len(diff)):.4f}; ahead on {better} of {len(diff)})"
            if name != configs[0]
            else ""
        )
        lines.append(f"| {name} | {len(rows['auc'])} | " + " | ".join(cells) + f" | {paired} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--json", type=Path, default=None, help="save the per-fold figures here")
    ap.add_argument("--merge", type=Path, nargs="+", default=None, help="print saved runs")
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()
    if args.merge:
        results: dict[str, dict[str, list[float]]] = {}
        for path in args.merge:
            results.update(json.loads(path.read_text())["results"])
        # Runs saved part-way: compare only the folds every configuration has (same seeds in
        # the same order in every run, so the first n folds are the same splits).
        n = min(len(rows["auc"]) for rows in results.values())
        results = {k: {m: v[:n] for m, v in rows.items()} for k, rows in results.items()}
        print(table(results, [c for c in CONFIGS if c in results]))
        return 0
    root = args.data or Path(
        os.environ.get(
            "TELEWARDEN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    if not (root / "sichuan" / "features.csv").is_file():
        print(f"Sichuan data not found under {root} (pass --data)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = run(root, args.seeds, args.configs, args.json)
    print(table(results, args.configs))
    print(f"\nseeds {args.seeds}; {time.perf_counter() - started:.0f} s wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
