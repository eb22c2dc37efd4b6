"""The number scorer inside the live loop: incremental features, scores on a cadence, flags.

What belongs here: :class:`LoopScorer`, the loop's scoring hook. Each micro-batch's calls and
SMS of the carrier's subscribers are mapped to the contest's rows (the same
:class:`~telewarden.core.sichuan.SichuanMapper` the batch ``detect`` uses) and reduced into
per-day partial aggregates (:class:`~telewarden.core.features.partials.FeaturePartials`). Every
``every`` of event time the numbers touched since the last scoring are scored from their
features over the window, exactly the values ``telewarden numbers features`` would compute
over the same records.

When the scorer's flags stand follows ``telewarden detect``: never when the features are out
of the model's training domain; otherwise only a model that may act on its flags
(``numbers train`` writes ``act_on_flags`` when its cross-validated precision allows it) or a
history of at least ``min_history_days``. A flag that stands becomes a
:class:`~telewarden.core.ports.Flag` with source ``scorer`` and goes to disposal with the
detectors' flags; a withheld one is only counted (no one reads its reasons, so none are
worked out).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl

from telewarden.core.features.partials import FeaturePartials
from telewarden.core.features.sichuan import (
    APP_FEATURES,
    FEATURE_NAMES,
    KEY,
    user_features,
)
from telewarden.core.ports import Flag
from telewarden.core.sichuan import LOCAL_TIME_ZONE, SichuanMapper, sms_sides, voc_sides
from telewarden.services.number_features import contest_user_table

if TYPE_CHECKING:
    from telewarden.core.models.number_scorer import NumberScorer

__all__ = [
    "SHIPPED_SCORING",
    "LoopScorer",
    "ScoringCounters",
    "ScoringSettings",
    "copies_for_callees",
    "loop_scorer_for",
]

TAKE_EVENTS = 60_000
"""Events gathered before the helper thread takes them into the partials: each take has a fixed
cost of a few dozen Polars queries (``bench/stream.py --helpers`` times the demo's day in takes
of 20,000, 60,000 and 100,000). An hourly tick takes whatever waits first, so the features a
scoring reads are never older."""

SCORER_SOURCE = "scorer"
"""The flags' source (and the first part of their idempotency key)."""

_STATE_VERSION = 1


@dataclass(frozen=True)
class ScoringSettings:
    """How a loop scores numbers: which model, whether its flags may act, how often."""

    model: Path | None = None
    """The model file (None: the shipped Sichuan-trained model, which stays advisory)."""
    acts: bool = False
    """Act on the flags whatever the history (the model's card must allow it)."""
    every: dt.timedelta = dt.timedelta(hours=1)
    """Event time between scorings."""


SHIPPED_SCORING = ScoringSettings()
"""The shipped model, advisory, scored hourly: the loops' default."""


@dataclass
class ScoringCounters:
    """What the loop's scorer did, for reports."""

    scorings: int = 0
    """Ticks of the cadence reached with numbers waiting for a score."""
    numbers_scored: int = 0
    model_flags: int = 0
    """Numbers the model flagged, whether or not the flags stood."""
    flags: int = 0
    """Flags that stood and went to disposal."""
    withheld: int = 0
    withheld_because: str | None = None
    """Why the last scoring's flags were withheld, or why it scored nothing (None: they
    stood, or no scoring yet)."""
    features_s: float = 0.0
    score_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}


