"""Loading and saving number models: the shipped default and files on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from telewarden.adapters.number_model import load_default_model, load_model, save_model
from telewarden.core.errors import ConfigurationError
from telewarden.core.features.sichuan import FEATURE_NAMES
from telewarden.core.models.number_scorer import GRAPH_MODEL_FEATURES, NumberScorer


def _frame(n: int = 120, seed: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(np.int64)
    cols = {name: rng.normal(size=n) for name in FEATURE_NAMES}
    cols["voc_calltype1"] = rng.normal(loc=2.0 * y)
    frame = pl.DataFrame(cols).with_columns(pl.Series("phone_no_m", [f"n{i}" for i in range(n)]))
    return frame, y


def test_shipped_model_loads_from_package_data_with_graph_features() -> None:
    scorer = load_default_model()
    assert scorer.feature_names_ == FEATURE_NAMES + GRAPH_MODEL_FEATURES
    assert 0.0 < scorer.threshold_ < 1.0
    assert load_model(None).threshold_ == scorer.threshold_


def test_shipped_model_scores_numbers_it_has_never_seen_without_edges() -> None:
    frame, _ = _frame()
    out = load_default_model().score_many(frame)
    assert out.height == frame.height
    assert out["score"].is_between(0.0, 1.0).all()


def test_saved_model_reloads_with_identical_scores(tmp_path: Path) -> None:
    frame, y = _frame()
    scorer = NumberScorer(num_boost_round=15, calibration_folds=2).fit(frame, y)
    path = save_model(scorer, tmp_path / "models" / "carrier.json.gz")
    again = load_model(path)
    assert np.allclose(again.predict_proba(frame), scorer.predict_proba(frame))
    # byte-identical when saved twice: no timestamps in the file
    assert save_model(again, tmp_path / "again.json.gz").read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no model file"), (b"not gzip", "not a telewarden number model")],
    ids=["missing", "garbage"],
)
def test_unusable_model_files_are_configuration_errors(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "model.json.gz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigurationError, match=message):
        load_model(path)
