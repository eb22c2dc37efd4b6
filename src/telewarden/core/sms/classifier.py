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

__all__ = ["FeatureConfig", "SmsModel", "best_f1_threshold", "fit_model", "is_cjk", "prepare"]

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
    word_ngrams: tuple[int, int] | None = None
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
    word: HashingVectorizer | None


def _hashers(config: FeatureConfig) -> _Hashers:
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
    return _Hashers(word)


def prepare(text: str) -> str:
    """Normalise and fold one raw message the way the model expects.

    Examples
    --------
    >>> prepare("ＦＲＥＥ entry! Call 08452810075")
    'free entry! call 00000000000'
    """
    return fold_for_model(normalise(text))


_HASH_MULT = np.uint64(0x100000001B3)
_HASH_MIX = np.uint64(0x9E3779B97F4A7C15)


def char_ngram_hashes(
    prepared: Sequence[str], ngrams: tuple[int, int], n_features: int
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Hashed character n-grams of a batch, computed with vectorised NumPy (no Python loop).

    The texts are joined with a NUL separator into one code-point array; the hash of the
    n-gram starting at position ``i`` is built from that of the (n-1)-gram by a multiply-xor
    step in wrapping 64-bit arithmetic, and windows that cross a separator are dropped.

    Returns
    -------
    tuple of arrays
        Row (text index), feature index, start position in the joined string and n-gram
        length of every n-gram occurrence.
    """
    texts = [t.replace("\x00", " ") for t in prepared]
    joined = "\x00".join(texts)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lens = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    row_of = np.repeat(np.arange(len(texts), dtype=np.int64), lens)[: len(cps)]
    sep = cps == 0
    lo, hi = ngrams
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    starts: list[npt.NDArray[np.int64]] = []
    sizes: list[npt.NDArray[np.int64]] = []
    h = np.zeros(len(cps), dtype=np.uint64)
    bad = np.zeros(len(cps), dtype=bool)
    positions = np.arange(len(cps), dtype=np.int64)
    for n in range(1, hi + 1):
        m = len(cps) - n + 1
        if m <= 0:
            break
        # h_n[i] = (h_{n-1}[i] * MULT) xor (cp[i+n-1] * MIX); wraps modulo 2**64 by design.
        h = (h[:m] * _HASH_MULT) ^ (cps[n - 1 :] * _HASH_MIX + np.uint64(n))
        bad = bad[:m] | sep[n - 1 :]
        if n < lo:
            continue
        keep = ~bad
        mixed = h[keep] ^ (h[keep] >> np.uint64(31))
        cols.append((mixed % np.uint64(n_features)).astype(np.int64))
        rows.append(row_of[:m][keep])
        starts.append(positions[:m][keep])
        sizes.append(np.full(int(keep.sum()), n, dtype=np.int64))
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(starts), np.concatenate(sizes)


def count_matrix(prepared: Sequence[str], config: FeatureConfig) -> sp.csr_matrix:
    """Raw hashed n-gram counts of already prepared texts (rows = texts)."""
    n_char = 1 << config.char_bits
    rows, cols, _, _ = char_ngram_hashes(prepared, config.char_ngrams, n_char)
    data = np.ones(len(rows), dtype=np.float32)
    char = sp.csr_matrix((data, (rows, cols)), shape=(len(prepared), n_char), dtype=np.float32)
    char.sum_duplicates()
    if not config.word_ngrams:
        return char
    word = _hashers(config).word
    assert word is not None
    out = sp.hstack([char, word.transform(prepared)], format="csr")
    return sp.csr_matrix(out, dtype=np.float32)


def _tfidf(counts: sp.csr_matrix, idf: npt.NDArray[np.float32]) -> sp.csr_matrix:
    x = counts.copy()
    np.log(x.data, out=x.data)
    x.data += 1.0
    x.data *= idf[x.indices]
    per_row = np.diff(x.indptr)
    # Row sums of squares by row id; unlike reduceat this is right for empty rows anywhere,
    # including at the end of the batch (an empty message).
    rows = np.repeat(np.arange(len(per_row)), per_row)
    sq = np.bincount(rows, weights=x.data.astype(np.float64) ** 2, minlength=len(per_row))
    norms = np.sqrt(sq)
    norms[norms == 0] = 1.0
    x.data /= np.repeat(norms, per_row).astype(np.float32)
    return x


def is_cjk(text: str) -> bool:
    """Whether at least 30 % of the non-space characters are CJK ideographs.

    Examples
    --------
    >>> is_cjk("【ETC】您的ETC已失效"), is_cjk("Ok lar... Joking wif u oni")
    (True, False)
    """
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    cjk = sum(1 for c in chars if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff")
    return cjk >= 0.3 * len(chars)


def best_f1_threshold(y: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """The probability threshold in [0.05, 0.95] that maximises F1 of the positive class.

    Ties are common (a plateau of thresholds between two scores); the middle of the best
    plateau is returned, which keeps the margin on both sides.

    Examples
    --------
    >>> best_f1_threshold([0, 0, 1, 1], [0.1, 0.2, 0.6, 0.9])
    0.4
    """
    yv = np.asarray(y, dtype=bool)
    pv = np.asarray(proba, dtype=float)
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    f1s = []
    for thr in grid:
        pred = pv >= thr
        tp = int(np.sum(pred & yv))
        denom = int(np.sum(pred)) + int(np.sum(yv))
        f1s.append(2 * tp / denom if denom else 0.0)
    scores = np.asarray(f1s)
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    # The longest run of consecutive best thresholds, then its middle.
    runs = np.split(best, np.flatnonzero(np.diff(best) != 1) + 1)
    run = max(runs, key=len)
    return float(grid[run[(len(run) - 1) // 2]])


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
        Probability at or above which a message is not ``ok`` (Latin-script messages, and
        all messages when ``cjk_threshold_`` is None).
    cjk_threshold_ : float or None
        Threshold for messages that are mostly CJK characters (see :func:`is_cjk`).
    meta : dict
        Provenance: training sets, sizes, date, metrics (written into the model file).
    """

    config: FeatureConfig
    coef_: npt.NDArray[np.float32]
    intercept_: float
    idf_: npt.NDArray[np.float32]
    threshold_: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)
    cjk_threshold_: float | None = None

    def thresholds_for(self, prepared: Sequence[str]) -> FloatArray:
        """The decision threshold of each prepared text (per script)."""
        out = np.full(len(prepared), self.threshold_)
        if self.cjk_threshold_ is not None:
            for i, t in enumerate(prepared):
                if is_cjk(t):
                    out[i] = self.cjk_threshold_
        return out

    def threshold_for(self, text: str) -> float:
        """The decision threshold of one raw text."""
        return float(self.thresholds_for([prepare(text)])[0])

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
        names: dict[int, str] = {}
        n_char = 1 << self.config.char_bits
        _, cols, starts, sizes = char_ngram_hashes([ready], self.config.char_ngrams, n_char)
        for j, st, n in zip(cols.tolist(), starts.tolist(), sizes.tolist(), strict=True):
            names.setdefault(j, repr(ready[st : st + n]))
        word = _hashers(self.config).word
        if word is not None:
            n_word = 1 << self.config.word_bits
            for gram in word.build_analyzer()(ready):
                j = n_char + abs(murmurhash3_32(gram, seed=0)) % n_word
                names.setdefault(j, f"word:{gram}")
        return names

    def with_threshold(self, threshold: float) -> SmsModel:
        """A copy with another decision threshold."""
        if not 0.0 < threshold < 1.0:
            raise InvalidInputError(f"threshold must be in (0, 1), got {threshold}")
        return replace(self, threshold_=threshold, cjk_threshold_=None)


