"""Cross-validation protocols behind ``telewarden eval sms`` (pure: lists in, metrics out).

What belongs here: deduplication, stratified K-fold splits by text, the joint protocol of the
shipped model (each fold trains one model on the training parts of every set and tests on each
set's held-out part), the research protocol for the fraud-type sets (a char n-gram linear model
trained inside each fold, its settings chosen by nested CV on the training part only;
evaluation only), and metric helpers. Reading files is the CLI's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from telewarden.core.sms.classifier import FeatureConfig, SmsModel, fit_model, prepare

__all__ = [
    "BinaryMetrics",
    "CharSvmGrid",
    "FitPredict",
    "NestedSelection",
    "binary_metrics",
    "class_shares",
    "dedupe",
    "joint_cross_validate",
    "lenient_macro_f1",
    "macro_f1",
    "multiclass_cross_validate",
    "nested_select",
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


def class_shares(
    texts: Sequence[str], labels: Sequence[int], patterns: Mapping[str, str]
) -> dict[str, tuple[float, float]]:
    """Share of negative and of positive texts in which each pattern occurs.

    A cue that nearly every text of one class has and none of the other has is an artefact
    of how a set was gathered (a model learns it and fails elsewhere), so the evaluation
    reports such shares beside the scores.

    Examples
    --------
    >>> class_shares(["a,b", "ab", "c,d", "c,e"], [0, 0, 1, 1], {"comma": ","})
    {'comma': (0.5, 1.0)}
    """
    y = np.asarray(labels, dtype=bool)
    out: dict[str, tuple[float, float]] = {}
    for name, pattern in patterns.items():
        rx = re.compile(pattern)
        hit = np.fromiter((rx.search(t) is not None for t in texts), bool, len(texts))
        out[name] = (float(hit[~y].mean()), float(hit[y].mean()))
    return out


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
    proba: dict[str, npt.NDArray[np.float64]] = {
        name: np.zeros(len(y)) for name, (_, y) in sets.items()
    }
    pred: dict[str, npt.NDArray[np.bool_]] = {
        name: np.zeros(len(y), dtype=bool) for name, (_, y) in sets.items()
    }
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


def macro_f1(labels: Sequence[str], preds: Sequence[str]) -> float:
    """Macro-F1 over the classes of ``labels`` (unrounded).

    Examples
    --------
    >>> macro_f1(["a", "a", "b"], ["a", "a", "b"])
    1.0
    """
    return float(f1_score(list(labels), list(preds), average="macro", zero_division=0))


def lenient_macro_f1(
    labels: Sequence[str], preds: Sequence[str], groups_labels: Sequence[frozenset[str]]
) -> float:
    """Macro-F1 where a prediction of any label in the row's group counts as correct.

    Examples
    --------
    >>> lenient_macro_f1(["a", "b"], ["b", "b"], [frozenset({"a", "b"}), frozenset({"b"})])
    1.0
    """
    adjusted = [y if p in g else p for y, p, g in zip(labels, preds, groups_labels, strict=True)]
    return macro_f1(labels, adjusted)


FitPredict = Callable[[Any, npt.NDArray[np.intp], npt.NDArray[np.intp]], Sequence[str]]
"""``fit_predict(option, train_rows, test_rows)``: fit on the training rows, predict the test.

