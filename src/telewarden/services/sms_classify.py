"""Classify a file of SMS bodies, or explain the verdict on one: the ``sms classify|explain`` use cases.

Both read message content, so both ask the legal gate first
(:func:`telewarden.services.screening.require_content_allowed`: the stored policy and the
process gate). The model code pulls in scikit-learn and SciPy, which take seconds to import;
it is imported inside the functions that score, never at module level.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from telewarden.adapters.files.messages import (
    MessageFormat,
    MessageRow,
    MessageWriter,
    count_data_lines,
    detect_format,
    open_messages,
    replace_atomically,
)
from telewarden.adapters.files.output import refuse_inputs_as_outputs
from telewarden.adapters.files.quarantine import (
    QuarantinedRow,
    QuarantineWriter,
    check_quarantine_share,
)
from telewarden.core.errors import InvalidInputError
from telewarden.services.screen_file import default_quarantine_path
from telewarden.services.screening import require_content_allowed
from telewarden.services.sms_workers import (
    Classified,
    ClassifierPool,
    ClassifierRecipe,
    classify_texts,
    collect,
    default_workers,
)

if TYPE_CHECKING:
    from telewarden.core.registry import ShadowRun
    from telewarden.core.sms.classifier import SmsModel
    from telewarden.core.sms.inspector import SmsClassifier, SmsResult
    from telewarden.services.context import AppContext
    from telewarden.services.model_shadow import ScoreTally, ShadowComparison

__all__ = [
    "COMPILED_MIN_BYTES",
    "ClassifierOptions",
    "ClassifyReport",
    "ExplainReport",
    "build_classifier",
    "classifier_recipe",
    "classify_file",
    "explain_message",
]

BATCH_ROWS = 2000
"""Messages scored per call of ``classify_many`` (vectorised scoring, bounded memory)."""

MEMO_TEXTS = 20_000
"""Distinct bodies whose verdict columns a run remembers across batches (a campaign sends one
body to many recipients through a whole file); the memo starts afresh when full."""

RESULT_COLUMNS = ("verdict", "score", "fraud_types", "indicators")
"""Columns ``classify_file`` adds to every row."""

CHUNK_CHARS = 40_000
"""Characters of distinct bodies sent to a worker at a time (a chunk ends at the first body
that reaches it). A body costs about in proportion to its length, so chunks of equal length
keep two workers equally busy: 100 long messages (~400 characters, ~20 ms) or 600 short ones,
large enough that the batch scoring keeps its speed and the hand-over costs little."""

COMPILED_MIN_BYTES = 12 * 1024 * 1024
"""Input size (bytes) from which the model scores with its compiled kernel.

The kernel (:mod:`telewarden.core.sms.ngram_kernel`, the same scores) saves CPU in proportion
to the distinct bodies' length, but its first use in a process costs 1.5-3 CPU s (numba's
import, then its compiled code loaded from the on-disk cache). ``bench/sms_compiled_break_even.py``
(``classify_file`` in fresh processes on distinct ~400-character messages, kernel minus NumPy
path; 2026-12-04 19:45-19:50, load 3.4-6.1): 1.0 MiB +2.49 / +1.57 CPU s, 7.9 MiB +0.85 /
+0.10, 15.8 MiB -1.08 / -2.32 (two runs, the first by its prototype). It breaks even at 8-12 MiB of distinct long bodies
(repeated bodies are classified once and save nothing), hence 12 MiB; below, a run (``sms
classify`` on a few messages above all) does not import numba at all. Forked workers inherit
the parent's loaded kernel."""

AHEAD_BATCHES = 2
"""Batches read and handed to the workers beyond the one being written (bounded memory)."""

_Columns = tuple[str, dict[str, object], float]
"""A body's verdict, its output columns and its unrounded score."""


def _chunks(texts: list[str], max_chars: int) -> list[list[str]]:
    """``texts`` in order, cut after the first text that brings a piece to ``max_chars``.

    Examples
    --------
    >>> _chunks(["aa", "bbb", "c", "dddd", "e"], 4)
    [['aa', 'bbb'], ['c', 'dddd'], ['e']]
    """
    pieces: list[list[str]] = []
    start = size = 0
    for i, text in enumerate(texts):
        size += len(text)
        if size >= max_chars:
            pieces.append(texts[start : i + 1])
            start, size = i + 1, 0
    if start < len(texts):
        pieces.append(texts[start:])
    return pieces


