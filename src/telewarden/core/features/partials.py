"""The call and SMS features of the scorer, kept as per-day partial aggregates in bounded memory.

What belongs here: :class:`FeaturePartials`, the live loop's incremental form of the Sichuan
call and SMS features. Each micro-batch's contest rows (``voc``, ``sms``) are reduced at once to
small per-day tables keyed by number (rows per call type, durations with their counts, distinct
handsets and places, calls and seconds per counterpart, events per hour); a number's features
are folded from its tables over a window of calendar days when they are asked for. Nothing is
approximate: every feature equals :func:`~telewarden.core.features.sichuan.sichuan_features`
over the window's raw rows (a test holds them equal at random batch cuts), because distinct
counts, medians and modes are taken over exact value counts, never over sketches.

Why per day: a day is the unit that leaves the window. Rows older than the window are dropped
at the next :meth:`FeaturePartials.compact`, which also folds a day's many per-batch pieces into
one, so memory grows with the window's distinct (number, value) pairs, not with the traffic.

The ``app`` features (data usage) are not kept here: the loop's events carry no usage records,
so they are null, as for a records folder without usage. ``user`` features (ARPU) are static
per subscriber and are computed once by the caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from telewarden.core.errors import InvalidInputError
from telewarden.core.features.definitions import (
    SMS,
    VOC,
    HourDayMode,
    polars_aggregate,
    polars_derived,
)
from telewarden.core.features.sichuan import KEY, SMS_FEATURES, VOC_FEATURES

__all__ = ["FeaturePartials"]

_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
_VOC_DISTINCT = ("imei_m", "city_name", "county_name")
"""Columns whose distinct values some call feature counts. They are kept as distinct
combinations per number, day and direction (a number's handset and places rarely change, so
one row stands for many calls); the distinct values of each column are those of its combos."""

_STATE_VERSION = 1


def _local_time(rows: pl.LazyFrame, column: str) -> pl.Expr:
    """The contest timestamp as a naive local time (null where it does not parse)."""
    dtype = rows.collect_schema()[column]
    if dtype == pl.String:
        return pl.col(column).str.to_datetime(_TIMESTAMP_FORMAT, strict=False)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        # The contest's times are local wall-clock times: a zoned time is read as such.
        return pl.col(column).dt.replace_time_zone(None)
    return pl.col(column).cast(pl.Datetime("us"), strict=False)


def _with_day_and_hour(rows: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """The rows, materialised once, with ``_day`` and ``_hour``; InvalidInputError naming the
    first time that does not parse (then nothing of the batch is kept)."""
    at = _local_time(rows, column)
    dated = rows.with_columns(at.dt.date().alias("_day"), at.dt.hour().alias("_hour")).collect()
    if dated["_day"].null_count():
        bad = int(dated["_day"].is_null().arg_max() or 0)
        raise InvalidInputError(
            f"{column} of row {bad} is not a YYYY-mm-dd HH:MM:SS time: {dated[column][bad]!r}"
        )
    return dated.lazy()


_COMPACTED = 1 << 30
"""The level of a compaction's piece."""


def _first_day(frame: pl.DataFrame) -> dt.date:
    first = frame["_day"].min()
    assert isinstance(first, dt.date)
    return first


def _fold(frames: list[pl.DataFrame], keys: list[str], sums: list[str]) -> pl.DataFrame:
    """The pieces as one table: counts summed per key (or distinct keys when ``sums`` is empty)."""
    whole = pl.concat(frames, how="vertical")
    if not sums:
        return whole.unique(maintain_order=False)
    return whole.group_by(keys).agg(pl.col(s).sum() for s in sums)


