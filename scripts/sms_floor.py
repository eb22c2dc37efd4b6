"""Reproduce the issue's quoted SMS floor: char 1-4-gram TF-IDF + logistic regression per language.

5-fold stratified CV on deduplicated texts (first label kept), exact vocabulary, C in {1, 10, 100},
with and without sublinear TF. Reads ../shared/data (or TELEWARDEN_SHARED_DATA); never shipped.
Run: uv run python scripts/sms_floor.py
"""

import csv
import os
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score
from sklearn.model_selection import StratifiedKFold

DATA = Path(
    os.environ.get(
        "TELEWARDEN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


def load(path, pos):
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    seen = {}
    for r in rows:
        if len(r) < 2:
            continue
        seen.setdefault(r[1], r[0] == pos)
    return list(seen), np.array(list(seen.values()), dtype=int)


for name, path, pos in [
    ("zh_sms", DATA / "zh_sms" / "zh_sms.tsv", "1"),
    ("uci_sms", DATA / "uci_sms" / "SMSSpamCollection.tsv", "spam"),
]:
    X, y = load(path, pos)
    for C in (1, 10, 100):
        for sub in (False, True):
            preds = np.zeros(len(y), int)
            for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
                v = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=sub, min_df=1)
                a = v.fit_transform([X[i] for i in tr])
                b = v.transform([X[i] for i in te])
                m = LogisticRegression(C=C, max_iter=2000).fit(a, y[tr])
                preds[te] = m.predict(b)
            print(
                name,
                len(y),
                "C",
                C,
                "sublinear",
                sub,
                f"F1 {f1_score(y, preds):.4f} P {precision_score(y, preds):.4f}",
                flush=True,
            )
