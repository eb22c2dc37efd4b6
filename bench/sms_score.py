"""SMS model scoring in ~16,000-character slices against one pass over the whole batch.

Run: ``uv run python bench/sms_score.py``.

Synthetic distinct messages (~400-character English-heavy and ~60-character mixed), folded
as ``sms classify`` folds them, scored with the shipped model in the same process by
``SmsModel._decision_block`` on the whole batch (the previous code path) and by
``SmsModel.decision_many`` (sliced); prints CPU microseconds per message (``process_time``),
wall clock, the ratio, and whether the scores are bit-identical.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import random  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402

import numpy as np  # noqa: E402

WORDS = [
    "your",
    "account",
    "has",
    "been",
    "suspended",
    "please",
    "verify",
    "at",
    "http://bit.ly/x",
    "now",
    "or",
    "call",
    "us",
    "the",
    "meeting",
    "tomorrow",
    "at",
    "office",
    "lunch",
    "thanks",
    "friend",
    "parcel",
    "delivery",
    "fee",
    "pay",
    "您的",
    "账户",
    "已",
    "冻结",
]


def _time(f: Callable[[Sequence[str]], object], ready: list[str]) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    for _ in range(3):
        f(ready)
    return (time.perf_counter() - w) / 3, (time.process_time() - c) / 3


def main() -> None:
    from telewarden.adapters.sms_model import load_default_model
    from telewarden.core.sms.normalise import fold_for_model, normalise

    model = load_default_model()
    rng = random.Random(1)
    for name, length, n in (("~400 chars", 400, 500), ("~60 chars", 60, 2000)):
        raw = [
            " ".join(rng.choice(WORDS) for _ in range(length // 5))[:length] + str(i)
            for i in range(n)
        ]
        ready = [fold_for_model(normalise(t)) for t in raw]
        same = np.array_equal(model._decision_block(ready), model.decision_many(ready))
        old = _time(model._decision_block, ready)
        new = _time(model.decision_many, ready)
        print(f"{name}: {n:,} distinct messages, identical scores: {same}")
        print(
            f"  one pass : {old[1] / n * 1e6:7.1f} CPU us/msg  {old[0] / n * 1e6:7.1f} wall us/msg"
        )
        print(
            f"  sliced   : {new[1] / n * 1e6:7.1f} CPU us/msg  {new[0] / n * 1e6:7.1f} wall us/msg"
            f"   ratio x{old[1] / new[1]:.2f} CPU, x{old[0] / new[0]:.2f} wall"
        )


if __name__ == "__main__":
    main()
