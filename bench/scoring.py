"""Throughput and memory of ``numbers score``: compiled trees, reasons only for flags.

Run: ``uv run python bench/scoring.py [--small] [--rows N] [--stream-rows N] [--data DIR]
[--previous-model FILE] [--previous-tree-shap FILE] [--in-process-only | --stream-only]``.

Builds distinct feature rows from the published Sichuan features (``--data``,
``$TELEWARDEN_SHARED_DATA`` or ``../shared/data``): rows drawn with replacement and every number
jittered by a few per cent, so no two rows are alike and nothing can be cached. Then, in the
same process and with the shipped model:

1. the baseline: the previous code's scores-only path, i.e. the model it shipped
   (``--previous-model``, e.g. the file from ``git show <commit>:src/telewarden/data/numbers/
   model.json.gz``: boosting + a 300-tree forest) compiled, on one thread; without it,
   LightGBM's own predictor with the shipped model;
2. scores alone with the compiled trees (``telewarden numbers compile``; built here when not
   cached, its build time printed) on one thread and on every core, LightGBM's predictor, the
   cost of each member, a check that a compiled predict call releases the GIL (a Python thread
   keeps counting during it), and that scores are within 1e-9 of LightGBM's with equal flags;
3. reasons for the flagged rows: the first explanation's cost (numba import, table build), the
   TreeSHAP kernel (per-leaf tables, ``core/models/tree_shap.py``) against LightGBM's
   ``pred_contrib`` on the same flagged rows, one thread and every core, with the largest
   difference, and (``--previous-tree-shap``, the previous code's ``tree_shap.py``) the previous
   kernel on the same rows; scores plus reasons end to end with either, the same reasons text
   as LightGBM alone; then rows/s with reasons at 1 % flagged and at the share the model flags
   on these rows (about a third on Sichuan, far above a carrier's), measured end to end on rows
   mixed to that share (and, with ``--previous-tree-shap``, with the previous kernel swapped
   in) and estimated from the parts for both explainers, and at the model's share where one
   thread's CPU time goes (design matrix, scores, TreeSHAP, reasons text, output frame);
4. ``score_numbers`` end to end (compiled engine, scores only), streamed from a Parquet file
   written batch by batch in ``--chunk-rows`` chunks, at ``--stream-rows`` and at a fifth of
   it, each in a fresh subprocess reporting its peak resident memory: equal peaks mean memory
   is bounded by the chunk, not by the file; 100 million rows are extrapolated from the larger.
   At the smaller size the same file is also scored on one thread and with the previous model.

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
from typing import Any

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


def _stream_child(features: str, output: str, chunk_rows: str, model: str, threads: str) -> None:
    """Score a file end to end (``score_numbers``) and print seconds and peak RSS as JSON."""
    from telewarden.adapters.compiled_trees import default_cache_dir
    from telewarden.services.number_scoring import score_numbers

    c0, t0 = time.process_time(), time.perf_counter()
    report = score_numbers(
        Path(features),
        Path(output),
        model=Path(model) if model != "-" else None,
        explain="none",
        chunk_rows=int(chunk_rows),
        threads=int(threads),
        engine="compiled",
        cache_dir=default_cache_dir(None),  # the shipped model's cache holds both models
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
    parser.add_argument("--explain-rows", type=int, default=4_000, help="rows scored with reasons")
    parser.add_argument(
        "--previous-model",
        type=Path,
        default=None,
        help="the model the previous code shipped (the baseline of the ratios)",
    )
    parser.add_argument(
        "--previous-tree-shap",
        type=Path,
        default=None,
        help="the TreeSHAP module of the previous code (e.g. the file from ``git show "
        "<commit>:src/telewarden/core/models/tree_shap.py``): its kernel timed beside this one",
    )
    parser.add_argument("--stream-rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--chunk-rows", type=int, default=100_000, help="rows per streamed chunk")
    parser.add_argument(
        "--stream-only", action="store_true", help="only the streamed runs (step 4)"
    )
    parser.add_argument(
        "--in-process-only", action="store_true", help="steps 1-3 only (no streamed runs)"
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _stream_child(*args.child)
        return
    if args.small:
        args.rows, args.stream_rows, args.explain_rows = 20_000, 100_000, 2_000
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
    if not args.in_process_only:
        streamed(args, source)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


def _gil_check(member: object, x: np.ndarray) -> tuple[float, int, float]:
    """Does a compiled predict call release the GIL? A Python thread counts while it runs.

    Returns the call's wall time, the counter's increments during the call and the counter's
    rate alone (increments a second, measured just before). If the call held the GIL, the
    counter could not move during it (at most one switch interval, 5 ms, of counting).
    """
    import threading

    count = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            count[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.2)
    n0, t0 = count[0], time.perf_counter()
    time.sleep(0.5)  # the main thread sleeps (GIL released): the counter's rate alone
    rate = (count[0] - n0) / (time.perf_counter() - t0)
    n1, t1 = count[0], time.perf_counter()
    member.predict(x, 1)  # type: ignore[attr-defined]  # one ctypes call into native code
    wall, during = time.perf_counter() - t1, count[0] - n1
    stop.set()
    spinner.join()
    return wall, during, rate


def in_process(args: argparse.Namespace, source: pl.DataFrame) -> None:
    """Steps 1-3: scores and reasons in this process, against the previous code."""
    from telewarden.adapters.compiled_trees import compile_scorer, default_cache_dir
    from telewarden.adapters.number_model import load_default_model, load_model

    cache = default_cache_dir(None)  # one cache for both models: objects are keyed by content
    lgbm = load_default_model()
    fast = load_default_model()
    w, c, built = _timed(lambda: compile_scorer(fast, cache))
    assert built is not None
    hows = ", ".join(f"{name} {how}" for name, how, _ in built.members)  # type: ignore[attr-defined]
    print(f"compiled trees of the shipped model ({hows}): {w:.1f} s wall, {c:.1f} s CPU")
    previous = None
    if args.previous_model is not None:
        previous = load_model(args.previous_model)
        w, c, built = _timed(lambda: compile_scorer(previous, cache))
        assert built is not None
        hows = ", ".join(f"{n} {h}" for n, h, _ in built.members)  # type: ignore[attr-defined]
        print(f"compiled trees of the previous model ({hows}): {w:.1f} s wall, {c:.1f} s CPU")
    frame = synthetic_features(source, args.rows)
    cores = os.cpu_count() or 1
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {cores} cores")
    for model in (lgbm, fast, previous):
        if model is not None:
            model.score_many(frame.head(200), explain="none")  # warm up
    print(f"rows: {args.rows:,} distinct (Sichuan resampled, jittered)")

    # The baseline of every ratio: the previous code's scores-only path (the previous shipped
    # model, compiled, one thread) or, without --previous-model, LightGBM's own predictor.
    if previous is not None:
        w0, c0, _ = _timed(lambda: previous.score_many(frame, explain="none", threads=1))
        label = "previous code: previous model compiled, 1 thread"
    else:
        w0, c0, _ = _timed(lambda: lgbm.score_many(frame, explain="none", threads=1))
        label = "baseline: LightGBM scores only, 1 thread"
    base_rate = (args.rows / w0, args.rows / c0)
    print(
        f"{label:<50}: {base_rate[0]:>9,.0f} rows/s{'':9}   CPU {base_rate[1]:>9,.0f} rows/s"
        "  (baseline)"
    )

    def line(name: str, rows: int, wall: float, cpu: float) -> None:
        print(
            f"{name:<50}: {rows / wall:>9,.0f} rows/s  x{rows / wall / base_rate[0]:>6.2f}"
            f"   CPU {rows / cpu:>9,.0f} rows/s  x{rows / cpu / base_rate[1]:>6.2f}"
        )

    w, c, want = _timed(lambda: lgbm.score_many(frame, explain="none", threads=1))
    line("shipped model, LightGBM's predictor, 1 thread", args.rows, w, c)
    w1, c1, got = _timed(lambda: fast.score_many(frame, explain="none", threads=1))
    line("shipped model compiled, scores only, 1 thread", args.rows, w1, c1)
    w2, c2, _ = _timed(lambda: fast.score_many(frame, explain="none", threads=cores))
    line(f"shipped model compiled, scores only, {cores} threads", args.rows, w2, c2)
    if previous is not None:
        w, c, _ = _timed(lambda: previous.score_many(frame, explain="none", threads=cores))
        line(f"previous model compiled, {cores} threads", args.rows, w, c)
    x = fast._matrix(frame, None, fast.known_)
    for name, model in (("shipped", fast), ("previous", previous)):
        if model is None:
            continue
        members = [(0, "boosted")] + ([(1, "forest")] if model.forest_ is not None else [])
        for member, what in members:
            _, cost, _ = _timed(lambda m=member, s=model: s._member_raw(m, x, 1))
            per_row = cost / args.rows * 1e6
            print(f"  {name} model, {what} member compiled: {per_row:6.1f} us CPU a row")
    assert fast.compiled_ is not None
    call, during, rate = _gil_check(fast.compiled_[0], x)
    print(
        f"GIL check: a Python thread counted {during:,} times during one {call:.3f} s compiled "
        f"predict call of {args.rows:,} rows ({during / max(rate * call, 1):.0%} of its rate "
        f"alone, {rate:,.0f}/s): the call releases the GIL"
        if during > rate * 0.005 * 2
        else f"GIL check: the counter stood still during the predict call ({during:,}): held"
    )
    assert isinstance(got, pl.DataFrame) and isinstance(want, pl.DataFrame)
    worst = float((got["score"] - want["score"]).abs().max())  # type: ignore[arg-type]
    print(
        f"compiled vs LightGBM on {args.rows:,} rows: largest score difference {worst:.2g}, "
        f"same flags: {got['flagged'].equals(want['flagged'])}"
    )
    share = float(got["flagged"].mean() or 0.0)
    print(f"flagged share (shipped model): {share:.1%}")

    explained(args, frame, fast, lgbm, previous, {1: (w1, c1), cores: (w2, c2)}, line)


def _mixed(frame: pl.DataFrame, flagged: np.ndarray, share: float, rows: int) -> pl.DataFrame:
    """``rows`` rows of ``frame`` of which ``share`` are flagged ones (as the model flags)."""
    n_flagged = round(share * rows)
    picked = np.r_[
        np.flatnonzero(flagged)[:n_flagged], np.flatnonzero(~flagged)[: rows - n_flagged]
    ]
    assert len(picked) == rows, "not enough rows of one kind: raise --rows"
    return frame[np.sort(picked)]


def explained(
    args: argparse.Namespace,
    frame: pl.DataFrame,
    fast: object,
    lgbm: object,
    previous: object,
    scores: dict[int, tuple[float, float]],
    line: Callable[[str, int, float, float], None],
) -> None:
    """Step 3: scores plus reasons for the flagged rows, TreeSHAP tables against ``pred_contrib``.

    ``scores`` holds the wall and CPU seconds of scores alone on ``frame`` per thread count.
    """
    from telewarden.core.models.number_scorer import NumberScorer

    assert isinstance(fast, NumberScorer) and isinstance(lgbm, NumberScorer)
    cores = max(scores)
    lgbm.explainer = "lightgbm"  # the reference: LightGBM's predictor and its pred_contrib
    sample = frame.head(args.explain_rows)
    x = fast._matrix(sample, None, fast.known_)
    flags = fast.score_many(sample, explain="none")["flagged"].to_numpy()
    xf = x[flags]
    n = len(xf)

    # The first explanation pays numba's import, the table build and loading the kernel
    # (compiled once per machine, then cached by numba beside the module).
    w, c, _ = _timed(lambda: fast._contributions(xf[:1], 1))
    tables = fast.shap_tables_
    assert tables is not None
    print(
        f"first explanation in this process (numba import, tables built, kernel loaded): "
        f"{w:.2f} s wall, {c:.2f} s CPU; tables {tables.nbytes / 2**20:,.0f} MiB "
        f"({tables.table.size:,} floats)"
    )
    from telewarden.core.models.tree_shap import build_tables

    w, c, _ = _timed(lambda: build_tables(fast._booster().model_to_string()))
    print(f"  the table build alone: {w:.2f} s wall, {c:.2f} s CPU")

    # The kernel alone against LightGBM's pred_contrib, same flagged rows, same process.
    booster = fast._booster()
    explain_cost = {}
    for threads in sorted({1, cores}):
        wt, ct, got = _timed(lambda t=threads: tables.contributions(xf, t))
        wl, cl, want = _timed(
            lambda t=threads: booster.predict(xf, pred_contrib=True, num_threads=t)
        )
        worst = float(np.abs(np.asarray(got) - np.asarray(want)).max())
        explain_cost[threads] = {"tables": (wt / n, ct / n), "lightgbm": (wl / n, cl / n)}
        print(
            f"TreeSHAP of {n:,} flagged rows, {threads} thread{'s' if threads > 1 else ''}: "
            f"tables {ct / n * 1e6:,.0f} us CPU / {wt / n * 1e6:,.0f} us wall a row, "
            f"LightGBM pred_contrib {cl / n * 1e6:,.0f} us CPU / {wl / n * 1e6:,.0f} us wall: "
            f"tables x{cl / ct:.1f} CPU, x{wl / wt:.1f} wall; largest difference {worst:.1g}"
        )

    previous_tables = None
    if args.previous_tree_shap is not None:
        previous_tables = _previous_tables(args.previous_tree_shap, booster.model_to_string())
        for threads in sorted({1, cores}):
            wp, cp, old = _timed(lambda t=threads: previous_tables.contributions(xf, t))
            wt, ct, got = _timed(lambda t=threads: tables.contributions(xf, t))
            worst = float(np.abs(np.asarray(got) - np.asarray(old)).max())
            print(
                f"  previous code's kernel, {threads} thread{'s' if threads > 1 else ''}: "
                f"{cp / n * 1e6:,.0f} us CPU / {wp / n * 1e6:,.0f} us wall a row; this kernel "
                f"{ct / n * 1e6:,.0f} us CPU / {wt / n * 1e6:,.0f} us wall: x{cp / ct:.2f} CPU, "
                f"x{wp / wt:.2f} wall; largest difference between them {worst:.1g}"
            )

    # End to end: score_many with reasons for the flags, tables against pred_contrib.
    outs = {}
    for name, model in (("tables", fast), ("LightGBM pred_contrib", None)):
        if model is None:
            fast.explainer = "lightgbm"
        for threads in sorted({1, cores}):
            wr, cr, out = _timed(
                lambda t=threads: fast.score_many(sample, explain="flagged", threads=t)
            )
            line(f"compiled + reasons ({name}), {threads} thr", sample.height, wr, cr)
            outs[(name, threads)] = out
        fast.explainer = "tables"
    _, _, ref = _timed(lambda: lgbm.score_many(sample, explain="flagged", threads=1))
    assert isinstance(ref, pl.DataFrame)
    same = all(
        isinstance(out, pl.DataFrame) and out.drop("score").equals(ref.drop("score"))
        for out in outs.values()
    )
    print(
        f"same flags and reasons text as LightGBM alone (pred_contrib), every run above: {same} "
        f"({n:,} rows explained of {sample.height:,})"
    )
    if previous is not None:
        assert isinstance(previous, NumberScorer)
        wp, cp, _ = _timed(lambda: previous.score_many(sample, explain="flagged", threads=1))
        prev_flags = int(previous.score_many(sample, explain="none")["flagged"].sum())
        _, cs, _ = _timed(lambda: previous.score_many(sample, explain="none", threads=1))
        prev_cpu = max(cp - cs, 1e-9) / max(prev_flags, 1)
        print(
            f"  previous model (tables): one explained row {prev_cpu * 1e3:.2f} ms CPU "
            f"({prev_flags:,} rows explained)"
        )

    # Rows/s with reasons at a carrier's 1 % flagged share and at the model's own share here,
    # measured end to end on rows mixed to that share, and from the measured parts.
    flagged = fast.score_many(frame, explain="none")["flagged"].to_numpy()
    share = float(flagged.mean())
    for flag_share in (0.01, share):
        mixed = _mixed(frame, flagged, flag_share, min(args.rows, int((~flagged).sum())))
        for threads in sorted({1, cores}):
            wm, cm, _ = _timed(
                lambda t=threads, m=mixed: fast.score_many(m, explain="flagged", threads=t)
            )
            estimate = {
                how: 1
                / (scores[threads][0] / args.rows + flag_share * explain_cost[threads][how][0])
                for how in ("tables", "lightgbm")
            }
            if previous_tables is not None:
                fast.shap_tables_ = previous_tables  # type: ignore[assignment]
                wo, co, _ = _timed(
                    lambda t=threads, m=mixed: fast.score_many(m, explain="flagged", threads=t)
                )
                fast.shap_tables_ = tables
                print(
                    f"  {flag_share:>4.0%} flagged, {threads} thread{'s' if threads > 1 else ' '}"
                    f": previous code's kernel {mixed.height / wo:>9,.0f} rows/s wall, "
                    f"{mixed.height / co:>9,.0f} rows/s CPU; this code x{wo / wm:.2f} wall, "
                    f"x{co / cm:.2f} CPU"
                )
            if threads == 1 and flag_share == share:
                print(
                    f"  {flag_share:>4.0%} flagged, 1 thread, CPU us a scored row: "
                    f"{_breakdown(fast, mixed)}"
                )
                if previous_tables is not None:
                    fast.shap_tables_ = previous_tables
                    print(f"    with the previous code's kernel: {_breakdown(fast, mixed)}")
                    fast.shap_tables_ = tables
            print(
                f"  {flag_share:>4.0%} flagged, {threads} thread{'s' if threads > 1 else ' '}: "
                f"{mixed.height / wm:>9,.0f} rows/s wall, {mixed.height / cm:>9,.0f} rows/s "
                f"CPU, measured on {mixed.height:,} rows; from the parts: tables "
                f"{estimate['tables']:>9,.0f} rows/s wall, pred_contrib "
                f"{estimate['lightgbm']:>7,.0f} (x{estimate['tables'] / estimate['lightgbm']:.1f})"
                f"  (load {os.getloadavg()[0]:.1f})"
            )


def _breakdown(fast: Any, mixed: pl.DataFrame) -> str:
    """Where one thread's time goes in ``score_many(explain="flagged")``, CPU us a scored row.

    The same steps as ``score_many``, timed one by one: the design matrix, the scores, the
    TreeSHAP values of the flagged rows, their reasons text and the output frame.
    """
    n = mixed.height
    parts: dict[str, float] = {}

    def step(name: str, fn: Callable[[], Any]) -> Any:
        _, cpu, out = _timed(fn)
        parts[name] = cpu / n * 1e6
        return out

    x = step("design matrix", lambda: fast._matrix(mixed, None, fast.known_))
    raw = step("scores", lambda: fast._raw(x, 1))
    rows = np.flatnonzero(fast._calibrate(raw) >= fast.threshold_)
    contrib = step("TreeSHAP", lambda: fast._contributions(x[rows], 1))
    texts = step("reasons text", lambda: fast._reasons(x[rows], contrib))

    def frame() -> pl.DataFrame:
        reasons = [""] * n
        for i, text in zip(rows.tolist(), texts, strict=True):
            reasons[i] = text
        return pl.DataFrame(
            {
                fast.key: mixed[fast.key],
                "score": raw,
                "reasons": pl.Series(reasons, dtype=pl.String),
            }
        )

    step("output frame", frame)
    return ", ".join(f"{name} {us:.1f}" for name, us in parts.items())


def _previous_tables(path: Path, model_text: str) -> Any:
    """The previous code's TreeSHAP tables of ``model_text``, from its module file ``path``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("previous_tree_shap", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    tables = module.build_tables(model_text)
    tables.contributions(np.zeros((1, tables.n_features)), 1)  # compiles its kernel
    return tables


