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


def test_parquet_is_streamed_by_batches_with_the_csv_results(
    trained: tuple[Path, Path, NumberScorer], tmp_path: Path
) -> None:
    """A Parquet features file (numbers as numbers) is read batch by batch, never whole, and
    scores as its CSV twin does; a NaN is quarantined with its 1-based row number."""
    features, model, _ = trained
    frame = pl.read_csv(features, infer_schema=False).filter(
        (pl.col("msisdn") != "") & (pl.col("imeis") != "many")
    )
    frame = frame.with_columns(pl.exclude("msisdn").cast(pl.Float64))
    clean_csv = tmp_path / "clean.csv"
    frame.write_csv(clean_csv)
    with_nan = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 40)
        .then(float("nan"))
        .otherwise(pl.col("arpu_mean"))
        .alias("arpu_mean")
    )
    parquet = tmp_path / "features.parquet"
    with_nan.write_parquet(parquet, row_group_size=30)
    from_csv = score_numbers(clean_csv, tmp_path / "csv.csv", model=model, chunk_rows=25)
    from_parquet = score_numbers(parquet, tmp_path / "pq.csv", model=model, chunk_rows=25)
    assert (from_parquet.numbers, from_parquet.quarantined) == (from_csv.numbers - 1, 1)
    bad = pl.read_csv(tmp_path / "pq.quarantine.csv")
    assert bad.rows() == [(41, "arpu_mean is not a finite number")]
    want = pl.read_csv(tmp_path / "csv.csv", infer_schema=False)
    want = want.filter(pl.int_range(pl.len()) != 40)
    assert pl.read_csv(tmp_path / "pq.csv", infer_schema=False).equals(want)


