"""`telewarden numbers ...`, `telewarden detect` and `telewarden eval numbers` end to end."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from telewarden.cli.main import app
from telewarden.core.errors import InvalidInputError, NotFoundError
from telewarden.core.features.sichuan import ARPU_COLUMNS, FEATURE_NAMES
from telewarden.services.detection import history_days as _history_days


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    _ok(
        CliRunner(),
        "sim",
        "--preset",
        "tiny",
        "--seed",
        "3",
        "--hours",
        "3",
        "--subscribers",
        "300",
        "--out",
        str(out),
    )
    return out


def _contest_tables(directory: Path) -> dict[str, Path]:
    voc = pl.DataFrame(
        {
            "phone_no_m": ["A", "A", "B", "B"],
            "opposite_no_m": ["X", "Y", "X", "Z"],
            "calltype_id": ["1", "2", "9", "1"],  # 9: not a call type
            "start_datetime": [
                "2020-01-03 08:15:00",
                "2020-01-03 09:00:00",
                "2020-01-04 08:30:00",
                "yesterday",
            ],  # unparseable
            "call_dur": ["10", "20", "30", "40"],
            "city_name": ["c1"] * 4,
            "county_name": ["k1"] * 4,
            "imei_m": ["i1"] * 4,
        }
    )
    sms = pl.DataFrame(
        {
            "phone_no_m": ["A"],
            "opposite_no_m": ["P"],
            "calltype_id": ["2"],
            "request_datetime": ["2020-01-03 10:00:00"],
        }
    )
    app_t = pl.DataFrame(
        {"phone_no_m": ["A"], "busi_name": ["w"], "flow": ["1.5"], "month_id": ["2020-01"]}
    )
    user = pl.DataFrame(
        {
            "phone_no_m": ["A", "B"],
            "city_name": ["c1", "c1"],
            "county_name": ["k1", "k1"],
            "idcard_cnt": ["1", "1"],
            **{c: ["10", "\\N"] for c in ARPU_COLUMNS},
        }
    )
    paths = {}
    for name, frame in (("voc", voc), ("sms", sms), ("app", app_t), ("user", user)):
        paths[name] = directory / f"{name}.csv"
        frame.write_csv(paths[name])
    return paths


def test_features_from_contest_tables_quarantine_bad_rows_and_reconcile(
    runner: CliRunner, tmp_path: Path
) -> None:
    tables = _contest_tables(tmp_path)
    out = tmp_path / "features.csv"
    stdout = _ok(
        runner,
        "numbers",
        "features",
        "--voc",
        str(tables["voc"]),
        "--sms",
        str(tables["sms"]),
        "--app",
        str(tables["app"]),
        "--user",
        str(tables["user"]),
        "--output",
        str(out),
    )
    assert "read 8 rows: 6 accepted, 2 quarantined" in " ".join(stdout.split())
    frame = pl.read_csv(out)
    assert frame.columns == ["phone_no_m", *FEATURE_NAMES]
    a = frame.filter(pl.col("phone_no_m") == "A").row(0, named=True)
    assert (a["opposite_count"], a["voccalltype1"], a["arpu_sum"]) == (2.0, 1.0, 80.0)
    b = frame.filter(pl.col("phone_no_m") == "B").row(0, named=True)
    assert b["opposite_count"] is None  # both of B's calls were quarantined
    quarantine = pl.read_csv(tmp_path / "features.quarantine.csv")
    assert quarantine.select("line", "table").rows() == [(4, "voc"), (5, "voc")]
    assert quarantine["reason"].to_list() == [
        "bad calltype_id",
        "start_datetime is not YYYY-mm-dd HH:MM:SS",
    ]


def test_features_from_canonical_records(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "features.parquet"
    _ok(
        runner,
        "numbers",
        "features",
        "--calls",
        str(sim_dir / "calls.parquet"),
        "--sms",
        str(sim_dir / "sms.parquet"),
        "--usage",
        str(sim_dir / "usage.parquet"),
        "--subscribers",
        str(sim_dir / "subscribers.parquet"),
        "--cells",
        str(sim_dir / "cells.parquet"),
        "--output",
        str(out),
    )
    frame = pl.read_parquet(out)
    assert frame.width == 56
    subscribers = pl.read_parquet(sim_dir / "subscribers.parquet")["msisdn"]
    assert frame["phone_no_m"].is_in(subscribers.implode()).all()
    assert frame["opposite_count"].drop_nulls().len() > 0


def test_features_without_any_table_is_invalid_input(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["numbers", "features", "--output", str(tmp_path / "f.csv")])
    assert isinstance(result.exception, InvalidInputError)


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 150
    y = (rng.random(n) < 0.4).astype(int)
    cols = {name: rng.normal(size=n) for name in FEATURE_NAMES}
    cols["voc_calltype1"] = rng.normal(loc=2.0 * y)
    frame = (
        pl.DataFrame(cols)
        .select(pl.Series("phone_no_m", [f"n{i}" for i in range(n)]), *FEATURE_NAMES)
        .with_columns(pl.Series("label", y))
    )
    path = tmp_path / "labelled.csv"
    frame.write_csv(path)
    return path


def test_train_then_score_then_explain(runner: CliRunner, labelled: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.json.gz"
    _ok(
        runner,
        "numbers",
        "train",
        "--features",
        str(labelled),
        "--output",
        str(model),
        "--rounds",
        "15",
    )
    scores = tmp_path / "scores.csv"
    stdout = _ok(
        runner,
        "numbers",
        "score",
        "--features",
        str(labelled),
        "--model",
        str(model),
        "--output",
        str(scores),
    )
    out = pl.read_csv(scores)
    assert out.columns == ["phone_no_m", "score", "flagged", "reasons"]
    assert f"{out.height:,} numbers scored, {out['flagged'].sum():,} flagged" in stdout
    explained = _ok(
        runner,
        "numbers",
        "explain",
        "n1",
        "--features",
        str(labelled),
        "--model",
        str(model),
        "--top",
        "3",
    )
    assert "n1: score" in explained
    assert explained.count("│") >= 3 * 3  # three feature rows


def test_train_takes_labels_from_a_contest_user_table(
    runner: CliRunner, labelled: Path, tmp_path: Path
) -> None:
    frame = pl.read_csv(labelled)
    users = tmp_path / "user.csv"
    frame.select("phone_no_m", "label").with_columns(
        pl.lit("成都").alias("city_name")  # text beside the label must not matter
    ).write_csv(users)
    features = tmp_path / "features.csv"
    frame.drop("label").write_csv(features)
    model = tmp_path / "model.json.gz"
    _ok(
        runner,
        "numbers",
        "train",
        "--features",
        str(features),
        "--labels",
        str(users),
        "--output",
        str(model),
        "--rounds",
        "10",
    )
    assert model.stat().st_size > 0
    users.write_text("phone_no_m,label\nn0,1\n")
    result = runner.invoke(
        app,
        [
            "numbers",
            "train",
            "--features",
            str(features),
            "--labels",
            str(users),
            "--output",
            str(model),
        ],
    )
    assert isinstance(result.exception, InvalidInputError)
    assert "have no label" in str(result.exception)


def test_scores_keep_the_msisdn_column_name_of_canonical_input(
    runner: CliRunner, labelled: Path, tmp_path: Path
) -> None:
    canonical = tmp_path / "canonical.csv"
    pl.read_csv(labelled).rename({"phone_no_m": "msisdn"}).write_csv(canonical)
    scores = tmp_path / "scores.csv"
    _ok(runner, "numbers", "score", "--features", str(canonical), "--output", str(scores))
    assert pl.read_csv(scores).columns[0] == "msisdn"


def test_score_quarantines_rows_it_cannot_read(
    runner: CliRunner, labelled: Path, tmp_path: Path
) -> None:
    lines = labelled.read_text().splitlines()
    fields = lines[2].split(",")
    fields[3] = "lots"  # line 3: a word where a number belongs
    lines[2] = ",".join(fields)
    lines[4] = "," + lines[4].split(",", 1)[1]  # line 5: no number at all
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines) + "\n")
    scores = tmp_path / "scores.csv"
    stdout = _ok(runner, "numbers", "score", "--features", str(broken), "--output", str(scores))
    assert f"read {len(lines) - 1} rows: {len(lines) - 3} accepted, 2 quarantined" in " ".join(
        stdout.split()
    )
    quarantine = pl.read_csv(tmp_path / "scores.quarantine.csv")
    assert quarantine["line"].to_list() == [3, 5]
    assert quarantine["reason"][1] == "phone_no_m is empty"
    assert pl.read_csv(scores).height == len(lines) - 3


def test_explaining_an_unknown_number_is_not_found(runner: CliRunner, labelled: Path) -> None:
    result = runner.invoke(app, ["numbers", "explain", "nobody", "--features", str(labelled)])
    assert isinstance(result.exception, NotFoundError)


def test_detect_writes_scores_and_alerts(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "detect"
    stdout = _ok(runner, "detect", "--records", str(sim_dir), "--output", str(out))
    alerts = pl.read_csv(out / "alerts.csv")
    assert alerts.columns == ["msisdn", "detector", "flagged_at", "attempts", "reason"]
    scores = pl.read_csv(out / "scores.csv")
    assert scores.columns == ["msisdn", "score", "flagged", "reasons", "flag_withheld"]
    signals = pl.read_csv(out / "signals.csv")
    assert {"out_calls_1h", "answer_rate_24h", "max_sims_on_imei_7d"} <= set(signals.columns)
    assert "calls/s" in stdout
    # Three hours of records: the eight-month model's flags are withheld, scores still written.
    assert "scorer flags withheld" in " ".join(stdout.split())
    assert scores["flag_withheld"].all() and not scores["flagged"].any()
    assert scores["score"].is_not_null().all()


def test_history_counts_calendar_days_of_calls_and_sms() -> None:
    utc = dt.UTC
    calls = pl.DataFrame({"start_at": [dt.datetime(2026, 3, 1, 0, 0, tzinfo=utc)]})
    sms = pl.DataFrame({"sent_at": [dt.datetime(2026, 3, 28, 23, 59, tzinfo=utc)]})
    # 1 March 00:00 to 28 March 23:59 is 27.99 days of clock time but 28 days of records.
    assert _history_days({"calls": calls, "sms": sms}) == 28
    assert _history_days({"calls": calls}) == 1
    assert _history_days({"calls": calls.clear()}) == 0


def test_detect_keeps_scorer_flags_over_a_long_enough_span(
    runner: CliRunner, sim_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "detect"
    args = ("--records", str(sim_dir), "--output", str(out), "--min-history-days", "0")
    # The domain check alone now withholds the Sichuan model's flags on a simulated day.
    stdout = _ok(runner, "detect", *args)
    assert "out of the model's training domain" in " ".join(stdout.split())
    assert not pl.read_csv(out / "scores.csv")["flagged"].any()
    stdout = _ok(runner, "detect", *args, "--no-domain-check")
    scores = pl.read_csv(out / "scores.csv")
    assert not scores["flag_withheld"].any()
    assert scores["flagged"].sum() > 0
    assert "withheld" not in stdout


def test_eval_numbers_prints_the_figures_and_writes_only_where_told(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    stdout = _ok(runner, "eval", "numbers", "--skip-sichuan", "--sim-seeds", "4")
    assert "| sim_bank |" in stdout
    assert list(tmp_path.iterdir()) == []  # nothing written without --output
    markdown, figures = tmp_path / "numbers.md", tmp_path / "numbers.json"
    for output in (markdown, figures):
        _ok(runner, "eval", "numbers", "--skip-sichuan", "--sim-seeds", "4", "-o", str(output))
    assert "| sim_bank |" in markdown.read_text(encoding="utf-8")
    data = json.loads(figures.read_text(encoding="utf-8"))
    assert data["sichuan"] is None and data["simulator"]["seeds"] == [4]
    assert {k["kind"] for k in data["simulator"]["kinds"]} >= {"sim_bank"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["numbers.json", "numbers.md"]


def test_eval_numbers_needs_data_for_the_sichuan_part(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEWARDEN_SHARED_DATA", raising=False)
    result = runner.invoke(app, ["eval", "numbers", "--sim-seeds", "4"])
    assert isinstance(result.exception, InvalidInputError)
    result = runner.invoke(app, ["eval", "numbers", "--skip-sichuan", "--sim-seeds", "x"])
    assert isinstance(result.exception, InvalidInputError)


def test_compile_then_score_with_the_compiled_trees(
    runner: CliRunner, labelled: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model.json.gz"
    _ok(runner, "numbers", "train", "--features", str(labelled), "--output", str(model),
        "--rounds", "15", "--forest-trees", "5")  # fmt: skip
    built = _ok(runner, "numbers", "compile", "--model", str(model))
    assert "booster: built" in built and "forest: built" in built
    assert list((tmp_path / "model.json.gz.compiled").glob("*.o"))
    again = _ok(runner, "numbers", "compile", "--model", str(model))
    assert "booster: cached" in again
    scores = tmp_path / "scores.csv"
    stdout = _ok(runner, "numbers", "score", "--features", str(labelled), "--model", str(model),
                 "--output", str(scores), "--explain", "none", "--threads", "1")  # fmt: skip
    assert "compiled)" in stdout
    assert (pl.read_csv(scores)["reasons"].fill_null("") == "").all()
    result = runner.invoke(app, ["numbers", "score", "--features", str(labelled), "--model",
                                 str(model), "--output", str(scores), "--engine", "fast"])  # fmt: skip
    assert isinstance(result.exception, InvalidInputError)
