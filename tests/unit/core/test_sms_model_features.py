"""The SMS model's feature space: unseen n-grams, the script split, punctuation, calibration."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from telewarden.core.sms.classifier import (
    FeatureConfig,
    SmsModel,
    count_matrix,
    fit_model,
    has_cjk,
    model_text,
    prepare,
)

SPLIT = FeatureConfig(char_ngrams=(1, 3), char_bits=16, split_by_script=True, cjk_punctuation=False)
HAM = ["妈我今晚不回家吃饭了", "明天早上八点开会", "see you at the station", "I'll call you later"]
SPAM = [
    "全场五折优惠点击领取",
    "会员充值送好礼详询",
    "FREE prize call now",
    "WIN cash text WIN now",
]


def _fit(config: FeatureConfig = SPLIT, inner_folds: int = 0) -> SmsModel:
    texts = [f"{t} {i}" for i in range(6) for t in HAM + SPAM]
    labels = [0] * len(HAM) + [1] * len(SPAM)
    return fit_model(texts, labels * 6, config=config, c=1.0, inner_folds=inner_folds)


def test_chinese_and_latin_messages_use_separate_feature_blocks() -> None:
    rows = count_matrix([prepare("优惠 ok"), prepare("ok")], SPLIT)
    base = SPLIT.base_width
    cjk_cols, latin_cols = rows[0].indices, rows[1].indices
    assert cjk_cols.max() == 2 * base and np.all(cjk_cols[:-1] >= base)
    assert latin_cols.max() == 2 * base + 1 and np.all(latin_cols[:-1] < base)
    assert rows.shape[1] == SPLIT.n_features == 2 * base + 2
    # Columns stay sorted and the counts are those of the unsplit matrix.
    plain = count_matrix([prepare("ok")], FeatureConfig(char_ngrams=(1, 3), char_bits=16))
    assert np.all(np.diff(latin_cols) > 0)
    assert rows[1].data[:-1].tolist() == plain.data.tolist()


def test_any_chinese_character_routes_a_message_to_the_chinese_block() -> None:
    assert has_cjk("我准备为我的iPadAir配一个MicrosoftKeyboard")
    assert not has_cjk("FREE entry, call 0800 now")


def test_chinese_sentence_punctuation_is_dropped_only_when_configured() -> None:
    assert model_text("妈，我今晚不回家。", SPLIT) == "妈我今晚不回家"
    assert model_text("【ETC】您的ETC已失效", SPLIT) == "【ETC】您的ETC已失效"
    assert model_text("ok, see you.", SPLIT) == "ok, see you."
    kept = FeatureConfig(split_by_script=True)
    assert model_text("妈，我今晚不回家。", kept) == "妈，我今晚不回家。"


def test_ngrams_never_seen_in_training_carry_no_weight_and_no_norm() -> None:
    model = _fit()
    assert np.all(model.idf_[model.coef_ == 0] >= 0)
    novel = "量子纠缠实验报告"  # characters that occur in no training message
    cols = count_matrix([prepare(novel)], model.config).indices
    assert np.all(model.idf_[cols[:-1]] == 0)
    # A chat with an unseen tail scores like the chat alone: unseen n-grams add nothing.
    chat = prepare("妈我今晚不回家吃饭了")
    with_tail = prepare("妈我今晚不回家吃饭了" + novel)
    a, b = model.decision_many([chat, with_tail])
    assert abs(a - b) < 1e-5


def test_platt_scaling_is_folded_into_the_weights() -> None:
    raw = _fit()
    calibrated = _fit(inner_folds=3)
    slope, offset = calibrated.meta["platt"]
    assert slope > 0
    texts = [prepare(t) for t in HAM + SPAM]
    expected = slope * raw.decision_many(texts) + offset
    assert np.allclose(calibrated.decision_many(texts), expected, atol=1e-4)


def test_old_model_files_without_the_new_keys_keep_their_features() -> None:
    data = FeatureConfig().to_dict()
    del data["split_by_script"], data["cjk_punctuation"]
    old = FeatureConfig.from_dict(data)
    assert not old.split_by_script and old.cjk_punctuation
    assert FeatureConfig.from_dict(SPLIT.to_dict()) == SPLIT


def test_explanations_name_ngrams_in_the_shifted_chinese_block() -> None:
    model = _fit()
    names = [name for name, _ in model.explain("全场五折优惠，点击领取", top_k=20)]
    assert "'优惠'" in names and all(not n.startswith("'#") for n in names)
    assert "','" not in names


def test_word_ngrams_stay_inside_their_text_and_match_the_scalar_path() -> None:
    from telewarden.core.sms.classifier import word_ngram_hashes

    rows, cols, starts, sizes = word_ngram_hashes(["win cash", "now call"], (1, 2), 1 << 12)
    assert sorted(zip(rows.tolist(), sizes.tolist(), strict=True)) == [
        (0, 1),
        (0, 1),
        (0, 2),
        (1, 1),
        (1, 1),
        (1, 2),
    ]
    # The same n-gram hashes to the same column whatever text it is in.
    _, alone, _, _ = word_ngram_hashes(["now call"], (1, 2), 1 << 12)
    assert sorted(cols[rows == 1].tolist()) == sorted(alone.tolist())
    assert len(set(cols.tolist())) == 6


@pytest.mark.parametrize("shared", [False, True])
def test_scoring_path_equals_the_tfidf_matrix_that_training_sees(shared: bool) -> None:
    from telewarden.core.sms.classifier import _tfidf

    model = _fit(replace(SPLIT, shared_block=shared, url_token=shared))
    texts = [prepare(t) for t in [*HAM, *SPAM, "", " ", "win win win 优惠优惠"]]
    via_matrix = np.asarray(
        _tfidf(count_matrix(texts, model.config), model.idf_) @ model.coef_, dtype=float
    )
    assert np.allclose(model.decision_many(texts), via_matrix + model.intercept_, atol=1e-4)
    counts = count_matrix(texts, model.config)
    assert counts.has_canonical_format and counts[len(texts) - 1].max() == 3


def test_links_become_one_token_and_every_text_also_fills_the_shared_block() -> None:
    cfg = FeatureConfig(
        char_ngrams=(1, 3),
        char_bits=16,
        split_by_script=True,
        cjk_punctuation=False,
        shared_block=True,
        url_token=True,
    )
    assert model_text(prepare("点击 http://t.cn/A6xY 领取。"), cfg) == "点击httpurl领取"
    assert model_text(prepare("visit www.win.co.uk now"), cfg).split() == [
        "visit",
        "httpurl",
        "now",
    ]
    base = cfg.base_width
    zh, en = count_matrix([prepare("优惠"), prepare("ok")], cfg)
    assert cfg.n_features == 3 * base + 2
    # Chinese block + shared block + bias; Latin block + shared block + bias.
    assert sorted({int(j) // base for j in zh.indices[:-1]}) == [1, 2]
    assert sorted({int(j) // base for j in en.indices[:-1]}) == [0, 2]
    assert zh.indices[-1] == 3 * base and en.indices[-1] == 3 * base + 1


# Issue #17: features robust to masking, character variants and split letters.
VARIANTS = replace(SPLIT, url_token=True, variant_fold=True)


@pytest.mark.parametrize(
    ("masked", "plain"),
    [
        ("首存送彩金，日出千万 [链接]", "首存送彩金，日出千万 http://a.cn"),
        ("首存送彩金，详情【网址】", "首存送彩金，详情 www.a.com"),
        ("首存送彩金 http://***", "首存送彩金 http://a.cn"),
        ("首存送彩金，加薇信领取", "首存送彩金，加微信领取"),
        ("首存送彩金，加V信领取", "首存送彩金，加微信领取"),
        ("首存送彩金，扣扣群", "首存送彩金，qq群"),
        ("pay ***.99 now", "pay 123.99 now"),
        ("Clіck hеre to vеrify", "Click here to verify"),  # Cyrillic і and е
        ("c.l.i.c.k here to v-e-r-i-f-y", "click here to verify"),
        ("your acc0unt is l0cked", "your account is locked"),
    ],
)
def test_hiding_variants_read_as_what_they_hide(masked: str, plain: str) -> None:
    assert model_text(prepare(masked), VARIANTS) == model_text(prepare(plain), VARIANTS)
    # ...and only with the flag: the model files before it keep their features.
    assert model_text(prepare(masked), SPLIT) != model_text(prepare(plain), SPLIT)


def test_variant_fold_is_saved_with_the_model_and_off_in_older_files() -> None:
    assert FeatureConfig.from_dict(VARIANTS.to_dict()) == VARIANTS
    data = VARIANTS.to_dict()
    del data["variant_fold"]
    assert not FeatureConfig.from_dict(data).variant_fold


def test_ordinary_words_and_numbers_are_left_alone() -> None:
    for text in ("meet at 10.30, room b-12", "call 0800 123 4567", "e-mail me the x-ray"):
        assert model_text(prepare(text), VARIANTS) == model_text(prepare(text), SPLIT)
