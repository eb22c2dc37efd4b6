"""Throughput and memory of ``numbers score``: compiled trees, reasons only for flags.

Run: ``uv run python bench/scoring.py [--small] [--rows N] [--stream-rows N] [--data DIR]``.

Builds distinct feature rows from the published Sichuan features (``--data``,
``$TELEWARDEN_SHARED_DATA`` or ``../shared/data``): rows drawn with replacement and every number
jittered by a few per cent, so no two rows are alike and nothing can be cached. Then, in the
same process and with the shipped model:

1. the previous code's paths, as baselines: LightGBM's own predictor for the scores (what
   ``numbers score`` ran before the compiled engine), and every flag explained (before that);
2. scores alone with the compiled trees (``telewarden numbers compile``; built here when not
   cached, its build time printed) on one thread and on every core, and the check that scores
   are within 1e-9 of LightGBM's, flags equal and reasons equal;
3. scores plus reasons for the flagged rows (LightGBM's exact TreeSHAP, ``pred_contrib``), at
   the share the model flags on these rows (about a third on Sichuan, far above a carrier's)
   and, from the measured parts, at 1 % and 5 %;
4. ``score_numbers`` end to end (compiled engine, scores only), streamed from a Parquet file
   written batch by batch in ``--chunk-rows`` chunks, at ``--stream-rows`` and at a fifth of
   it, each in a fresh subprocess reporting its peak resident memory: equal peaks mean memory
   is bounded by the chunk, not by the file; 100 million rows are extrapolated from the larger.

Rates are given from the wall clock and from the CPU time of the process (on a shared machine
the wall clock counts time spent waiting for a core; CPU time does not), with ratios against
the baselines measured in this run.
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
    # A missing value stays missing (null): as NaN a file reader would quarantine the row.
    return (
        pl.DataFrame(jitter)
        .fill_nan(None)
        .with_columns(pl.Series("phone_no_m", [f"s{i:09d}" for i in range(rows)]))
    )


def _timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def write_stream_file(source: pl.DataFrame, rows: int, path: Path, chunk_rows: int) -> None:
    """``rows`` synthetic rows written to Parquet one chunk at a time (never all in memory)."""
    import pyarrow.parquet as pq

    writer = None
    for offset in range(0, rows, chunk_rows):
        n = min(chunk_rows, rows - offset)
        part = synthetic_features(source, n, seed=rows + offset).with_columns(
            pl.Series("phone_no_m", [f"s{i:010d}" for i in range(offset, offset + n)])
        )
        table = part.to_arrow()
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def _stream_child(features: str, output: str, chunk_rows: str) -> None:
    """Score a file end to end (``score_numbers``) and print seconds and peak RSS as JSON."""
    from telewarden.services.number_scoring import score_numbers

    c0, t0 = time.process_time(), time.perf_counter()
    report = score_numbers(
        Path(features), Path(output), explain="none", chunk_rows=int(chunk_rows), engine="compiled"
    )
    print(
        json.dumps(
            {
                "rows": report.numbers,
                "quarantined": report.quarantined,
                "engine": report.engine,
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
    parser.add_argument(
        "--stream-only", action="store_true", help="only the streamed runs (step 4)"
    )
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

    source = pl.read_csv(source_path, infer_schema_length=10_000)
    if not args.stream_only:
        in_process(args, source)
    streamed(args, source)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


def in_process(args: argparse.Namespace, source: pl.DataFrame) -> None:
    """Steps 1-3: scores and reasons in this process, against the previous code."""
    from telewarden.adapters.compiled_trees import compile_scorer, default_cache_dir
    from telewarden.adapters.number_model import load_default_model

    scorer = load_default_model()
    fast = load_default_model()
    w, c, built = _timed(lambda: compile_scorer(fast, default_cache_dir(None)))
    assert built is not None
    hows = ", ".join(f"{name} {how}" for name, how, _ in built.members)  # type: ignore[attr-defined]
    print(f"compiled trees ({hows}): {w:.1f} s wall, {c:.1f} s CPU")
    frame = synthetic_features(source, args.rows)
    cores = os.cpu_count() or 1
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {cores} cores")
    scorer.score_many(frame.head(200), explain="none")  # warm up
    fast.score_many(frame.head(200), explain="none")

    base = frame.head(args.baseline_rows)
    w, c, before = _timed(lambda: scorer.score_many(base, explain="flagged", threads=1))
    assert isinstance(before, pl.DataFrame)
    share = float(before["flagged"].mean() or 0.0)
    old_rate = (args.baseline_rows / w, args.baseline_rows / c)
    print(f"rows: {args.rows:,} distinct (Sichuan resampled, jittered); flagged share {share:.1%}")
    print(
        f"{'oldest path (every flag explained, 1 thread)':<46}: {old_rate[0]:>9,.0f} rows/s"
        f"{'':9}   CPU {old_rate[1]:>9,.0f} rows/s  ({args.baseline_rows:,} rows)"
    )
    w0, c0, want = _timed(lambda: scorer.score_many(frame, explain="none", threads=1))
    base_rate = (args.rows / w0, args.rows / c0)
    print(
        f"{'previous code: LightGBM scores only, 1 thread':<46}: {base_rate[0]:>9,.0f} rows/s"
        f"{'':9}   CPU {base_rate[1]:>9,.0f} rows/s  (baseline)"
    )

    def line(name: str, rows: int, wall: float, cpu: float) -> None:
        print(
            f"{name:<46}: {rows / wall:>9,.0f} rows/s  x{rows / wall / base_rate[0]:>6.1f}"
            f"   CPU {rows / cpu:>9,.0f} rows/s  x{rows / cpu / base_rate[1]:>6.1f}"
        )

    w1, c1, got = _timed(lambda: fast.score_many(frame, explain="none", threads=1))
    line("compiled scores only, 1 thread", args.rows, w1, c1)
    w2, c2, _ = _timed(lambda: fast.score_many(frame, explain="none", threads=cores))
    line(f"compiled scores only, {cores} threads", args.rows, w2, c2)
    x = fast._matrix(frame, None, fast.known_)
    for member, name in ((0, "boosted member (700 trees)"), (1, "forest member (300 trees)")):
        _, c_old, _ = _timed(lambda m=member: scorer._member_raw(m, x, 1))
        _, c_new, _ = _timed(lambda m=member: fast._member_raw(m, x, 1))
        print(
            f"  {name}: LightGBM {c_old / args.rows * 1e6:6.1f} us CPU a row, compiled "
            f"{c_new / args.rows * 1e6:6.1f} us (x{c_old / c_new:.1f})"
        )
    assert isinstance(got, pl.DataFrame) and isinstance(want, pl.DataFrame)
    worst = float((got["score"] - want["score"]).abs().max())  # type: ignore[arg-type]
    print(
        f"compiled vs LightGBM on {args.rows:,} rows: largest score difference {worst:.2g}, "
        f"same flags: {got['flagged'].equals(want['flagged'])}"
    )
    sample = frame.head(max(args.baseline_rows * 2, 2_000))
    w3, c3, after = _timed(lambda: fast.score_many(sample, explain="flagged", threads=1))
    line("compiled + reasons for flags, 1 thread", sample.height, w3, c3)
    w4, c4, _ = _timed(lambda: fast.score_many(sample, explain="flagged", threads=cores))
    line(f"compiled + reasons for flags, {cores} threads", sample.height, w4, c4)
    assert isinstance(after, pl.DataFrame)
    same = after.head(args.baseline_rows).drop("score").equals(before.drop("score"))
    print(f"same flags and reasons as the oldest path on its rows: {same}")
    flagged_rows = max(int(after["flagged"].sum()), 1)
    explain_cpu = max(c3 - c1 * sample.height / args.rows, 1e-9) / flagged_rows
    explain_wall = max(w4 - w2 * sample.height / args.rows, 1e-9) / flagged_rows
    print(f"  one explained row: {explain_cpu * 1e3:.2f} ms CPU (exact TreeSHAP, 700 trees)")
    for flag_share in (0.01, 0.05):
        per_row = c1 / args.rows + flag_share * explain_cpu
        per_row_wall = w2 / args.rows + flag_share * explain_wall
        print(
            f"  at a {flag_share:.0%} flagged share (from the measured parts): "
            f"{1 / per_row:>9,.0f} rows/s CPU per core, {1 / per_row_wall:>9,.0f} rows/s wall "
            f"on {cores} threads"
        )


def streamed(args: argparse.Namespace, source: pl.DataFrame) -> None:
    """Step 4: ``score_numbers`` end to end in fresh processes, peak memory, 100M estimate."""
    print(f"load average before streaming: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for rows in (args.stream_rows // 5, args.stream_rows):
            path = Path(tmp) / f"features_{rows}.parquet"
            write_stream_file(source, rows, path, args.chunk_rows)
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
            path.unlink()
            got_stream = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(got_stream)
            assert got_stream["rows"] == rows and got_stream["quarantined"] == 0, got_stream
            print(
                f"score_numbers streamed ({got_stream['engine']}), {rows:>11,} rows: "
                f"{rows / got_stream['wall']:>9,.0f} rows/s   CPU {rows / got_stream['cpu']:>9,.0f}"
                f" rows/s   peak RSS {got_stream['peak_mib']:,.0f} MiB"
            )
        peaks = [r["peak_mib"] for r in results]
        print(
            f"peak RSS ratio {args.stream_rows:,} / {args.stream_rows // 5:,} rows: "
            f"{peaks[1] / peaks[0]:.2f} (1.00 = bounded by the chunk of {args.chunk_rows:,})"
        )
        big = results[1]
        scale = 100_000_000 / args.stream_rows
        print(
            f"100M rows extrapolated: {big['wall'] * scale / 3600:.2f} h wall at this run's rate "
            f"({big['wall']:.0f} s x {scale:g}), {big['cpu'] * scale / 3600:.2f} h CPU "
            f"({big['cpu']:.0f} s x {scale:g}); peak RSS {peaks[1]:,.0f} MiB (bounded: "
            f"{peaks[1] - peaks[0]:+,.0f} MiB from {args.stream_rows // 5:,} to "
            f"{args.stream_rows:,} rows)"
        )


if __name__ == "__main__":
    main()