def _expand(found: Classified) -> _Columns:
    """A body's verdict, its output columns by name (as the writer takes them) and its score."""
    verdict, rounded, types, indicators, score = found
    columns = {"verdict": verdict, "score": rounded, "fraud_types": types, "indicators": indicators}
    return verdict, columns, score


@dataclass(slots=True)
class _Chunk:
    """Distinct bodies classified together, and their columns once back."""

    texts: list[str]
    future: Future[list[Classified]]
    columns: list[_Columns] = field(default_factory=list)


@dataclass(slots=True)
class _Batch:
    """Rows read and waiting to be written, with what each of their bodies waits on."""

    rows: list[MessageRow]
    texts: list[str]
    known: dict[str, _Columns]
    waiting: dict[str, tuple[_Chunk, int]]
    chunks: list[_Chunk]
    rejected: list[QuarantinedRow]


@dataclass(frozen=True, slots=True)
class ClassifierOptions:
    """Which model and look-ups the classifier uses."""

    model: Path | None = None
    """A model file written by ``sms train``; None uses the shipped model."""
    shorteners: Path | None = None
    """A file with one URL-shortener host per line; None keeps the built-in list."""
    numbers: bool = True
    """Classify phone numbers in messages with the number intelligence (origin, kind)."""
    shadow: int | None = None
    """A registered SMS version scored beside the serving model on the same rows (recorded as
    a shadow run); the output keeps the serving model's verdicts."""


def _shortener_hosts(path: Path) -> frozenset[str]:
    if not path.is_file():
        raise InvalidInputError(f"no such shortener list: {path}")
    hosts = [ln.strip().lower() for ln in path.read_text(encoding="utf-8").splitlines()]
    return frozenset(h for h in hosts if h and not h.startswith("#"))


def build_classifier(options: ClassifierOptions, model: SmsModel | None = None) -> SmsClassifier:
    """The SMS classifier for ``options`` (``model``, else the model file or the shipped model)."""
    return classifier_recipe(options, model).build()


def classifier_recipe(
    options: ClassifierOptions, model: SmsModel | None = None
) -> ClassifierRecipe:
    """What :func:`build_classifier` builds from, in a form a worker process can be sent."""
    from telewarden.adapters.sms_model import load_default_model, load_model

    if model is None:
        model = load_model(options.model) if options.model else load_default_model()
    hosts = _shortener_hosts(options.shorteners) if options.shorteners is not None else None
    return ClassifierRecipe(model, hosts, options.numbers)


@dataclass(slots=True)
class ClassifyReport:
    """What ``classify_file`` read, wrote and set aside; rows_read = accepted + quarantined."""

    source: Path
    output: Path
    format: MessageFormat
    accepted: int = 0
    quarantined: int = 0
    by_verdict: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    quarantine_path: Path | None = None
    model_version: int | None = None
    """The registry's serving version that scored the file (None: shipped or ``--model``)."""
    shadow_run: ShadowRun | None = None
    """The shadow run recorded when ``ClassifierOptions.shadow`` named a candidate."""

    @property
    def rows_read(self) -> int:
        """Every data row of the input, used or quarantined."""
        return self.accepted + self.quarantined


