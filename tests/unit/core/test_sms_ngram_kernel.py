"""The compiled scoring kernel (``core/sms/ngram_kernel.py``) gives the NumPy path's scores, bit for bit.

Compared on the shipped model with the NumPy path (``SmsModel._decision_block``, itself held
to the previous code by ``test_sms_fast_scoring.py``) and with that previous code, on Chinese,
English, emoji, empty texts, NUL characters, £ and € words, a very long text and generated
texts; and on smaller models with other feature settings (no word n-grams, no script split,
other n-gram ranges), whose random weights reach columns the shipped model leaves at zero.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telewarden.adapters.sms_model import load_default_model
from telewarden.core.sms import classifier
from telewarden.core.sms.classifier import FeatureConfig, SmsModel, prepare

from . import sms_model_reference as ref
from .sms_reference import sms_texts
from .test_sms_fast_scoring import _check_texts, _random_texts

TEXTS = [
    "",
    "\x00",
    "a\x00b\x00\x00c",
    "您的账户已冻结，请点击 [链接] 解冻",
    "【工商银行】验证码428193，请勿泄露 🎁🎉",
    "Your parcel is on hold, pay £1.99 at royalmail-fee.top",
    "WINNER!! claim your €500 prize: call 09061701461 £££ €€ £€a",
    "🎁",
    "a",
    "ab",
    "aaaa aaaa aaaa",
    "don't share your c.l.i.c.k acc0unt vx 薇信",
    "x" * 9000,
    "free entry " * 2000,
    "混合 text 文本 with 123 数字 and emoji 😀 \U0001f600\U0010ffff",
]


@pytest.fixture(scope="module")
def model() -> SmsModel:
    return load_default_model()


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


def _ready(texts: list[str]) -> list[str]:
    return [prepare(t) for t in texts]


def test_kernel_equals_numpy_path_on_varied_texts(model: SmsModel) -> None:
    ready = _ready(TEXTS)
    fused = model._decision_fused(ready)
    assert _same_bits(fused, model._decision_block(ready))
    assert _same_bits(fused, ref.decision_many(model, ready))
    # One at a time too: no row's score depends on its neighbours.
    for one in ready:
        assert _same_bits(model._decision_fused([one]), model._decision_block([one]))


def test_kernel_equals_numpy_path_on_check_sets_and_random_texts(model: SmsModel) -> None:
    ready = _ready(_check_texts() + _random_texts(400, seed=11) + _random_texts(40, 12, 80))
    assert _same_bits(model._decision_fused(ready), model._decision_block(ready))


def test_kernel_on_no_texts(model: SmsModel) -> None:
    assert model._decision_fused([]).shape == (0,)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sms_texts(), min_size=1, max_size=6))
def test_kernel_equals_numpy_path_on_generated_texts(texts: list[str]) -> None:
    model = load_default_model()
    ready = _ready(texts)
    assert _same_bits(model._decision_fused(ready), model._decision_block(ready))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="ab £€'$0中 \x00\n😀", max_size=40), min_size=1, max_size=5))
def test_kernel_equals_numpy_path_on_word_edge_texts(texts: list[str]) -> None:
    # Short alphabets: many repeated n-grams (counts above 1) and word bytes of every length
    # modulo 4 (MurmurHash3's tail), £ two bytes and € three in UTF-8.
    model = load_default_model()
    assert _same_bits(model._decision_fused(texts), model._decision_block(texts))


@pytest.mark.parametrize(
    "config",
    [
        FeatureConfig(char_ngrams=(1, 4), char_bits=12),
        FeatureConfig(char_ngrams=(2, 3), word_ngrams=(1, 3), char_bits=10, word_bits=9),
        FeatureConfig(
            char_ngrams=(1, 2),
            word_ngrams=(2, 2),
            char_bits=11,
            word_bits=7,
            split_by_script=True,
            shared_block=False,
        ),
        FeatureConfig(
            char_ngrams=(3, 5),
            word_ngrams=(1, 2),
            char_bits=9,
            word_bits=8,
            split_by_script=True,
            shared_block=True,
            cjk_punctuation=False,
            url_token=True,
            latin_code_fold=True,
            variant_fold=True,
        ),
    ],
)
def test_kernel_equals_numpy_path_for_other_feature_settings(config: FeatureConfig) -> None:
    rng = np.random.default_rng(5)
    width = config.n_features
    model = SmsModel(
        config,
        rng.normal(size=width).astype(np.float32),
        0.25,
        rng.uniform(0.5, 3.0, size=width).astype(np.float32),
    )
    ready = _ready(TEXTS + _random_texts(200, seed=21))
    assert _same_bits(model._decision_fused(ready), model._decision_block(ready))


def test_load_compiled_scoring_switches_decision_many(
    model: SmsModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = _ready(_random_texts(50, seed=31))
    before = model.decision_many(ready)
    proba = model.score_many(ready, prepared=True)
    monkeypatch.setattr(classifier, "_kernel_loaded", False)
    classifier.load_compiled_scoring()
    assert classifier.compiled_scoring_loaded()
    assert _same_bits(model.decision_many(ready), before)
    assert _same_bits(model.score_many(ready, prepared=True), proba)


def test_tf_table_is_numpy_log() -> None:
    from telewarden.core.sms import ngram_kernel

    table = ngram_kernel._tf(70_000)
    counts = np.array(random.Random(3).sample(range(1, 70_000), 500), dtype=np.int64)
    assert _same_bits(table[counts - 1], np.log(counts) + 1.0)


def test_kernel_refuses_weights_that_do_not_fit_the_features(model: SmsModel) -> None:
    from dataclasses import replace

    from telewarden.core.errors import InvalidInputError

    short = replace(model, coef_=model.coef_[:10], idf_=model.idf_[:10])
    with pytest.raises(InvalidInputError, match="retrain"):
        short._decision_fused(["free entry"])
