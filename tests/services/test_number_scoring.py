"""``numbers score`` streamed in chunks writes what scoring the whole file at once gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from telewarden.adapters.number_model import save_model
from telewarden.core.features.sichuan import FEATURE_NAMES
from telewarden.core.models.number_scorer import NumberScorer
from telewarden.services.number_scoring import score_numbers

N = 240


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, NumberScorer]:
    rng = np.random.default_rng(3)
    y = (rng.random(N) < 0.3).astype(np.int64)
    cols = {n: rng.normal(size=N) for n in FEATURE_NAMES}
    cols["voc_calltype1"] = rng.normal(loc=y * 1.5, scale=1.0)
    frame = pl.DataFrame(cols).with_columns(pl.Series("msisdn", [f"n{i}" for i in range(N)]))
    scorer = NumberScorer(num_boost_round=20, forest_rounds=5, calibration_folds=2)
    scorer.fit(frame.rename({"msisdn": "phone_no_m"}), y)
    folder = tmp_path_factory.mktemp("scoring")
    model = save_model(scorer, folder / "model.json.gz")
    features = folder / "features.csv"
    text = frame.with_columns(pl.all().cast(pl.String))
    # two bad rows: an empty key on file line 5 and a word for a number on line 100
    text = text.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.lit(""))
        .otherwise(pl.col("msisdn"))
        .alias("msisdn"),
        pl.when(pl.int_range(pl.len()) == 98)
        .then(pl.lit("many"))
        .otherwise(pl.col("imeis"))
        .alias("imeis"),
    )
    text.write_csv(features)
    return features, model, scorer


def test_streamed_scores_equal_whole_file_scores(
    trained: tuple[Path, Path, NumberScorer], tmp_path: Path
) -> None:
    features, model, scorer = trained
    report = score_numbers(features, tmp_path / "scores.csv", model=model, chunk_rows=17)
    streamed = pl.read_csv(tmp_path / "scores.csv", infer_schema=False)
    whole_out = tmp_path / "whole.csv"
    frame = pl.read_csv(features, infer_schema=False).filter(
        (pl.col("msisdn") != "") & (pl.col("imeis") != "many")
    )
    frame = frame.with_columns(pl.exclude("msisdn").cast(pl.Float64))
    whole = scorer.score_many(frame.rename({"msisdn": "phone_no_m"}))
    whole.rename({"phone_no_m": "msisdn"}).write_csv(whole_out)
    assert streamed.equals(pl.read_csv(whole_out, infer_schema=False))
    assert (report.numbers, report.quarantined, report.rows_read) == (N - 2, 2, N)
    bad = pl.read_csv(tmp_path / "scores.quarantine.csv")
    assert bad["line"].to_list() == [5, 100]
    assert bad["reason"].to_list() == ["msisdn is empty", "imeis is not a finite number"]


def test_reasons_only_where_asked(trained: tuple[Path, Path, NumberScorer], tmp_path: Path) -> None:
    features, model, _ = trained
    score_numbers(features, tmp_path / "none.parquet", model=model, explain="none")
    none = pl.read_parquet(tmp_path / "none.parquet")
    assert (none["reasons"] == "").all()
    score_numbers(features, tmp_path / "all.parquet", model=model, explain="all", chunk_rows=50)
    everyone = pl.read_parquet(tmp_path / "all.parquet")
    assert (everyone["reasons"] != "").all()
    assert everyone.drop("reasons").equals(none.drop("reasons"))