@dataclass
class _Table:
    """One partial table: its key columns, its summed columns and the pieces not yet folded."""

    keys: list[str]
    sums: list[str]
    pieces: list[pl.DataFrame] = field(default_factory=list)
    levels: list[int] = field(default_factory=list)
    """Per piece: 0 for a batch's, k + 1 for a fold of k-level pieces, ``_COMPACTED`` for a
    compaction's (never folded again before the next compaction)."""

    def add(self, piece: pl.DataFrame) -> None:
        if piece.height:
            self.pieces.append(piece)
            self.levels.append(0)

    def lazy(self, schema: dict[str, pl.DataType]) -> pl.LazyFrame:
        """Every piece, unfolded (the features fold what they read); empty when none."""
        if not self.pieces:
            return pl.LazyFrame(schema=schema)
        return pl.concat([p.lazy() for p in self.pieces], how="vertical")

    def compact(self, since: dt.date | None) -> None:
        """Fold the pieces since the last compaction into one, and drop the rows of days
        before ``since`` (the day is part of every key, so pieces of earlier compactions never
        share a row with the new one and are only filtered, not folded again)."""
        fresh = [
            p for p, level in zip(self.pieces, self.levels, strict=True) if level != _COMPACTED
        ]
        kept = [p for p, level in zip(self.pieces, self.levels, strict=True) if level == _COMPACTED]
        if fresh:
            kept.append(_fold(fresh, self.keys, self.sums))
        if since is not None:
            kept = [p.filter(pl.col("_day") >= since) if _first_day(p) < since else p for p in kept]
        self.pieces = [p for p in kept if p.height]
        self.levels = [_COMPACTED] * len(self.pieces)

    def fold_recent(self, fan_in: int) -> None:
        """Fold the newest ``fan_in`` pieces into one whenever they are all of one level.

        Pieces merge like a binary counter in base ``fan_in``: a row is folded again only
        once per level, so folding costs about log(batches) reads of each row, where folding
        everything since the last compaction each time would read the day's rows again and
        again.
        """
        while len(self.pieces) >= fan_in and len(set(self.levels[-fan_in:])) == 1:
            level = self.levels[-1]
            if level == _COMPACTED:
                return
            folded = _fold(self.pieces[-fan_in:], self.keys, self.sums)
            self.pieces[-fan_in:] = [folded]
            self.levels[-fan_in:] = [level + 1]

    def rows(self) -> int:
        return sum(p.height for p in self.pieces)


_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "voc_types": {KEY: pl.String(), "_day": pl.Date(), "calltype_id": pl.Int64(), "n": pl.UInt32()},
    "voc_durations": {KEY: pl.String(), "_day": pl.Date(), "call_dur": pl.Float64(), "n": pl.UInt32()},
    "voc_distinct": {
        KEY: pl.String(), "_day": pl.Date(), "outgoing": pl.Boolean(), "imei_m": pl.String(),
        "city_name": pl.String(), "county_name": pl.String(),
    },
    "voc_pairs": {
        KEY: pl.String(), "_day": pl.Date(), "opposite_no_m": pl.String(), "_calls": pl.UInt32(),
        "_dur": pl.Float64(),
    },
    "voc_hours": {KEY: pl.String(), "_day": pl.Date(), "_hour": pl.Int8(), "n": pl.UInt32()},
    "sms_types": {KEY: pl.String(), "_day": pl.Date(), "calltype_id": pl.Int64(), "n": pl.UInt32()},
    "sms_pairs": {KEY: pl.String(), "_day": pl.Date(), "opposite_no_m": pl.String(), "n": pl.UInt32()},
    "sms_hours": {KEY: pl.String(), "_day": pl.Date(), "_hour": pl.Int8(), "n": pl.UInt32()},
}  # fmt: skip
"""The partial tables' columns; ``n`` counts rows, ``_calls``/``_dur`` are per-pair sums."""


