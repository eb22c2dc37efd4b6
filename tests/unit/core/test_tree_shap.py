"""TreeSHAP from per-leaf tables against LightGBM's ``pred_contrib`` and a brute-force oracle.

The tables must give LightGBM's values (within 1e-9 on every column) on the shipped model and
on small models trained here with each missing-value mode, paths with many distinct features
and features split more than once on a path; where LightGBM itself cannot answer (a cover of
zero, which it divides by), the oracle computes the Shapley values of the path-dependent game
by enumerating every feature subset.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from telewarden.adapters.number_model import load_default_model
from telewarden.core.errors import ConfigurationError
from telewarden.core.models.tree_shap import ZERO_THRESHOLD, build_tables

TOLERANCE = 1e-9


def _thresholds(booster: lgb.Booster) -> dict[int, list[float]]:
    """Each feature's split thresholds, exactly as the model text holds them."""
    found: dict[int, list[float]] = {}
    text = booster.model_to_string()
    for features, thresholds in zip(
        re.findall(r"^split_feature=(.*)$", text, re.M),
        re.findall(r"^threshold=(.*)$", text, re.M),
        strict=True,
    ):
        for f, t in zip(features.split(), thresholds.split(), strict=True):
            found.setdefault(int(f), []).append(float(t))
    return found


def _hard_rows(booster: lgb.Booster, base: np.ndarray, seed: int) -> np.ndarray:
    """``base`` with values set exactly at split thresholds, to NaN, to (signed) zero and to
    values within LightGBM's zero threshold, each in a share of the cells."""
    rng = np.random.default_rng(seed)
    x = base.copy()
    for feature, values in _thresholds(booster).items():
        at = rng.random(len(x)) < 0.3
        x[at, feature] = rng.choice(values, int(at.sum()))
    x[rng.random(x.shape) < 0.08] = np.nan
    x[rng.random(x.shape) < 0.08] = 0.0
    x[rng.random(x.shape) < 0.02] = -0.0
    x[rng.random(x.shape) < 0.02] = ZERO_THRESHOLD / 2
    return x


