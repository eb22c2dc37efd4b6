"""The SMS content model: hashed n-gram features, a linear model, fit, score and explain.

What belongs here: the feature function (character n-grams of the folded text plus word
n-grams of Latin words, both hashed so no vocabulary ships), TF-IDF weighting, the linear
model (:class:`SmsModel`: weights as plain arrays, so it saves without pickle), its training
(:func:`fit_model`, logistic regression with a decision threshold chosen by inner
cross-validation) and per-message explanations (which n-grams pushed the score). Verdicts
that combine the score with indicators and fraud-type evidence live in
:mod:`telewarden.core.sms.inspector`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import murmurhash3_32

from telewarden.core.errors import InvalidInputError
from telewarden.core.sms.normalise import fold_for_model, normalise

__all__ = ["FeatureConfig", "SmsModel", "best_f1_threshold", "fit_model"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """How texts become feature vectors.

    Parameters
    ----------
    char_ngrams : tuple[int, int]
        Character n-gram range over the folded text.
    word_ngrams : tuple[int, int] or None
        Word n-gram range over Latin words (CJK is left to the characters), None to disable.
    char_bits, word_bits : int
        log2 of the hashed feature spaces.
    """

    char_ngrams: tuple[int, int] = (1, 4)
    word_ngrams: tuple[int, int] | None = (1, 2)
    char_bits: int = 20
    word_bits: int = 18

    @property
    def n_features(self) -> int:
        """Total width of the feature vector."""
        return (1 << self.char_bits) + ((1 << self.word_bits) if self.word_ngrams else 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "char_ngrams": list(self.char_ngrams),
            "word_ngrams": list(self.word_ngrams) if self.word_ngrams else None,
            "char_bits": self.char_bits,
            "word_bits": self.word_bits,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`to_dict`."""
        word = data.get("word_ngrams")
        return cls(
            char_ngrams=(int(data["char_ngrams"][0]), int(data["char_ngrams"][1])),
            word_ngrams=(int(word[0]), int(word[1])) if word else None,
            char_bits=int(data["char_bits"]),
            word_bits=int(data["word_bits"]),
        )


@dataclass(slots=True)
class _Hashers:
    char: HashingVectorizer
    word: HashingVectorizer | None


def _hashers(config: FeatureConfig) -> _Hashers:
    char = HashingVectorizer(
        analyzer="char",
        ngram_range=config.char_ngrams,
        n_features=1 << config.char_bits,
        alternate_sign=False,
        norm=None,
        lowercase=False,
        dtype=np.float32,
    )
    word = None
    if config.word_ngrams:
        word = HashingVectorizer(
            analyzer="word",
            ngram_range=config.word_ngrams,
            n_features=1 << config.word_bits,
            alternate_sign=False,
            norm=None,
            lowercase=False,
            # Latin words only: a CJK run is a whole clause, too rare to generalise.
            token_pattern=r"[a-z0-9£$€']+",
            dtype=np.float32,
        )
    return _Hashers(char, word)


def prepare(text: str) -> str:
    """Normalise and fold one raw message the way the model expects.

    Examples
    --------
    >>> prepare("ＦＲＥＥ entry! Call 08452810075")
    'free entry! call 00000000000'
    """
    return fold_for_model(normalise(text))


def count_matrix(prepared: Sequence[str], config: FeatureConfig) -> sp.csr_matrix:
    """Raw hashed n-gram counts of already prepared texts (rows = texts)."""
    h = _hashers(config)
    blocks = [h.char.transform(prepared)]
    if h.word is not None:
        blocks.append(h.word.transform(prepared))
    out = sp.hstack(blocks, format="csr") if len(blocks) > 1 else blocks[0].tocsr()
    return sp.csr_matrix(out, dtype=np.float32)


def _tfidf(counts: sp.csr_matrix, idf: npt.NDArray[np.float32]) -> sp.csr_matrix:
    x = counts.copy()
    np.log(x.data, out=x.data)
    x.data += 1.0
    x.data *= idf[x.indices]
    sq = np.asarray(x.multiply(x).sum(axis=1)).ravel()
    norms = np.sqrt(sq)
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ x, dtype=np.float32)


