"""Classify distinct SMS bodies on worker processes: the second core for ``sms classify``.

The classifier is Python (normalisation, cue scans, indicators) around NumPy scoring, so the
GIL keeps it on one core; worker processes give it the others. Each worker gets its
classifier once: a forked worker the parent's, warmed before the fork; a spawned one builds it
from a :class:`ClassifierRecipe` (the model and the look-up settings, not the compiled
scanners). It then turns chunks of texts into the result columns the output file gets
(:func:`classify_texts`): the same function the one-process path runs, so both write the same
bytes.

Start method (:func:`start_method`): ``fork`` on Linux, ``spawn`` everywhere else. Forked
workers start in 0.06-0.17 s wall (two, measured) and share the parent's imported modules,
tables and model pages copy-on-write; a spawned one starts a new interpreter and imports the
classifier's modules again, 5.5-7 CPU s here (the phone-number geocoder's tables for the number
intelligence are most of it), and gets the model by pickle. macOS offers ``fork`` but its system libraries are not fork-safe (Python's
default there is ``spawn``), and Windows has no ``fork``; nothing here depends on ``fork``:
the worker entry points are module-level functions and the recipe pickles, so ``spawn`` (tested)
gives the same output. The parent forks its workers before the CLI starts its progress-bar
thread (see ``classify_file``), and the children run no code that takes a lock another
parent thread may hold. :data:`MIN_BYTES_FOR_WORKERS` holds the break-even input size of each
start method, from ``bench/sms_e2e.py --break-even``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from telewarden.core.errors import TelewardenError

if TYPE_CHECKING:
    from telewarden.core.sms.classifier import SmsModel
    from telewarden.core.sms.inspector import SmsClassifier, SmsResult

__all__ = [
    "MAX_WORKERS",
    "MIN_BYTES_FOR_WORKERS",
    "ClassifierPool",
    "ClassifierRecipe",
    "Classified",
    "WorkerError",
    "classify_texts",
    "collect",
    "default_workers",
    "start_method",
]

MAX_WORKERS = 2
"""Workers used by default at most: the machine this was measured on has two cores."""

MIN_BYTES_FOR_WORKERS: dict[str, int] = {"fork": 512 * 1024, "spawn": 24 * 1024 * 1024}
"""Input size (bytes) from which worker processes pay for their start-up, per start method.