def _assert_matches_lightgbm(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    want = np.asarray(booster.predict(x, pred_contrib=True, num_threads=1), dtype=np.float64)
    got = build_tables(booster.model_to_string()).contributions(x, threads=2)
    assert got.shape == want.shape
    worst = np.abs(got - want).max(axis=0)
    assert worst.max() <= TOLERANCE, f"columns off: {np.flatnonzero(worst > TOLERANCE)}"
    raw = booster.predict(x, raw_score=True, num_threads=1)
    assert np.abs(got.sum(axis=1) - raw).max() <= TOLERANCE  # additivity
    return got


# -- the shipped model ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> lgb.Booster:
    booster = load_default_model().booster_
    assert booster is not None
    return booster


@pytest.mark.slow
def test_the_shipped_model_matches_lightgbm_on_hard_rows(shipped: lgb.Booster) -> None:
    rng = np.random.default_rng(7)
    n = 2_000
    # Feature scales differ by orders of magnitude: draw around each feature's thresholds.
    base = np.zeros((n, shipped.num_feature()))
    for feature, values in _thresholds(shipped).items():
        base[:, feature] = rng.choice(values, n) * rng.lognormal(0.0, 0.5, n)
    x = _hard_rows(shipped, base, seed=8)
    got = _assert_matches_lightgbm(shipped, x)
    # the same top-3 reasons: the same features in the same order
    want = np.asarray(shipped.predict(x, pred_contrib=True, num_threads=1))
    top_got = np.argsort(-got[:, :-1], axis=1, kind="stable")[:, :3]
    top_want = np.argsort(-want[:, :-1], axis=1, kind="stable")[:, :3]
    assert (top_got == top_want).all()


def test_threads_change_nothing(shipped: lgb.Booster) -> None:
    x = _hard_rows(shipped, np.random.default_rng(1).normal(size=(700, 60)) * 50, seed=2)
    tables = build_tables(shipped.model_to_string())
    one = tables.contributions(x, threads=1)
    assert np.array_equal(one, tables.contributions(x, threads=2))
    assert np.array_equal(one[:5], tables.contributions(x[:5], threads=2))


# -- small models trained here --------------------------------------------------------------------


def _train(params: dict[str, Any], seed: int, rounds: int = 8) -> tuple[lgb.Booster, np.ndarray]:
    """A model whose positive class is "18 features all above -1" (plus label noise): its
    trees chain splits on many distinct features, some split twice on a path."""
    rng = np.random.default_rng(seed)
    n, features = 2_000, 24
    x = rng.normal(size=(n, features))
    x[rng.random(x.shape) < 0.06] = np.nan
    x[rng.random(x.shape) < 0.06] = 0.0
    y = ((np.nan_to_num(x)[:, :18] > -1.0).all(axis=1) ^ (rng.random(n) < 0.05)).astype(int)
    base = {
        "objective": "binary",
        "num_leaves": 31,
        "min_data_in_leaf": 2,
        "min_sum_hessian_in_leaf": 0.0,
        "learning_rate": 0.3,
        "num_threads": 1,
        "verbose": -1,
        "seed": seed,
    }
    booster = lgb.train(base | params, lgb.Dataset(x, label=y), num_boost_round=rounds)
    return booster, x


def _path_features(booster: lgb.Booster) -> tuple[int, bool]:
    """Most distinct features on a root-to-leaf path, and whether a path splits a feature
    twice."""
    most, repeated = 0, False
    for tree in booster.dump_model()["tree_info"]:
        stack = [(tree["tree_structure"], [])]
        while stack:
            node, path = stack.pop()
            if "leaf_index" in node:
                most = max(most, len(set(path)))
                repeated = repeated or len(set(path)) < len(path)
                continue
            for child in ("left_child", "right_child"):
                stack.append((node[child], [*path, node["split_feature"]]))
    return most, repeated


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="missing-as-nan"),
        pytest.param({"zero_as_missing": True}, id="zero-as-missing"),
        pytest.param({"use_missing": False}, id="no-missing"),
        pytest.param(
            {"objective": "regression", "bagging_fraction": 0.7, "bagging_freq": 1},
            id="regression-bagged",
        ),
    ],
)
def test_small_models_match_lightgbm(params: dict[str, Any]) -> None:
    booster, x = _train(params, seed=len(params))
    most, repeated = _path_features(booster)
    assert most >= 15 and repeated  # the test reaches long paths and repeated features
    rows = _hard_rows(booster, x[:1_500], seed=3)
    _assert_matches_lightgbm(booster, rows)


def test_single_leaf_trees_only_move_the_bias() -> None:
    # Rows that no split can tell apart: LightGBM keeps one-leaf trees, whose value (the
    # log-odds of the 3:1 labels, in the first) is all the bias there is.
    x = np.ones((200, 3))
    y = np.r_[np.zeros(50), np.ones(150)]
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1},
        lgb.Dataset(x, label=y),
        num_boost_round=3,
    )
    assert "num_leaves=1" in booster.model_to_string()
    got = _assert_matches_lightgbm(booster, np.r_[x[:3], [[np.nan, 0.0, 5.0]]])
    assert got[:, -1] == pytest.approx(math.log(3))
    assert (got[:, :-1] == 0).all()


# -- a zero cover: the brute-force oracle ---------------------------------------------------------


def _oracle(tree: dict[str, Any], row: np.ndarray, n_features: int) -> np.ndarray:
    """Shapley values of the path-dependent game ``v(S) = E[f | x_S]`` by enumeration."""

    def decide(node: dict[str, Any]) -> bool:
        value = row[node["split_feature"]]
        kind = node["missing_type"]
        if math.isnan(value) and kind != "NaN":
            value = 0.0
        if abs(value) <= ZERO_THRESHOLD:  # LightGBM's zero, as its predictor reads a row
            value = 0.0
        if (kind == "NaN" and math.isnan(value)) or (kind == "Zero" and value == 0.0):
            return bool(node["default_left"])
        return bool(value <= node["threshold"])

    def expect(node: dict[str, Any], known: frozenset[int]) -> float:
        if "leaf_index" in node:
            return float(node["leaf_value"])
        left, right = node["left_child"], node["right_child"]
        if node["split_feature"] in known:
            return expect(left if decide(node) else right, known)

        def cover(child: dict[str, Any]) -> float:
            return float(child.get("internal_count", child.get("leaf_count")))

        total = float(node["internal_count"])
        return cover(left) / total * expect(left, known) + cover(right) / total * expect(
            right, known
        )

    root = tree["tree_structure"]
    phi = np.zeros(n_features + 1)
    phi[-1] = expect(root, frozenset())
    for i in range(n_features):
        others = [j for j in range(n_features) if j != i]
        for size in range(n_features):
            weight = math.factorial(size) * math.factorial(n_features - 1 - size)
            weight /= math.factorial(n_features)
            for subset in itertools.combinations(others, size):
                s = frozenset(subset)
                phi[i] += weight * (expect(root, s | {i}) - expect(root, s))
    return phi


