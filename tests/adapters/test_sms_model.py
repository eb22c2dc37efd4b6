"""SMS model files: round trip without pickle, clear errors, and the shipped default model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from telewarden.adapters.sms_model import load_default_model, load_model, save_model
from telewarden.core.errors import ConfigurationError, NotFoundError
from telewarden.core.sms.classifier import FeatureConfig, fit_model
from telewarden.core.sms.inspector import ContentVerdict, SmsClassifier

ETC = "【ETC】您的ETC已失效，请于24小时内登录 etc-renz.com 认证，逾期停用"


def test_round_trip_keeps_scores_thresholds_and_meta(tmp_path: Path) -> None:
    texts = [
        "全场五折优惠，回复TD退订",
        "妈，我晚点回家",
        "FREE prize call now",
        "see you soon",
    ] * 6
    labels = [1, 0, 1, 0] * 6
    cfg = FeatureConfig(char_ngrams=(1, 3), char_bits=14)
    model = fit_model(
        [f"{t} {i}" for i, t in enumerate(texts)], labels, config=cfg, c=10.0, meta={"x": 1}
    )
    path = save_model(model, tmp_path / "m.npz")
    loaded = load_model(path)
    probe = ["全场优惠", "see you"]
    assert np.allclose(loaded.score_many(probe), model.score_many(probe), atol=1e-6)
    assert loaded.threshold_ == model.threshold_
    assert loaded.meta["x"] == 1
    assert loaded.config == cfg


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_model(tmp_path / "absent.npz")


def test_garbage_file_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(ConfigurationError):
        load_model(bad)


def test_shipped_model_is_small_and_documents_its_training_data() -> None:
    model = load_default_model()
    assert set(model.meta["trained_on"]) == {"zh_sms", "uci_sms"}
    shipped = Path(__file__).resolve().parents[2] / "src/telewarden/data/sms/default_model.npz"
    assert shipped.stat().st_size < 25_000_000


def test_shipped_model_calls_etc_smishing_scam_and_family_chat_ok() -> None:
    clf = SmsClassifier(load_default_model())
    scam = clf.classify(ETC)
    assert scam.verdict is ContentVerdict.SCAM
    # ETC smishing, and the high-incidence type it belongs to: impersonated customer service
    assert {t.code for t in scam.fraud_types} >= {"NV-05", "HI-04"}
    assert "etc-renz.com" in {i.value for i in scam.indicators}
    assert clf.classify("妈，我今晚不回家吃饭了，记得给猫喂食").verdict is ContentVerdict.OK
    assert clf.classify("Sorry, I'll call you later, stuck in a meeting").verdict == "ok"


def test_shipped_model_on_modern_english_messages_of_other_countries() -> None:
    """Regression guard for the generalisation check of ``eval sms`` (figures of 2026-12-03:
    36 of 40 lures not ok, 22 of them scam; 7 of 40 legitimate messages spam, none scam)."""
    import csv

    path = Path(__file__).resolve().parents[2] / "src/telewarden/data/sms/check_en_modern.tsv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    clf = SmsClassifier(load_default_model())
    verdicts = [str(r.verdict) for r in clf.classify_many([row["text"] for row in rows])]
    lures = [v for row, v in zip(rows, verdicts, strict=True) if row["label"] == "spam"]
    legit = [v for row, v in zip(rows, verdicts, strict=True) if row["label"] == "ham"]
    assert len(lures) == len(legit) == 40
    assert sum(v != "ok" for v in lures) >= 34
    assert sum(v == "scam" for v in lures) >= 20
    assert "scam" not in legit
    assert sum(v == "spam" for v in legit) <= 8
