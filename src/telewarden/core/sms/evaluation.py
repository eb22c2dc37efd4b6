"""Cross-validation protocols behind ``telewarden eval sms`` (pure: lists in, metrics out).

What belongs here: deduplication, stratified K-fold splits by text, the joint protocol of the
shipped model (each fold trains one model on the training parts of every set and tests on each
set's held-out part), the research protocol for the fraud-type sets (a char n-gram linear model
trained inside each fold, evaluation only), and metric helpers. Reading files is the CLI's job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from telewarden.core.sms.classifier import FeatureConfig, SmsModel, fit_model, prepare

__all__ = [
    "BinaryMetrics",
    "binary_metrics",
    "dedupe",
    "joint_cross_validate",
    "multiclass_cross_validate",
]


@dataclass(frozen=True, slots=True)
class BinaryMetrics:
    """Positive-class precision, recall and F1, macro-F1 over both classes, sizes."""

    precision: float
    recall: float
    f1: float
    macro_f1: float
    n: int
    n_positive: int

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready form."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "macro_f1": self.macro_f1,
            "n": self.n,
            "n_positive": self.n_positive,
        }


def binary_metrics(y: npt.ArrayLike, pred: npt.ArrayLike) -> BinaryMetrics:
    """Metrics of binary predictions.

    Examples
    --------
    >>> binary_metrics([0, 1, 1, 0], [0, 1, 0, 0]).recall
    0.5
    """
    yv = np.asarray(y, dtype=int)
    pv = np.asarray(pred, dtype=int)
    p, r, f, _ = precision_recall_fscore_support(yv, pv, average="binary", zero_division=0)
    macro = f1_score(yv, pv, average="macro", zero_division=0)
    return BinaryMetrics(
        round(float(p), 4),
        round(float(r), 4),
        round(float(f), 4),
        round(float(macro), 4),
        len(yv),
        int(yv.sum()),
    )


def dedupe(texts: Sequence[str], labels: Sequence[Any]) -> tuple[list[str], list[Any], int]:
    """Keep the first row of each distinct text; return texts, labels and the rows dropped.

    Examples
    --------
    >>> dedupe(["a", "b", "a"], [0, 1, 1])
    (['a', 'b'], [0, 1], 1)
    """
    seen: set[str] = set()
    out_t: list[str] = []
    out_y: list[Any] = []
    for t, y in zip(texts, labels, strict=True):
        if t in seen:
            continue
        seen.add(t)
        out_t.append(t)
        out_y.append(y)
    return out_t, out_y, len(texts) - len(out_t)


def joint_cross_validate(
    sets: Mapping[str, tuple[Sequence[str], Sequence[int]]],
    *,
    folds: int = 5,
    seed: int = 0,
    config: FeatureConfig | None = None,
    c: float = 2.0,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, npt.NDArray[np.float64]], dict[str, npt.NDArray[np.bool_]], list[SmsModel]]:
    """Cross-validate the shipped protocol over several sets at once.

    Each set is split into stratified folds by text; fold ``k`` trains one model on the
    training parts of all sets (threshold by inner CV) and scores each set's part ``k``.

    Returns
    -------
    tuple
        Out-of-fold probabilities per set, out-of-fold not-ok predictions per set (at each
        fold model's own threshold), and the fold models.
    """
    splits = {
        name: list(
            StratifiedKFold(folds, shuffle=True, random_state=seed).split(
                np.zeros(len(y)), np.asarray(y)
            )
        )
        for name, (_, y) in sets.items()
    }
    proba = {name: np.zeros(len(y)) for name, (_, y) in sets.items()}
    pred = {name: np.zeros(len(y), dtype=bool) for name, (_, y) in sets.items()}
    models: list[SmsModel] = []
    for k in range(folds):
        tr_t: list[str] = []
        tr_y: list[int] = []
        for name, (texts, y) in sets.items():
            tr = splits[name][k][0]
            tr_t.extend(texts[i] for i in tr)
            tr_y.extend(int(y[i]) for i in tr)
        model = fit_model(tr_t, tr_y, config=config, c=c, seed=seed)
        models.append(model)
        for name, (texts, _) in sets.items():
            te = splits[name][k][1]
            ready = [prepare(texts[i]) for i in te]
            p = model.score_many(ready, prepared=True)
            proba[name][te] = p
            pred[name][te] = p >= model.thresholds_for(ready)
        if progress is not None:
            progress(k + 1)
    return proba, pred, models


def multiclass_cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    c: float = 1.0,
    groups_labels: Sequence[frozenset[str]] | None = None,
    c_grid: Sequence[float] = (),
) -> tuple[list[str], float, float]:
    """Research model for the fraud-type sets: char 1-4 TF-IDF + linear SVM (one-vs-rest).

    Trained inside each fold (evaluation only; never shipped). When ``groups_labels`` gives
    every label a text carries (a title listed under several query types), a prediction of
    any of them counts as correct in the *lenient* score.

    With ``c_grid``, each outer fold picks C by a 3-fold inner CV (macro-F1) on its own
    training part, already vectorised with that part's vocabulary; the test part is not used.

    Returns
    -------
    tuple
        Out-of-fold predictions, strict macro-F1, lenient macro-F1.
    """
    y = np.asarray(labels)
    prepared = [prepare(t) for t in texts]
    pred = np.empty(len(y), dtype=object)
    skf = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(np.zeros(len(y)), y):
        vec = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 4), sublinear_tf=True, max_features=300_000
        )
        x_tr = vec.fit_transform([prepared[i] for i in tr])
        c_fold = c if not c_grid else _inner_best_c(x_tr, y[tr], c_grid, seed)
        lr = LinearSVC(C=c_fold, random_state=0)
        lr.fit(x_tr, y[tr])
        pred[te] = lr.predict(vec.transform([prepared[i] for i in te]))
    preds = [str(p) for p in pred]
    strict = float(f1_score(y, preds, average="macro"))
    lenient = strict
    if groups_labels is not None:
        adjusted = [
            yi if p in g else p for yi, p, g in zip(y.tolist(), preds, groups_labels, strict=True)
        ]
        lenient = float(f1_score(y, adjusted, average="macro"))
    return preds, round(strict, 4), round(lenient, 4)


def _inner_best_c(x: Any, y: npt.NDArray[Any], grid: Sequence[float], seed: int) -> float:
    best_c, best_f1 = grid[0], -1.0
    inner = list(StratifiedKFold(3, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    for c in grid:
        preds = np.empty(len(y), dtype=object)
        for tr, te in inner:
            preds[te] = LinearSVC(C=c, random_state=0).fit(x[tr], y[tr]).predict(x[te])
        f1 = float(f1_score(y, preds.astype(str), average="macro"))
        if f1 > best_f1 + 1e-12:
            best_c, best_f1 = c, f1
    return float(best_c)