def best_f1_threshold(y: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """The probability threshold in [0.05, 0.95] that maximises F1 of the positive class.

    Examples
    --------
    >>> best_f1_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.9])
    0.35
    """
    yv = np.asarray(y, dtype=bool)
    pv = np.asarray(proba, dtype=float)
    best, best_f1 = 0.5, -1.0
    for thr in np.round(np.arange(0.05, 0.951, 0.01), 2):
        pred = pv >= thr
        tp = int(np.sum(pred & yv))
        denom = int(np.sum(pred)) + int(np.sum(yv))
        f1 = 2 * tp / denom if denom else 0.0
        if f1 > best_f1 + 1e-12:
            best, best_f1 = float(thr), f1
    return best


@dataclass(slots=True)
class SmsModel:
    """A fitted linear SMS model: P(not ok) = sigmoid(w · tfidf(text) + b).

    Parameters
    ----------
    config : FeatureConfig
        Feature settings used at fit time.
    coef_ : numpy.ndarray
        One weight per hashed feature (float32).
    intercept_ : float
        Bias term.
    idf_ : numpy.ndarray
        Inverse document frequency per hashed feature (float32).
    threshold_ : float
        Probability at or above which a message is not ``ok``.
    meta : dict
        Provenance: training sets, sizes, date, metrics (written into the model file).
    """

    config: FeatureConfig
    coef_: npt.NDArray[np.float32]
    intercept_: float
    idf_: npt.NDArray[np.float32]
    threshold_: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    def features(self, prepared: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows of prepared texts."""
        return _tfidf(count_matrix(prepared, self.config), self.idf_)

    def decision_many(self, prepared: Sequence[str]) -> FloatArray:
        """Raw linear scores (log-odds) of prepared texts."""
        x = self.features(prepared)
        return np.asarray(x @ self.coef_, dtype=np.float64) + self.intercept_

    def score_many(self, texts: Sequence[str], *, prepared: bool = False) -> FloatArray:
        """P(not ok) for each text.

        Parameters
        ----------
        texts : Sequence[str]
            Raw message bodies (or outputs of :func:`prepare` with ``prepared=True``).
        prepared : bool
            Skip normalisation and folding.
        """
        ready = list(texts) if prepared else [prepare(t) for t in texts]
        if not ready:
            return np.zeros(0)
        z = np.clip(self.decision_many(ready), -40.0, 40.0)
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def explain(self, text: str, top_k: int = 8) -> list[tuple[str, float]]:
        """The n-grams that moved this message's score most, with their contributions.

        A contribution is weight times TF-IDF value in log-odds; positive pushes towards
        spam or scam. Hashing collisions are possible, so each n-gram is the one of this
        message that landed on the feature.
        """
        ready = prepare(text)
        x = self.features([ready])
        contrib: dict[int, float] = {}
        for j, v in zip(x.indices, x.data, strict=True):
            contrib[int(j)] = float(v) * float(self.coef_[j])
        names = self._feature_names(ready)
        ranked = sorted(contrib.items(), key=lambda kv: -abs(kv[1]))[:top_k]
        return [(names.get(j, f"#{j}"), round(c, 4)) for j, c in ranked]

    def _feature_names(self, ready: str) -> dict[int, str]:
        h = _hashers(self.config)
        names: dict[int, str] = {}
        n_char = 1 << self.config.char_bits
        for gram in h.char.build_analyzer()(ready):
            # The index HashingVectorizer gives a token: |murmurhash3_32(token, seed=0)| mod n.
            names.setdefault(abs(murmurhash3_32(gram, seed=0)) % n_char, repr(gram))
        if h.word is not None:
            n_word = 1 << self.config.word_bits
            for gram in h.word.build_analyzer()(ready):
                j = n_char + abs(murmurhash3_32(gram, seed=0)) % n_word
                names.setdefault(j, f"word:{gram}")
        return names

    def with_threshold(self, threshold: float) -> SmsModel:
        """A copy with another decision threshold."""
        if not 0.0 < threshold < 1.0:
            raise InvalidInputError(f"threshold must be in (0, 1), got {threshold}")
        return replace(self, threshold_=threshold)


def _fit_weights(
    counts: sp.csr_matrix, y: npt.NDArray[np.int8], c: float
) -> tuple[npt.NDArray[np.float32], float, npt.NDArray[np.float32]]:
    n_docs = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    idf = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
    x = _tfidf(counts, idf)
    lr = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=1000)
    lr.fit(x, y)
    return lr.coef_.ravel().astype(np.float32), float(lr.intercept_[0]), idf


def fit_model(
    texts: Sequence[str],
    labels: Sequence[int] | npt.NDArray[np.integer[Any]],
    *,
    config: FeatureConfig | None = None,
    c: float = 100.0,
    inner_folds: int = 3,
    threshold: float | None = None,
    seed: int = 0,
    meta: dict[str, Any] | None = None,
) -> SmsModel:
    """Fit the SMS model on raw texts with binary labels (1 = spam or scam).

    Parameters
    ----------
    texts : Sequence[str]
        Raw message bodies (deduplicate them first).
    labels : Sequence[int]
        1 for not-ok (spam or scam), 0 for ok.
    config : FeatureConfig or None
        Feature settings (default :class:`FeatureConfig`).
    c : float
        Inverse L2 strength of the logistic regression (class-balanced, liblinear).
    inner_folds : int
        Folds of the inner cross-validation that picks the threshold maximising F1 on
        out-of-fold probabilities; 0 or 1 keeps ``threshold`` (or 0.5).
    threshold : float or None
        Fixed threshold, used when ``inner_folds`` < 2.
    seed : int
        Seed of the inner fold split.
    meta : dict or None
        Provenance stored with the model.

    Raises
    ------
    InvalidInputError
        When texts and labels differ in length or only one class is present.
    """
    config = config or FeatureConfig()
    y = np.asarray(labels, dtype=np.int8)
    if len(texts) != len(y):
        raise InvalidInputError(f"{len(texts)} texts but {len(y)} labels")
    if len(set(y.tolist())) < 2:
        raise InvalidInputError("training needs both classes (ok and not ok)")
    ready = [prepare(t) for t in texts]
    counts = count_matrix(ready, config)
    thr = 0.5 if threshold is None else threshold
    if inner_folds >= 2 and int(min(np.sum(y), np.sum(1 - y))) >= inner_folds:
        oof = np.zeros(len(y))
        skf = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
        for tr, te in skf.split(np.zeros(len(y)), y):
            w, b, idf = _fit_weights(counts[tr], y[tr], c)
            z = np.asarray(_tfidf(counts[te], idf) @ w, dtype=np.float64) + b
            oof[te] = 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
        thr = best_f1_threshold(y, oof)
    w, b, idf = _fit_weights(counts, y, c)
    info = dict(meta or {})
    info.update({"n_train": len(y), "n_positive": int(np.sum(y)), "c": c, "threshold": thr})
    if not math.isfinite(b):
        raise InvalidInputError("training diverged")
    return SmsModel(config, w, b, idf, thr, info)