def test_parquet_chunks_are_read_one_batch_at_a_time(
    trained: tuple[Path, Path, NumberScorer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole-file reader is never called for a Parquet file with rows."""
    from telewarden.services import number_inputs

    def whole_file(*_: object, **__: object) -> None:
        raise AssertionError("the whole file was read")

    features, _, _ = trained
    parquet = tmp_path / "features.parquet"
    pl.read_csv(features, infer_schema=False).write_parquet(parquet)
    monkeypatch.setattr(number_inputs, "read_lined", whole_file)
    chunks = list(number_inputs.iter_features(parquet, 64))
    assert [c.frame.height + c.quarantine.height for c in chunks] == [64, 64, 64, 48]


def test_compiled_engine_gives_lightgbm_scores_flags_and_reasons(
    trained: tuple[Path, Path, NumberScorer], tmp_path: Path
) -> None:
    features, model, _ = trained
    slow = score_numbers(features, tmp_path / "lgb.parquet", model=model, engine="lightgbm")
    fast = score_numbers(
        features, tmp_path / "fast.parquet", model=model, engine="compiled", cache_dir=tmp_path
    )
    assert (slow.engine, fast.engine) == ("lightgbm", "compiled")
    assert list(tmp_path.glob("*.booster.o")) and list(tmp_path.glob("*.forest.o"))
    want, got = (
        pl.read_parquet(tmp_path / "lgb.parquet"),
        pl.read_parquet(tmp_path / "fast.parquet"),
    )
    assert got.drop("score").equals(want.drop("score"))
    assert (got["score"] - want["score"]).abs().max() <= 1e-9  # type: ignore[operator]
    auto = score_numbers(features, tmp_path / "auto.csv", model=model, cache_dir=tmp_path)
    assert auto.engine == "compiled"  # auto uses the cached objects
    empty = tmp_path / "empty"
    empty.mkdir()
    assert score_numbers(features, tmp_path / "a.csv", model=model, cache_dir=empty).engine == (
        "lightgbm"
    )


def test_unknown_engine_or_explain_is_invalid_input(
    trained: tuple[Path, Path, NumberScorer], tmp_path: Path
) -> None:
    from telewarden.core.errors import InvalidInputError

    features, model, _ = trained
    with pytest.raises(InvalidInputError, match="engine"):
        score_numbers(features, tmp_path / "x.csv", model=model, engine="fast")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="explain"):
        score_numbers(features, tmp_path / "x.csv", model=model, explain="some")  # type: ignore[arg-type]
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_two_threads_write_what_one_thread_writes(
    trained: tuple[Path, Path, NumberScorer], tmp_path: Path, suffix: str
) -> None:
    # Two threads read the next chunk and write the previous one on helper threads.
    features, model, _ = trained
    one = score_numbers(features, tmp_path / f"one{suffix}", model=model, chunk_rows=17, threads=1)
    two = score_numbers(features, tmp_path / f"two{suffix}", model=model, chunk_rows=17, threads=2)
    assert (tmp_path / f"one{suffix}").read_bytes() == (tmp_path / f"two{suffix}").read_bytes()
    assert (one.numbers, one.flagged, one.quarantined) == (
        two.numbers,
        two.flagged,
        two.quarantined,
    )
    assert (tmp_path / "two.quarantine.csv").read_bytes() == (
        tmp_path / "one.quarantine.csv"
    ).read_bytes()


def test_a_failure_on_the_third_chunk_leaves_no_output_with_two_threads(
    trained: tuple[Path, Path, NumberScorer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    features, model, _ = trained
    calls = {"n": 0}
    real = NumberScorer.score_many

    def failing(self: NumberScorer, *args: object, **kwargs: object) -> pl.DataFrame:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("scoring failed")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(NumberScorer, "score_many", failing)
    out = tmp_path / "out" / "scores.csv"
    with pytest.raises(RuntimeError, match="scoring failed"):
        score_numbers(features, out, model=model, chunk_rows=17, threads=2)
    assert calls["n"] == 3
    assert list(out.parent.iterdir()) == []  # no output, no temporary file left behind


def _concat(parts: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(parts) if parts else pl.DataFrame()


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("codec", ["utf-8", "gb18030"])
def test_csv_features_read_in_blocks_equal_the_whole_file(
    tmp_path: Path, block: int, codec: str
) -> None:
    """Blocks of a CSV give the whole file's rows and quarantine, true lines and all: bad
    values, wrong field counts (a whole block of them too), blank lines, Chinese keys."""
    from telewarden.services import number_inputs

    names = ["msisdn", "voc_calltype1", "imeis"]
    lines = [",".join(names)]
    for i in range(14):
        if i in (2, 3):
            lines.append(f"号码{i},1,2,3")  # a field too many: two such lines in a row
        elif i == 5:
            lines.append("")
        elif i == 8:
            lines.append(f"n{i},many,1")
        else:
            lines.append(f"号码{i},{i}.5,{i % 3}")
    path = tmp_path / "features.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(codec))
    encoding = None if codec == "utf-8" else codec
    whole = number_inputs.read_features(path, encoding)
    chunks = list(number_inputs.iter_features(path, block, encoding))
    assert len(chunks) > 1 if block < len(lines) - 1 else len(chunks) == 1
    assert _concat([c.frame for c in chunks]).equals(whole.frame)
    assert _concat([c.quarantine for c in chunks]).equals(whole.quarantine)
    assert sorted(whole.quarantine["line"].to_list()) == [4, 5, 10]


def test_csv_features_are_never_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from telewarden.services import number_inputs

    def whole_file(*_: object, **__: object) -> None:
        raise AssertionError("the whole file was read")

    path = tmp_path / "features.csv"
    path.write_text("msisdn,imeis\n" + "".join(f"n{i},{i}\n" for i in range(10)))
    monkeypatch.setattr(number_inputs, "read_lined", whole_file)
    monkeypatch.setattr(number_inputs, "read_table", whole_file)
    chunks = list(number_inputs.iter_features(path, 4))
    assert [c.frame.height for c in chunks] == [4, 4, 2]