def _fit_weights(
    counts: sp.csr_matrix, y: npt.NDArray[np.int8], c: float
) -> tuple[npt.NDArray[np.float32], float, npt.NDArray[np.float32]]:
    n_docs = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    idf = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
    x = _tfidf(counts, idf)
    lr = LogisticRegression(
        C=c, solver="liblinear", class_weight="balanced", max_iter=1000, random_state=0
    )
    lr.fit(x, y)
    return lr.coef_.ravel().astype(np.float32), float(lr.intercept_[0]), idf


def fit_model(
    texts: Sequence[str],
    labels: Sequence[int] | npt.NDArray[np.integer[Any]],
    *,
    config: FeatureConfig | None = None,
    c: float = 300.0,
    inner_folds: int = 3,
    threshold: float | None = None,
    seed: int = 0,
    meta: dict[str, Any] | None = None,
    per_script: bool = False,
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
    per_script : bool
        Choose separate thresholds for CJK and Latin messages (needs 20 spam of each).

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
    cjk_thr: float | None = None
    if inner_folds >= 2 and int(min(np.sum(y), np.sum(1 - y))) >= inner_folds:
        oof = np.zeros(len(y))
        skf = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
        for tr, te in skf.split(np.zeros(len(y)), y):
            w, b, idf = _fit_weights(counts[tr], y[tr], c)
            z = np.asarray(_tfidf(counts[te], idf) @ w, dtype=np.float64) + b
            oof[te] = 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
        thr = best_f1_threshold(y, oof)
        cjk = np.array([is_cjk(t) for t in ready])
        # One threshold per script when both scripts have enough spam to choose one from.
        if per_script and min(int(np.sum(y[cjk])), int(np.sum(y[~cjk]))) >= 20:
            thr = best_f1_threshold(y[~cjk], oof[~cjk])
            cjk_thr = best_f1_threshold(y[cjk], oof[cjk])
    w, b, idf = _fit_weights(counts, y, c)
    info = dict(meta or {})
    info.update(
        {
            "n_train": len(y),
            "n_positive": int(np.sum(y)),
            "c": c,
            "threshold": thr,
            "cjk_threshold": cjk_thr,
        }
    )
    if not math.isfinite(b):
        raise InvalidInputError("training diverged")
    return SmsModel(config, w, b, idf, thr, info, cjk_thr)
