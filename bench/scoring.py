"""Throughput and memory of ``numbers score``: scores at tree speed, reasons only for flags.

Run: ``uv run python bench/scoring.py [--small] [--rows N] [--stream-rows N] [--data DIR]``.

Builds distinct feature rows from the published Sichuan features (``--data``,
``$TELEWARDEN_SHARED_DATA`` or ``../shared/data``): rows drawn with replacement and every number
jittered by a few per cent, so no two rows are alike and nothing can be cached. Then, in the
same process and with the shipped model:

1. the previous code's path (every flagged row explained by exact TreeSHAP on one thread, as
   ``score_many`` did before explanations became optional): the baseline, on a sample;
2. scores alone (``explain="none"``) on one thread and on every core;
3. scores plus reasons for the flagged share (``explain="flagged"``) on every core, the share
   being what the model flags on these rows (about a third on Sichuan, far above a carrier's);
4. ``score_numbers`` end to end, streamed from a Parquet file in ``--chunk-rows`` chunks, at
   ``--stream-rows`` and at a fifth of it, each in a fresh subprocess, reporting its peak
   resident memory: equal peaks mean memory is bounded by the chunk, not by the file.

Rates are given from the wall clock and from the CPU time of the process (on a shared machine
the wall clock counts time spent waiting for a core; CPU time does not), with ratios against
the baseline measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]


def synthetic_features(source: pl.DataFrame, rows: int, seed: int = 0) -> pl.DataFrame:
    """``rows`` distinct feature rows: Sichuan rows resampled, numbers jittered by ~5 %."""
    from telewarden.core.features.sichuan import FEATURE_NAMES

    rng = np.random.default_rng(seed)
    picks = rng.integers(0, source.height, rows)
    base = source.select(FEATURE_NAMES)[picks]
    jitter = {
        n: base[n].cast(pl.Float64).to_numpy() * (1 + 0.05 * rng.standard_normal(rows))
        for n in FEATURE_NAMES
    }
    return pl.DataFrame(jitter).with_columns(
        pl.Series("phone_no_m", [f"s{i:09d}" for i in range(rows)])
    )


def _timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def _stream_child(features: str, output: str, chunk_rows: str) -> None:
    """Score a file end to end (``score_numbers``) and print seconds and peak RSS as JSON."""
    from telewarden.services.number_scoring import score_numbers

    c0, t0 = time.process_time(), time.perf_counter()
    report = score_numbers(Path(features), Path(output), explain="none", chunk_rows=int(chunk_rows))
    print(
        json.dumps(
            {
                "rows": report.numbers,
                "wall": time.perf_counter() - t0,
                "cpu": time.process_time() - c0,
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="20,000 rows, 100,000 streamed")
    parser.add_argument("--rows", type=int, default=100_000, help="rows scored in process")
    parser.add_argument("--baseline-rows", type=int, default=1_000)
    parser.add_argument("--stream-rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--chunk-rows", type=int, default=100_000, help="rows per streamed chunk")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _stream_child(*args.child)
        return
    if args.small:
        args.rows, args.stream_rows, args.baseline_rows = 20_000, 100_000, 500
        args.chunk_rows = 10_000
    data = args.data or Path(
        os.environ.get("TELEWARDEN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    )
    source_path = data / "sichuan" / "features.csv"
    if not source_path.is_file():
        sys.exit(f"shared data not found under {data} (pass --data)")

    from telewarden.adapters.number_model import load_default_model

    scorer = load_default_model()
    source = pl.read_csv(source_path, infer_schema_length=10_000)
    frame = synthetic_features(source, args.rows)
    cores = os.cpu_count() or 1
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {cores} cores")
    scorer.score_many(frame.head(200), explain="none")  # warm up

    base = frame.head(args.baseline_rows)
    w, c, before = _timed(lambda: scorer.score_many(base, explain="flagged", threads=1))
    assert isinstance(before, pl.DataFrame)
    share = float(before["flagged"].mean() or 0.0)
    base_rate = (args.baseline_rows / w, args.baseline_rows / c)
    print(f"rows: {args.rows:,} distinct (Sichuan resampled, jittered); flagged share {share:.1%}")
    print(
        f"previous path (reasons for every flag, 1 thread), {args.baseline_rows:,} rows: "
        f"{base_rate[0]:>9,.0f} rows/s   CPU {base_rate[1]:>9,.0f} rows/s  (baseline)"
    )

    def line(name: str, rows: int, wall: float, cpu: float) -> None:
        print(
            f"{name:<44}: {rows / wall:>9,.0f} rows/s  x{rows / wall / base_rate[0]:>6.1f}"
            f"   CPU {rows / cpu:>9,.0f} rows/s  x{rows / cpu / base_rate[1]:>6.1f}"
        )

    w1, c1, none1 = _timed(lambda: scorer.score_many(frame, explain="none", threads=1))
    line("scores only, 1 thread", args.rows, w1, c1)
    w2, c2, _ = _timed(lambda: scorer.score_many(frame, explain="none", threads=cores))
    line(f"scores only, {cores} threads", args.rows, w2, c2)
    sample = frame.head(max(args.baseline_rows * 2, 2_000))
    w3, c3, after = _timed(lambda: scorer.score_many(sample, explain="flagged", threads=cores))
    line(f"scores + reasons for flags, {cores} threads", sample.height, w3, c3)
    assert isinstance(after, pl.DataFrame) and isinstance(none1, pl.DataFrame)
    same = after.head(args.baseline_rows).equals(before)
    print(f"same scores, flags and reasons as the previous path on the baseline rows: {same}")
    explain_cost = max(c3 - c1 * sample.height / args.rows, 1e-9) / max(
        int(after["flagged"].sum()), 1
    )
    for flag_share in (0.01, 0.05):
        per_row = c1 / args.rows + flag_share * explain_cost
        print(
            f"  CPU rate at a {flag_share:.0%} flagged share (from the measured parts): "
            f"{1 / per_row:>9,.0f} rows/s per core"
        )

    with tempfile.TemporaryDirectory() as tmp:
        peaks = []
        for rows in (args.stream_rows // 5, args.stream_rows):
            path = Path(tmp) / f"features_{rows}.parquet"
            synthetic_features(source, rows, seed=rows).write_parquet(
                path, row_group_size=args.chunk_rows
            )
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(path),
                    str(Path(tmp) / "scores.csv"),
                    str(args.chunk_rows),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            got = json.loads(out.stdout.strip().splitlines()[-1])
            peaks.append(got["peak_mib"])
            print(
                f"score_numbers streamed, {rows:>10,} rows: {rows / got['wall']:>9,.0f} rows/s"
                f"   CPU {rows / got['cpu']:>9,.0f} rows/s   peak RSS {got['peak_mib']:,.0f} MiB"
            )
        print(
            f"peak RSS ratio {args.stream_rows:,} / {args.stream_rows // 5:,} rows: "
            f"{peaks[1] / peaks[0]:.2f} (1.00 = bounded by the chunk of {args.chunk_rows:,})"
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
