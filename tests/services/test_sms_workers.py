"""``sms classify`` on worker processes writes what one process writes, fails cleanly, and
starts no process for a small input."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import telewarden.services.sms_classify as service
import telewarden.services.sms_workers as workers_module
from telewarden.adapters.memory import MemoryStore
from telewarden.adapters.sms_model import save_model
from telewarden.core.errors import InvalidInputError
from telewarden.core.ports import FixedClock
from telewarden.core.screening import PolicySettings
from telewarden.core.sms.classifier import FeatureConfig, fit_model
from telewarden.services.context import AppContext, Gates
from telewarden.services.sms_classify import ClassifierOptions, classify_file
from telewarden.services.sms_workers import (
    MIN_BYTES_FOR_WORKERS,
    ClassifierRecipe,
    WorkerError,
    default_workers,
)

AT = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
HAM = ["妈，我今晚不回家吃饭了", "明天早上八点开会", "ok see you later", "周末一起去爬山吧"]
SPAM = ["全场五折优惠，点击领取，回复TD退订", "FREE prize, text WIN now", "楼盘特价，欢迎来电"]
LURES = [
    "Your parcel is held, pay the fee at http://bit.ly/3xYz now",
    "Claim your refund at https://sho.rt/r3fund before midnight",
    "ICBC: your account is frozen, call +86 138 0013 8000 today",
    "URGENT! You have won a £1000 prize. Call 09061701461 to claim",
    "verify your PayPal at https://paypa1-secure.example.com/login within 24 hours",
]
needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks a worker")


def _ctx() -> AppContext:
    store = MemoryStore(clock=FixedClock(AT))
    policy = PolicySettings(content_inspection=True, content_legal_basis="test: synthetic")
    store.set_policy(policy, actor="test")
    return AppContext(store=store, clock=FixedClock(AT), gates=Gates(content_inspection=True))


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> ClassifierOptions:
    texts = [f"{t} {i}" for i in range(6) for t in HAM + SPAM]
    labels = [0] * len(HAM) + [1] * len(SPAM)
    cfg = FeatureConfig(char_ngrams=(1, 3), word_ngrams=None, char_bits=14)
    model = fit_model(texts, labels * 6, config=cfg, c=10.0)
    folder = tmp_path_factory.mktemp("m")
    hosts = folder / "shorteners.txt"
    # Only this list names sho.rt as a shortener (and drops the built-in bit.ly): a worker
    # that lost it would write other indicators than the parent.
    hosts.write_text("# hosts\nsho.rt\n", encoding="utf-8")
    return ClassifierOptions(model=save_model(model, folder / "m.npz"), shorteners=hosts)


def _bodies(kind: str, n: int) -> list[str]:
    base = HAM + SPAM + LURES
    if kind == "mixed":
        return [f"{base[i % len(base)]} #{i}" for i in range(n)]
    if kind == "long":
        return [" ".join(f"{base[(i + k) % len(base)]} {i}" for k in range(6)) for i in range(n)]
    # Duplicate-heavy: a handful of campaign bodies to many recipients, so later batches find
    # their bodies in the memo or still on a worker.
    return [base[(i * 7) % len(base)] for i in range(n)]


def _write_input(path: Path, bodies: list[str], malformed: bool) -> None:
    lines = ["id\ttext"]
    for i, body in enumerate(bodies):
        lines.append(f"{i}\t{body}")
        if malformed and i % 9 == 4:
            lines.append(f"{i}\t{body}\textra field")  # three fields: quarantined
        if malformed and i % 13 == 6:
            lines.append("")  # blank line: quarantined
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _classify(tmp: Path, name: str, source: Path, options: ClassifierOptions, workers: int) -> str:
    output = tmp / f"{name}.tsv"
    quarantine = tmp / f"{name}.quarantine.csv"
    report = classify_file(
        _ctx(), source, output, options=options, quarantine=quarantine, workers=workers
    )
    assert report.rows_read == report.accepted + report.quarantined
    bad = quarantine.read_text(encoding="utf-8") if quarantine.exists() else ""
    return output.read_text(encoding="utf-8") + "\n--quarantine--\n" + bad + str(report.by_verdict)


@needs_fork
@pytest.mark.parametrize(
    ("kind", "malformed"),
    [
        pytest.param("mixed", False, id="mixed"),
        pytest.param("long", False, id="long"),
        pytest.param("duplicates", False, id="duplicate-heavy"),
        pytest.param("mixed", True, id="malformed-rows"),
    ],
)
def test_two_workers_write_what_one_process_writes(
    tmp_path: Path,
    small_model: ClassifierOptions,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    malformed: bool,
) -> None:
    # Small batches and chunks: many chunks in flight at once, bodies that a later batch
    # waits for while a worker still has them, and a memo that fills and starts afresh.
    monkeypatch.setattr(service, "BATCH_ROWS", 16)
    monkeypatch.setattr(service, "CHUNK_CHARS", 100)
    monkeypatch.setattr(service, "MEMO_TEXTS", 40)
    source = tmp_path / "in.tsv"
    _write_input(source, _bodies(kind, 300), malformed)
    one = _classify(tmp_path, "one", source, small_model, workers=1)
    two = _classify(tmp_path, "two", source, small_model, workers=2)
    assert two == one
    assert ("line" in one.split("--quarantine--")[1]) is malformed
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@needs_fork
def test_two_workers_with_the_shipped_model_and_number_intelligence(tmp_path: Path) -> None:
    source = tmp_path / "in.tsv"
    _write_input(source, _bodies("mixed", 120) + _bodies("long", 60), malformed=True)
    options = ClassifierOptions()
    one = _classify(tmp_path, "one", source, options, workers=1)
    assert _classify(tmp_path, "two", source, options, workers=2) == one


@needs_fork
def test_large_input_scores_with_the_compiled_kernel_and_writes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import telewarden.core.sms.classifier as model_module

    monkeypatch.setattr(model_module, "_kernel_loaded", False)
    source = tmp_path / "in.tsv"
    _write_input(source, _bodies("mixed", 120) + _bodies("long", 60), malformed=True)
    options = ClassifierOptions()
    # Below COMPILED_MIN_BYTES the run does not load the kernel (nor import numba for it).
    assert source.stat().st_size < service.COMPILED_MIN_BYTES
    numpy_path = _classify(tmp_path, "numpy", source, options, workers=1)
    assert not model_module.compiled_scoring_loaded()
    monkeypatch.setattr(service, "COMPILED_MIN_BYTES", 0)
    assert _classify(tmp_path, "compiled", source, options, workers=1) == numpy_path
    assert model_module.compiled_scoring_loaded()
    # Forked workers inherit the loaded kernel.
    assert _classify(tmp_path, "two", source, options, workers=2) == numpy_path


def test_spawned_workers_write_what_one_process_writes(
    tmp_path: Path, small_model: ClassifierOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing may depend on fork: a spawned worker gets the recipe (model, shortener list)
    # only by pickle.
    monkeypatch.setattr(workers_module, "start_method", lambda: "spawn")
    monkeypatch.setattr(service, "BATCH_ROWS", 50)
    # Without the number intelligence a spawned worker imports no geocoder tables (~4 s).
    options = replace(small_model, numbers=False)
    source = tmp_path / "in.tsv"
    _write_input(source, _bodies("mixed", 150), malformed=True)
    one = _classify(tmp_path, "one", source, options, workers=1)
    assert "URL shortener sho.rt" in one and "URL shortener bit.ly" not in one
    assert _classify(tmp_path, "two", source, options, workers=2) == one


def _fail_late(texts: list[str]) -> list[object]:
    """A chunk task that fails on the chunk holding body #150, after earlier batches (and
    their quarantined rows) were written."""
    if any(text.endswith(" #150") for text in texts):
        raise IndexError("a deliberate failure")
    assert workers_module._worker_classifier is not None
    return workers_module.classify_texts(workers_module._worker_classifier, texts)  # type: ignore[return-value]


def _die_late(texts: list[str]) -> list[object]:
    """As :func:`_fail_late`, but the worker process dies, as under the kernel's OOM killer."""
    if any(text.endswith(" #150") for text in texts):
        os._exit(3)
    assert workers_module._worker_classifier is not None
    return workers_module.classify_texts(workers_module._worker_classifier, texts)  # type: ignore[return-value]


