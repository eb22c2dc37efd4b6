"""Continued training of the SMS model without its original data (``core.sms.update``)."""

from __future__ import annotations

import numpy as np
import pytest

from telewarden.core.errors import InvalidInputError
from telewarden.core.sms.classifier import SmsModel, fit_model
from telewarden.core.sms.update import update_model

HAM = [
    "see you at home tonight",
    "call me when you land",
    "dinner at eight?",
    "明天早上八点开会",
    "我今晚不回家吃饭",
    "周末一起去爬山吧",
    "记得带伞",
    "running late, sorry",
] * 3
SPAM = [
    "win a free prize now, text WIN",
    "claim your cash award today",
    "全场五折优惠点击领取",
    "楼盘特价欢迎来电",
    "贷款无抵押秒批",
    "urgent! your account is locked",
] * 3
LURES = [
    f"我是你的老同学{n}，现在急需一笔钱周转，请先转账到这个账户，明天还你"
    for n in "一二三四五六七八"
]
CHAT = ["我是你的老同学，周末一起吃饭吧", "我到了，你在哪", "帮我带一杯咖啡"]


@pytest.fixture(scope="module")
def base() -> SmsModel:
    texts = [f"{t} {i}" for i, t in enumerate(HAM + SPAM)]
    return fit_model(texts, [0] * len(HAM) + [1] * len(SPAM), inner_folds=0)


def test_reports_of_a_new_campaign_raise_its_scores_and_leave_the_base_unchanged(
    base: SmsModel,
) -> None:
    coef = base.coef_.copy()
    new = update_model(base, LURES[:6], [1] * 6)
    held_out = LURES[6:]
    assert np.all(new.score_many(held_out) > base.score_many(held_out))
    assert np.array_equal(base.coef_, coef) and "updates" not in base.meta
    assert (new.intercept_, new.threshold_, new.cjk_threshold_) == (
        base.intercept_,
        base.threshold_,
        base.cjk_threshold_,
    )
    (entry,) = new.meta["updates"]
    assert (entry["n_labelled"], entry["n_positive"], entry["n_anchors"]) == (6, 6, 0)
    assert entry["new_ngrams"] > 0 and new.meta["n_train"] == base.meta["n_train"] + 6


def test_a_message_sharing_no_ngram_with_the_reports_keeps_its_exact_score(
    base: SmsModel,
) -> None:
    new = update_model(base, ["鑫淼焱"], [1])
    other = ["see you at home tonight 3", "win a free prize now"]
    np.testing.assert_allclose(new.score_many(other), base.score_many(other), rtol=0, atol=1e-6)


def test_anchors_hold_the_verdicts_of_ordinary_traffic(base: SmsModel) -> None:
    free = update_model(base, LURES, [1] * len(LURES), prior=0.05)
    held = update_model(
        base, LURES, [1] * len(LURES), prior=0.05, anchors=CHAT * 10, anchor_weight=20
    )
    assert np.all(held.score_many(CHAT) < free.score_many(CHAT))
    assert np.all(held.score_many(CHAT) < held.thresholds_for(CHAT))
    assert held.score_many(LURES[:1])[0] > base.score_many(LURES[:1])[0]
    assert held.meta["updates"][-1]["n_anchors"] == 30


def test_updates_chain_and_keep_their_history(base: SmsModel) -> None:
    once = update_model(base, LURES[:4], [1] * 4, meta={"trained_on": "a.tsv"})
    twice = update_model(once, LURES[4:] + ["dinner at eight? 1"], [1] * 4 + [0])
    assert [u.get("trained_on") for u in twice.meta["updates"]] == ["a.tsv", None]
    assert twice.meta["updates"][-1]["n_positive"] == 4


@pytest.mark.parametrize(
    ("texts", "labels", "kwargs", "message"),
    [
        pytest.param(["a"], [1, 0], {}, "1 texts but 2 labels", id="length-mismatch"),
        pytest.param([], [], {}, "at least one", id="empty"),
        pytest.param(["a"], [2], {}, "0 \\(ok\\) or 1", id="bad-label"),
        pytest.param(["a"], [1], {"prior": 0.0}, "positive", id="zero-prior"),
    ],
)
def test_refuses_bad_input(
    base: SmsModel, texts: list[str], labels: list[int], kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        update_model(base, texts, labels, **kwargs)  # type: ignore[arg-type]
