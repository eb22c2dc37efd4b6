"""The number scorer: gradient boosting and a random forest over behaviour and graph features.

What belongs here: the ``Scorer`` protocol, :class:`NumberScorer` (training with an inner
cross-validation that calibrates probabilities and picks the flagging threshold without touching
held-out data), per-number explanations from exact tree contributions (TreeSHAP: the same values
as LightGBM's ``pred_contrib``, computed from per-leaf tables, :mod:`.tree_shap`), and
:func:`cross_validate`, the honest outer evaluation.

The scorer is a fixed, equal-weight blend of two LightGBM models over the same features: the
boosted trees of :data:`DEFAULT_PARAMS` and a random forest (LightGBM's ``rf`` mode,
:data:`FOREST_PARAMS`). Each member's raw score is mapped to log-odds by its own Platt fit on
inner out-of-fold scores, the two log-odds are averaged, and a last Platt fit on the averaged
out-of-fold log-odds gives the probability. The weights are fixed a priori (one half each), not
tuned on any data. Explanations are the boosting member's exact TreeSHAP contributions, scaled
by its weight in the blend, plus one ``forest`` term for the whole forest member, so they still
add up exactly to the blended log-odds. (Exact TreeSHAP over the forest's deep trees costs about
ten times the boosting member's, per explained number; the forest's share is reported as one
number instead.)

Leakage rules, enforced here rather than left to callers:

- graph features that use labels (``fraud_contact_share`` and friends) are built from the labels
  of the rows being trained on only; the rows being predicted never contribute their labels;
- the calibration map and the threshold come from out-of-fold predictions inside the training
  rows; the outer test fold is seen only once, to be scored.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold

from telewarden.core.errors import ConfigurationError, InvalidInputError
from telewarden.core.features.graph import graph_features
from telewarden.core.features.sichuan import FEATURE_NAMES, KEY, align_to_published

if TYPE_CHECKING:
    from telewarden.core.models.tree_shap import TreeShapTables

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_TABLES_BUILT = threading.Lock()
"""Held while a scorer builds its TreeSHAP tables, so that threads explaining with one scorer
for the first time (the API's workers) build them once, not once each (83 MiB apiece)."""

MODEL_FORMAT = "telewarden-number-scorer/2"
_READABLE_FORMATS = ("telewarden-number-scorer/1", MODEL_FORMAT)

GRAPH_MODEL_FEATURES: tuple[str, ...] = (
    "degree",
    "reciprocity",
    "known_contacts",
    "fraud_contacts",
    "fraud_contact_share",
)
"""Graph features the model uses. Edge direction is left out on purpose: in the published
Sichuan edge list every edge runs from the lower to the higher node number, so ``out_degree``
and ``in_degree`` would encode a row's position in the file rather than behaviour."""

MIN_HISTORY_DAYS = 28.0
"""Fewest calendar days of records over which the shipped scorer's flags mean anything.

The Sichuan features are eight-month aggregates and several are monthly (``arpu_*``, app flow
per month); a day of an ordinary subscriber's traffic (one active day, few contacts) looks
like the short life of a fraud card, so ``telewarden detect`` withholds the flags on fewer."""

Explain = Literal["flagged", "all", "none"]
"""Which scored rows get reasons: the flagged ones, every row, or none."""

Explainer = Literal["tables", "lightgbm"]
"""Who computes the boosted member's TreeSHAP values: the per-leaf tables of
:mod:`telewarden.core.models.tree_shap` (default; about 50 times cheaper a row) or LightGBM's
own ``pred_contrib`` (the reference the tables are tested against). The values agree to
rounding (1e-9 is the tested bound)."""

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.7,
    "num_threads": 1,
    "verbose": -1,
    "seed": 1,
    "deterministic": True,
}
"""LightGBM parameters; one thread because the machines are shared."""

