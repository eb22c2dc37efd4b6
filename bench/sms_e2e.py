"""``sms classify`` end to end (read, classify, format, write a TSV) against the previous code.

Run: ``uv run python bench/sms_e2e.py [--small] [--data DIR] [--workers N] [--break-even]``.

Two files are classified, each the way ``telewarden sms classify`` does it
(:func:`telewarden.services.sms_classify.classify_file`, shipped model, number intelligence
on): the Chinese/English mix (zh_sms + uci_sms, repeated to 40,000 messages, 8,000 with
``--small``) and long English messages (five uci_sms messages joined, about 400 characters).
The baseline, run in the same process on the same file, is the previous code's path: every
message classified on its own (no sharing of repeated bodies, within a batch or across the
file's batches), ``json.dumps`` of the indicators and a regex per TSV field. Both write the
same bytes (checked). Two more sets have no repeated body at all (the first 10,000 distinct
messages of the mix, 2,500 distinct long messages; 2,000 and 500 with ``--small``), so that
nothing can be shared: what each message costs. Prints messages/s from the wall clock and from
this process's CPU time, with the ratio to the baseline; ``--stages`` adds the CPU cost per
message of each step of the classifier on the two sets without repeats.

Model scoring: the compiled kernel (:mod:`telewarden.core.sms.ngram_kernel`) is loaded once
before the sets (its first-use cost is printed), so the baseline and ``sms classify`` both
score with it; each set is also classified with the model's NumPy path (the kernel switched
off, the ``NumPy scoring`` line), and the four outputs must be the same bytes.

Worker processes: every set is classified again with ``--workers N`` (default 2), with its
ratio to one worker (the ``sms classify`` line, same run, same file) and the CPU of all
processes (this one plus the reaped workers); a fifth set, 20,000 distinct long messages
(5,000 with ``--small``), is the large input the workers are for. ``--break-even`` instead
times 1 against N workers on growing distinct long and mixed inputs, for the fork and spawn
start methods, to place ``MIN_BYTES_FOR_WORKERS``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BATCH = 2_000
_OLD_CLEAN = re.compile(r"[\t\r\n]")


def _read(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [row[1] if len(row) > 1 else "" for row in reader]


def _write_tsv(path: Path, texts: list[str]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id\ttext\n")
        fh.writelines(f"{i}\t{_OLD_CLEAN.sub(' ', t)}\n" for i, t in enumerate(texts))


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _children_cpu() -> float:
    """CPU seconds of this process's reaped children (worker pools join theirs on exit)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _burn(_: object) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    return time.perf_counter() - started


def free_cores_check() -> str:
    """How much slower two CPU-bound processes run together than one alone (1.0: a second
    core is free; 2.0: none is). The machine is shared: worker figures need this beside them."""
    import multiprocessing

    alone = _burn(None)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pair = max(pool.map(_burn, [0, 1]))
    return f"two CPU-bound processes take x{pair / alone:.2f} the time of one alone"