def classify_file(
    ctx: AppContext,
    source: Path,
    output: Path,
    *,
    fmt: MessageFormat | None = None,
    text_column: str = "text",
    options: ClassifierOptions | None = None,
    quarantine: Path | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    encoding: str | None = None,
    max_quarantine_share: float | None = None,
    workers: int | None = None,
) -> ClassifyReport:
    """Write every usable row of ``source`` to ``output`` with verdict, score, types, indicators.

    The output keeps the input's columns and format; it is written beside ``output`` and
    renamed onto it at the end, so a failed run leaves no half-written file. Rows that cannot
    be read go to ``quarantine`` (default :func:`default_quarantine_path`) with their line and
    reason; no quarantine file appears when every row was good.

    With ``workers`` above 1 the distinct bodies are classified on that many worker
    processes (:mod:`telewarden.services.sms_workers`), in chunks, while this process reads
    and writes; the output is the same bytes in the same order. None chooses from the input's
    size (:func:`~telewarden.services.sms_workers.default_workers`: below the break-even
    size no process starts). A worker that fails or dies stops the run with one
    :class:`~telewarden.services.sms_workers.WorkerError`; neither output nor quarantine file
    is written.

    Raises
    ------
    ConfigurationError
        When the legal gate forbids reading message bodies.
    InvalidInputError
        When ``source`` is missing, empty, not in ``encoding`` (default UTF-8) or lacks
        ``text_column``; when an output is the input; when every row, or more than
        ``max_quarantine_share`` of them, was quarantined (the output stays written); when
        ``workers`` is below 1.
    WorkerError
        When a worker process fails or dies.
    """
    require_content_allowed(ctx, "sms classify")
    fmt = detect_format(source, fmt)
    quarantine = quarantine or default_quarantine_path(output)
    refuse_inputs_as_outputs([source], [output, quarantine])
    report = ClassifyReport(source, output, fmt)
    step = progress or (lambda _rows: None)
    options = options or ClassifierOptions()
    with open_messages(source, fmt, text_column, encoding) as table, ExitStack() as stack:
        served, tally = _served_model(ctx, options)
        recipe = classifier_recipe(options, served[0] if served else None)
        shadow = _shadow(ctx, options)
        size = source.stat().st_size
        if workers is None:
            workers = default_workers(size)
        if workers < 1:
            raise InvalidInputError(f"--workers must be at least 1, got {workers}")
        if size >= COMPILED_MIN_BYTES:
            # Built before the workers fork, so that they share the loaded kernel.
            recipe = replace(recipe, compiled=True)
        clf = recipe.build()
        pool = None
        if workers > 1:
            # The workers start (fork, on Linux) here, before on_total starts the CLI's
            # progress-bar thread: a forked child gets no copy of a lock that thread might hold.
            pool = stack.enter_context(ClassifierPool(recipe, workers, built=clf))
            pool.start()
        if on_total is not None:
            on_total(count_data_lines(source, fmt))
        started = time.perf_counter()
        verdicts: Counter[str] = Counter()
        with replace_atomically(output) as out, QuarantineWriter(quarantine) as bad:
            writer = MessageWriter(out, fmt, table.header, RESULT_COLUMNS)
            batch: list[MessageRow] = []
            # Each distinct body is classified and formatted once per run (while the memo holds
            # it): every step is a function of the text alone. Bodies sent to a worker and not
            # yet back are in ``inflight``; a batch is written once every body it needs is back,
            # in input order, while later batches are being classified.
            memo: dict[str, _Columns] = {}
            inflight: dict[str, tuple[_Chunk, int]] = {}
            pending: deque[_Batch] = deque()
            window = 0 if pool is None else AHEAD_BATCHES
            # One process classifies a batch's bodies in one call, as it always did.
            chunk_chars = sys.maxsize if pool is None else CHUNK_CHARS

            def submit(texts: list[str]) -> Future[list[Classified]]:
                if pool is not None:
                    return pool.submit(texts)
                done: Future[list[Classified]] = Future()
                done.set_result(classify_texts(clf, texts))
                return done

            def queue_batch() -> None:
                texts = [row.fields[text_column] for row in batch]
                known: dict[str, _Columns] = {}
                waiting: dict[str, tuple[_Chunk, int]] = {}
                todo: list[str] = []
                for text in dict.fromkeys(texts):
                    if text in memo:
                        known[text] = memo[text]
                    elif text in inflight:
                        waiting[text] = inflight[text]
                    else:
                        todo.append(text)
                chunks = []
                for part in _chunks(todo, chunk_chars):
                    chunk = _Chunk(part, submit(part))
                    chunks.append(chunk)
                    for i, text in enumerate(part):
                        waiting[text] = inflight[text] = (chunk, i)
                pending.append(
                    _Batch(batch.copy(), texts, known, waiting, chunks, table.rejected.copy())
                )
                batch.clear()
                table.rejected.clear()
                while len(pending) > window:
                    write_batch(pending.popleft())

            def write_batch(done: _Batch) -> None:
                for chunk in done.chunks:
                    found = collect(chunk.future)
                    if len(memo) + len(found) > MEMO_TEXTS:
                        memo.clear()
                    chunk.columns = [_expand(columns) for columns in found]
                    for text, entry in zip(chunk.texts, chunk.columns, strict=True):
                        memo[text] = entry
                        del inflight[text]
                known = done.known
                for text, (chunk, i) in done.waiting.items():
                    known[text] = chunk.columns[i]
                rows, texts = done.rows, done.texts
                if shadow is not None and rows:
                    served = clf.classify_many(texts)
                    for row, a, b in zip(rows, served, shadow[0].classify_many(texts), strict=True):
                        shadow[1].add(row.line, row.fields[text_column], a, b)
                for row, text in zip(rows, texts, strict=True):
                    verdict, columns, score = known[text]
                    verdicts[verdict] += 1
                    if tally is not None:
                        tally.add(verdict, score)
                    writer.write(row.fields, columns)
                report.accepted += len(rows)
                bad.write(done.rejected)
                report.quarantined += len(done.rejected)
                step(len(rows) + len(done.rejected))

            try:
                for row in table.rows:
                    batch.append(row)
                    if len(batch) >= BATCH_ROWS:
                        queue_batch()
                queue_batch()
                while pending:
                    write_batch(pending.popleft())
            except BaseException as error:
                # The output is dropped by replace_atomically; the quarantine file would
                # describe part of a run, so it goes too.
                bad.abandon(error)
                raise
    report.duration_s = time.perf_counter() - started
    if ctx.models is not None and served is not None and tally is not None and tally.verdicts:
        from telewarden.core.registry import ModelKind

        day = ctx.clock.now().astimezone(dt.UTC).date()
        ctx.models.add_summary(tally.summary(ModelKind.SMS, served[1], day, "classify"))
        report.model_version = served[1]
    if ctx.models is not None and shadow is not None:
        who = "sms classify"
        report.shadow_run = shadow[1].record(
            ctx.models, source=source.name, actor=who, at=ctx.clock.now()
        )
    report.by_verdict = {v: verdicts.get(v, 0) for v in ("ok", "spam", "scam")}
    report.quarantine_path = quarantine if report.quarantined else None
    check_quarantine_share(
        report.accepted + report.quarantined,
        report.quarantined,
        max_quarantine_share,
        report.quarantine_path,
    )
    return report


