"""The number scorer: calibration, threshold, explanations, persistence and no label leakage."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from telewarden.core.errors import ConfigurationError, InvalidInputError
from telewarden.core.features.sichuan import FEATURE_NAMES
from telewarden.core.models.number_scorer import (
    GRAPH_MODEL_FEATURES,
    NumberScorer,
    ScoredNumber,
    Scorer,
    cross_validate,
)

N = 300


def _data(seed: int = 0) -> tuple[pl.DataFrame, np.ndarray, pl.DataFrame]:
    """Fraud numbers call out more and link to each other; features are noisy."""
    rng = np.random.default_rng(seed)
    y = (rng.random(N) < 0.3).astype(np.int64)
    cols = {n: rng.normal(size=N) for n in FEATURE_NAMES}
    cols["voc_calltype1"] = rng.normal(loc=y * 1.5, scale=1.0)
    frame = pl.DataFrame(cols).with_columns(
        pl.Series("phone_no_m", [f"n{i}" for i in range(N)]),
        pl.Series("node", np.arange(N)),
    )
    fraud = np.flatnonzero(y)
    legit = np.flatnonzero(y == 0)
    src = np.r_[rng.choice(fraud, 600), rng.choice(legit, 600)]
    dst = np.r_[rng.choice(fraud, 600), rng.choice(legit, 600)]
    edges = pl.DataFrame({"src": src, "dst": dst}).filter(pl.col("src") != pl.col("dst"))
    return frame, y, edges


def _scorer() -> NumberScorer:
    return NumberScorer(num_boost_round=20, calibration_folds=2)


@pytest.fixture(scope="module")
def fitted() -> tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame]:
    frame, y, edges = _data()
    return _scorer().fit(frame, y, edges), frame, y, edges


def test_fitted_scorer_follows_the_protocol_and_uses_graph_features(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    scorer, *_ = fitted
    assert isinstance(scorer, Scorer)
    assert scorer.feature_names_ == FEATURE_NAMES + GRAPH_MODEL_FEATURES


def test_scores_are_probabilities_and_flags_follow_the_threshold(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    scorer, frame, y, edges = fitted
    out = scorer.score_many(frame, edges)
    score = out["score"].to_numpy()
    assert ((score > 0) & (score < 1)).all()
    assert (out["flagged"].to_numpy() == (score >= scorer.threshold_)).all()
    # graph and behaviour signals separate the classes on the training rows
    assert score[y == 1].mean() > score[y == 0].mean() + 0.3


def test_only_flagged_rows_get_reasons_unless_asked(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    scorer, frame, _, edges = fitted
    out = scorer.score_many(frame, edges)
    assert all((r != "") == f for r, f in zip(out["reasons"], out["flagged"], strict=True))
    everyone = scorer.score_many(frame.head(5), edges, explain_all=True)
    assert all(r.count("=") == scorer.explain_top for r in everyone["reasons"])


def test_contributions_add_up_to_the_raw_score(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    scorer, frame, _, edges = fitted
    rows = frame.head(10)
    contrib = scorer.explain(rows, edges).drop("phone_no_m").to_numpy().sum(axis=1)
    a, b = scorer.platt_
    expected = 1 / (1 + np.exp(-(a * contrib + b)))
    assert np.allclose(expected, scorer.predict_proba(rows, edges))


def test_score_one_agrees_with_score_many_without_edges(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    scorer, frame, _, _ = fitted
    row = frame.row(0, named=True)
    one = scorer.score_one("n0", {n: row[n] for n in FEATURE_NAMES})
    many = scorer.score_many(frame.head(1)).row(0, named=True)
    assert isinstance(one, ScoredNumber)
    assert one.score == pytest.approx(many["score"])
    assert one.flagged == many["flagged"]


def test_round_trip_through_a_dictionary_keeps_predictions(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    scorer, frame, _, edges = fitted
    again = NumberScorer.from_dict(scorer.to_dict())
    assert again.threshold_ == scorer.threshold_
    assert np.allclose(again.predict_proba(frame, edges), scorer.predict_proba(frame, edges))


def test_the_forest_member_joins_by_default_and_can_be_left_out(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    scorer, frame, y, edges = fitted
    assert scorer.forest_ is not None
    a, _, c, _ = scorer.blend_
    assert a > 0 and c > 0  # both members' log-odds rise with fraud
    alone = NumberScorer(num_boost_round=20, forest_rounds=0, calibration_folds=2).fit(
        frame, y, edges
    )
    assert alone.forest_ is None
    assert alone.blend_ == (1.0, 0.0, 0.0, 0.0)
    assert not np.allclose(alone.predict_proba(frame, edges), scorer.predict_proba(frame, edges))


def test_version_1_model_files_without_a_forest_still_load() -> None:
    frame, y, edges = _data(seed=2)
    alone = NumberScorer(num_boost_round=20, forest_rounds=0, calibration_folds=2).fit(
        frame, y, edges
    )
    old = {
        k: v
        for k, v in alone.to_dict().items()
        if k not in ("forest", "forest_params", "forest_rounds", "blend")
    }
    old["format"] = "telewarden-number-scorer/1"
    again = NumberScorer.from_dict(old)
    assert again.forest_ is None
    assert np.allclose(again.predict_proba(frame, edges), alone.predict_proba(frame, edges))


def test_test_rows_labels_never_reach_their_own_graph_features() -> None:
    frame, y, edges = _data(seed=3)
    test = np.arange(N) < 60
    scorer = _scorer().fit(frame.filter(~pl.Series(test)), y[~test], edges)
    assert scorer.known_ is not None
    assert set(scorer.known_["node"].to_list()).isdisjoint(set(np.flatnonzero(test)))
    held_out = frame.filter(pl.Series(test))
    honest = scorer.predict_proba(held_out, edges)
    # handing in every label (the leak) would move the held-out scores: the default does not
    leaky_known = pl.DataFrame({"node": np.arange(N), "label": y})
    leaky = scorer.predict_proba(held_out, edges, leaky_known)
    assert not np.allclose(honest, leaky)


def test_cross_validation_reports_every_fold_and_the_baseline() -> None:
    frame, y, edges = _data(seed=1)
    report = cross_validate(frame, y, edges, folds=2, make_scorer=_scorer, baseline_rounds=20)
    assert [r.fold for r in report.folds] == [1, 2]
    assert len(report.baseline) == 2
    assert 0.5 < report.mean("auc") <= 1.0
    assert all(r.threshold == 0.5 for r in report.baseline)


@pytest.mark.parametrize(
    ("labels", "message"),
    [([1] * N, "both"), ([0, 1], "differ")],
    ids=["one-class", "wrong-length"],
)
def test_rejects_unusable_labels(labels: list[int], message: str) -> None:
    frame, _, _ = _data()
    with pytest.raises(InvalidInputError, match=message):
        _scorer().fit(frame, labels)


def test_unfitted_scorer_and_foreign_model_data_are_configuration_errors() -> None:
    frame, _, _ = _data()
    with pytest.raises(ConfigurationError):
        _scorer().score_many(frame)
    with pytest.raises(ConfigurationError):
        NumberScorer.from_dict({"format": "something-else"})


def test_missing_feature_columns_are_named() -> None:
    scorer = _scorer().fit(*_data()[:2])
    with pytest.raises(InvalidInputError, match="feature columns missing: opposite_count"):
        scorer.score_many(pl.DataFrame({"phone_no_m": ["x"]}))


def test_explain_modes_and_threads_give_the_same_scores_and_reasons(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    scorer, frame, _, edges = fitted
    flagged = scorer.score_many(frame, edges)
    none = scorer.score_many(frame, edges, explain="none")
    everyone = scorer.score_many(frame, edges, explain="all", threads=2)
    assert none.drop("reasons").equals(flagged.drop("reasons"))
    assert (none["reasons"] == "").all()
    assert everyone.drop("reasons").equals(flagged.drop("reasons"))
    # a flagged row's reasons are the same whether only the flagged or every row is explained
    mask = flagged["flagged"]
    assert everyone.filter(mask)["reasons"].equals(flagged.filter(mask)["reasons"])
    with pytest.raises(InvalidInputError, match="explain"):
        scorer.score_many(frame, edges, explain="some")  # type: ignore[arg-type]


@pytest.mark.parametrize("forest_rounds", [0, 5])
def test_reasons_carry_lightgbm_exact_contributions_on_any_thread_count(
    forest_rounds: int,
) -> None:
    # The values shown to users are LightGBM's pred_contrib of the boosting member, scaled by
    # its blend weight when there is a forest, whatever the threads or the rows explained.
    frame, y, edges = _data()
    scorer = NumberScorer(num_boost_round=20, forest_rounds=forest_rounds, calibration_folds=2)
    scorer.fit(frame, y, edges)
    x = scorer._matrix(frame, edges, scorer.known_)
    assert scorer.booster_ is not None
    want = np.asarray(scorer.booster_.predict(x, pred_contrib=True, num_threads=1))
    a = scorer.blend_[0] if forest_rounds else 2.0
    for threads in (1, 2):
        got = scorer._contributions(x, threads)
        features = len(scorer.feature_names_)
        assert np.max(np.abs(got[:, :features] - 0.5 * a * want[:, :features])) <= 1e-9
    flagged = scorer.score_many(frame, edges, threads=2).filter(pl.col("flagged"))
    assert flagged.height > 0
    rows = np.flatnonzero(scorer.score_many(frame, edges)["flagged"].to_numpy())
    for i, reasons in zip(rows, flagged["reasons"], strict=True):
        top = np.argsort(-want[i, :features], kind="stable")[: scorer.explain_top]
        shown = [f"{scorer.feature_names_[j]}=" for j in top]
        assert [r.split("=")[0] + "=" for r in reasons.split("; ")] == shown
        values = [float(r.rsplit("(", 1)[1].rstrip(")")) for r in reasons.split("; ")]
        assert values == [round(0.5 * a * want[i, j], 2) for j in top]


def _reasons_one_row(scorer: NumberScorer, values: np.ndarray, contrib: np.ndarray) -> str:
    """The reasons text as it was built row by row before the rows were batched."""
    order = np.argsort(-contrib[: len(scorer.feature_names_)], kind="stable")[: scorer.explain_top]
    reasons = []
    for i in order:
        shown = "missing" if np.isnan(values[i]) else f"{values[i]:.4g}"
        reasons.append(f"{scorer.feature_names_[i]}={shown} ({contrib[i]:+.2f})")
    return "; ".join(reasons)


def test_reasons_of_many_rows_read_as_those_built_row_by_row(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    # Ties (sorted in feature order), missing values, zeros, pushes against fraud, values that
    # round differently at 4 significant digits, and the forest and bias columns after the
    # features (never a reason).
    scorer, *_ = fitted
    rng = np.random.default_rng(3)
    features = len(scorer.feature_names_)
    rows = 400
    values = rng.normal(scale=1e3, size=(rows, features)) * 10.0 ** rng.integers(-6, 6, (rows, 1))
    values[rng.random(values.shape) < 0.1] = np.nan
    values[rng.random(values.shape) < 0.05] = 0.0
    contrib = rng.normal(size=(rows, features + 2))
    contrib[rng.random(contrib.shape) < 0.3] = 0.0
    contrib[::7, :] = 0.125  # every feature tied
    for r in range(3, rows, 7):  # a dozen features tied at the top, the rest below
        contrib[r, rng.choice(features, 12, replace=False)] = 5.0
    contrib[::5, -2:] = 99.0  # the forest's share and the bias outrank any feature
    got = scorer._reasons(values, contrib)
    want = [_reasons_one_row(scorer, values[r], contrib[r]) for r in range(rows)]
    assert got == want
    assert scorer._reasons(values[:0], contrib[:0]) == []
    shown = scorer.explain_top
    try:
        for top in (0, 1, features + 5):  # no reason, one, more than there are features
            scorer.explain_top = top
            want = [_reasons_one_row(scorer, values[r], contrib[r]) for r in range(rows)]
            assert scorer._reasons(values, contrib) == want
    finally:
        scorer.explain_top = shown


def test_chunks_score_as_the_whole_frame(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    scorer, frame, _, edges = fitted
    whole = scorer.score_many(frame, edges)
    chunks = [frame.slice(i, 37) for i in range(0, frame.height, 37)]
    streamed = pl.concat(list(scorer.score_chunks(chunks, edges)))
    assert streamed.equals(whole)


def test_lightgbm_explainer_gives_the_tables_reasons_and_others_are_refused(
    fitted: tuple[NumberScorer, pl.DataFrame, np.ndarray, pl.DataFrame],
) -> None:
    # pred_contrib stays available as the reference: same reasons text as the tables.
    scorer, frame, _, edges = fitted
    tables = scorer.score_many(frame, edges, explain="all")
    scorer.explainer = "lightgbm"
    try:
        assert scorer.score_many(frame, edges, explain="all").equals(tables)
        scorer.explainer = "shap"  # type: ignore[assignment]
        with pytest.raises(ConfigurationError, match="explainer"):
            scorer.score_many(frame.head(3), edges, explain="all")
    finally:
        scorer.explainer = "tables"


def test_refitting_drops_the_tables_of_the_earlier_trees() -> None:
    frame, y, edges = _data()
    scorer = NumberScorer(num_boost_round=5, forest_rounds=0, calibration_folds=2)
    scorer.fit(frame, y, edges)
    scorer.score_many(frame.head(20), edges, explain="all")
    assert scorer.shap_tables_ is not None
    scorer.num_boost_round = 9
    scorer.fit(frame, y, edges)
    x = scorer._matrix(frame, edges, scorer.known_)
    assert scorer.booster_ is not None
    want = scorer.booster_.predict(x, pred_contrib=True)
    assert np.abs(scorer._contributions(x) - want).max() <= 1e-9
