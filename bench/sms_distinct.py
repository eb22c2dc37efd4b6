"""What one distinct SMS costs to classify: the previous code against the current, same process.

Run: ``uv run python bench/sms_distinct.py [--small] [--data DIR] [--base COMMIT]``.

Messages that never repeat cannot share a classification, so ``sms classify`` pays the whole
classifier for each (issue #18 part 3). Two sets without a repeated body, built as
``bench/sms_e2e.py`` builds them: distinct long English messages (every window of five
consecutive uci_sms messages, ~400 characters; 2,500, 500 with ``--small``) and the distinct
Chinese/English mix (zh_sms + uci_sms; 10,000, 2,000 with ``--small``). Each is classified
in 2,000-message batches (``SmsClassifier._classify_distinct``, shipped model, default
extractor of ``sms classify``) by the previous code and by the current code, alternately, three rounds. The
previous code is the normalisation, SMS model, notice and fraud-typer modules
(``normalise.py``, ``classifier.py``, ``notices.py``, ``fraud_typer.py``, ``inspector.py`` of
``core/sms``) read from git at ``--base`` (default: the commit before this work) and run
beside the current package; the rest (indicators) is shared. Prints CPU microseconds per message
(``time.process_time``), wall microseconds, messages per CPU second, the ratio, and whether
every result (verdict, score bits, indicators, evidence, fraud types) is identical; then the
same for the model's scores alone (``SmsModel.decision_many``).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# The branch point of issue #18 part 3's scoring work (bench/sms_score.py's commit).
BASE = "f3953cf"
BATCH = 2_000
# Loaded in this order, each importing the old versions of those before it.
MODULES = ("normalise", "classifier", "notices", "fraud_typer", "inspector")


def _read(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [row[1] if len(row) > 1 else "" for row in reader]


def _previous_modules(base: str) -> dict[str, types.ModuleType]:
    """The four modules as they were at ``base``, each importing the others' old versions."""
    out: dict[str, types.ModuleType] = {}
    for name in MODULES:
        source = subprocess.run(
            ["git", "show", f"{base}:src/telewarden/core/sms/{name}.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for done, module in out.items():
            # ``from telewarden.core.sms.X import ...`` of an old module reads the old one.
            source = source.replace(
                f"from telewarden.core.sms.{done} import", f"from {module.__name__} import"
            )
        qualified = f"_previous_sms_{name}"
        module = types.ModuleType(qualified)
        module.__file__ = f"<{base}:{name}.py>"
        sys.modules[qualified] = module  # dataclasses look their module up
        exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
        out[name] = module
    return out


def _timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    c0, t0 = time.process_time(), time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, time.process_time() - c0, result


def _batches(classify: Callable[[Sequence[str]], list[Any]], texts: list[str]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(texts), BATCH):
        out.extend(classify(texts[i : i + BATCH]))
    return out


def _same(a: list[Any], b: list[Any]) -> bool:
    """Every field equal, scores compared as bits (``==`` on floats would do too)."""
    import struct

    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if struct.pack("d", x.score) != struct.pack("d", y.score):
            return False
        # The old modules' dataclasses are other classes: compare their fields.
        if (str(x.verdict), x.threshold, x.indicators) != (
            str(y.verdict),
            y.threshold,
            y.indicators,
        ):
            return False
        if (x.evidence.score, x.evidence.cues) != (y.evidence.score, y.evidence.cues):
            return False
        types_x = [(t.code, t.name_en, t.score, t.cues) for t in x.fraud_types]
        if types_x != [(t.code, t.name_en, t.score, t.cues) for t in y.fraud_types]:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="500 long and 2,000 mixed")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--base", default=BASE, help="git commit of the previous code")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = args.data or Path(
        os.environ.get("TELEWARDEN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    )
    zh, en = data / "zh_sms" / "zh_sms.tsv", data / "uci_sms" / "SMSSpamCollection.tsv"
    if not (zh.is_file() and en.is_file()):
        sys.exit(f"shared data not found under {data} (pass --data)")

    from telewarden.core.sms.classifier import prepare
    from telewarden.services.sms_classify import ClassifierOptions, build_classifier

    old = _previous_modules(args.base)
    new_clf = build_classifier(ClassifierOptions())
    model = new_clf.model
    old_model = old["classifier"].SmsModel(
        old["classifier"].FeatureConfig.from_dict(model.config.to_dict()),
        model.coef_,
        model.intercept_,
        model.idf_,
        model.threshold_,
        dict(model.meta),
        model.cjk_threshold_,
    )
    # The same indicator extractor (unchanged code, number intelligence as configured).
    old_clf = old["inspector"].SmsClassifier(
        old_model, extractor=new_clf.extractor, typer=old["fraud_typer"].FraudTyper()
    )

    english = _read(en)
    mix = _read(zh) + english
    n_long, n_mix = (500, 2_000) if args.small else (2_500, 10_000)
    sets = {
        "long English, every message distinct": list(
            dict.fromkeys(" ".join(english[i : i + 5]) for i in range(len(english) - 5))
        )[:n_long],
        "mix, every message distinct": list(dict.fromkeys(mix))[:n_mix],
    }
    print(f"previous code: {args.base}; load average at start: {os.getloadavg()[0]:.1f}")
    # Warm both (compiled patterns, the model's folded weights, number metadata).
    _batches(old_clf._classify_distinct, mix[:300])
    _batches(new_clf._classify_distinct, mix[:300])
    for name, texts in sets.items():
        n = len(texts)
        spent = {"previous": [0.0, 0.0], "current": [0.0, 0.0]}
        same = True
        for _ in range(args.rounds):
            w0, c0, r0 = _timed(lambda: _batches(old_clf._classify_distinct, texts))  # noqa: B023
            w1, c1, r1 = _timed(lambda: _batches(new_clf._classify_distinct, texts))  # noqa: B023
            spent["previous"][0] += w0
            spent["previous"][1] += c0
            spent["current"][0] += w1
            spent["current"][1] += c1
            same = same and _same(r0, r1)  # type: ignore[arg-type]
        per = {k: (w / args.rounds / n, c / args.rounds / n) for k, (w, c) in spent.items()}
        print(f"{name}: {n:,} messages x {args.rounds} rounds, identical results: {same}")
        for label, (wall, cpu) in per.items():
            print(
                f"  {label:<9}: {cpu * 1e6:7.1f} CPU us/msg ({1 / cpu:>7,.0f} msg/CPU-s)"
                f"  {wall * 1e6:7.1f} wall us/msg ({1 / wall:>7,.0f} msg/s)"
            )
        (w_old, c_old), (w_new, c_new) = per["previous"], per["current"]
        print(f"  ratio    : x{c_old / c_new:.2f} CPU, x{w_old / w_new:.2f} wall")
        ready = [prepare(t) for t in texts]
        m_old = [0.0, 0.0]
        m_new = [0.0, 0.0]
        bits = True
        for _ in range(args.rounds):
            w0, c0, s0 = _timed(lambda: old_model.decision_many(ready))  # noqa: B023
            w1, c1, s1 = _timed(lambda: model.decision_many(ready))  # noqa: B023
            m_old[0] += w0
            m_old[1] += c0
            m_new[0] += w1
            m_new[1] += c1
            bits = bits and s0.tobytes() == s1.tobytes()  # type: ignore[attr-defined]
        k = args.rounds * n
        print(
            f"  model scores alone: {m_old[1] / k * 1e6:.1f} -> {m_new[1] / k * 1e6:.1f} CPU us/msg"
            f" (x{m_old[1] / m_new[1]:.2f} CPU, x{m_old[0] / m_new[0]:.2f} wall),"
            f" bit-identical: {bits}"
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
