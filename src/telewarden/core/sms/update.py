"""Update a fitted SMS model with new labelled messages when its training set is not at hand.

What belongs here: :func:`update_model`, the continued training behind ``telewarden sms train
--base``. The shipped model is linear over hashed TF-IDF features with its Platt calibration
folded into the weights, so ``P(not ok) = sigmoid(w0 . x + b0)``. An update learns a
correction ``d`` of the weights only (the intercept and the per-script thresholds stay),
minimising

    sum_i s_i * logloss(t_i, w0 . x_i + b0 + d . x_i)  +  prior / 2 * ||d||^2

over the new labelled messages (``t_i`` = 0 or 1, ``s_i`` = 1) and, optionally, *anchors*:
unlabelled messages of the carrier's ordinary traffic, pseudo-labelled by the base model
(``t_i`` = the base's own verdict, 1 at or above its threshold; ``s_i`` = ``anchor_weight``).
The L2 term is a Gaussian prior centred on the base weights; the anchors are replay of what
the base already decides. Reports of one campaign are nearly all fraud, and their common
n-grams (first-person chat: 我, 你, 帮) also fill legitimate Chinese messages; without
anchors the correction raises those too. Measured on one fold of the joint CV (base trained
on zh_sms + uci_sms, 500 reports of the 冒充领导、熟人类 texts of fraud_texts_zh, research run
during development): zh_sms precision 0.9595 before, 0.8862 after without anchors, 0.9187
with 6,000 anchors at weight 1, 0.9592 at weight 20 (the default), with 96 % of the rest of
the campaign caught instead of 35 %. Soft targets (the base's probabilities) were tried
first and held precision no better than no anchors at all: a confident ham anchor has
almost no curvature to resist with. The per-script bias features are never changed.

IDF: hashed n-grams the base never saw have IDF 0 (they carry no weight and no norm; see
``telewarden.core.sms.classifier._fit_weights``). N-grams of the new labelled messages that
the base never saw get the IDF they would have had with the new messages added to the base's
``n_train`` documents; every other IDF stays as it was, so a message without new n-grams is
featurised exactly as before. Anchors never add IDF (their n-grams carry no label).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import minimize

from telewarden.core.errors import InvalidInputError
from telewarden.core.sms.classifier import SmsModel, _tfidf, count_matrix, prepare

__all__ = ["DEFAULT_N_TRAIN", "update_model"]

DEFAULT_N_TRAIN = 10_000
"""Documents assumed behind a base model whose ``meta`` does not say (``n_train``)."""


def _sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0))), dtype=np.float64)


def update_model(
    base: SmsModel,
    texts: Sequence[str],
    labels: Sequence[int] | npt.NDArray[np.integer[Any]],
    *,
    anchors: Sequence[str] = (),
    prior: float = 0.3,
    anchor_weight: float = 20.0,
    hard_anchors: bool = True,
    max_iter: int = 300,
    meta: dict[str, Any] | None = None,
) -> SmsModel:
    """A copy of ``base`` whose weights are corrected by ``texts`` (1 = not ok, 0 = ok).

    Parameters
    ----------
    base : SmsModel
        The model to continue from (its features, intercept and thresholds are kept).
    texts, labels : Sequence
        New labelled raw messages (deduplicate them first); one class alone is allowed.
    anchors : Sequence[str]
        Unlabelled raw messages of ordinary traffic, pseudo-labelled by ``base``.
    prior : float
        Strength of the L2 pull towards the base weights (larger: smaller change).
    anchor_weight : float
        Weight of each anchor's loss relative to a labelled message's.
    hard_anchors : bool
        Anchors' targets are the base's verdicts (0/1); False uses its probabilities.
    max_iter : int
        L-BFGS iterations.
    meta : dict or None
        Provenance of this update, appended to ``meta["updates"]``.

    Returns
    -------
    SmsModel
        A new model; ``base`` is not changed.

    Raises
    ------
    InvalidInputError
        When texts and labels differ in length, no text is given, a label is not 0/1, or
        ``prior`` is not positive.

    Examples
    --------
    >>> from telewarden.core.sms.classifier import fit_model
    >>> base = fit_model(["see you at home", "win a free prize now", "call me later",
    ...                   "claim your cash award"], [0, 1, 0, 1], inner_folds=0)
    >>> lure = "boss here, buy gift cards and send me the codes"
    >>> new = update_model(base, [lure] * 3 + ["lunch at noon?"], [1, 1, 1, 0])
    >>> bool(new.score_many([lure])[0] > base.score_many([lure])[0])
    True
    >>> new.meta["updates"][-1]["n_positive"]
    3
    """
    y = np.asarray(labels, dtype=np.float64)
    if len(texts) != len(y):
        raise InvalidInputError(f"{len(texts)} texts but {len(y)} labels")
    if not len(texts):
        raise InvalidInputError("an update needs at least one labelled message")
    if not np.all((y == 0) | (y == 1)):
        raise InvalidInputError("labels must be 0 (ok) or 1 (not ok)")
    if not prior > 0 or not math.isfinite(prior):
        raise InvalidInputError(f"prior must be a positive number, got {prior}")
    config = base.config
    counts = count_matrix([prepare(t) for t in texts], config)
    n_base = int(base.meta.get("n_train") or DEFAULT_N_TRAIN)
    n_docs = n_base + len(texts)
    df_new = np.bincount(counts.indices, minlength=config.n_features)
    idf = base.idf_.copy()
    fresh = (idf == 0) & (df_new > 0)
    idf[fresh] = (np.log((1.0 + n_docs) / (1.0 + df_new[fresh])) + 1.0).astype(np.float32)
    w0 = base.coef_.astype(np.float64)
    x = _tfidf(counts, idf)
    targets = [y]
    weights = [np.ones(len(y))]
    if anchors:
        xa = _tfidf(count_matrix([prepare(t) for t in anchors], config), idf)
        pa = _sigmoid(np.asarray(xa @ w0, dtype=np.float64) + base.intercept_)
        if hard_anchors:
            ready_a = [prepare(t) for t in anchors]
            pa = (pa >= base.thresholds_for(ready_a)).astype(np.float64)
        targets.append(pa)
        weights.append(np.full(len(anchors), float(anchor_weight)))
        x = sp.vstack([x, xa], format="csr")
    t = np.concatenate(targets)
    s = np.concatenate(weights)
    cols = np.unique(x.indices)
    if config.split_by_script:
        # The two per-script bias features stay: a shift of every Chinese (or Latin) message
        # is what reports of one campaign must not teach.
        blocks = 3 if config.shared_block else 2
        cols = cols[cols < blocks * config.base_width]
    xc = sp.csr_matrix(x[:, cols], dtype=np.float64)
    z0 = np.asarray(x @ w0, dtype=np.float64) + base.intercept_
    xt = xc.T.tocsr()

    def objective(d: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        z = z0 + xc @ d
        # log(1 + e^z) - t z is the log loss of probability sigmoid(z) against target t.
        loss = float(np.sum(s * (np.logaddexp(0.0, z) - t * z))) + 0.5 * prior * float(d @ d)
        grad = xt @ (s * (_sigmoid(z) - t)) + prior * d
        return loss, np.asarray(grad, dtype=np.float64)

    found = minimize(
        objective,
        np.zeros(len(cols)),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter},
    )
    delta = np.asarray(found.x, dtype=np.float64)
    if not np.all(np.isfinite(delta)):
        raise InvalidInputError("the update diverged")
    coef = base.coef_.copy()
    coef[cols] = (w0[cols] + delta).astype(np.float32)
    info = dict(base.meta)
    history = list(info.get("updates", []))
    history.append(
        {
            **(meta or {}),
            "n_labelled": len(y),
            "n_positive": int(np.sum(y)),
            "n_anchors": len(anchors),
            "prior": prior,
            "anchor_weight": anchor_weight,
            "weights_changed": len(cols),
            "new_ngrams": int(np.count_nonzero(fresh)),
            "iterations": int(found.nit),
        }
    )
    info["updates"] = history
    info["n_train"] = n_docs
    return SmsModel(config, coef, base.intercept_, idf, base.threshold_, info, base.cjk_threshold_)
