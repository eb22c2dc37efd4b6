"""Cross-validation protocols of `telewarden eval sms` on small synthetic sets."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from telewarden.core.sms.classifier import FeatureConfig, prepare
from telewarden.core.sms.evaluation import (
    CharSvmGrid,
    binary_metrics,
    dedupe,
    joint_cross_validate,
    lenient_macro_f1,
    macro_f1,
    multiclass_cross_validate,
    nested_select,
)

SMALL = FeatureConfig(char_ngrams=(1, 2), char_bits=12)


def test_dedupe_keeps_first_label_and_counts_drops() -> None:
    texts, labels, dropped = dedupe(["a", "a", "b", "a"], [1, 0, 0, 0])
    assert (texts, labels, dropped) == (["a", "b"], [1, 0], 2)


def test_binary_metrics_report_positive_class_and_macro() -> None:
    m = binary_metrics([1, 1, 0, 0], [1, 0, 0, 0])
    assert (m.precision, m.recall, m.n, m.n_positive) == (1.0, 0.5, 4, 2)
    assert 0.0 < m.macro_f1 < 1.0


def test_joint_cv_scores_every_row_of_every_set_once() -> None:
    zh = (
        [f"优惠促销{i}" for i in range(10)] + [f"回家吃饭{i}" for i in range(10)],
        [1] * 10 + [0] * 10,
    )
    en = (
        [f"free prize {i}" for i in range(10)] + [f"see you {i}" for i in range(10)],
        [1] * 10 + [0] * 10,
    )
    proba, pred, models = joint_cross_validate({"zh": zh, "en": en}, folds=2, config=SMALL, c=10.0)
    assert len(models) == 2
    assert proba["zh"].shape == (20,) and pred["en"].shape == (20,)
    assert binary_metrics(zh[1], pred["zh"]).f1 > 0.8


def test_multiclass_cv_with_inner_c_choice_and_lenient_groups() -> None:
    texts = [f"公安 洗钱 安全账户 {i}" for i in range(12)] + [
        f"贷款 额度 放款 {i}" for i in range(12)
    ]
    labels = ["police"] * 12 + ["loan"] * 12
    groups = [frozenset({lab}) for lab in labels]
    preds, strict, lenient = multiclass_cross_validate(
        texts, labels, folds=3, groups_labels=groups, c_grid=(0.1, 1.0)
    )
    assert len(preds) == 24
    assert strict == lenient == 1.0


def test_nested_select_chooses_on_the_outer_training_part_only() -> None:
    # "steady" is right on 4 rows in 5 whatever it is trained on; "needs_all" is perfect once
    # trained on a whole outer training part (24 rows) and always wrong on less. Scored on the
    # outer test folds, "needs_all" wins every fold; an inner CV over training rows only
    # (16-row inner training parts) can never see that, so it must pick "steady".
    labels = ["a", "b"] * 15
    flip = {"a": "b", "b": "a"}
    calls: list[tuple[str, frozenset[int], frozenset[int]]] = []

    def fit_predict(option: str, train: np.ndarray, test: np.ndarray) -> list[str]:
        calls.append((option, frozenset(train.tolist()), frozenset(test.tolist())))
        if option == "steady":
            return [labels[i] if i % 5 else flip[labels[i]] for i in test]
        return [labels[i] if len(train) >= 24 else flip[labels[i]] for i in test]

    result = nested_select(labels, ["needs_all", "steady"], fit_predict, folds=5, inner_folds=3)

    assert result.chosen == ["steady"] * 5
    assert all(s["steady"] > s["needs_all"] for s in result.inner_scores)
    assert result.predictions == [lab if i % 5 else flip[lab] for i, lab in enumerate(labels)]
    everything = frozenset(range(len(labels)))
    outer = [(tr, te) for _, tr, te in calls if tr | te == everything]
    inner = [(tr, te) for _, tr, te in calls if tr | te != everything]
    assert len(outer) == 5 and sorted(len(te) for _, te in outer) == [6] * 5
    assert len(inner) == 5 * 3 * 2
    for tr, te in inner:
        # Every inner fit and score stays inside one outer fold's training part.
        assert any(tr | te == o_tr and not (tr | te) & o_te for o_tr, o_te in outer)


def test_nested_select_with_one_option_skips_the_inner_cv() -> None:
    calls: list[int] = []

    def fit_predict(option: str, train: np.ndarray, test: np.ndarray) -> list[str]:
        calls.append(len(train))
        return [option] * len(test)

    result = nested_select(["a", "b"] * 6, ["a"], fit_predict, folds=3)
    assert result.chosen == ["a"] * 3 and result.inner_scores == [{}, {}, {}]
    assert calls == [8, 8, 8]


def test_char_svm_grid_features_match_tfidf_vectorizer_on_the_training_rows() -> None:
    rng = np.random.default_rng(0)
    alphabet = list("贷款额度放款公安洗钱账户客服退款")
    docs = ["".join(rng.choice(alphabet, size=12)) for _ in range(40)]
    labels = ["x", "y"] * 20
    grid = CharSvmGrid({"doc": docs}, labels, ngram_range=(1, 3), max_features=150)
    train, test = np.arange(30), np.arange(30, 40)
    x_tr, x_te = grid.features("doc", train, test)
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, max_features=150)
    ref_tr = vec.fit_transform([prepare(docs[i]) for i in train])
    ref_te = vec.transform([prepare(docs[i]) for i in test])
    assert x_tr.shape == ref_tr.shape == (30, 150)
    assert abs(x_tr - ref_tr).max() < 1e-12 and abs(x_te - ref_te).max() < 1e-12
    # The test rows' n-grams never enter the vocabulary or the IDF.
    x_tr_other, _ = grid.features("doc", train, np.arange(30, 35))
    assert abs(x_tr - x_tr_other).max() == 0


def test_lenient_macro_f1_accepts_any_label_of_the_group() -> None:
    labels = ["a", "b", "c"]
    preds = ["b", "b", "c"]
    groups = [frozenset({"a", "b"}), frozenset({"b"}), frozenset({"c"})]
    assert macro_f1(labels, preds) < 1.0
    assert lenient_macro_f1(labels, preds, groups) == 1.0