class FeaturePartials:
    """The 26 call and 11 SMS features of numbers, from per-day partial aggregates.

    Parameters
    ----------
    window_days : int
        Calendar days (of the rows' own timestamps) the features cover, ending at the latest
        day seen: 30 by default, the month the contest's features were computed over.

    Examples
    --------
    >>> import polars as pl
    >>> partials = FeaturePartials()
    >>> voc = pl.DataFrame({"phone_no_m": ["a", "a"], "opposite_no_m": ["x", "y"],
    ...     "calltype_id": [1, 2], "start_datetime": ["2020-01-01 08:00:00"] * 2,
    ...     "call_dur": [10, 30], "city_name": ["c", "c"], "county_name": ["k", "k"],
    ...     "imei_m": ["i", None]})
    >>> partials.add(voc=voc)
    ['a']
    >>> row = partials.features(["a"]).row(0, named=True)
    >>> row["opposite_unique"], row["call_dur_median"], row["voc_calltype1"]
    (2.0, 20.0, 0.5)
    """

    def __init__(self, window_days: int = 30) -> None:
        if window_days < 1:
            raise InvalidInputError("the feature window must cover at least one day")
        self.window_days = window_days
        self.latest_day: dt.date | None = None
        self.first_day: dt.date | None = None
        self._compacted_day: dt.date | None = None
        self._tables = {
            "voc_types": _Table([KEY, "_day", "calltype_id"], ["n"]),
            "voc_durations": _Table([KEY, "_day", "call_dur"], ["n"]),
            "voc_distinct": _Table([KEY, "_day", "outgoing", *_VOC_DISTINCT], []),
            "voc_pairs": _Table([KEY, "_day", "opposite_no_m"], ["_calls", "_dur"]),
            "voc_hours": _Table([KEY, "_day", "_hour"], ["n"]),
            "sms_types": _Table([KEY, "_day", "calltype_id"], ["n"]),
            "sms_pairs": _Table([KEY, "_day", "opposite_no_m"], ["n"]),
            "sms_hours": _Table([KEY, "_day", "_hour"], ["n"]),
        }

    # -- taking rows ------------------------------------------------------------------------

    def add(
        self,
        voc: pl.DataFrame | pl.LazyFrame | None = None,
        sms: pl.DataFrame | pl.LazyFrame | None = None,
    ) -> list[str]:
        """Reduce a batch of contest rows into the partial tables; the numbers it touched.

        ``voc`` and ``sms`` have the contest's columns (``TABLE_COLUMNS``), timestamps as the
        contest's text or as Datetime (a zoned time counts as its own zone's wall clock).
        Rows without a number belong to no number and are skipped, as
        :func:`~telewarden.core.features.sichuan.sichuan_features` skips them. The whole batch
        is one query plan collected at once, so Polars shares its common parts and runs the
        tables' aggregations on every core; nothing is kept when a time does not parse.
        """
        queries: dict[str, pl.LazyFrame] = {}
        touched: list[pl.LazyFrame] = []
        if voc is not None:
            touched.append(self._voc_pieces(voc.lazy(), queries).select(KEY, "_day"))
        if sms is not None:
            touched.append(self._sms_pieces(sms.lazy(), queries).select(KEY, "_day"))
        if not queries:
            return []
        seen = pl.concat(touched)
        frames = pl.collect_all(
            [
                *queries.values(),
                seen.select(
                    pl.col("_day").min().alias("first"), pl.col("_day").max().alias("last")
                ),
                seen.select(pl.col(KEY).unique()),
            ]
        )
        first, last = frames[-2].row(0)
        if first is not None:
            self._note_days(first, last)
        pieces = dict(zip(queries, frames[: len(queries)], strict=False))
        for name, frame in pieces.items():
            self._tables[name].add(frame.select(list(_SCHEMAS[name])).cast(_SCHEMAS[name]))  # type: ignore[arg-type]
        return frames[-1][KEY].to_list()

    def _note_days(self, first: dt.date, last: dt.date) -> None:
        self.first_day = first if self.first_day is None else min(self.first_day, first)
        self.latest_day = last if self.latest_day is None else max(self.latest_day, last)

    def _voc_pieces(self, voc: pl.LazyFrame, queries: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        rows = voc.filter(pl.col(KEY).is_not_null()).with_columns(
            pl.col(KEY).cast(pl.String),
            pl.col("opposite_no_m").cast(pl.String),
            pl.col("calltype_id").cast(pl.Int64, strict=False),
            pl.col("call_dur").cast(pl.Float64, strict=False),
            *(pl.col(c).cast(pl.String) for c in _VOC_DISTINCT),
        )
        rows = _with_day_and_hour(rows, "start_datetime")
        day = [KEY, "_day"]
        outgoing = (pl.col("calltype_id") == 1).fill_null(False).alias("outgoing")
        queries["voc_types"] = rows.group_by(*day, "calltype_id").agg(pl.len().alias("n"))
        queries["voc_durations"] = (
            rows.filter(pl.col("call_dur").is_not_null())
            .group_by(*day, "call_dur")
            .agg(pl.len().alias("n"))
        )
        queries["voc_distinct"] = rows.select(*day, outgoing, *_VOC_DISTINCT).unique()
        queries["voc_pairs"] = (
            rows.filter(pl.col("opposite_no_m").is_not_null())
            .group_by(*day, "opposite_no_m")
            .agg(*(polars_aggregate(a) for a in VOC.pair_aggregates))
        )
        queries["voc_hours"] = rows.group_by(*day, pl.col("_hour").cast(pl.Int8)).agg(
            pl.len().alias("n")
        )
        return rows

    def _sms_pieces(self, sms: pl.LazyFrame, queries: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        rows = sms.filter(pl.col(KEY).is_not_null()).with_columns(
            pl.col(KEY).cast(pl.String),
            pl.col("opposite_no_m").cast(pl.String),
            pl.col("calltype_id").cast(pl.Int64, strict=False),
        )
        rows = _with_day_and_hour(rows, "request_datetime")
        day = [KEY, "_day"]
        queries["sms_types"] = rows.group_by(*day, "calltype_id").agg(pl.len().alias("n"))
        queries["sms_pairs"] = (
            rows.filter(pl.col("opposite_no_m").is_not_null())
            .group_by(*day, "opposite_no_m")
            .agg(pl.len().alias("n"))
        )
        queries["sms_hours"] = rows.group_by(*day, pl.col("_hour").cast(pl.Int8)).agg(
            pl.len().alias("n")
        )
        return rows

    # -- the window -------------------------------------------------------------------------

    def window_start(self) -> dt.date | None:
        """The first calendar day the features cover (None before any row)."""
        if self.latest_day is None:
            return None
        return self.latest_day - dt.timedelta(days=self.window_days - 1)

    def compact(self) -> None:
        """Fold each table's pieces since the last compaction into one and drop the days that
        left the window."""
        since = self.window_start()
        for table in self._tables.values():
            table.compact(since)
        self._compacted_day = self.latest_day

    def tidy(self, fan_in: int = 64) -> None:
        """:meth:`compact` when a new day came (one may have left the window); otherwise fold
        a table's newest pieces in groups of ``fan_in`` (:meth:`_Table.fold_recent`).

        A compaction reads every held row, so it runs once a day; folding reads only pieces
        added since, each row about log(batches) times, and keeps both the feature reads and
        the checkpoints small.
        """
        if self._compacted_day != self.latest_day:
            self.compact()
            return
        for table in self._tables.values():
            table.fold_recent(fan_in)

    def numbers(self) -> int:
        """Distinct numbers with calls or SMS in the window."""
        tables = ("voc_types", "sms_types")
        held = [self._window(t, None).select(KEY) for t in tables]
        return int(pl.concat(held).unique().select(pl.len()).collect().item())

    def held_rows(self) -> int:
        """Rows held over every partial table (what memory grows with)."""
        return sum(t.rows() for t in self._tables.values())

    def history_days(self) -> int:
        """Calendar days from the first row to the latest, both counted (0 before any row)."""
        if self.first_day is None or self.latest_day is None:
            return 0
        return (self.latest_day - self.first_day).days + 1

    # -- features ---------------------------------------------------------------------------

    def _window(self, name: str, numbers: pl.Series | None) -> pl.LazyFrame:
        frame = self._tables[name].lazy(_SCHEMAS[name])
        since = self.window_start()
        if since is not None:
            frame = frame.filter(pl.col("_day") >= since)
        if numbers is not None:
            frame = frame.filter(pl.col(KEY).is_in(numbers.implode()))
        return frame

    def features(self, numbers: list[str] | None = None) -> pl.DataFrame:
        """``phone_no_m`` and the 37 call and SMS features of ``numbers`` (all when None).

        A number without calls in the window has null call features, one without SMS null
        SMS features; numbers with neither give no row. Sorted by number.
        """
        wanted = pl.Series(numbers, dtype=pl.String) if numbers is not None else None
        voc = self._voc_features(wanted)
        sms = self._sms_features(wanted)
        return (
            voc.join(sms, on=KEY, how="full", coalesce=True)
            .select(KEY, *VOC_FEATURES, *SMS_FEATURES)
            .sort(KEY)
            .collect()
        )

    def _voc_features(self, numbers: pl.Series | None) -> pl.LazyFrame:
        types = self._window("voc_types", numbers)
        counts = types.group_by(KEY).agg(
            pl.col("n").sum().cast(pl.Int64).alias("opposite_count"),
            pl.col("n")
            .filter(pl.col("calltype_id") == 1)
            .sum()
            .cast(pl.Int64)
            .alias("voccalltype1"),
            pl.col("calltype_id").drop_nulls().n_unique().alias("calltype_id_unique"),
        )
        durations = _weighted_stats(
            self._window("voc_durations", numbers)
            .group_by(KEY, "call_dur")
            .agg(pl.col("n").sum()),
            "call_dur",
            {"mean": "call_dur_mean", "median": "call_dur_median",
             "max": "call_dur_max", "min": "call_dur_min"},
        )  # fmt: skip
        distinct = self._window("voc_distinct", numbers)
        out = pl.col("outgoing")

        def nunique(column: str, rows: pl.Expr | None = None) -> pl.Expr:
            values = pl.col(column) if rows is None else pl.col(column).filter(rows)
            return values.drop_nulls().n_unique()

        places = distinct.group_by(KEY).agg(
            nunique("imei_m", out).alias("imeis"),
            nunique("city_name", out).alias("city_name_call"),
            nunique("county_name", out).alias("county_name_call"),
            nunique("city_name").alias("city_name_nunique"),
            nunique("county_name").alias("county_name_nunique"),
        )
        pairs = (
            self._window("voc_pairs", numbers)
            .group_by(KEY, "opposite_no_m")
            .agg(pl.col("_calls").sum().cast(pl.Int64), pl.col("_dur").sum())
            .group_by(KEY)
            .agg(*(polars_aggregate(a) for a in VOC.over_pairs))
        )
        hours = self._window("voc_hours", numbers)
        main = (
            counts.join(durations, on=KEY, how="left")
            .join(places, on=KEY, how="left")
            .with_columns(
                pl.col(
                    "imeis", "city_name_call", "county_name_call", "city_name_nunique"
                ).fill_null(0),
                pl.col("county_name_nunique").fill_null(0),
            )
            .join(pairs, on=KEY, how="left")
            .with_columns(pl.col(c).fill_null(0) for c in VOC.zero_without_pairs)
            .with_columns(polars_derived(d) for d in VOC.derived)
        )
        for mode in VOC.modes:
            main = main.join(_modes(hours, mode.part, mode), on=KEY, how="left")
        return main.select(KEY, *(pl.col(n).cast(pl.Float64) for n in VOC.outputs))

    def _sms_features(self, numbers: pl.Series | None) -> pl.LazyFrame:
        types = self._window("sms_types", numbers)
        main = types.group_by(KEY).agg(
            pl.col("n").sum().cast(pl.Int64).alias("sms_count"),
            pl.col("n").filter(pl.col("calltype_id") == 2).sum().cast(pl.Int64).alias("calltype_2"),
        )
        pairs = (
            self._window("sms_pairs", numbers)
            .select(KEY, "opposite_no_m")
            .unique()
            .group_by(KEY)
            .agg(pl.len().alias("sms_nunique"))
        )
        hours = self._window("sms_hours", numbers)
        main = (
            main.join(pairs, on=KEY, how="left")
            .with_columns(pl.col(c).fill_null(0) for c in SMS.zero_without_pairs)
            .with_columns(polars_derived(d) for d in SMS.derived)
        )
        for mode in SMS.modes:
            main = main.join(_modes(hours, mode.part, mode), on=KEY, how="left")
        return main.select(KEY, *(pl.col(n).cast(pl.Float64) for n in SMS.outputs))

    # -- checkpoints ------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The partial tables as they stand (Polars frames pickle as Arrow buffers).

        Not compacted first: folding reads every held row (seconds on a busy day), and a
        checkpoint must pause the loop as little as it can; :meth:`tidy` folds on its cadence.
        """
        return {
            "version": _STATE_VERSION,
            "window_days": self.window_days,
            "first_day": self.first_day,
            "latest_day": self.latest_day,
            "tables": {name: list(t.pieces) for name, t in self._tables.items()},
            "levels": {name: list(t.levels) for name, t in self._tables.items()},
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take over a :meth:`state` (same window only: another window is another feature)."""
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"unknown feature-partials state version {state.get('version')!r}")
        if state.get("window_days") != self.window_days:
            raise ValueError(
                f"the checkpoint's features cover {state.get('window_days')} days, "
                f"this loop's {self.window_days}"
            )
        self.first_day = state["first_day"]
        self.latest_day = state["latest_day"]
        for name, table in self._tables.items():
            table.pieces = list(state["tables"][name])
            table.levels = list(state["levels"][name])


def _weighted_stats(counts: pl.LazyFrame, column: str, names: dict[str, str]) -> pl.LazyFrame:
    """Mean, median, max and min of ``column`` per number from (value, count) rows.

    The median is the middle value of the sorted values, or the mean of the two middle ones
    when the count is even, as ``Series.median`` takes it over the raw values.
    """
    ordered = counts.sort(KEY, column).with_columns(
        pl.col("n").cum_sum().over(KEY).alias("_upto"), pl.col("n").sum().over(KEY).alias("_all")
    )
    # 0-based ranks of the two middle values; a value covers ranks [_upto - n, _upto).
    low = (pl.col("_all") - 1) // 2
    high = pl.col("_all") // 2

    def at_rank(rank: pl.Expr) -> pl.Expr:
        covers = (pl.col("_upto") - pl.col("n") <= rank) & (rank < pl.col("_upto"))
        return pl.col(column).filter(covers).first()

    return ordered.group_by(KEY).agg(
        ((pl.col(column) * pl.col("n")).sum() / pl.col("n").sum()).alias(names["mean"]),
        ((at_rank(low) + at_rank(high)) / 2).alias(names["median"]),
        pl.col(column).max().alias(names["max"]),
        pl.col(column).min().alias(names["min"]),
    )


def _modes(hours: pl.LazyFrame, part: str, mode: HourDayMode) -> pl.LazyFrame:
    """The mode (smallest on a tie), its count and the distinct values of the hour or day."""
    value = (
        pl.col("_hour").cast(pl.Int64) if part == "hour" else pl.col("_day").dt.day().cast(pl.Int64)
    )
    counts = hours.group_by(KEY, value.alias("_v")).agg(pl.col("n").sum().cast(pl.Int64))
    best = (pl.col("n") * 64 + 63 - pl.col("_v")).max()
    return counts.group_by(KEY).agg(
        (63 - best % 64).alias(mode.mode),
        (best // 64).alias(mode.mode_count),
        pl.len().alias(mode.nunique),
    )