def _distinct_long(english: list[str], n: int) -> list[str]:
    """``n`` distinct messages of five uci_sms messages each (every window, then strides)."""
    out: dict[str, None] = {}
    stride = 1
    while len(out) < n and stride < 50:
        for i in range(len(english)):
            out[" ".join(english[(i + k * stride) % len(english)] for k in range(5))] = None
            if len(out) >= n:
                break
        stride += 1
    return list(out)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="8,000 messages instead of 40,000")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument(
        "--stages",
        action="store_true",
        help="also print CPU us per distinct message of each step of the classifier",
    )
    parser.add_argument("--workers", type=int, default=2, help="workers to compare with 1")
    parser.add_argument(
        "--break-even",
        action="store_true",
        help="only time 1 against --workers workers on growing inputs (fork and spawn)",
    )
    args = parser.parse_args()
    data = args.data or Path(
        os.environ.get("TELEWARDEN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    )
    zh, en = data / "zh_sms" / "zh_sms.tsv", data / "uci_sms" / "SMSSpamCollection.tsv"
    if not (zh.is_file() and en.is_file()):
        sys.exit(f"shared data not found under {data} (pass --data)")

    from telewarden.adapters.files.messages import MessageFormat, open_messages
    from telewarden.adapters.memory import MemoryStore
    from telewarden.core.ports import FixedClock
    from telewarden.core.screening import PolicySettings
    from telewarden.services.context import AppContext, Gates
    from telewarden.services.sms_classify import (
        BATCH_ROWS,
        RESULT_COLUMNS,
        ClassifierOptions,
        build_classifier,
        classify_file,
    )

    at = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    BASIS = "benchmark: public research corpora, no subscriber content"
    store = MemoryStore(clock=FixedClock(at))
    store.set_policy(
        PolicySettings(content_inspection=True, content_legal_basis=BASIS), actor="bench"
    )
    ctx = AppContext(store=store, clock=FixedClock(at), gates=Gates(content_inspection=True))
    clf = build_classifier(ClassifierOptions())
    target = 8_000 if args.small else 40_000
    english = _read(en)
    mix = _read(zh) + english
    long_texts = [" ".join(english[i : i + 5]) for i in range(0, len(english) - 5, 5)]
    # Every 5-message window (not only every fifth): distinct long messages.
    long_distinct = list(
        dict.fromkeys(" ".join(english[i : i + 5]) for i in range(len(english) - 5))
    )
    sets = {
        "Chinese/English mix": (mix * (target // len(mix) + 1))[:target],
        "long English (~400 chars)": (long_texts * (target // 4 // len(long_texts) + 1))[
            : target // 4
        ],
        # No body repeats: what each message costs when nothing can be shared.
        "mix, every message distinct": list(dict.fromkeys(mix))[: target // 4],
        "long English, every message distinct": long_distinct[: target // 16],
        # The large input the workers are for (2,500 take half a second on one core).
        "long English, every message distinct, large": _distinct_long(english, target // 2),
    }
    if args.break_even:
        _break_even(ctx, english, mix, args.workers)
        return

    def previous(source: Path, output: Path) -> None:
        with (
            open_messages(source, MessageFormat.TSV, "text") as table,
            output.open("w", encoding="utf-8") as out,
        ):
            added = [c for c in RESULT_COLUMNS if c not in table.header]
            out.write("\t".join([*table.header, *added]) + "\n")
            batch: list[dict[str, str]] = []

            def flush() -> None:
                texts = [row["text"] for row in batch]
                for fields, r in zip(batch, clf._classify_distinct(texts), strict=True):
                    extra = {
                        "verdict": str(r.verdict),
                        "score": round(r.score, 6),
                        "fraud_types": ";".join(t.code for t in r.fraud_types),
                        "indicators": json.dumps(
                            [i.to_dict() for i in r.indicators], ensure_ascii=False
                        ),
                    }
                    merged = {**fields, **extra}
                    values = [str(merged[c]) for c in table.header] + [str(extra[c]) for c in added]
                    out.write("\t".join(_OLD_CLEAN.sub(" ", v) for v in values) + "\n")
                batch.clear()

            for row in table.rows:
                batch.append(row.fields)
                if len(batch) >= BATCH_ROWS:
                    flush()
            flush()

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"free cores: {free_cores_check()}")
    clf.classify_many(mix[:200])  # warm caches
    import telewarden.core.sms.classifier as model_module

    # The compiled kernel's first use in a process (numba's import and its cached code), paid
    # here once: ``classify_file`` loads it for inputs of COMPILED_MIN_BYTES and more.
    first_use = _timed(model_module.load_compiled_scoring)
    print(
        f"compiled scoring kernel, first use: {first_use[0]:.2f} s wall, "
        f"{first_use[1]:.2f} CPU s (paid once a process; the sets below use it)"
    )

    def numpy_scoring(source: Path, output: Path) -> None:
        # The same run with the model's NumPy scoring path (the kernel switched off).
        model_module._kernel_loaded = False
        try:
            classify_file(ctx, source, output, fmt=MessageFormat.TSV, workers=1)
        finally:
            model_module._kernel_loaded = True

    with tempfile.TemporaryDirectory() as tmp:
        for name, texts in sets.items():
            source = Path(tmp) / "in.tsv"
            _write_tsv(source, texts)
            old_out, new_out = Path(tmp) / "old.tsv", Path(tmp) / "new.tsv"
            t_old = _timed(lambda: previous(source, old_out))  # noqa: B023
            np_out = Path(tmp) / "numpy.tsv"
            t_np = _timed(lambda: numpy_scoring(source, np_out))  # noqa: B023
            t_new = _timed(
                lambda: classify_file(ctx, source, new_out, fmt=MessageFormat.TSV, workers=1)  # noqa: B023
            )
            par_out = Path(tmp) / "par.tsv"
            children = _children_cpu()
            t_par = _timed(
                lambda: classify_file(  # noqa: B023
                    ctx,
                    source,  # noqa: B023
                    par_out,  # noqa: B023
                    fmt=MessageFormat.TSV,
                    workers=args.workers,
                )
            )
            cpu_par = t_par[1] + _children_cpu() - children
            same = (
                old_out.read_bytes()
                == new_out.read_bytes()
                == par_out.read_bytes()
                == np_out.read_bytes()
            )
            n = len(texts)
            distinct = len(set(texts)) / n
            print(f"{name}: {n:,} messages ({distinct:.0%} distinct), same output: {same}")
            print(
                f"  previous code : {n / t_old[0]:>9,.0f} msg/s   CPU {n / t_old[1]:>9,.0f} msg/s"
            )
            print(
                f"  NumPy scoring : {n / t_np[0]:>9,.0f} msg/s   CPU {n / t_np[1]:>9,.0f} msg/s"
                "   (sms classify with the kernel off)"
            )
            print(
                f"  sms classify  : {n / t_new[0]:>9,.0f} msg/s   CPU {n / t_new[1]:>9,.0f} msg/s"
                f"   ratio x{t_old[0] / t_new[0]:.2f} wall, x{t_old[1] / t_new[1]:.2f} CPU;"
                f" x{t_np[0] / t_new[0]:.2f} wall, x{t_np[1] / t_new[1]:.2f} CPU against NumPy"
                " scoring"
            )
            print(
                f"  --workers {args.workers:<3} : {n / t_par[0]:>9,.0f} msg/s   CPU {n / cpu_par:>9,.0f}"
                f" msg/s (all processes)   x{t_new[0] / t_par[0]:.2f} wall against 1 worker"
            )
    print(f"load average at end: {os.getloadavg()[0]:.1f}; free cores: {free_cores_check()}")
    if args.stages:
        for name in ("mix, every message distinct", "long English, every message distinct"):
            _stages(clf, name, sets[name])


def _break_even(ctx: Any, english: list[str], mix: list[str], workers: int) -> None:
    """Wall time of 1 against ``workers`` workers on growing distinct inputs, per start method."""
    import telewarden.services.sms_workers as pool_module
    from telewarden.adapters.files.messages import MessageFormat
    from telewarden.services.sms_classify import ClassifierOptions, classifier_recipe, classify_file

    print(f"free cores: {free_cores_check()}")
    recipe = classifier_recipe(ClassifierOptions())
    built = recipe.build()
    for method in ("fork", "spawn"):
        children, started = _children_cpu(), time.perf_counter()
        with pool_module.ClassifierPool(recipe, workers, method, built=built) as pool:
            pool.start()
            ready = time.perf_counter() - started
        print(
            f"{method:5} {workers} workers ready (classifier built) in {ready:.2f} s wall, "
            f"workers' CPU {_children_cpu() - children:.2f} s   (load {os.getloadavg()[0]:.1f})"
        )
    long_texts = _distinct_long(english, 16_000)
    mix_texts = list(dict.fromkeys(mix))
    plain_method = pool_module.start_method
    with tempfile.TemporaryDirectory() as tmp:
        for method, sizes in (
            ("fork", (125, 250, 500, 1000, 2000, 4000, 8000)),
            ("spawn", (16000,)),
        ):
            pool_module.start_method = lambda m=method: m  # type: ignore[misc]
            for name, texts in (("long distinct", long_texts), ("mix distinct", mix_texts)):
                for n in sizes:
                    if n > len(texts):
                        continue
                    source = Path(tmp) / "in.tsv"
                    _write_tsv(source, texts[:n])
                    size = source.stat().st_size
                    # Best of three: the machine is shared, and the best run is the one
                    # that had the cores it asked for.
                    walls = {
                        w: min(
                            _timed(
                                lambda w=w, source=source: classify_file(  # type: ignore[misc]
                                    ctx,
                                    source,
                                    Path(tmp) / f"o{w}.tsv",
                                    fmt=MessageFormat.TSV,
                                    workers=w,
                                )
                            )[0]
                            for _ in range(3 if method == "fork" else 1)
                        )
                        for w in (1, workers)
                    }
                    print(
                        f"{method:5} {name:13} {n:>6,} messages {size / 1024:>8,.0f} KiB: "
                        f"1 worker {walls[1]:6.2f} s, {workers} workers {walls[workers]:6.2f} s, "
                        f"x{walls[1] / walls[workers]:.2f}   (load {os.getloadavg()[0]:.1f})"
                    )
    pool_module.start_method = plain_method
    print(f"load average at end: {os.getloadavg()[0]:.1f}; free cores: {free_cores_check()}")


def _stages(clf: Any, name: str, texts: list[str]) -> None:
    """CPU microseconds per message of each step of ``_classify_distinct`` (2,000-row batches)."""
    import telewarden.core.sms.classifier as model_module
    from telewarden.core.sms.normalise import fold_for_model, normalise

    spent: dict[str, float] = {}
    clock = [time.process_time()]

    def lap(label: str) -> None:
        now = time.process_time()
        spent[label] = spent.get(label, 0.0) + now - clock[0]
        clock[0] = now

    typer, extractor, model = clf.typer, clf.extractor, clf.model
    for i in range(0, len(texts), BATCH):
        batch = texts[i : i + BATCH]
        clock[0] = time.process_time()
        norm = [normalise(t) for t in batch]
        lap("normalise")
        ready = [fold_for_model(t) for t in norm]
        lap("fold for the model")
        model_module._kernel_loaded = False
        model.score_many(ready, prepared=True)
        model_module._kernel_loaded = True
        lap("model score, NumPy path")
        model.score_many(ready, prepared=True)
        lap("model score, compiled kernel")
        found = extractor.extract_many(norm, normalised=True)
        lap("indicators (extract_many)")
        for text, indicators in zip(norm, found, strict=True):
            typer.evidence(text, indicators)
        lap("scam evidence (every cue scanned)")
        clf._classify_distinct(batch)
        lap("whole _classify_distinct")
    print(f"{name}: CPU us per message, {len(texts):,} messages (whole: compiled kernel)")
    for label, seconds in spent.items():
        print(f"  {label:<36} {seconds / len(texts) * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