def _served_model(
    ctx: AppContext, options: ClassifierOptions
) -> tuple[tuple[SmsModel, int | None] | None, ScoreTally | None]:
    """The registry's serving model and a tally for drift, when no ``--model`` was named."""
    if options.model is not None or ctx.models is None:
        return None, None
    from telewarden.services.model_registry import serving_sms_model
    from telewarden.services.model_shadow import ScoreTally

    return serving_sms_model(ctx.models), ScoreTally()


def _shadow(
    ctx: AppContext, options: ClassifierOptions
) -> tuple[SmsClassifier, ShadowComparison] | None:
    """The candidate classifier and its comparison when ``options.shadow`` names one."""
    if options.shadow is None:
        return None
    if options.model is not None or ctx.models is None:
        raise InvalidInputError("--shadow compares with the registry's serving model: drop --model")
    from telewarden.services.model_shadow import shadow_classifiers

    _, candidate, comparison = shadow_classifiers(ctx.models, options.shadow)
    return candidate, comparison


@dataclass(frozen=True, slots=True)
class ExplainReport:
    """The verdict on one message with its reasoning, and the scam rule it was judged by."""

    result: SmsResult
    scam_with_score: float
    """Scam evidence needed when the model score reaches its threshold."""
    scam_alone: float
    """Scam evidence needed, with a brand or risky indicator, whatever the score."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the result's own form, as ``sms explain --json`` has always printed)."""
        return self.result.to_dict()


def explain_message(
    ctx: AppContext, text: str, options: ClassifierOptions | None = None
) -> ExplainReport:
    """Classify ``text`` and attach the indicators, cues, fraud types and n-grams behind it.

    Raises
    ------
    ConfigurationError
        When the legal gate forbids reading message bodies.
    """
    require_content_allowed(ctx, "sms explain")
    options = options or ClassifierOptions()
    served, _ = _served_model(ctx, options)
    clf = build_classifier(options, served[0] if served else None)
    return ExplainReport(clf.explain(text), clf.rule.with_score, clf.rule.alone)