FOREST_PARAMS: dict[str, Any] = dict(
    DEFAULT_PARAMS,
    boosting="rf",
    num_leaves=512,
    min_child_samples=3,
    min_sum_hessian_in_leaf=1e-3,
    subsample=0.632,
    colsample_bytree=1.0,
    feature_fraction_bynode=0.3,
)
"""The random-forest member: LightGBM ``rf`` mode, deep trees on 63 % bags, 30 % of the features
tried at each split (as a classic random forest), so it is stored and explained like the
boosted member."""


@dataclass(frozen=True, slots=True)
class ScoredNumber:
    """A number's calibrated fraud probability, the flag decision and why.

    Attributes
    ----------
    msisdn : str
        The number (hashed in the Sichuan data).
    score : float
        Calibrated probability that the number is a fraud card.
    flagged : bool
        Whether ``score`` reaches the model's threshold.
    reasons : tuple of str
        The features that pushed the score most, ``name=value (+log-odds)``, strongest first.
    """

    msisdn: str
    score: float
    flagged: bool
    reasons: tuple[str, ...]


class RawPredictor(Protocol):
    """A compiled stand-in for one member's ``Booster.predict(x, raw_score=True)``.

    The adapter ``telewarden.adapters.compiled_trees`` builds these (native code compiled from
    the member's own LightGBM text) and checks them against LightGBM before handing them over;
    the scorer only calls them.
    """

    def predict(self, x: FloatArray, threads: int) -> FloatArray:
        """Raw scores of the rows of ``x`` (float64, C order), on ``threads`` threads."""
        ...


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores numbers one at a time or a frame at a time."""

    def score_one(self, msisdn: str, features: Mapping[str, float | None]) -> ScoredNumber:
        """Score one number from its feature values (missing ones as ``None``)."""
        ...

    def score_many(self, features: pl.DataFrame) -> pl.DataFrame:
        """Score every row; returns the key column, ``score``, ``flagged`` and ``reasons``."""
        ...


def _node_ids(features: pl.DataFrame, key: str) -> pl.Series:
    """Graph node ids of the rows: the ``node`` column when present (Sichuan), else the key."""
    return features["node"] if "node" in features.columns else features[key]


def _best_f1_threshold(y: IntArray, p: FloatArray) -> float:
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])


@dataclass
class NumberScorer:
    """LightGBM over the 55 Sichuan features and, given edges, inductive graph features.

    Parameters
    ----------
    use_graph : bool
        Whether to add :data:`GRAPH_MODEL_FEATURES` when edges are given to :meth:`fit`.
    num_boost_round : int
        Boosting rounds.
    forest_rounds : int
        Trees of the random-forest member; 0 leaves the boosted trees alone.
    calibration_folds : int
        Inner folds whose out-of-fold scores fit the Platt calibration and the threshold.
    params : dict
        LightGBM parameters (defaults: :data:`DEFAULT_PARAMS`).
    seed : int
        Seed of the inner fold split.
    explain_top : int
        How many reasons each scored number carries.
    explainer : {"tables", "lightgbm"}
        Who computes the TreeSHAP values behind reasons and :meth:`explain` (see
        :data:`Explainer`); the tables are built at the first explanation.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(0)
    >>> frame = pl.DataFrame({n: rng.normal(size=200) for n in FEATURE_NAMES}).with_columns(
    ...     phone_no_m=pl.Series([f"n{i}" for i in range(200)]))
    >>> y = (frame["voc_calltype1"].to_numpy() > 0).astype(int)
    >>> scorer = NumberScorer(num_boost_round=20, calibration_folds=2).fit(frame, y)
    >>> fraud_like = frame.filter(pl.Series(y == 1)).head(3)
    >>> out = scorer.score_many(fraud_like, explain_all=True)
    >>> out.columns
    ['phone_no_m', 'score', 'flagged', 'reasons']
    >>> bool(out["reasons"][0].startswith("voc_calltype1="))
    True
    """

    use_graph: bool = True
    num_boost_round: int = 700
    forest_rounds: int = 300
    calibration_folds: int = 4
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    forest_params: dict[str, Any] = field(default_factory=lambda: dict(FOREST_PARAMS))
    seed: int = 0
    explain_top: int = 3
    explainer: Explainer = "tables"
    key: str = KEY

    feature_names_: tuple[str, ...] = field(default=(), init=False)
    booster_: lgb.Booster | None = field(default=None, init=False, repr=False)
    forest_: lgb.Booster | None = field(default=None, init=False, repr=False)
    blend_: tuple[float, float, float, float] = field(default=(1.0, 0.0, 0.0, 0.0), init=False)
    platt_: tuple[float, float] = field(default=(1.0, 0.0), init=False)
    threshold_: float = field(default=0.5, init=False)
    known_: pl.DataFrame | None = field(default=None, init=False, repr=False)
    graph_: bool = field(default=False, init=False)
    compiled_: tuple[RawPredictor, RawPredictor | None] | None = field(
        default=None, init=False, repr=False
    )
    """Compiled predictors of the boosted and forest members (scores only); ``None`` scores
    with LightGBM's own predictor. Contributions come from :attr:`shap_tables_` (the boosted
    member's TreeSHAP; the forest member's share is its compiled raw score)."""
    shap_tables_: TreeShapTables | None = field(default=None, init=False, repr=False)
    """The boosted member's TreeSHAP tables (tens of megabytes), built at the first explanation
    when :attr:`explainer` is ``"tables"``."""

    # -- design matrix ---------------------------------------------------------------------

    def graph_table(
        self, edges: pl.DataFrame | None, known: pl.DataFrame | None = None
    ) -> pl.DataFrame | None:
        """The graph features of every node of ``edges``, computed once for many chunks.

        ``known`` defaults to the labels the model was trained on. ``None`` when the model
        uses no graph features or no edges are given (contacts then count as missing).
        """
        if not self.graph_ or edges is None:
            return None
        known = known if known is not None else self.known_
        return graph_features(edges.lazy(), known.lazy() if known is not None else None).collect()

    def _matrix(
        self,
        features: pl.DataFrame,
        edges: pl.DataFrame | None,
        known: pl.DataFrame | None,
        graph: pl.DataFrame | None = None,
    ) -> FloatArray:
        missing = [n for n in FEATURE_NAMES if n not in features.columns]
        if missing:
            raise InvalidInputError(f"feature columns missing: {', '.join(missing[:5])}")
        if self.key not in features.columns:
            raise InvalidInputError(f"key column {self.key} missing")
        # A feature column of text is a schema error, not a value to guess at; the library's
        # own cast error would name neither the column's role nor the fix.
        text = [
            n
            for n in FEATURE_NAMES
            if not (features.schema[n].is_numeric() or features.schema[n] == pl.Null)
        ]
        if text:
            raise InvalidInputError(f"feature columns are not numbers: {', '.join(text[:5])}")
        frame = align_to_published(
            features.lazy().with_columns(pl.int_range(pl.len()).alias("_row"))
        )
        if self.graph_:
            if edges is None and graph is None:
                # Unknown contacts are missing values, not "no contacts".
                frame = frame.with_columns(
                    *(pl.lit(None, pl.Float64).alias(n) for n in GRAPH_MODEL_FEATURES)
                )
            else:
                ids = _node_ids(features, self.key)
                frame = frame.with_columns(ids.alias("_node"))
                if graph is not None:
                    table = graph.lazy()
                else:
                    assert edges is not None  # the branch above took edges and graph both None
                    table = graph_features(
                        edges.lazy(), known.lazy() if known is not None else None
                    )
                counts = ("degree", "known_contacts", "fraud_contacts")
                frame = (
                    frame.join(table, left_on="_node", right_on="node", how="left")
                    .with_columns(*(pl.col(c).fill_null(0.0) for c in counts))
                    .sort("_row")
                )
        names = self.feature_names_
        matrix = frame.select(pl.col(n).cast(pl.Float64) for n in names).collect()
        return matrix.to_numpy().astype(np.float64)

    def _known(self, features: pl.DataFrame, y: IntArray) -> pl.DataFrame:
        return pl.DataFrame({"node": _node_ids(features, self.key), "label": y})

    def _train(self, x: FloatArray, y: IntArray) -> lgb.Booster:
        data = lgb.Dataset(x, label=y, feature_name=list(self.feature_names_), free_raw_data=True)
        return lgb.train(self.params, data, num_boost_round=self.num_boost_round)

    def _train_forest(self, x: FloatArray, y: IntArray) -> lgb.Booster | None:
        if self.forest_rounds <= 0:
            return None
        data = lgb.Dataset(x, label=y, feature_name=list(self.feature_names_), free_raw_data=True)
        return lgb.train(self.forest_params, data, num_boost_round=self.forest_rounds)

    @staticmethod
    def _platt_fit(raw: FloatArray, y: IntArray) -> tuple[float, float]:
        # A light L2 penalty (C=1) keeps the map finite when out-of-fold scores separate the
        # classes perfectly (small or easy training sets); on thousands of rows it is negligible.
        platt = LogisticRegression(C=1.0, max_iter=1000).fit(raw.reshape(-1, 1), y)
        return float(platt.coef_[0, 0]), float(platt.intercept_[0])

    def _blend(self, raw: FloatArray, raw_forest: FloatArray | None) -> FloatArray:
        """Average of the members' Platt log-odds (the boosted raw score alone without forest)."""
        a, b, c, d = self.blend_
        if raw_forest is None:
            return raw
        return np.asarray(0.5 * (a * raw + b) + 0.5 * (c * raw_forest + d), dtype=np.float64)

    # -- training --------------------------------------------------------------------------

    def fit(
        self,
        features: pl.DataFrame,
        labels: Sequence[int] | npt.NDArray[Any],
        edges: pl.DataFrame | None = None,
    ) -> NumberScorer:
        """Train, calibrate on inner out-of-fold scores and choose the F1-best threshold.

        Parameters
        ----------
        features : polars.DataFrame
            The key column (``phone_no_m``), the 55 features and, for graph features, ``node``
            ids matching ``edges`` when the key is not the node id.
        labels : array-like of int
            1 = fraud, 0 = legitimate, aligned with ``features``.
        edges : polars.DataFrame or None
            Contact edges ``src``, ``dst`` over node ids.

        Returns
        -------
        NumberScorer
            ``self``, fitted.
        """
        y = np.asarray(labels, dtype=np.int64)
        if len(y) != features.height:
            raise InvalidInputError("labels and feature rows differ in number")
        if len(np.unique(y)) != 2:
            raise InvalidInputError("training needs both fraud and legitimate numbers")
        self.graph_ = self.use_graph and edges is not None
        self.feature_names_ = FEATURE_NAMES + (GRAPH_MODEL_FEATURES if self.graph_ else ())
        oof = np.zeros(len(y), dtype=np.float64)
        oof_forest = np.zeros(len(y), dtype=np.float64) if self.forest_rounds > 0 else None
        inner = StratifiedKFold(self.calibration_folds, shuffle=True, random_state=self.seed)
        for train_idx, test_idx in inner.split(np.zeros(len(y)), y):
            known = self._known(features[train_idx], y[train_idx]) if self.graph_ else None
            x = self._matrix(features, edges, known)
            booster = self._train(x[train_idx], y[train_idx])
            oof[test_idx] = booster.predict(x[test_idx], raw_score=True)
            forest = self._train_forest(x[train_idx], y[train_idx])
            if forest is not None and oof_forest is not None:
                oof_forest[test_idx] = forest.predict(x[test_idx], raw_score=True)
        if oof_forest is None:
            self.blend_ = (1.0, 0.0, 0.0, 0.0)
        else:
            self.blend_ = (*self._platt_fit(oof, y), *self._platt_fit(oof_forest, y))
        blended = self._blend(oof, oof_forest)
        self.platt_ = self._platt_fit(blended, y)
        self.threshold_ = _best_f1_threshold(y, self._calibrate(blended))
        self.known_ = self._known(features, y) if self.graph_ else None
        x = self._matrix(features, edges, self.known_)
        self.booster_ = self._train(x, y)
        self.shap_tables_ = None  # the tables of any earlier fit explain other trees
        self.forest_ = self._train_forest(x, y)
        return self

    # -- scoring ---------------------------------------------------------------------------

    def _calibrate(self, raw: FloatArray) -> FloatArray:
        a, b = self.platt_
        return np.asarray(1.0 / (1.0 + np.exp(-(a * raw + b))), dtype=np.float64)

    def _booster(self) -> lgb.Booster:
        if self.booster_ is None:
            raise ConfigurationError("the number scorer is not trained")
        return self.booster_

    def _member_raw(self, member: int, x: FloatArray, threads: int) -> FloatArray:
        """Raw score of the boosted (0) or forest (1) member: compiled code when attached."""
        compiled = self.compiled_[member] if self.compiled_ is not None else None
        if compiled is not None and len(x):
            return np.asarray(compiled.predict(np.ascontiguousarray(x), threads), np.float64)
        booster = self._booster() if member == 0 else self.forest_
        assert booster is not None
        return np.asarray(booster.predict(x, raw_score=True, num_threads=threads), np.float64)

    def _raw(self, x: FloatArray, threads: int = 1) -> FloatArray:
        """The blended log-odds (before the final Platt map) of the rows of ``x``."""
        raw = self._member_raw(0, x, threads)
        forest = self._member_raw(1, x, threads) if self.forest_ is not None else None
        return self._blend(raw, forest)

    def _boosted_contributions(self, x: FloatArray, threads: int) -> FloatArray:
        """The boosted member's TreeSHAP values (features, then bias) by :attr:`explainer`."""
        if self.explainer == "lightgbm":
            return np.asarray(
                self._booster().predict(x, pred_contrib=True, num_threads=threads),
                dtype=np.float64,
            )
        if self.explainer != "tables":
            raise ConfigurationError(f"explainer must be tables or lightgbm: {self.explainer!r}")
        tables = self.shap_tables_
        if tables is None:
            # Imported here: numba's import and the table build (about a second for the
            # shipped model) are paid only by runs that explain.
            from telewarden.core.models.tree_shap import build_tables

            with _TABLES_BUILT:
                tables = self.shap_tables_
                if tables is None:
                    tables = build_tables(self._booster().model_to_string())
                    self.shap_tables_ = tables
        return tables.contributions(x, threads)

    def _contributions(self, x: FloatArray, threads: int = 1) -> FloatArray:
        """Contributions to the blended log-odds: one column per feature (the boosting member's
        exact TreeSHAP values, scaled by its blend weight), then ``forest`` (the forest member's
        whole share) when there is one, then the bias. Each row adds up to its blended log-odds.
        """
        contrib = self._boosted_contributions(x, threads)
        if self.forest_ is None:
            return contrib
        a, b, c, d = self.blend_
        forest = self._member_raw(1, x, threads)
        scaled = 0.5 * a * contrib
        scaled[:, -1] += 0.5 * b
        share = 0.5 * (c * forest + d)
        return np.column_stack([scaled[:, :-1], share, scaled[:, -1]]).astype(np.float64)

    def predict_proba(
        self,
        features: pl.DataFrame,
        edges: pl.DataFrame | None = None,
        known: pl.DataFrame | None = None,
    ) -> FloatArray:
        """Calibrated fraud probabilities for the rows of ``features``.

        ``known`` (``node``, ``label``) are the labels contacts may be judged by; by default
        the labels the model was trained on.
        """
        x = self._matrix(features, edges, known if known is not None else self.known_)
        return self._calibrate(self._raw(x))

    def explain(
        self,
        features: pl.DataFrame,
        edges: pl.DataFrame | None = None,
        known: pl.DataFrame | None = None,
    ) -> pl.DataFrame:
        """Per-row, per-feature contributions to the blended log-odds (exact TreeSHAP values).

        Returns
        -------
        polars.DataFrame
            The key column, one column per model feature, ``forest`` (the forest member's
            share, when the model has one) and ``bias`` (the expected log-odds); a row's values
            add up to its blended log-odds, which the final Platt map (``platt_``) turns into
            the score.
        """
        x = self._matrix(features, edges, known if known is not None else self.known_)
        contrib = self._contributions(x)
        forest = ["forest"] if self.forest_ is not None else []
        names = [*self.feature_names_, *forest, "bias"]
        frame = pl.DataFrame(contrib, schema=names, orient="row")
        return frame.insert_column(0, features[self.key])

    def _reasons(self, values: FloatArray, contrib: FloatArray) -> list[str]:
        """Each row's reasons text (``; ``-joined) from its feature values and contributions.

        Reasons say why a number scored high: the features that pushed hardest towards fraud
        come first (ties in feature order), so a flagged number never leads with evidence
        against its flag. One sort for all the rows, and the texts formatted from flat lists
        of Python numbers: per-row NumPy calls cost more than the formatting itself, and a list
        per row made the garbage collector run (it doubled the time in some runs).
        """
        n = len(self.feature_names_)
        order = np.argsort(-contrib[:, :n], axis=1, kind="stable")[:, : self.explain_top]
        top = order.shape[1]
        if top == 0:
            return [""] * len(values)
        names = self.feature_names_
        texts = [
            f"{names[i]}={'missing' if math.isnan(value) else f'{value:.4g}'} ({push:+.2f})"
            for i, value, push in zip(
                order.ravel().tolist(),
                np.take_along_axis(values[:, :n], order, axis=1).ravel().tolist(),
                np.take_along_axis(contrib[:, :n], order, axis=1).ravel().tolist(),
                strict=True,
            )
        ]
        return ["; ".join(texts[at : at + top]) for at in range(0, len(texts), top)]

    def score_many(
        self,
        features: pl.DataFrame,
        edges: pl.DataFrame | None = None,
        known: pl.DataFrame | None = None,
        *,
        explain_all: bool = False,
        explain: Explain = "flagged",
        threads: int = 1,
        graph: pl.DataFrame | None = None,
    ) -> pl.DataFrame:
        """Score every row: key, calibrated ``score``, ``flagged`` and ``reasons`` (``; ``-joined).

        Scores come from the trees alone (LightGBM's prediction or compiled code, the cheap
        part); reasons cost an exact TreeSHAP pass over the boosting member (about 0.12 ms CPU
        a row from the tables, 6 ms with LightGBM's ``pred_contrib``: ``bench/scoring.py``), so
        they are computed only for the rows someone will read.

        Parameters
        ----------
        features, edges, known
            As for :meth:`predict_proba`.
        explain_all : bool
            Explain every row (the same as ``explain="all"``).
        explain : {"flagged", "all", "none"}
            Which rows get reasons: the flagged ones (default), every row, or none (reasons
            are empty strings; a caller that withholds the flags reads no reasons).
        threads : int
            Threads for prediction and contributions (per row, so the values do not depend on
            it); ``0`` takes one per CPU.
        graph : polars.DataFrame or None
            The :meth:`graph_table` of ``edges``, when scoring many chunks against one graph.
        """
        if explain_all:
            explain = "all"
        if explain not in ("flagged", "all", "none"):
            raise InvalidInputError(f"explain must be flagged, all or none, not {explain!r}")
        x = self._matrix(features, edges, known if known is not None else self.known_, graph)
        raw = self._raw(x, threads)
        score = self._calibrate(raw)
        flagged = score >= self.threshold_
        reasons = [""] * len(raw)
        explain_rows: npt.NDArray[np.intp]
        if explain == "all":
            explain_rows = np.arange(len(raw))
        elif explain == "flagged":
            explain_rows = np.flatnonzero(flagged)
        else:
            explain_rows = np.zeros(0, dtype=np.int64)
        if len(explain_rows):
            explained = x[explain_rows]
            texts = self._reasons(explained, self._contributions(explained, threads))
            for i, text in zip(explain_rows.tolist(), texts, strict=True):
                reasons[i] = text
        return pl.DataFrame(
            {
                self.key: features[self.key],
                "score": score,
                "flagged": flagged,
                "reasons": pl.Series(reasons, dtype=pl.String),
            }
        )

    def score_chunks(
        self,
        chunks: Iterable[pl.DataFrame],
        edges: pl.DataFrame | None = None,
        *,
        explain: Explain = "flagged",
        threads: int = 1,
    ) -> Iterator[pl.DataFrame]:
        """Score a stream of feature chunks, one output chunk per input chunk.

        The graph features are computed once from ``edges`` and joined to each chunk, so
        memory is bounded by one chunk (plus the graph) however many rows stream through;
        every row gets the value :meth:`score_many` gives it on the whole frame.
        """
        graph = self.graph_table(edges)
        for chunk in chunks:
            yield self.score_many(chunk, edges, explain=explain, threads=threads, graph=graph)

    def score_one(self, msisdn: str, features: Mapping[str, float | None]) -> ScoredNumber:
        """Score one number from a mapping of feature values (graph features optional)."""
        row: dict[str, list[Any]] = {self.key: [msisdn]}
        row.update({n: [features.get(n)] for n in FEATURE_NAMES})
        frame = pl.DataFrame(
            row, schema={self.key: pl.String, **dict.fromkeys(FEATURE_NAMES, pl.Float64)}
        )
        out = self.score_many(frame, explain_all=True).row(0, named=True)
        return ScoredNumber(
            msisdn=msisdn,
            score=float(out["score"]),
            flagged=bool(out["flagged"]),
            reasons=tuple(out["reasons"].split("; ")),
        )

    # -- persistence (the adapter writes the dictionary to a file) -------------------------

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as JSON-ready data (LightGBM text model inside)."""
        booster = self._booster()
        known = None
        if self.known_ is not None:
            known = {
                "node": self.known_["node"].to_list(),
                "label": self.known_["label"].to_list(),
            }
        return {
            "format": MODEL_FORMAT,
            "key": self.key,
            "feature_names": list(self.feature_names_),
            "graph": self.graph_,
            "params": self.params,
            "num_boost_round": self.num_boost_round,
            "forest_params": self.forest_params,
            "forest_rounds": self.forest_rounds,
            "blend": list(self.blend_),
            "platt": list(self.platt_),
            "threshold": self.threshold_,
            "known": known,
            "booster": booster.model_to_string(),
            "forest": None if self.forest_ is None else self.forest_.model_to_string(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumberScorer:
        """Rebuild a fitted scorer from :meth:`to_dict` output."""
        if data.get("format") not in _READABLE_FORMATS:
            raise ConfigurationError(f"not a {MODEL_FORMAT} model: {data.get('format')!r}")
        scorer = cls(
            params=dict(data["params"]),
            num_boost_round=int(data["num_boost_round"]),
            forest_params=dict(data.get("forest_params") or FOREST_PARAMS),
            forest_rounds=int(data.get("forest_rounds", 0)),
        )
        scorer.key = str(data["key"])
        scorer.feature_names_ = tuple(data["feature_names"])
        scorer.graph_ = bool(data["graph"])
        a, b = data["platt"]
        scorer.platt_ = (float(a), float(b))
        scorer.threshold_ = float(data["threshold"])
        if data.get("known"):
            scorer.known_ = pl.DataFrame(data["known"])
        scorer.booster_ = lgb.Booster(model_str=data["booster"])
        if data.get("forest"):
            scorer.forest_ = lgb.Booster(model_str=data["forest"])
            c1, c2, c3, c4 = data["blend"]
            scorer.blend_ = (float(c1), float(c2), float(c3), float(c4))
        return scorer


# -- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FoldResult:
    """Test-fold figures of one outer fold."""

    fold: int
    auc: float
    f1: float
    precision: float
    recall: float
    macro_f1: float
    weighted_f1: float
    accuracy: float
    brier: float
    threshold: float


@dataclass(frozen=True, slots=True)
class CvReport:
    """Outer cross-validation figures: per fold and their means.

    ``baseline_*`` are plain LightGBM on the 55 features (200 rounds by default, learning rate
    0.1, no calibration, no graph) flagged at 0.5, trained on the same folds in the same run.
    """

    folds: tuple[FoldResult, ...]
    baseline: tuple[FoldResult, ...]

    @staticmethod
    def _mean(rows: Sequence[FoldResult], name: str) -> float:
        return float(np.mean([getattr(r, name) for r in rows]))

    def mean(self, name: str) -> float:
        """Mean over folds of a :class:`FoldResult` figure, e.g. ``mean("auc")``."""
        return self._mean(self.folds, name)

    def baseline_mean(self, name: str) -> float:
        """Mean over folds of the baseline's figure."""
        return self._mean(self.baseline, name)