class LoopScorer:
    """Keeps the subscribers' features in event time and scores the changed ones on a cadence.

    Parameters
    ----------
    model : NumberScorer or callable returning one
        The fitted scorer, or how to load it: a callable is called at the first scoring whose
        flags could stand, so a loop whose scorer never may act never loads LightGBM (seconds
        of start-up).
    subscribers, cells : polars.DataFrame
        The carrier's subscribers (who gets features, and their ARPU) and its cells (city and
        county of a serving cell), as for ``telewarden detect``.
    acts : bool
        The model may act on its flags whatever the history (its card says so).
    model_path : Path or None
        Where the model came from, for its training-domain profile (None: the shipped one).
    every : datetime.timedelta
        Event time between scorings; a number is scored at most once per scoring.
    window_days, min_history_days
        The features' window, and the history below which the flags of a model that may not
        act are withheld.
    owns : callable, optional
        Which numbers this partition scores (all when None).
    domain_check : bool
        Withhold the flags of a scoring whose features are out of the model's domain.
    """

    def __init__(
        self,
        model: NumberScorer | Callable[[], NumberScorer],
        subscribers: pl.DataFrame,
        cells: pl.DataFrame,
        *,
        acts: bool = False,
        model_path: Path | None = None,
        every: dt.timedelta = dt.timedelta(hours=1),
        window_days: int = 30,
        min_history_days: float = 28.0,
        owns: Callable[[str], bool] | None = None,
        domain_check: bool = True,
    ) -> None:
        if every <= dt.timedelta(0):
            raise ValueError("the scoring cadence must be positive")
        self._model = model
        self.acts = acts
        self.model_path = model_path
        self.every = every
        self.min_history_days = min_history_days
        self.domain_check = domain_check
        self.partials = FeaturePartials(window_days)
        # This partition's subscribers, asked once: a batch's numbers are then matched on the
        # column (Polars, without the GIL) instead of one Python set lookup per number.
        owned = subscribers["msisdn"].drop_nulls().unique()
        if owns is not None:
            owned = owned.filter(pl.Series(list(map(owns, owned.to_list())), dtype=pl.Boolean))
        self._owned = owned.implode()
        self._seen_days: tuple[dt.date, dt.date] | None = None
        """Local calendar days of the first and last events handed to the hook: the history
        the partials can hold is never longer (see :meth:`score_pending`)."""
        # One helper thread takes each batch's rows into the partials while the loop goes on
        # (Polars releases the GIL), so the work can use a core the step leaves free; measured
        # on the demo's day it hides little, as the step's Polars work keeps both cores busy.
        # Batches are taken one at a time, in order, so the partials are the same.
        self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loop-scorer")
        self._taking: Future[list[str]] | None = None
        # Small micro-batches (a slowly fed worker's) wait here until TAKE_EVENTS have come:
        # taking a batch has a fixed cost of a few dozen Polars queries.
        self._waiting: list[pl.DataFrame] = []
        self._cells = cells.select("cell_id", "city", "county").unique("cell_id")
        users = contest_user_table(subscribers, SichuanMapper(subscribers, cells))
        self.users = user_features(users.lazy()).collect()
        self.counters = ScoringCounters()
        self.next_at: dt.datetime | None = None
        self.pending: set[str] = set()
        self.flagged: set[str] = set()

    # -- the hook ---------------------------------------------------------------------------

    def on_batch(self, batch: pl.DataFrame) -> list[Flag]:
        """Take a micro-batch (loop events, sorted by ``at``); the scorer flags that stand.

        The batch's rows go into the partials on the helper thread; a scoring (when the batch
        reaches the next tick of the cadence) first waits for them.
        """
        if not batch.height:
            return []
        self._note_days(batch)
        self._waiting.append(batch)
        if sum(b.height for b in self._waiting) >= TAKE_EVENTS:
            self._hand_over()
        last = batch["at"][-1]
        assert isinstance(last, dt.datetime)
        if self.next_at is None:
            self.next_at = _next_tick(batch["at"][0], self.every)
        if last < self.next_at:
            return []
        self.next_at = _next_tick(last, self.every)
        return self.score_pending(last)

    def _hand_over(self) -> None:
        """Give the waiting batches to the helper thread (after the previous ones are in)."""
        self._wait_for_helper()
        if self._waiting:
            batch = self._waiting[0] if len(self._waiting) == 1 else pl.concat(self._waiting)
            self._waiting = []
            self._taking = self._helper.submit(self._take, batch)

    def _note_days(self, batch: pl.DataFrame) -> None:
        first, last = batch["at"][0], batch["at"][-1]
        assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
        days = (_local_day(first), _local_day(last))
        if self._seen_days is not None:
            days = (min(self._seen_days[0], days[0]), max(self._seen_days[1], days[1]))
        self._seen_days = days

    def _wait_for_helper(self) -> None:
        if self._taking is not None:
            taking, self._taking = self._taking, None
            self.pending.update(taking.result())

    def settle(self) -> None:
        """Wait until every batch given to the hook is in the partials (an error there is
        raised here)."""
        self._hand_over()
        self._wait_for_helper()

    def _take(self, batch: pl.DataFrame) -> list[str]:
        """Reduce a batch into the partials; the numbers of this partition it touched."""
        started = time.perf_counter()
        present = self._present(batch)
        events = batch.lazy()
        calls = events.filter(pl.col("channel") == "call").rename({"at": "start_at"})
        sms = events.filter(pl.col("channel") == "sms").select(
            pl.col("caller").alias("sender"),
            pl.col("callee").alias("recipient"),
            pl.col("at").alias("sent_at"),
        )
        touched = self.partials.add(
            voc=voc_sides(calls, present, self._cells.lazy()), sms=sms_sides(sms, present)
        )
        self.partials.tidy()
        self.counters.features_s += time.perf_counter() - started
        return touched

    def _present(self, batch: pl.DataFrame) -> pl.Series:
        """This partition's subscribers among the batch's numbers: only their rows are kept
        (a partition keeps no rows of the numbers another partition scores)."""
        numbers = pl.concat([batch["caller"], batch["callee"]]).unique().drop_nulls()
        return numbers.filter(numbers.is_in(self._owned))

    def score_pending(self, at: dt.datetime) -> list[Flag]:
        """Score the numbers changed since the last scoring, as of ``at``; the flags that stand.

        When no flag could stand (a model that may not act, on too short a history) nothing is
        computed: the numbers wait, and are scored once the history is long enough. While the
        events handed to the hook span fewer days than that, this is known without waiting for
        the helper thread (the partials' history is part of that span), so the thread's work
        overlaps the loop's next steps instead of holding up every hourly tick.
        """
        counters = self.counters
        if not self.acts and self._seen_days is not None:
            seen = (self._seen_days[1] - self._seen_days[0]).days + 1
            if seen < self.min_history_days:
                # Counted as a scoring the settled path would count (numbers waiting) unless
                # no event came since the last: which numbers wait is the helper's to say.
                counters.scorings += bool(self.pending or self._taking is not None or self._waiting)
                counters.withheld_because = _too_short(seen, self.min_history_days)
                return []
        self.settle()
        if not self.pending:
            return []
        counters.scorings += 1
        days = self.partials.history_days()
        if not self.acts and days < self.min_history_days:
            counters.withheld_because = _too_short(days, self.min_history_days)
            return []
        started = time.perf_counter()
        numbers = sorted(self.pending)
        self.pending.clear()
        features = self.features(numbers)
        counters.features_s += time.perf_counter() - started
        started = time.perf_counter()
        withheld_because = self._out_of_domain(features)
        scores = self.model().score_many(
            features, explain="none" if withheld_because else "flagged", threads=1
        )
        counters.numbers_scored += scores.height
        flagged = scores.filter(pl.col("flagged"))
        counters.model_flags += flagged.height
        counters.withheld_because = withheld_because
        flags: list[Flag] = []
        if withheld_because is not None:
            counters.withheld += flagged.height
        else:
            for number, score, reasons in flagged.select(KEY, "score", "reasons").iter_rows():
                if number in self.flagged:
                    continue
                self.flagged.add(number)
                flags.append(
                    Flag(
                        subject=number,
                        kind="msisdn",
                        source=SCORER_SOURCE,
                        at=at,
                        reason=f"number scorer {score:.3f}: {reasons}",
                        evidence={"score": round(float(score), 6)},
                    )
                )
            counters.flags += len(flags)
        counters.score_s += time.perf_counter() - started
        return flags

    def features(self, numbers: list[str] | None = None) -> pl.DataFrame:
        """The 55 features of ``numbers`` (all with calls or SMS in the window when None)."""
        self.settle()
        behaviour = self.partials.features(numbers)
        return (
            behaviour.join(self.users, on=KEY, how="left")
            .with_columns(pl.lit(None, pl.Float64).alias(n) for n in APP_FEATURES)
            .select(KEY, *FEATURE_NAMES)
        )

    def model(self) -> NumberScorer:
        """The scorer (loaded now if it was given as a loader)."""
        if callable(self._model):  # a loader; a NumberScorer is not callable
            self._model = self._model()
        return self._model

    def _out_of_domain(self, features: pl.DataFrame) -> str | None:
        if not (self.domain_check and features.height):
            return None
        from telewarden.services.number_domain import domain_of

        domain = domain_of(features, self.model_path)
        if domain is not None and not domain.in_domain:
            return f"the features are out of the model's training domain ({domain.summary()})"
        return None

    def summary(self) -> dict[str, Any]:
        """The counters, with how many subscribers have features and the rows held for them."""
        self.settle()
        return {
            **self.counters.as_dict(),
            "subscribers_with_features": self.partials.numbers(),
            "partial_rows_held": self.partials.held_rows(),
        }

    # -- checkpoints ------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Partials, numbers awaiting a score, numbers flagged, cadence and counters."""
        self.settle()
        return {
            "version": _STATE_VERSION,
            "partials": self.partials.state(),
            "next_at": self.next_at,
            "seen_days": self._seen_days,
            "pending": sorted(self.pending),
            "flagged": sorted(self.flagged),
            "counters": vars(self.counters).copy(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take over a :meth:`state`."""
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"unknown scorer checkpoint version {state.get('version')!r}")
        self.partials.restore(state["partials"])
        self.next_at = state["next_at"]
        # A checkpoint from before the span was kept: the partials' own days, which the events
        # seen spanned at least.
        partial_days = (self.partials.first_day, self.partials.latest_day)
        self._seen_days = state.get("seen_days", None if partial_days[0] is None else partial_days)
        self.pending = set(state["pending"])
        self.flagged = set(state["flagged"])
        self.counters = ScoringCounters(**state["counters"])


def _too_short(days: int, min_history_days: float) -> str:
    return (
        f"the loop has seen {days} days of records, fewer than {min_history_days:g}, "
        "and the model may not act on shorter histories"
    )


def _local_day(at: dt.datetime) -> dt.date:
    """The calendar day of ``at`` in the contest's local time, as the partials count days."""
    return at.astimezone(ZoneInfo(LOCAL_TIME_ZONE)).date()


def _next_tick(at: Any, every: dt.timedelta) -> dt.datetime:
    """The first multiple of ``every`` (from the Unix epoch) strictly after ``at``."""
    assert isinstance(at, dt.datetime)
    epoch = dt.datetime(1970, 1, 1, tzinfo=at.tzinfo)
    return epoch + ((at - epoch) // every + 1) * every


def loop_scorer_for(
    records: Path,
    *,
    model_path: Path | None = None,
    acts: bool = False,
    every: dt.timedelta = dt.timedelta(hours=1),
    owns: Callable[[str], bool] | None = None,
) -> LoopScorer:
    """The scoring hook for the simulated carrier in ``records`` with the shipped (or given) model.

    ``acts`` needs a model whose card allows acting on its flags
    (``ConfigurationError`` otherwise), as ``telewarden detect --scorer-acts`` does.
    """
    from telewarden.core.errors import InvalidInputError
    from telewarden.core.records import CELLS_SCHEMA

    def load() -> NumberScorer:
        from telewarden.services.number_scoring import load_for_scoring

        return load_for_scoring(model_path)

    if acts and not _may_act(model_path):
        raise InvalidInputError(
            "the scorer may act in the loop only with a model whose card allows it "
            "(`numbers train` on your own outcomes, cross-validated precision >= 0.95)"
        )
    cells_path = records / "cells.parquet"
    cells = (
        pl.read_parquet(cells_path) if cells_path.exists() else pl.DataFrame(schema=CELLS_SCHEMA)
    )
    return LoopScorer(
        load,
        pl.read_parquet(records / "subscribers.parquet"),
        cells,
        acts=acts,
        model_path=model_path,
        every=every,
        owns=owns,
    )


def copies_for_callees(events: pl.DataFrame, subscribers: pl.DataFrame) -> pl.Series:
    """Which of ``events`` the scorer needs copied to their callee's partition.

    A feed partitioned by caller brings a subscriber's incoming calls and SMS to other
    partitions than the one that scores it, so the feed sends a copy of each answered call and
    SMS to a subscriber to the callee's partition (the broker adapter's mirror column): every
    partition's features are then those of its numbers' whole traffic.
    """
    counted = (pl.col("channel") == "sms") | pl.col("answered").fill_null(False)
    to_subscriber = pl.col("callee").is_in(subscribers["msisdn"].implode())
    return events.select((counted & to_subscriber).alias("copy")).to_series()


def _may_act(model_path: Path | None) -> bool:
    from telewarden.adapters.number_model import load_model_meta

    return bool(load_model_meta(model_path).get("act_on_flags"))
