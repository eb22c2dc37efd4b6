"""Throughput of SMS classification + indicators on one core, beside the cost of reading the file.

Run: ``uv run python bench/sms.py [--small] [--data DIR] [--repeat N]``.

Reads zh_sms and uci_sms from the shared data folder (``--data``, ``$TELEWARDEN_SHARED_DATA``
or ``../shared/data``), repeats them to at least 40,000 messages (8,000 with ``--small``), and
times in the same process:

1. reading the file alone (TSV parse into a list of texts): the baseline;
2. the full verdict path (``SmsClassifier.classify_many``: normalisation, model score,
   indicators, scam evidence, fraud types for scam verdicts) with the shipped model;
3. the parts: model score only, indicators only.

Prints messages/s for each and the ratio of each to the read-only rate, from the wall clock
and from the CPU time of the process (on a machine shared with other jobs the wall clock also
counts the time the process waits for a core; CPU time does not). Threads of the numerical
libraries are pinned to one so the figure is one core's. No result is cached: every message
of the repeated sets goes through the whole path again.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from telewarden.adapters.sms_model import load_default_model  # noqa: E402
from telewarden.core.sms.indicators import IndicatorExtractor  # noqa: E402
from telewarden.core.sms.inspector import SmsClassifier  # noqa: E402
from telewarden.core.sms.normalise import normalise  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _read(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [row[1] if len(row) > 1 else "" for row in reader]


def _best(fn: object, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU time (this process) of ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()  # type: ignore[operator]
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="8,000 messages instead of 40,000")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument(
        "--stages", action="store_true", help="also print CPU us per message of each model stage"
    )
    args = parser.parse_args()
    data = args.data or Path(
        os.environ.get("TELEWARDEN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    )
    sources = [data / "zh_sms" / "zh_sms.tsv", data / "uci_sms" / "SMSSpamCollection.tsv"]
    if not all(p.is_file() for p in sources):
        sys.exit(f"shared data not found under {data} (pass --data)")
    texts: list[str] = []
    for p in sources:
        texts.extend(_read(p))
    target = 8_000 if args.small else 40_000
    texts = (texts * (target // len(texts) + 1))[:target]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messages.tsv"
        with path.open("w", encoding="utf-8") as fh:
            fh.write("label\ttext\n")
            fh.writelines(f"0\t{t}\n" for t in texts)
        n = len(texts)
        model = load_default_model()
        clf = SmsClassifier(model)
        extractor = IndicatorExtractor()
        b = args.batch

        def read_only() -> None:
            _read(path)

        def full() -> None:
            msgs = _read(path)
            for i in range(0, len(msgs), b):
                clf.classify_many(msgs[i : i + b])

        def model_only() -> None:
            msgs = _read(path)
            for i in range(0, len(msgs), b):
                model.score_many(msgs[i : i + b])

        def indicators_only() -> None:
            for t in _read(path):
                extractor.extract(normalise(t), normalised=True)

        clf.classify_many(texts[:100])  # warm caches and imports
        t_read = _best(read_only, args.repeat)
        t_full = _best(full, args.repeat)
        t_model = _best(model_only, args.repeat)
        t_ind = _best(indicators_only, args.repeat)
    print(f"messages: {n} (zh_sms + uci_sms repeated), batch {b}, best of {args.repeat}")
    print("wall clock, then CPU time of this process (what one core spends when others share it)")
    print(
        f"read file only            : {n / t_read[0]:>12,.0f} msg/s  (baseline)"
        f"   CPU {n / t_read[1]:>12,.0f} msg/s"
    )
    for name, t in (
        ("classify + indicators (all)", t_full),
        ("read + model score only", t_model),
        ("read + indicators only", t_ind),
    ):
        print(
            f"{name:<26}: {n / t[0]:>12,.0f} msg/s  ratio to read-only {t_read[0] / t[0]:.3f}"
            f"   CPU {n / t[1]:>12,.0f} msg/s  ratio {t_read[1] / t[1]:.3f}"
        )
    goal = 20_000
    rate, cpu_rate = n / t_full[0], n / t_full[1]
    print(
        f"goal >= {goal:,} msg/s for classify + indicators: "
        f"{'met' if rate >= goal else 'NOT met'} on the wall clock, "
        f"{'met' if cpu_rate >= goal else 'NOT met'} in CPU time"
    )
    if args.stages:
        _stages(texts[:10_000], load_default_model(), args.repeat)


def _stages(texts: list[str], model: object, repeat: int) -> None:
    """CPU microseconds per message of each step of the model path (best of ``repeat``)."""
    import numpy as np

    from telewarden.core.sms import classifier as c
    from telewarden.core.sms.normalise import fold_for_model

    assert isinstance(model, c.SmsModel)
    cfg = model.config

    def cpu(label: str, fn: object) -> object:
        best, out = float("inf"), None
        for _ in range(repeat):
            t0 = time.process_time()
            out = fn()  # type: ignore[operator]
            best = min(best, time.process_time() - t0)
        print(f"  {label:<34} {best / len(texts) * 1e6:6.2f} us/msg")
        return out

    print(f"model path stages, {len(texts):,} messages, CPU time, best of {repeat}:")
    norm = cpu("normalise", lambda: [normalise(t) for t in texts])
    ready = cpu("fold_for_model", lambda: [fold_for_model(t) for t in norm])  # type: ignore[union-attr]
    cpu("script test (has_cjk)", lambda: np.fromiter(map(c.has_cjk, ready), bool, len(ready)))  # type: ignore[arg-type]
    n_char = 1 << cfg.char_bits
    cpu(
        "char n-gram hashes",
        lambda: c.char_ngram_hashes(ready, cfg.char_ngrams, n_char, positions=False),
    )  # type: ignore[arg-type]
    if cfg.word_ngrams:
        ngrams = cfg.word_ngrams
        cpu("word n-gram hashes", lambda: c.word_ngram_hashes(ready, ngrams, 1 << cfg.word_bits))  # type: ignore[arg-type]
    cpu("all counts (hashes + key sort)", lambda: c.ngram_counts(ready, cfg))  # type: ignore[arg-type]
    cpu("decision (counts + TF-IDF + dot)", lambda: model.decision_many(ready))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