def _fold_result(fold: int, y: IntArray, p: FloatArray, threshold: float) -> FoldResult:
    flags = (p >= threshold).astype(np.int64)
    return FoldResult(
        fold=fold,
        auc=float(roc_auc_score(y, p)),
        f1=float(f1_score(y, flags)),
        precision=float(precision_score(y, flags, zero_division=0)),
        recall=float(recall_score(y, flags)),
        macro_f1=float(f1_score(y, flags, average="macro")),
        weighted_f1=float(f1_score(y, flags, average="weighted")),
        accuracy=float(accuracy_score(y, flags)),
        brier=float(brier_score_loss(y, p)),
        threshold=threshold,
    )


def cross_validate(
    features: pl.DataFrame,
    labels: Sequence[int] | npt.NDArray[Any],
    edges: pl.DataFrame | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    make_scorer: Callable[[], NumberScorer] = NumberScorer,
    on_fold: Callable[[int], None] | None = None,
    baseline_rounds: int = 200,
) -> CvReport:
    """Stratified outer cross-validation of the scorer and of a plain-boosting baseline.

    Each outer fold trains a fresh scorer on the other folds (its graph features see only
    those folds' labels, its threshold comes from its own inner folds) and scores the fold.

    Parameters
    ----------
    features, labels, edges
        As for :meth:`NumberScorer.fit`.
    folds : int
        Outer folds.
    seed : int
        Seed of the outer split.
    make_scorer : callable
        Builds an unfitted scorer per fold.
    on_fold : callable or None
        Called with the fold number after each fold (progress bars).
    baseline_rounds : int
        Boosting rounds of the plain baseline.

    Returns
    -------
    CvReport
    """
    y = np.asarray(labels, dtype=np.int64)
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    results: list[FoldResult] = []
    baseline: list[FoldResult] = []
    plain = dict(DEFAULT_PARAMS, learning_rate=0.1, subsample=1.0, colsample_bytree=1.0)
    base_x = align_to_published(features.lazy()).select(FEATURE_NAMES).collect().to_numpy()
    for fold, (train_idx, test_idx) in enumerate(outer.split(np.zeros(len(y)), y), start=1):
        scorer = make_scorer().fit(features[train_idx], y[train_idx], edges)
        known = scorer._known(features[train_idx], y[train_idx]) if scorer.graph_ else None
        p = scorer.predict_proba(features[test_idx], edges, known)
        results.append(_fold_result(fold, y[test_idx], p, scorer.threshold_))
        data = lgb.Dataset(base_x[train_idx], label=y[train_idx])
        base_p = np.asarray(
            lgb.train(plain, data, baseline_rounds).predict(base_x[test_idx]), np.float64
        )
        baseline.append(_fold_result(fold, y[test_idx], base_p, 0.5))
        if on_fold is not None:
            on_fold(fold)
    return CvReport(folds=tuple(results), baseline=tuple(baseline))