One process spends about 0.6 us of CPU per input byte, distinct long or short messages alike,
so bytes measure the work before a row is read. ``bench/sms_e2e.py --break-even`` (2 workers
against 1, fork), with a second core free (2026-12-04 17:53, load 1.0-1.3): distinct long
messages break even at 206 KiB (x1.02; x1.25 at 415 KiB, x1.58-x1.67 from 818 KiB), the
distinct mix at 294 KiB (x1.06); hence 512 KiB, with a margin. With the second core held by
another job (17:23-17:27, load 2.4-4.2) they broke even later or not at all (long x0.80 at
818 KiB, x1.45 at 1,614 KiB). Spawned, two workers take 4.7-10 s wall to start (a new
interpreter each, importing the classifier and the geocoder's tables, 9.5-15 CPU s for the
two): they pay from about twice that in one-process work, ~24 MiB (x0.41-x0.48 at 6,468 KiB)."""

Classified = tuple[str, float, str, str, float]
"""One text's output columns: verdict, score rounded to 6 places, fraud type codes joined by
``;``, indicators as JSON; then the unrounded score (for the drift tally)."""


T = TypeVar("T")


class WorkerError(TelewardenError):
    """A worker process failed or died; nothing was written. CLI exit code 1."""


_JSON = json.JSONEncoder(ensure_ascii=False).encode
"""``json.dumps(..., ensure_ascii=False)`` without building a new encoder for every message."""


def _columns(result: SmsResult) -> Classified:
    indicators = result.indicators
    return (
        str(result.verdict),
        round(result.score, 6),
        ";".join(t.code for t in result.fraud_types),
        # Most messages carry no indicator; "[]" is what json.dumps writes for them.
        _JSON([i.to_dict() for i in indicators]) if indicators else "[]",
        result.score,
    )


def classify_texts(classifier: SmsClassifier, texts: Sequence[str]) -> list[Classified]:
    """The output columns of each of ``texts`` (distinct bodies), in order."""
    return [_columns(result) for result in classifier.classify_many(texts)]


@dataclass(frozen=True, slots=True)
class ClassifierRecipe:
    """What a worker needs to build the classifier: small, picklable, no compiled scanners.

    Parameters
    ----------
    model : SmsModel
        The model (its arrays pickle under ``spawn``; a forked worker shares the parent's).
    shorteners : frozenset[str] or None
        URL-shortener hosts, None for the built-in list.
    numbers : bool
        Classify phone numbers in messages with the number intelligence.
    compiled : bool
        Score with the compiled kernel (:func:`~telewarden.core.sms.classifier.load_compiled_scoring`,
        the same scores): for inputs large enough to repay its first use.
    """

    model: SmsModel
    shorteners: frozenset[str] | None
    numbers: bool
    compiled: bool = False

    def build(self) -> SmsClassifier:
        """The classifier this recipe describes."""
        from telewarden.core.numbers import NumberIntel
        from telewarden.core.sms.classifier import load_compiled_scoring
        from telewarden.core.sms.indicators import IndicatorExtractor
        from telewarden.core.sms.inspector import SmsClassifier

        if self.compiled:
            load_compiled_scoring()
        intel = NumberIntel() if self.numbers else None
        extractor = (
            IndicatorExtractor(shorteners=self.shorteners, numbers=intel)
            if self.shorteners is not None
            else IndicatorExtractor(numbers=intel)
        )
        return SmsClassifier(self.model, extractor=extractor)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # The model's scoring table (weights folded with the shared block) is as large as the
        # model and rebuilt on first use: a copy without it ships half the bytes.
        return (
            ClassifierRecipe,
            (replace(self.model), self.shorteners, self.numbers, self.compiled),
        )


def start_method() -> str:
    """``fork`` on Linux, else ``spawn`` (see the module docstring for why)."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def default_workers(input_bytes: int, method: str | None = None) -> int:
    """Workers for an input of ``input_bytes``: 1 (none started) below the break-even size.

    Examples
    --------
    >>> default_workers(1000, "fork")
    1
    """
    method = method or start_method()
    if input_bytes < MIN_BYTES_FOR_WORKERS[method]:
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


_worker_classifier: SmsClassifier | None = None
"""The classifier of this worker process (None in the parent)."""

_forked_classifier: SmsClassifier | None = None
"""The parent's warmed classifier while it forks its workers, which then use it as it is."""


def _start_worker(recipe: ClassifierRecipe) -> None:
    global _worker_classifier  # noqa: PLW0603  # one classifier per worker process, by design
    _worker_classifier = _forked_classifier or recipe.build()


def _ready() -> bool:
    """A task that proves a worker is up (its initializer built the classifier)."""
    return _worker_classifier is not None


def _classify_chunk(texts: list[str]) -> list[Classified]:
    if _worker_classifier is None:  # pragma: no cover - the pool's initializer sets it
        raise RuntimeError("worker started without its classifier")
    return classify_texts(_worker_classifier, texts)


class ClassifierPool:
    """``workers`` processes, each with the classifier of ``recipe``, taking chunks of texts.

    Use as a context manager; leaving it (normally or by an error) stops the workers and
    cancels chunks not yet started.

    Parameters
    ----------
    recipe : ClassifierRecipe
        How each worker builds its classifier (once).
    workers : int
        Worker processes.
    method : str or None
        Start method, :func:`start_method` when None.
    built : SmsClassifier or None
        The parent's classifier built from ``recipe``. Forked workers use it as it is: its
        modules, tables and model pages are shared copy-on-write, where each worker would
        otherwise import and build them again (the geocoder's tables alone take seconds).
    """

    def __init__(
        self,
        recipe: ClassifierRecipe,
        workers: int,
        method: str | None = None,
        built: SmsClassifier | None = None,
    ) -> None:
        self.method = method or start_method()
        self.workers = workers
        self._built = built if self.method == "fork" else None
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(self.method),
            initializer=_start_worker,
            initargs=(recipe,),
        )

    def start(self) -> None:
        """Start every worker and wait until each has built its classifier.

        Raises
        ------
        WorkerError
            When a worker cannot start or build its classifier.
        """
        global _forked_classifier  # noqa: PLW0603  # read by the forked children only
        if self._built is not None:
            # What the classifier builds on first use (the model's folded scoring table, ...)
            # is built once here, before the fork, instead of once in every worker.
            self._built.classify_many(["warm-up before the workers fork"])
        _forked_classifier = self._built
        try:
            for ready in [self.submit_call(_ready) for _ in range(self.workers)]:
                collect(ready)
        finally:
            _forked_classifier = None

    def submit_call(self, task: Callable[[], T]) -> Future[T]:
        """Run ``task`` (a module-level function, so that it pickles) on a worker."""
        try:
            return self._executor.submit(task)
        except BrokenProcessPool as exc:
            raise WorkerError(_broken(exc)) from exc

    def submit(self, texts: list[str]) -> Future[list[Classified]]:
        """Start classifying ``texts``; the future gives :func:`classify_texts` of them."""
        try:
            return self._executor.submit(_classify_chunk, texts)
        except BrokenProcessPool as exc:
            raise WorkerError(_broken(exc)) from exc

    def __enter__(self) -> ClassifierPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def collect(future: Future[T]) -> T:
    """The future's result, or a :class:`WorkerError` naming what went wrong on the worker."""
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise WorkerError(_broken(exc)) from exc
    except Exception as exc:
        raise WorkerError(
            f"a worker process failed while classifying: {type(exc).__name__}: {exc}"
        ) from exc


def _broken(exc: BaseException) -> str:
    return f"a worker process died (killed, or out of memory?): {exc}"
