"""`numbers train` on a carrier's own features and outcomes: labels, deduplication, card, meta."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from telewarden.adapters.number_model import load_model, load_model_meta
from telewarden.core.errors import ConfigurationError, InvalidInputError
from telewarden.core.features.sichuan import FEATURE_NAMES
from telewarden.services import number_training
from telewarden.services.number_domain import check_features_file
from telewarden.services.number_training import card_path, train_scorer, training_data

FAST = {"rounds": 15, "forest_trees": 5, "folds": 3}


def _features(n: int = 240, seed: int = 0, separable: bool = True) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    cols = {name: rng.normal(size=n) for name in FEATURE_NAMES}
    cols["voc_calltype1"] = rng.normal(loc=(6.0 if separable else 0.0) * y)
    return (
        pl.DataFrame(cols)
        .select(pl.Series("msisdn", [f"+86138{i:08d}" for i in range(n)]), *FEATURE_NAMES)
        .with_columns(pl.Series("label", y))
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    frame = _features()
    features = tmp_path / "features.csv"
    # The same number twice (a second month): the later row counts, once.
    frame.drop("label").vstack(frame.drop("label").head(5)).write_csv(features)
    outcomes = tmp_path / "outcomes.csv"
    frame.select(
        "msisdn",
        "label",
        pl.when(pl.col("label") == 1)
        .then(pl.lit("confirmed"))
        .otherwise(pl.lit("cleared"))
        .alias("outcome"),
    ).write_csv(outcomes)
    return features, outcomes


def test_outcomes_train_a_model_with_its_card_and_meta(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    features, outcomes = files
    output = tmp_path / "own.json.gz"
    report = train_scorer(features, output, labels=outcomes, **FAST)
    assert (report.numbers, report.duplicates) == (240, 5)
    assert report.cv is not None and report.cv.numbers == 240  # CV over unique numbers
    assert report.cv.precision > 0.9 and report.cv.auc > 0.95
    assert report.card == tmp_path / "own.card.md" and report.card.is_file()
    card = report.card.read_text()
    assert "came again later in the file: 5" in card
    assert f"fraud {report.fraud:,}, legitimate {240 - report.fraud:,}" in card
    assert f"{report.cv.precision:.4f}" in card
    meta = load_model_meta(output)
    assert meta["data"]["numbers"] == 240 and meta["files"]["labels"]["name"] == "outcomes.csv"
    assert meta["act_on_flags"] is report.act_on_flags is True
    assert load_model(output).threshold_ == pytest.approx(report.threshold)
    # The model carries its training distribution: its own features are in its domain.
    check = check_features_file(features, output)
    assert check is not None and check.in_domain


def test_the_checksum_covers_the_meta(files: tuple[Path, Path], tmp_path: Path) -> None:
    features, outcomes = files
    output = tmp_path / "own.json.gz"
    train_scorer(features, output, labels=outcomes, **FAST)
    envelope = json.loads(gzip.decompress(output.read_bytes()))
    envelope["model"]["meta"]["act_on_flags"] = not envelope["model"]["meta"]["act_on_flags"]
    output.write_bytes(gzip.compress(json.dumps(envelope).encode()))
    with pytest.raises(ConfigurationError, match="checksum"):
        load_model_meta(output)


def test_a_weak_scorer_or_too_few_frauds_may_not_act(tmp_path: Path) -> None:
    features = tmp_path / "features.csv"
    _features(separable=False).write_csv(features)
    report = train_scorer(features, tmp_path / "weak.json.gz", **FAST)
    assert report.cv is not None and report.cv.precision < number_training.ACT_MIN_PRECISION
    assert not report.act_on_flags
    assert "allowed: **no**" in report.card.read_text()
    assert not number_training.may_act(None)
    # Precise, but on fewer fraud numbers than the rule asks for.
    few = tmp_path / "few.csv"
    frame = _features(n=400)
    frame.filter(pl.col("label") == 0).vstack(frame.filter(pl.col("label") == 1).head(8)).write_csv(
        few
    )
    report = train_scorer(few, tmp_path / "few.json.gz", **FAST)
    assert report.cv is not None and report.cv.fraud == 8
    assert not report.act_on_flags


def test_unlabelled_numbers_are_an_error_unless_told(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    features, outcomes = files
    partial = tmp_path / "partial.csv"
    pl.read_csv(outcomes).head(100).write_csv(partial)
    with pytest.raises(InvalidInputError, match="140 of 240 numbers have no label"):
        training_data(features, partial)
    skipped = training_data(features, partial, "skip")
    assert (len(skipped.labels), skipped.unlabelled) == (100, 140)
    legit = training_data(features, partial, "legitimate")
    assert len(legit.labels) == 240 and legit.fraud == skipped.fraud
    with pytest.raises(InvalidInputError, match="not one of"):
        training_data(features, partial, "guess")


def test_bad_labels_are_clear_errors(files: tuple[Path, Path], tmp_path: Path) -> None:
    features, _ = files
    labels = tmp_path / "labels.csv"
    labels.write_text("msisdn,label\n+8613800000000,1\n+8613800000000,0\n")
    with pytest.raises(InvalidInputError, match="1 numbers have both labels"):
        training_data(features, labels, "skip")
    labels.write_text("msisdn,label\n+8613800000000,yes\n")
    with pytest.raises(InvalidInputError, match="label 'yes'"):
        training_data(features, labels, "skip")
    labels.write_text("msisdn,label\n+8613800000000,1\n+8613800000001,1\n")
    with pytest.raises(InvalidInputError, match="both fraud"):
        training_data(features, labels, "skip")
    labels.write_text("number,label\n")
    with pytest.raises(InvalidInputError, match="needs phone_no_m"):
        training_data(features, labels, "skip")


def test_an_output_that_is_an_input_is_refused(files: tuple[Path, Path]) -> None:
    features, outcomes = files
    before = features.read_bytes()
    with pytest.raises(InvalidInputError, match="is the input"):
        train_scorer(features, features, labels=outcomes, **FAST)
    assert features.read_bytes() == before
    assert card_path(Path("m.json.gz")) == Path("m.card.md")
