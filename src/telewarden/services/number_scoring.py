"""Score a features file and explain one number's score.

What belongs here: the ``numbers score`` and ``numbers explain`` use cases (``numbers train`` is
:mod:`telewarden.services.number_training`).
LightGBM and scikit-learn take seconds to import, so the scorer and the model-file adapter are
imported inside these functions: importing this module costs only Polars.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import polars as pl

from telewarden.adapters.files.output import refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import check_quarantine_share
from telewarden.core.errors import InvalidInputError, NotFoundError
from telewarden.core.features.sichuan import KEY
from telewarden.services.number_inputs import (
    FeaturesFile,
    iter_features,
    quarantine_path,
    read_edges,
    read_features,
)

if TYPE_CHECKING:
    from telewarden.core.models.number_scorer import Explain, NumberScorer

Engine = Literal["auto", "compiled", "lightgbm"]
"""How scores are computed: ``compiled`` native code (built on first use and cached beside the
model), ``lightgbm``'s own predictor, or ``auto``: compiled when already cached, else LightGBM."""


@dataclass(frozen=True, slots=True)
class ScoreReport:
    """Scores written to ``output``."""

    output: Path
    numbers: int
    flagged: int
    rows_read: int
    quarantined: int
    quarantine_path: Path | None
    seconds: float
    engine: str = "lightgbm"
    """``compiled`` or ``lightgbm``: which predictor gave the scores."""


@dataclass(frozen=True, slots=True)
class CompileModelReport:
    """The compiled members of a model: ``(member, "built" | "cached", object file)``."""

    directory: Path
    members: tuple[tuple[str, str, Path], ...]
    seconds: float


def compile_model(model: Path | None = None, cache_dir: Path | None = None) -> CompileModelReport:
    """Compile a model's tree ensembles to native code once and cache them beside the model.

    Later ``numbers score`` runs (engine ``auto`` or ``compiled``) load the cached objects after
    checking their checksums and their scores against LightGBM on probe rows.
    """
    from telewarden.adapters.compiled_trees import compile_scorer, default_cache_dir
    from telewarden.adapters.number_model import load_model

    started = time.perf_counter()
    directory = cache_dir or default_cache_dir(model)
    report = compile_scorer(load_model(model), directory, build=True)
    assert report is not None
    return CompileModelReport(directory, report.members, time.perf_counter() - started)


def load_for_scoring(
    model: Path | None = None, engine: Engine = "auto", cache_dir: Path | None = None
) -> NumberScorer:
    """The model, with its compiled trees attached where they are cached (``engine`` auto)."""
    from telewarden.adapters.number_model import load_model

    scorer = load_model(model)
    _with_engine(scorer, model, engine, cache_dir)
    return scorer


def _with_engine(
    scorer: NumberScorer, model: Path | None, engine: Engine, cache_dir: Path | None
) -> str:
    if engine not in ("auto", "compiled", "lightgbm"):
        raise InvalidInputError(f"engine must be auto, compiled or lightgbm, not {engine!r}")
    if engine == "lightgbm":
        return "lightgbm"
    from telewarden.adapters.compiled_trees import compile_scorer, default_cache_dir

    directory = cache_dir or default_cache_dir(model)
    done = compile_scorer(scorer, directory, build=engine == "compiled")
    return "compiled" if done is not None else "lightgbm"