An option is any hashable candidate setting, e.g. ``("title x2", 1.0)``."""


@dataclass(frozen=True, slots=True)
class NestedSelection:
    """Outcome of :func:`nested_select`.

    ``predictions`` holds, for every row, the prediction of the model its outer fold chose;
    ``chosen`` the option each outer fold picked and ``inner_scores`` the inner macro-F1 of
    every option in that fold (empty when there was only one option).
    """

    predictions: list[str]
    chosen: list[Any]
    inner_scores: list[dict[Any, float]]


def nested_select(
    labels: Sequence[str],
    options: Sequence[Any],
    fit_predict: FitPredict,
    *,
    folds: int = 5,
    inner_folds: int = 3,
    seed: int = 0,
) -> NestedSelection:
    """Nested cross-validation: choose an option inside each outer training part, then test it.

    The rows are split into ``folds`` stratified outer folds. For each outer fold, the
    training part alone is split again into ``inner_folds`` stratified folds; every option is
    fitted and scored there (macro-F1 of the pooled inner out-of-fold predictions), the best
    one (the first in ``options`` order on a tie) is refitted on the whole training part and
    predicts the outer test part. The outer test part never reaches the choice, so the
    pooled outer predictions score the whole procedure, selection included. With a single
    option the inner CV is skipped.

    Examples
    --------
    >>> labels = ["a", "b"] * 6
    >>> def constant(option, train, test):
    ...     return [option] * len(test)
    >>> nested_select(labels, ["a"], constant, folds=2).chosen
    ['a', 'a']
    """
    if not options:
        raise ValueError("nested_select needs at least one option")
    y = np.asarray(labels, dtype=object)
    pred = np.empty(len(y), dtype=object)
    chosen: list[Any] = []
    inner_scores: list[dict[Any, float]] = []
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for tr, te in outer.split(np.zeros(len(y)), y.astype(str)):
        best = options[0]
        scores: dict[Any, float] = {}
        if len(options) > 1:
            y_tr = y[tr].astype(str)
            oof = {opt: np.empty(len(tr), dtype=object) for opt in options}
            inner = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
            # Split by split, then option by option: a fit_predict that featurises once per
            # (representation, split) can reuse its features for every model parameter.
            for itr, ite in inner.split(np.zeros(len(tr)), y_tr):
                for opt in options:
                    oof[opt][ite] = list(fit_predict(opt, tr[itr], tr[ite]))
            best_score = -1.0
            for opt in options:
                scores[opt] = macro_f1(y_tr.tolist(), oof[opt].astype(str).tolist())
                if scores[opt] > best_score + 1e-12:
                    best, best_score = opt, scores[opt]
        chosen.append(best)
        inner_scores.append(scores)
        pred[te] = list(fit_predict(best, tr, te))
    return NestedSelection([str(p) for p in pred], chosen, inner_scores)


class CharSvmGrid:
    """The research fraud-type model for several document representations, fitted by rows.

    Each representation (e.g. ``"title x2"``: the title twice, then the body) is a list of
    raw documents, one per row. An option is ``(representation, C)``; calling the grid with
    an option, training rows and test rows fits char n-gram TF-IDF (vocabulary of the
    ``max_features`` most frequent n-grams of the training rows, IDF of the training rows,
    sublinear TF, L2 norm) and a linear SVM (one-vs-rest) on the training rows only and
    predicts the test rows. It gives the same features as scikit-learn's
    ``TfidfVectorizer(analyzer="char", ...)`` fitted on the training rows (tested), but counts
    every document's n-grams once up front: a count is a property of one document alone,
    so no row learns anything from another, and refitting for each inner and outer fold
    costs a column selection instead of a new pass over the text. Predictions are kept by
    (option, training rows, test rows), so selections over overlapping candidate sets fit
    each model once.

    Examples
    --------
    >>> grid = CharSvmGrid({"text": ["贷款放款", "公安洗钱"] * 4}, ["loan", "police"] * 4)
    >>> grid(("text", 1.0), np.arange(6), np.arange(6, 8))
    ['loan', 'police']
    """

    def __init__(
        self,
        representations: Mapping[str, Sequence[str]],
        labels: Sequence[str],
        *,
        ngram_range: tuple[int, int] = (1, 4),
        max_features: int = 300_000,
    ) -> None:
        self.labels = np.asarray(labels, dtype=str)
        self.max_features = max_features
        self.counts: dict[str, Any] = {}
        for name, docs in representations.items():
            if len(docs) != len(self.labels):
                raise ValueError(f"{name}: {len(docs)} documents for {len(self.labels)} labels")
            counter = CountVectorizer(analyzer="char", ngram_range=ngram_range, dtype=np.float64)
            # Sorted vocabulary columns, as TfidfVectorizer orders them before its cut-off.
            self.counts[name] = counter.fit_transform([prepare(t) for t in docs]).tocsr()
        self._features_key: tuple[Any, ...] | None = None
        self._features: tuple[Any, Any] = (None, None)
        # Predictions by (option, train rows, test rows): several selections over
        # overlapping candidate sets with the same seed meet the same fits again.
        self._memo: dict[tuple[Any, bytes, bytes], list[str]] = {}

    def features(
        self, representation: str, train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]
    ) -> tuple[Any, Any]:
        """TF-IDF matrices of the training and test rows, fitted on the training rows."""
        key = (representation, train.tobytes(), test.tobytes())
        if key == self._features_key:
            return self._features
        counts = self.counts[representation]
        x_tr = counts[train]
        tfs = np.asarray(x_tr.sum(axis=0)).ravel()
        present = np.flatnonzero(tfs > 0)  # the training rows' vocabulary, sorted
        if len(present) > self.max_features:
            # Same cut-off as scikit-learn's _limit_features (same array, same argsort).
            top = (-tfs[present]).argsort()[: self.max_features]
            keep = np.zeros(len(present), dtype=bool)
            keep[top] = True
            present = present[keep]
        x_tr = x_tr[:, present]
        df = np.bincount(x_tr.indices, minlength=len(present))
        idf = np.log((1 + len(train)) / (1 + df)) + 1.0
        self._features = (self._tfidf(x_tr, idf), self._tfidf(counts[test][:, present], idf))
        self._features_key = key
        return self._features

    @staticmethod
    def _tfidf(x: Any, idf: npt.NDArray[np.float64]) -> Any:
        x = x.astype(np.float64, copy=True)
        np.log(x.data, x.data)
        x.data += 1.0
        x.data *= idf[x.indices]
        return normalize(x, norm="l2", copy=False)

    def __call__(
        self, option: tuple[str, float], train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]
    ) -> list[str]:
        key = (option, train.tobytes(), test.tobytes())
        if key not in self._memo:
            representation, c = option
            x_tr, x_te = self.features(representation, train, test)
            svm = LinearSVC(C=c, random_state=0).fit(x_tr, self.labels[train])
            self._memo[key] = [str(p) for p in svm.predict(x_te)]
        return list(self._memo[key])


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
    training part (:func:`nested_select`; vocabulary and IDF refitted in every inner fold);
    the test part is not used.

    Returns
    -------
    tuple
        Out-of-fold predictions, strict macro-F1, lenient macro-F1.
    """
    grid = CharSvmGrid({"text": texts}, labels)
    options = [("text", float(v)) for v in (c_grid or (c,))]
    preds = nested_select(labels, options, grid, folds=folds, seed=seed).predictions
    strict = macro_f1(labels, preds)
    lenient = strict if groups_labels is None else lenient_macro_f1(labels, preds, groups_labels)
    return preds, round(strict, 4), round(lenient, 4)
