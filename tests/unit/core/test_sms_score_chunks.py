"""SMS model scoring in ~16,000-character slices: bit-identical to one pass, hashes pinned."""

from __future__ import annotations

import random

import numpy as np

from telewarden.adapters.sms_model import load_default_model
from telewarden.core.sms import classifier
from telewarden.core.sms.classifier import char_ngram_hashes, word_ngram_hashes
from telewarden.core.sms.normalise import fold_for_model, normalise

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
    "the",
    "meeting",
    "tomorrow",
    "at",
    "office",
    "lunch",
    "thanks",
    "parcel",
    "delivery",
    "fee",
    "pay",
    "您的",
    "账户",
    "已",
    "冻结",
]


def _texts(length: int, n: int) -> list[str]:
    rng = random.Random(7)
    raw = [
        " ".join(rng.choice(WORDS) for _ in range(length // 4))[:length] + str(i) for i in range(n)
    ]
    return [fold_for_model(normalise(t)) for t in raw]


def test_chunked_scores_equal_one_pass() -> None:
    model = load_default_model()
    ready = _texts(400, 120) + [""] + _texts(40, 200)
    assert sum(map(len, ready)) > 2 * classifier._SCORE_CHUNK_CHARS  # several slices
    whole = model._decision_block(ready)
    chunked = model.decision_many(ready)
    assert np.array_equal(whole, chunked)
    # Verdicts too: the same threshold comparisons.
    th = model.thresholds_for(ready)
    proba = model.score_many(ready, prepared=True)
    assert np.array_equal(proba >= th, (1.0 / (1.0 + np.exp(-np.clip(whole, -40, 40)))) >= th)


def test_ngram_hashes_are_pinned() -> None:
    # Changing the hash would silently invalidate the shipped model's weights.
    _, cols, _, _ = char_ngram_hashes(["ab", "c"], (1, 2), 1 << 20, positions=False)
    assert cols.tolist() == [212324, 700942, 383320, 735188]
    _, cols, _, _ = word_ngram_hashes(["hello big world"], (1, 2), 1 << 18)
    assert cols.tolist() == [201886, 66519, 160925, 117012, 163796]