def test_a_zero_cover_is_exact_where_lightgbm_divides_by_it() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 8, "verbose": -1, "num_threads": 1},
        lgb.Dataset(x, label=y),
        num_boost_round=1,
    )
    # Give one leaf no training rows (its parent keeps its count): a cover fraction of zero.
    text = booster.model_to_string()
    counts = re.search(r"^leaf_count=(.*)$", text, re.M)
    assert counts is not None
    leaf_count = counts.group(1).split()
    leaf_count[1] = "0"
    text = text.replace(counts.group(0), "leaf_count=" + " ".join(leaf_count))
    edited = lgb.Booster(model_str=text)
    tree = edited.dump_model()["tree_info"][0]
    tables = build_tables(text)
    rows = _hard_rows(edited, x[:40], seed=6)
    got = tables.contributions(rows)
    for row, values in zip(rows, got, strict=True):
        assert np.abs(values - _oracle(tree, row, 5)).max() <= TOLERANCE
    assert np.abs(got.sum(axis=1) - edited.predict(rows, raw_score=True)).max() <= TOLERANCE


def test_the_oracle_agrees_with_lightgbm() -> None:
    # The oracle is the definition; this shows it reads the trees as LightGBM does.
    booster, x = _train({"num_leaves": 6}, seed=9, rounds=1)
    tree = booster.dump_model()["tree_info"][0]
    rows = _hard_rows(booster, x[:10, :], seed=4)
    want = booster.predict(rows, pred_contrib=True)
    used = sorted(_thresholds(booster))
    assert 0 < len(used) <= 6
    for row, values in zip(rows, want, strict=True):
        phi = _oracle_on(tree, row, used)
        assert np.abs(values[used] - phi[:-1]).max() <= TOLERANCE
        assert abs(values[-1] - phi[-1]) <= TOLERANCE


def _oracle_on(tree: dict[str, Any], row: np.ndarray, used: list[int]) -> np.ndarray:
    """The oracle over the features the tree uses only (the others are dummies: zero)."""
    squeezed = _squeeze(tree, {f: i for i, f in enumerate(used)})
    return _oracle(squeezed, row[used], len(used))


def _squeeze(node: Any, index: dict[int, int]) -> Any:
    if isinstance(node, dict):
        out = {k: _squeeze(v, index) for k, v in node.items()}
        if "split_feature" in node:
            out["split_feature"] = index[node["split_feature"]]
        return out
    return node


# -- refusals -------------------------------------------------------------------------------------


def test_models_the_tables_cannot_explain_are_refused() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(300, 3)).astype(float)
    y = (x[:, 0] > 2).astype(int)
    params = {"verbose": -1, "num_threads": 1, "min_data_per_group": 5, "cat_smooth": 1}
    categorical = lgb.train(
        params | {"objective": "binary"},
        lgb.Dataset(x, label=y, categorical_feature=[0]),
        num_boost_round=2,
    )
    with pytest.raises(ConfigurationError, match="categorical"):
        build_tables(categorical.model_to_string())
    multiclass = lgb.train(
        params | {"objective": "multiclass", "num_class": 3},
        lgb.Dataset(x, label=x[:, 1] % 3),
        num_boost_round=2,
    )
    with pytest.raises(ConfigurationError, match="single-output"):
        build_tables(multiclass.model_to_string())
    forest = lgb.train(
        params
        | {"objective": "binary", "boosting": "rf", "bagging_fraction": 0.6, "bagging_freq": 1},
        lgb.Dataset(x, label=y),
        num_boost_round=2,
    )
    with pytest.raises(ConfigurationError, match="averaged"):
        build_tables(forest.model_to_string())
