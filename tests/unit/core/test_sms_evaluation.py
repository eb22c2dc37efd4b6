"""Cross-validation protocols of `telewarden eval sms` on small synthetic sets."""

from __future__ import annotations

from telewarden.core.sms.classifier import FeatureConfig
from telewarden.core.sms.evaluation import (
    binary_metrics,
    dedupe,
    joint_cross_validate,
    multiclass_cross_validate,
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