@needs_fork
@pytest.mark.parametrize("failure", ["broken-model", "raises-late", "dies-late"])
def test_a_worker_failure_stops_the_run_with_one_message_and_writes_nothing(
    tmp_path: Path, small_model: ClassifierOptions, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    if failure == "broken-model":
        # A model whose weights are too short for its feature space fails when scoring.
        real = service.classifier_recipe

        def broken(options: ClassifierOptions, model: object = None) -> ClassifierRecipe:
            recipe = real(options)
            recipe.model.coef_ = recipe.model.coef_[:10]
            recipe.model.idf_ = recipe.model.idf_[:10]
            return recipe

        monkeypatch.setattr(service, "classifier_recipe", broken)
        # The parent's warm-up before the fork would fail first: only the workers classify.
        monkeypatch.setattr(workers_module.ClassifierPool, "__init__", _pool_without_warm_up)
        expected = "a worker process failed while classifying: IndexError"
    else:
        # The parent forks after this patch, so its workers run the patched task.
        late = _fail_late if failure == "raises-late" else _die_late
        monkeypatch.setattr(workers_module, "_classify_chunk", late)
        expected = (
            "a worker process failed while classifying: IndexError: a deliberate failure"
            if failure == "raises-late"
            else "a worker process died"
        )
    monkeypatch.setattr(service, "BATCH_ROWS", 20)
    monkeypatch.setattr(service, "CHUNK_CHARS", 100)
    source = tmp_path / "in.tsv"
    _write_input(source, _bodies("mixed", 200), malformed=True)
    with pytest.raises(WorkerError, match=expected):
        classify_file(_ctx(), source, tmp_path / "out.tsv", options=small_model, workers=2)
    # Neither the output nor the quarantine file (rows were quarantined before the failure),
    # nor a temporary file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tsv"]


_plain_pool_init = workers_module.ClassifierPool.__init__


def _pool_without_warm_up(self: object, recipe: object, workers: int, **kwargs: object) -> None:
    _plain_pool_init(self, recipe, workers)  # type: ignore[arg-type]


def test_a_small_input_starts_no_worker(
    tmp_path: Path, small_model: ClassifierOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker pool was started for a small input")

    monkeypatch.setattr(service, "ClassifierPool", no_pool)
    source = tmp_path / "in.tsv"
    _write_input(source, _bodies("mixed", 50), malformed=False)
    report = classify_file(_ctx(), source, tmp_path / "out.tsv", options=small_model)
    assert report.accepted == 50


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_start_from_the_measured_break_even_size(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    threshold = MIN_BYTES_FOR_WORKERS[method]
    assert default_workers(threshold - 1, method) == 1
    assert default_workers(threshold, method) == 2  # never more than MAX_WORKERS
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert default_workers(threshold, method) == 1


def test_workers_below_one_are_refused(tmp_path: Path, small_model: ClassifierOptions) -> None:
    source = tmp_path / "in.tsv"
    _write_input(source, _bodies("mixed", 5), malformed=False)
    with pytest.raises(InvalidInputError, match="at least 1"):
        classify_file(_ctx(), source, tmp_path / "out.tsv", options=small_model, workers=0)


def test_the_recipe_ships_without_the_scoring_table(small_model: ClassifierOptions) -> None:
    import pickle

    recipe = service.classifier_recipe(small_model)
    recipe.model.score_many(["warm the scoring table"])
    shipped = pickle.loads(pickle.dumps(recipe))
    assert shipped.model._folded is None
    assert shipped.shorteners == frozenset({"sho.rt"}) and shipped.numbers
    texts = [json.dumps(b) for b in _bodies("mixed", 20)]
    assert shipped.build().classify_many(texts) == recipe.build().classify_many(texts)


def test_the_recipe_ships_its_compiled_flag(
    small_model: ClassifierOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    import telewarden.core.sms.classifier as model_module

    monkeypatch.setattr(model_module, "_kernel_loaded", False)
    recipe = replace(service.classifier_recipe(small_model), compiled=True)
    shipped = pickle.loads(pickle.dumps(recipe))
    assert shipped.compiled
    # A spawned worker builds from the recipe: building loads the kernel.
    shipped.build()
    assert model_module.compiled_scoring_loaded()