class _StreamedTable:
    """Chunks appended to a temporary CSV or Parquet file that is renamed into place on success."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
        os.close(fd)
        self.path = path
        self.temporary = Path(name)
        self._csv: IO[bytes] | None = None
        self._parquet: Any = None

    def write(self, chunk: pl.DataFrame) -> None:
        if self.path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = chunk.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.temporary, table.schema)
            self._parquet.write_table(table)
            return
        if self._csv is None:
            self._csv = self.temporary.open("wb")
            chunk.write_csv(self._csv)
        else:
            chunk.write_csv(self._csv, include_header=False)

    def commit(self, empty: pl.DataFrame) -> None:
        """Close and rename; ``empty`` (the output's schema) is written when no chunk came."""
        if self._csv is None and self._parquet is None:
            self.write(empty)
        if self._csv is not None:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()
        self.temporary.replace(self.path)

    def discard(self) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()
        self.temporary.unlink(missing_ok=True)


def _read_ahead(chunks: Iterator[FeaturesFile], pool: ThreadPoolExecutor) -> Iterator[FeaturesFile]:
    """``chunks`` with the next one read on ``pool`` while the caller scores the current one.

    At most two chunks are in memory (the one handed out and the one being read), so memory
    stays bounded by the chunk; an error reading a chunk is raised where the chunk is asked for.
    """
    sentinel = object()

    def step() -> Any:
        return next(chunks, sentinel)

    pending: Future[Any] = pool.submit(step)
    while True:
        chunk = pending.result()
        if chunk is sentinel:
            return
        pending = pool.submit(step)
        yield chunk


def score_numbers(
    features_path: Path,
    output: Path,
    *,
    edges: Path | None = None,
    model: Path | None = None,
    explain: Explain = "flagged",
    chunk_rows: int = 100_000,
    threads: int | None = None,
    encoding: str | None = None,
    max_quarantine_share: float | None = None,
    engine: Engine = "auto",
    cache_dir: Path | None = None,
) -> ScoreReport:
    """Score every readable row of a features file: key, score, flagged, reasons.

    The file is read, scored and written in chunks of about ``chunk_rows`` rows, so memory is
    bounded by a chunk (and the contact graph, when edges are given), not by the file. Reasons
    (exact TreeSHAP) are computed for the rows ``explain`` names: the flagged ones by default.
    ``threads`` (default: every core) score and explain a chunk in parallel. ``engine`` picks
    the predictor (:data:`Engine`); compiled scores equal LightGBM's within 1e-9. The key
    column keeps the name the features file used (``phone_no_m`` or ``msisdn``); unreadable
    rows go to ``<output stem>.quarantine.csv``. An output that is an input is refused; a run
    that quarantines every row (or more than ``max_quarantine_share``) is InvalidInputError
    after writing.

    With two threads or more, the work around the trees moves off the scoring thread too: the
    next chunk is read and checked, and the previous chunk's scores written, on helper threads
    while the current chunk is scored (Parquet and CSV I/O, Polars, the compiled trees and
    LightGBM's contributions all release the GIL). One thread does everything in turn.
    """
    from telewarden.adapters.number_model import load_model

    started = time.perf_counter()
    if explain not in ("flagged", "all", "none"):
        raise InvalidInputError(f"explain must be flagged, all or none, not {explain!r}")
    refuse_inputs_as_outputs([features_path, edges, model], [output, quarantine_path(output)])
    scorer = load_model(model)
    used = _with_engine(scorer, model, engine, cache_dir)
    graph = scorer.graph_table(read_edges(edges))
    workers = threads if threads is not None else (os.cpu_count() or 1)
    table = _StreamedTable(output)
    bad_table: _StreamedTable | None = None  # quarantined rows, streamed too
    numbers = flagged = quarantined = 0
    key_column = KEY
    # Helper threads (reader, writer) only with two threads or more; the writer's queue is one
    # chunk deep (the write of chunk n is awaited before chunk n + 1's is queued).
    reader = ThreadPoolExecutor(1, "score-read") if workers > 1 else None
    writer = ThreadPoolExecutor(1, "score-write") if workers > 1 else None
    written: Future[None] | None = None
    chunks = iter_features(features_path, chunk_rows, encoding)
    try:
        for chunk in _read_ahead(chunks, reader) if reader is not None else chunks:
            key_column = chunk.key_column
            if chunk.quarantine.height:
                if bad_table is None:
                    bad_table = _StreamedTable(quarantine_path(output))
                bad_table.write(chunk.quarantine)
                quarantined += chunk.quarantine.height
            if chunk.frame.height == 0:
                continue
            out = scorer.score_many(chunk.frame, explain=explain, threads=workers, graph=graph)
            if key_column != KEY:
                out = out.rename({KEY: key_column})  # answer in the caller's own vocabulary
            numbers += out.height
            flagged += int(out["flagged"].sum())
            if written is not None:
                written.result()
            written = writer.submit(table.write, out) if writer is not None else None
            if writer is None:
                table.write(out)
        if written is not None:
            written.result()
        empty = pl.DataFrame(
            schema={
                key_column: pl.String,
                "score": pl.Float64,
                "flagged": pl.Boolean,
                "reasons": pl.String,
            }
        )
        table.commit(empty)
        if bad_table is not None:
            bad_table.commit(pl.DataFrame(schema={"line": pl.Int64, "reason": pl.String}))
    except BaseException:
        for pool in (reader, writer):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        table.discard()
        if bad_table is not None:
            bad_table.discard()
        raise
    finally:
        for pool in (reader, writer):
            if pool is not None:
                pool.shutdown(wait=True)
    bad_path = quarantine_path(output) if bad_table is not None else None
    check_quarantine_share(numbers + quarantined, quarantined, max_quarantine_share, bad_path)
    return ScoreReport(
        output=output,
        numbers=numbers,
        flagged=flagged,
        rows_read=numbers + quarantined,
        quarantined=quarantined,
        quarantine_path=bad_path,
        seconds=time.perf_counter() - started,
        engine=used,
    )


@dataclass(frozen=True, slots=True)
class FeaturePush:
    """One feature's value and its push on the blended log-odds."""

    name: str
    value: float
    log_odds: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a number scored what it did."""

    number: str
    score: float
    flagged: bool
    threshold: float
    bias: float
    """The expected log-odds (the model's starting point)."""
    forest: float | None
    """The forest member's whole share, when the model has one."""
    pushes: tuple[FeaturePush, ...]
    """The strongest pushes, strongest (in absolute value) first."""


def explain_number(
    number: str,
    features_path: Path,
    *,
    edges: Path | None = None,
    model: Path | None = None,
    top: int = 10,
) -> Explanation:
    """A number's score and the ``top`` features that pushed it (TreeSHAP log-odds)."""
    from telewarden.adapters.number_model import load_model

    scorer = load_model(model)
    row = read_features(features_path).frame.filter(pl.col(KEY) == number)
    if row.height == 0:
        raise NotFoundError(f"{number} is not in {features_path}")
    edge_frame = read_edges(edges)
    scored = scorer.score_many(row, edge_frame).row(0, named=True)
    contrib = scorer.explain(row, edge_frame).row(0, named=True)
    values = scorer._matrix(row, edge_frame, scorer.known_)[0]
    ranked = sorted(enumerate(scorer.feature_names_), key=lambda item: -abs(contrib[item[1]]))
    return Explanation(
        number=number,
        score=float(scored["score"]),
        flagged=bool(scored["flagged"]),
        threshold=scorer.threshold_,
        bias=float(contrib["bias"]),
        forest=float(contrib["forest"]) if "forest" in contrib else None,
        pushes=tuple(
            FeaturePush(name, float(values[i]), float(contrib[name])) for i, name in ranked[:top]
        ),
    )
