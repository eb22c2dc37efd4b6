"""Compiled tree ensembles (lleaves) score as LightGBM does, and their cache is checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from telewarden.adapters import compiled_trees
from telewarden.adapters.compiled_trees import TOLERANCE, compile_scorer, probe_rows
from telewarden.core.errors import ConfigurationError
from telewarden.core.features.sichuan import FEATURE_NAMES
from telewarden.core.models.number_scorer import NumberScorer

N = 300


def _frame(seed: int, rows: int) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.35).astype(np.int64)
    cols = {n: rng.normal(size=rows) for n in FEATURE_NAMES}
    cols["voc_calltype1"] = rng.normal(loc=y * 1.5, scale=1.0)
    cols["imeis"] = np.where(rng.random(rows) < 0.2, np.nan, cols["imeis"])  # missing values
    frame = pl.DataFrame(cols).with_columns(pl.Series("phone_no_m", [f"n{i}" for i in range(rows)]))
    return frame, y


@pytest.fixture(scope="module")
def scorer() -> NumberScorer:
    frame, y = _frame(5, N)
    return NumberScorer(num_boost_round=30, forest_rounds=6, calibration_folds=2).fit(frame, y)


@pytest.fixture(scope="module")
def compiled(
    scorer: NumberScorer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[NumberScorer, Path]:
    cache = tmp_path_factory.mktemp("compiled")
    twin = NumberScorer.from_dict(scorer.to_dict())
    report = compile_scorer(twin, cache)
    assert report is not None
    assert [how for _, how, _ in report.members] == ["built", "built"]
    return twin, cache


def test_compiled_scores_equal_lightgbm(
    scorer: NumberScorer, compiled: tuple[NumberScorer, Path]
) -> None:
    twin, _ = compiled
    frame, _ = _frame(11, 2_000)
    x = scorer._matrix(frame, None, scorer.known_)
    want = scorer._raw(x, 1)
    got = twin._raw(x, 2)
    assert twin.compiled_ is not None and scorer.compiled_ is None
    assert np.max(np.abs(got - want)) <= TOLERANCE
    ours, theirs = twin.score_many(frame, threads=2), scorer.score_many(frame)
    assert ours["flagged"].equals(theirs["flagged"])
    assert ours["reasons"].equals(theirs["reasons"])  # reasons still from LightGBM's TreeSHAP
    assert np.max(np.abs(ours["score"].to_numpy() - theirs["score"].to_numpy())) <= TOLERANCE


def test_second_compile_loads_the_cache(
    scorer: NumberScorer, compiled: tuple[NumberScorer, Path]
) -> None:
    _, cache = compiled
    again = NumberScorer.from_dict(scorer.to_dict())
    report = compile_scorer(again, cache, build=False)
    assert report is not None
    assert [how for _, how, _ in report.members] == ["cached", "cached"]


def test_nothing_cached_and_no_build_leaves_lightgbm(scorer: NumberScorer, tmp_path: Path) -> None:
    twin = NumberScorer.from_dict(scorer.to_dict())
    assert compile_scorer(twin, tmp_path, build=False) is None
    assert twin.compiled_ is None


def test_damaged_object_is_refused(
    scorer: NumberScorer, compiled: tuple[NumberScorer, Path], tmp_path: Path
) -> None:
    _, cache = compiled
    for path in cache.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    target = next(tmp_path.glob("*.booster.o"))
    blob = bytearray(target.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    target.write_bytes(bytes(blob))
    with pytest.raises(ConfigurationError, match="checksum mismatch"):
        compile_scorer(NumberScorer.from_dict(scorer.to_dict()), tmp_path, build=False)


def test_foreign_sidecar_is_refused(
    scorer: NumberScorer, compiled: tuple[NumberScorer, Path], tmp_path: Path
) -> None:
    _, cache = compiled
    for path in cache.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    sidecar = next(tmp_path.glob("*.booster.json"))
    data = json.loads(sidecar.read_text())
    data["key"] = "0" * 64
    sidecar.write_text(json.dumps(data))
    with pytest.raises(ConfigurationError, match="not the sidecar"):
        compile_scorer(NumberScorer.from_dict(scorer.to_dict()), tmp_path, build=False)


def test_object_of_another_model_fails_the_probe(
    scorer: NumberScorer,
    compiled: tuple[NumberScorer, Path],
    tmp_path: Path,
) -> None:
    """An object that loads but scores differently (here: the forest's code standing in for
    the boosted trees) is caught by the probe rows, not trusted."""
    _, cache = compiled
    twin = NumberScorer.from_dict(scorer.to_dict())
    booster = next(cache.glob("*.booster.o"))
    forest = next(cache.glob("*.forest.o"))
    target = tmp_path / booster.name
    target.write_bytes(forest.read_bytes())
    key = json.loads(booster.with_suffix(".json").read_text())["key"]
    sidecar = {"key": key, "sha256": compiled_trees._sha256(target)}
    target.with_suffix(".json").write_text(json.dumps(sidecar))
    with pytest.raises(ConfigurationError, match="differ from LightGBM"):
        compile_scorer(twin, tmp_path, build=True)


def test_probe_rows_sit_on_the_split_thresholds(scorer: NumberScorer) -> None:
    assert scorer.booster_ is not None
    text = scorer.booster_.model_to_string()
    x = probe_rows(text, len(scorer.feature_names_))
    assert np.isnan(x).any() and (x == 0).any()
    lines = dict(
        r.split("=", 1) for r in text.splitlines() if r.startswith(("split_feature=", "threshold="))
    )
    column, first = int(lines["split_feature"].split()[0]), float(lines["threshold"].split()[0])
    assert np.any(np.isclose(x[:, column], first, rtol=0, atol=1e-9 * max(abs(first), 1)))