def _stream_run(args: argparse.Namespace, path: Path, tmp: str, model: str, threads: int) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            str(path),
            str(Path(tmp) / "scores.csv"),
            str(args.chunk_rows),
            model,
            str(threads),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    got: dict = json.loads(out.stdout.strip().splitlines()[-1])
    return got


def streamed(args: argparse.Namespace, source: pl.DataFrame) -> None:
    """Step 4: ``score_numbers`` end to end in fresh processes, peak memory, 100M estimate.

    At the smaller size the previous model (``--previous-model``) and one thread run too, on
    the same file: the ratios against the previous code and of two threads against one.
    """
    cores = os.cpu_count() or 1
    print(f"load average before streaming: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for rows in (args.stream_rows // 5, args.stream_rows):
            path = Path(tmp) / f"features_{rows}.parquet"
            write_stream_file(source, rows, path, args.chunk_rows)
            runs = [("shipped", "-", cores)]
            if rows == args.stream_rows // 5:
                runs.append(("shipped", "-", 1))
                if args.previous_model is not None:
                    runs.append(("previous", str(args.previous_model), cores))
            got_runs = {}
            for name, model, threads in runs:
                got = _stream_run(args, path, tmp, model, threads)
                assert got["rows"] == rows and got["quarantined"] == 0, got
                got_runs[(name, threads)] = got
                print(
                    f"score_numbers streamed, {name} model ({got['engine']}), {threads} "
                    f"thread{'s' if threads > 1 else ''}, {rows:>11,} rows: "
                    f"{rows / got['wall']:>9,.0f} rows/s   CPU {rows / got['cpu']:>9,.0f} rows/s"
                    f"   CPU/wall {got['cpu'] / got['wall']:.2f}   peak RSS "
                    f"{got['peak_mib']:,.0f} MiB   (load {os.getloadavg()[0]:.1f})"
                )
            path.unlink()
            mine = got_runs[("shipped", cores)]
            for key, what in ((("shipped", 1), "1 thread"), (("previous", cores), "previous")):
                if key in got_runs and key != ("shipped", cores):
                    other = got_runs[key]
                    print(
                        f"  shipped, {cores} threads against {what}: wall "
                        f"x{other['wall'] / mine['wall']:.2f}, CPU x{other['cpu'] / mine['cpu']:.2f}"
                    )
            results.append(mine)
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
