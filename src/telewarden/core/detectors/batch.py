"""The streaming rules over whole micro-batches: the same alerts, Python only where one can fire.

What belongs here: :class:`BatchDetector`, a :class:`~.streaming.StreamDetector` whose
:meth:`~BatchDetector.observe_batch` gives exactly the alerts of the reference (the same
numbers, rules, times, reasons and attempts, in the same order) and the same checkpoint, while
running the rules' Python code only for the calls that could complete one.

How. Numbers live in one of two tiers:

- **hot**: the reference's per-number objects (``_numbers``), fed call by call by the rules'
  own code. A number becomes hot the first time one of its calls could complete a rule, and
  stays hot;
- **cold**: every other number, kept as columns: its call attempts (a dictionary), its outbound
  calls and its answered inbound calls (tables appended once per batch and compacted when they
  double), so a cold call costs a few column operations and no Python.

Per batch, columns decide which calls could complete a rule (each test is a necessary
condition of the rule, cheap to compute for the whole batch): a subscriber card with at least
``min(static_min_outbound, burst_min_outbound)`` attempts that is young, not yet flagged and
never answered an inbound call (static), or new (burst); an off-net caller with at least
``robocall_min_calls`` attempts (robocall); an international caller with at least
``wangiri_min_calls`` attempts (Wangiri), or whose call lands in a country surge (the country
windows take every international call in order, as the reference does, a few per thousand
calls); an (IMEI, cell) that reaches ``imei_max_sims`` distinct IMSIs with the batch; a (cell,
ID document) whose first calls reach ``cluster_min_cards`` with the batch. The numbers of such
calls, and the cards an IMEI or cluster alert would name, become hot before the batch runs;
then every call of a hot number and every answered call to one go through the rule code in
event order. (A count of attempts is an upper bound of the calls in any window, so the filter
never misses a call the reference would alert on; the equivalence tests replay the simulated
day and random streams through both paths.) The IMEI and cluster windows of keys that cannot
reach their threshold are updated in bulk: below the threshold nothing expires.

The cold tier's expiry (a number keeps its calls of the ``horizon`` before its own last call,
and its inbound calls of ``static_window_s`` before its last one) is the reference's deque
semantics when times never go back, which the batch path requires: a batch that is not sorted,
or starts before the last time seen, goes call by call through the reference after the cold
tier is turned into objects (exact, slower, rare: the loop sorts each batch and the sources
deliver in time order). :meth:`state` and :meth:`restore` read and write the reference's
checkpoint (version 1), so either detector restores the other's checkpoint.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import deque
from typing import Any

import polars as pl

from telewarden.core.detectors.streaming import (
    BATCH_COLUMNS,
    Alert,
    DetectorConfig,
    StreamDetector,
    _Call,
    _country_code,
    _LazyTime,
    _Number,
    _TimeWindow,
)

__all__ = ["BatchDetector"]

_OUT_SCHEMA: dict[str, pl.DataType] = {
    "caller": pl.String(),
    "t": pl.Float64(),
    "callee": pl.String(),
    "answered": pl.Boolean(),
    "ring_s": pl.Int64(),
    "cell": pl.String(),
    "international": pl.Boolean(),
}
_IN_SCHEMA: dict[str, pl.DataType] = {"callee": pl.String(), "t": pl.Float64()}
_IMEI_LOG_SCHEMA: dict[str, pl.DataType] = {
    "_key": pl.String(),
    "imsi": pl.String(),
    "imei": pl.String(),
    "cell_id": pl.String(),
    "t": pl.Float64(),
    "caller": pl.String(),
}
_IMEI_LOG_COLUMNS = list(_IMEI_LOG_SCHEMA)
# One string per (IMEI, cell): the length prefix keeps it unambiguous whatever the strings hold.
_IMEI_KEY = (
    pl.col("imei").str.len_chars().cast(pl.String)
    + ":"
    + pl.col("imei")
    + pl.when(pl.col("cell_id").is_null()).then(pl.lit("!")).otherwise("|" + pl.col("cell_id"))
).alias("_key")

_CLUSTER_LOG_SCHEMA: dict[str, pl.DataType] = {
    "_ckey": pl.String(),
    "cell_id": pl.String(),
    "_doc": pl.String(),
    "t": pl.Float64(),
    "caller": pl.String(),
}
_CLUSTER_LOG_COLUMNS = list(_CLUSTER_LOG_SCHEMA)
_CLUSTER_KEY = (
    pl.col("cell_id").str.len_chars().cast(pl.String)
    + ":"
    + pl.col("cell_id")
    + "|"
    + pl.col("_doc")
).alias("_ckey")


_SNAPSHOT_VERSION = "batch-1"
_FROM_CONFIGURATION = frozenset({"config", "_horizon", "_doc", "_activated", "_city", "_cc_cache"})
"""What a detector takes from its configuration and the subscribers table, not its state
(``_cc_cache`` is a cache of country codes, rebuilt as numbers come)."""


def _cluster_key(cell: str, doc: str) -> str:
    """:data:`_CLUSTER_KEY` of one (cell, ID document)."""
    return f"{len(cell)}:{cell}|{doc}"


_NEW_KEY: tuple[str, ...] = ("",)
"""Stands for a key not in the IMEI index (compared by identity)."""


def _imei_key(imei: str, cell: str | None) -> str:
    """:data:`_IMEI_KEY` of one (IMEI, cell)."""
    return f"{len(imei)}:{imei}!" if cell is None else f"{len(imei)}:{imei}|{cell}"


# The cold tables are compacted when they reach twice their size after the last compaction,
# and never below this many rows (so a quiet partition does not compact every batch).
_MIN_COMPACT_ROWS = 1 << 18


def _columns(frame: pl.DataFrame) -> list[list[Any]]:
    return [column.to_list() for column in frame.get_columns()]


class BatchDetector(StreamDetector):
    """A :class:`StreamDetector` that takes micro-batches with columnar state for cold numbers.

    Same parameters as :class:`StreamDetector`. :meth:`observe_batch` gives the alerts of the
    reference path; :meth:`observe` and :meth:`observe_epoch` still work call by call (they
    turn the cold tier into objects once, then run the reference).

    Examples
    --------
    >>> import polars as pl
    >>> det = BatchDetector(DetectorConfig())
    >>> calls = pl.DataFrame({
    ...     "caller": [f"+861380000000{i}" for i in range(3)], "callee": ["+8613900000000"] * 3,
    ...     "t": [0.0, 1.0, 2.0], "ring_s": [5] * 3, "answered": [False] * 3,
    ...     "ingress": ["on_net"] * 3, "cell_id": ["c1"] * 3, "imei": ["353280110000001"] * 3,
    ...     "imsi": [f"46000000000000{i}" for i in range(3)]})
    >>> [(a.msisdn, a.detector, a.attempts) for a in det.observe_batch(calls)][:2]
    [('+8613800000000', 'sim_bank_imei', 1), ('+8613800000001', 'sim_bank_imei', 1)]
    """

    def __init__(self, config: DetectorConfig, subscribers: pl.DataFrame | None = None) -> None:
        super().__init__(config, subscribers)
        self._cold_attempts: dict[str, int] = {}
        self._cold_out: list[pl.DataFrame] = []
        self._cold_in: list[pl.DataFrame] = []
        self._cold_rows = 0
        self._compact_at = _MIN_COMPACT_ROWS
        self._has_inbound: set[str] = set()
        self._clock = -math.inf
        self._imei_index: dict[str, tuple[str, ...] | None] = {}
        self._imei_log: list[pl.DataFrame] = []
        self._imei_rows = 0
        self._imei_compact_at = _MIN_COMPACT_ROWS
        self._cluster_busy: set[str] = set()
        self._cluster_log: list[tuple[float, pl.DataFrame]] = []
        self._cluster_rows = 0
        self._cluster_compact_at = _MIN_COMPACT_ROWS

    @property
    def rule_numbers(self) -> int:
        """How many numbers are kept as objects (their calls run the rules' code)."""
        return len(self._numbers)

    # -- the reference path, call by call -------------------------------------------------

    def observe_epoch(
        self,
        caller: str,
        callee: str,
        t: float,
        ring_s: int | None,
        answered: bool,
        ingress: str | None,
        cell_id: str | None = None,
        imei: str | None = None,
        imsi: str | None = None,
    ) -> list[Alert]:
        """The reference :meth:`StreamDetector.observe_epoch`, all numbers as objects first."""
        self._materialise_all()
        self._clock = max(self._clock, t)
        if imsi is not None and imei is not None:
            self._imei_index[_imei_key(imei, cell_id)] = None  # the reference keeps its window
        if imsi is not None and cell_id is not None and (doc := self._doc.get(caller)) is not None:
            self._cluster_busy.add(_cluster_key(cell_id, doc))
        return super().observe_epoch(
            caller, callee, t, ring_s, answered, ingress, cell_id, imei, imsi
        )

    # -- the batch path -------------------------------------------------------------------

    def observe_batch(self, calls: pl.DataFrame) -> list[Alert]:
        """Take a micro-batch (:data:`~.streaming.BATCH_COLUMNS`); the reference's alerts."""
        if not calls.height:
            return []
        frame = calls.select(BATCH_COLUMNS)
        t = frame.get_column("t")
        if (
            t.null_count()
            or frame.get_column("caller").null_count()
            or not t.is_sorted()
            or t[0] < self._clock
        ):
            return super().observe_batch(frame)  # out of order: call by call, exact
        self._clock = t[-1]
        return self._observe_sorted(frame)

    def _observe_sorted(self, frame: pl.DataFrame) -> list[Alert]:
        cfg = self.config
        numbers = self._numbers
        get = numbers.get
        cold_get = self._cold_attempts.get
        frame = frame.with_columns(
            pl.col("answered").fill_null(False),
            pl.col("ring_s").fill_null(0).cast(pl.Int64),
            (pl.col("ingress") == "international").fill_null(False).alias("international"),
            pl.col("imsi").is_not_null().alias("subscriber"),
        ).with_row_index("seq")
        distinct = frame.get_column("caller").unique(maintain_order=True)
        prior: list[int] = []
        seen: list[bool] = []
        hot: list[bool] = []
        for m in distinct.to_list():
            number = get(m)
            if number is None:
                attempts = cold_get(m, 0)
                prior.append(attempts)
                seen.append(attempts > 0)
                hot.append(False)
            else:
                prior.append(number.attempts)
                seen.append(number.seen)
                hot.append(True)
        frame = frame.join(
            pl.DataFrame(
                {"caller": distinct, "_prior": prior, "_seen": seen, "_hot": hot},
                schema={
                    "caller": pl.String,
                    "_prior": pl.Int64,
                    "_seen": pl.Boolean,
                    "_hot": pl.Boolean,
                },
            ),  # fmt: skip
            on="caller",
            how="left",
            maintain_order="left",
        ).with_columns(
            (pl.col("_prior") + pl.col("seq").cum_count().over("caller")).alias("_attempts"),
            (~pl.col("_seen") & pl.col("caller").is_first_distinct()).alias("_first"),
        )

        wake: set[str] = set()
        self._wake_by_volume(frame, wake)
        surge = self._country_windows(frame, wake)
        imei_seqs = self._imei_windows(frame, wake)
        cluster_seqs = self._cluster_windows(frame, wake)
        fresh = [m for m in wake if m not in numbers]
        if fresh:
            self._materialise(fresh)

        hot_names = list(numbers)
        alerts: list[Alert] = []
        answered = pl.col("answered")
        if hot_names:
            ordered = frame.filter(
                pl.col("caller").is_in(hot_names) | (answered & pl.col("callee").is_in(hot_names))
            ).select(
                "seq", "caller", "callee", "t", "ring_s", "answered", "international", "cell_id",
                "imei", "imsi",
            )  # fmt: skip
            window = cfg.static_window_s
            for seq, caller, callee, t, ring_s, ans, intl, cell, imei, imsi in zip(
                *_columns(ordered), strict=True
            ):
                number = get(caller)
                if number is None:
                    # A cold caller's answered call to a hot number: only the inbound window.
                    inbound = numbers[callee].inbound_answered
                    inbound.append(t)
                    while inbound and inbound[0] < t - window:
                        inbound.popleft()
                    continue
                self._observe_hot(
                    number, caller, callee, t, ring_s, ans, intl, cell, imei, imsi,
                    seq in imei_seqs, seq in cluster_seqs, surge.get(seq), alerts,
                )  # fmt: skip

        cold = frame.filter(~pl.col("caller").is_in(hot_names)) if hot_names else frame
        if cold.height:
            last = cold.group_by("caller").agg(pl.col("_attempts").max())
            self._cold_attempts.update(zip(*_columns(last), strict=True))
            self._cold_out.append(
                cold.select(
                    "caller",
                    "t",
                    "callee",
                    "answered",
                    "ring_s",
                    pl.col("cell_id").alias("cell"),
                    "international",
                )  # fmt: skip
            )
        inbound_cold = frame.filter(answered)
        if inbound_cold.height:
            self._has_inbound.update(inbound_cold.get_column("callee").to_list())
            if hot_names:
                inbound_cold = inbound_cold.filter(~pl.col("callee").is_in(hot_names))
            self._cold_in.append(inbound_cold.select("callee", "t"))
        self._cold_rows += cold.height + inbound_cold.height
        if self._cold_rows > self._compact_at:
            self._compact()
        return alerts

    def _observe_hot(
        self,
        state: _Number,
        caller: str,
        callee: str,
        t: float,
        ring_s: int,
        answered: bool,
        international: bool,
        cell_id: str | None,
        imei: str | None,
        imsi: str | None,
        imei_rule: bool,
        cluster_rule: bool,
        surge: tuple[str, int, int] | None,
        alerts: list[Alert],
    ) -> None:
        """:meth:`StreamDetector.observe_epoch` for a hot number, the windows decided by columns.

        The same steps in the same order; the IMEI and cluster rules run only on the keys that
        can reach their threshold (the others were updated in bulk), the surge check only where
        the country window (already updated) is in a surge, and a rule without side effects is
        skipped once it flagged the number (its alert would be dropped).
        """
        cfg = self.config
        flagged = self._flagged
        at = _LazyTime(t)
        state.attempts += 1
        outbound = state.outbound
        outbound.append(_Call(t, callee, answered, ring_s, cell_id, international))
        oldest = t - self._horizon
        while outbound[0].t < oldest:
            outbound.popleft()
        if answered:
            callee_state = self._numbers.get(callee)
            if callee_state is not None:  # a cold callee's inbound is taken in bulk
                inbound = callee_state.inbound_answered
                inbound.append(t)
                while inbound and inbound[0] < t - cfg.static_window_s:
                    inbound.popleft()
        first_call = not state.seen
        state.seen = True
        if imei_rule:
            assert imei is not None
            self._imei_rule(caller, at, t, imei, imsi, cell_id, alerts)
        if cluster_rule and first_call and cell_id is not None:
            self._cluster_rule(caller, at, t, cell_id, alerts)
        if imsi is not None:
            if (
                len(outbound) >= cfg.static_min_outbound
                and (caller, "sim_bank_static") not in flagged
            ):
                self._static_rule(caller, state, at, t, alerts)
            if (
                len(outbound) >= cfg.burst_min_outbound
                and (caller, "new_card_burst") not in flagged
            ):
                self._burst_rule(caller, state, at, t, alerts)
        elif len(outbound) >= cfg.robocall_min_calls and (caller, "robocall") not in flagged:
            self._robocall_rule(caller, state, at, t, alerts)
        if international:
            if len(outbound) >= cfg.wangiri_min_calls and (caller, "wangiri") not in flagged:
                self._wangiri_rule(caller, state, at, t, alerts)
            if surge is not None:
                self._surge_check(caller, state, at, t, *surge, alerts)

    def _wake_by_volume(self, frame: pl.DataFrame, wake: set[str]) -> None:
        """Cold callers whose attempts could complete a per-number rule in this batch."""
        cfg = self.config
        flagged = self._flagged
        attempts = pl.col("_attempts")
        subscriber = pl.col("subscriber")
        candidates = frame.filter(
            ~pl.col("_hot")
            & (
                (subscriber & (attempts >= min(cfg.static_min_outbound, cfg.burst_min_outbound)))
                | (~subscriber & (attempts >= cfg.robocall_min_calls))
                | (pl.col("international") & (attempts >= cfg.wangiri_min_calls))
            )
        ).select("caller", "t", "subscriber", "international", "_attempts")
        for caller, t, is_subscriber, international, n in zip(*_columns(candidates), strict=True):
            if caller in wake:
                continue
            if is_subscriber:
                if (
                    n >= cfg.static_min_outbound
                    and (caller, "sim_bank_static") not in flagged
                    and caller not in self._has_inbound
                    and self._young(caller, t)
                ):
                    wake.add(caller)
                    continue
                activated = self._activated.get(caller)
                if (
                    n >= cfg.burst_min_outbound
                    and activated is not None
                    and t - activated < cfg.new_card_age_s
                    and (caller, "new_card_burst") not in flagged
                ):
                    wake.add(caller)
                    continue
            elif n >= cfg.robocall_min_calls and (caller, "robocall") not in flagged:
                wake.add(caller)
                continue
            if international and n >= cfg.wangiri_min_calls and (caller, "wangiri") not in flagged:
                wake.add(caller)

    def _country_windows(
        self, frame: pl.DataFrame, wake: set[str]
    ) -> dict[int, tuple[str, int, int]]:
        """Every international call into its country's window, in order; the surge candidates.

        Returns ``seq -> (country code, calls in the window, calls in the baseline)`` for the
        calls whose window is in a surge (the only ones the surge rule goes further on).
        """
        cfg = self.config
        out: dict[int, tuple[str, int, int]] = {}
        calls = frame.filter(pl.col("international")).select("seq", "caller", "t")
        if not calls.height:
            return out
        window, baseline_s = cfg.surge_window_s, cfg.surge_baseline_s
        for seq, caller, t in zip(*_columns(calls), strict=True):
            code = self._cc_cache.get(caller)
            if code is None:
                code = self._cc_cache[caller] = _country_code(caller)
            times = self._country.get(code)
            if times is None:
                times = self._country[code] = _TimeWindow()
            recent, earlier = times.add(t, window, baseline_s)
            baseline = earlier / (baseline_s / window)
            if recent < cfg.surge_min_calls or recent < cfg.surge_factor * max(baseline, 1.0):
                continue
            out[seq] = (code, recent, earlier)
            if (caller, "intl_surge") not in self._flagged:
                wake.add(caller)
        return out

    def _imei_windows(self, frame: pl.DataFrame, wake: set[str]) -> set[int]:
        """Record the calls of (IMEI, cell) keys below the threshold; the busy keys' calls.

        A key is *busy* once its IMSIs (with the batch's) reach ``imei_max_sims``: from then on
        it lives in the reference's ``_imei`` and its calls go through the rule's code. Below
        the threshold the rule only records each IMSI's last call (nothing expires), so a
        quiet key keeps its IMSIs in :attr:`_imei_index` (by a string key) and its last calls
        in a table (:attr:`_imei_log`), read back only by a checkpoint or a promotion.
        """
        cfg = self.config
        keyed = frame.filter(pl.col("subscriber") & pl.col("imei").is_not_null()).select(
            "seq", _IMEI_KEY, "imei", "cell_id", "imsi", "t", "caller"
        )
        if not keyed.height:
            return set()
        index = self._imei_index
        per_key = keyed.group_by("_key", maintain_order=True).agg(
            pl.col("imsi").n_unique().alias("n"), pl.col("imsi").first()
        )
        busy: list[str] = []
        changed: list[str] = []
        for key, n, imsi in zip(*_columns(per_key), strict=True):
            known = index.get(key, _NEW_KEY)  # None: a busy key
            if known is _NEW_KEY:
                if n == 1 and cfg.imei_max_sims > 1:
                    index[key] = (imsi,)  # a new handset in a new cell: the usual new key
                else:
                    changed.append(key)
            elif known is None:
                busy.append(key)
            elif n != 1 or imsi not in known:
                changed.append(key)
        promoted: list[str] = []
        if changed:
            new = (
                keyed.filter(pl.col("_key").is_in(changed))
                .group_by("_key", maintain_order=True)
                .agg(pl.col("imsi").unique(maintain_order=True))
            )
            for key, imsis in zip(*_columns(new), strict=True):
                known = index.get(key) or ()
                union = (*known, *(m for m in imsis if m not in known))
                if len(union) >= cfg.imei_max_sims:
                    promoted.append(key)
                else:
                    index[key] = union
        if promoted:
            self._promote_imei(promoted)
            busy += promoted
        seqs: set[int] = set()
        if busy:
            on_busy = keyed.filter(pl.col("_key").is_in(busy))
            for seq, caller in zip(*_columns(on_busy.select("seq", "caller")), strict=True):
                seqs.add(seq)
                wake.add(caller)
            for imei, cell in on_busy.select("imei", "cell_id").unique().iter_rows():
                wake.update(m for _, m in self._imei.get((imei, cell), {}).values())
            keyed = keyed.filter(~pl.col("_key").is_in(busy))
        last = keyed.group_by("_key", "imsi", maintain_order=True).agg(
            pl.col("imei").first(), pl.col("cell_id").first(), pl.col("t").last(),
            pl.col("caller").last(),
        )  # fmt: skip
        if last.height:
            self._imei_log.append(last.select(_IMEI_LOG_COLUMNS))
            self._imei_rows += last.height
            if self._imei_rows > self._imei_compact_at:
                log = self._imei_cold_table()
                self._imei_log = [log]
                self._imei_rows = log.height
                self._imei_compact_at = max(2 * log.height, _MIN_COMPACT_ROWS)
        return seqs

    def _imei_cold_table(self) -> pl.DataFrame:
        """Each quiet key's IMSIs with their last call, in the order the IMSIs first came."""
        if not self._imei_log:
            return pl.DataFrame(schema=_IMEI_LOG_SCHEMA)
        log = pl.concat(self._imei_log)
        busy = [key for key, known in self._imei_index.items() if known is None]
        if busy:
            log = log.filter(~pl.col("_key").is_in(busy))
        return log.group_by("_key", "imsi", maintain_order=True).agg(
            pl.col("imei").first(), pl.col("cell_id").first(), pl.col("t").last(),
            pl.col("caller").last(),
        ).select(_IMEI_LOG_COLUMNS)  # fmt: skip

    def _promote_imei(self, keys: list[str]) -> None:
        """Move ``keys`` from the quiet table to the reference's ``_imei`` (busy, for good)."""
        if self._imei_log:
            log = pl.concat(self._imei_log).filter(pl.col("_key").is_in(keys))
            log = log.group_by("_key", "imsi", maintain_order=True).agg(
                pl.col("imei").first(), pl.col("cell_id").first(), pl.col("t").last(),
                pl.col("caller").last(),
            )  # fmt: skip
            for _, imsi, imei, cell, t, caller in zip(
                *_columns(log.select(_IMEI_LOG_COLUMNS)), strict=True
            ):
                self._imei.setdefault((imei, cell), {})[imsi] = (t, caller)
        for key in keys:
            self._imei_index[key] = None

    def _cluster_windows(self, frame: pl.DataFrame, wake: set[str]) -> set[int]:
        """Record the first calls of (cell, ID document) keys below the threshold; the others'.

        As for the IMEI keys: a key is *busy* (the reference's ``_cell_starts``, the rule's
        code) once the first calls it kept within ``cluster_window_s`` before the batch, with
        the batch's, could reach ``cluster_min_cards``; a quiet key's first calls stay in a
        table (:attr:`_cluster_log`), where expiry is the deque's when times never go back.
        """
        cfg = self.config
        window = cfg.cluster_window_s
        firsts = frame.filter(
            pl.col("_first") & pl.col("subscriber") & pl.col("cell_id").is_not_null()
        ).select("seq", "caller", "t", "cell_id")
        if not firsts.height:
            return set()
        # A dictionary look-up per first call: a join would hash the whole subscribers table
        # for every batch, however small.
        doc = self._doc.get
        docs = pl.Series("_doc", [doc(m) for m in firsts.get_column("caller").to_list()], pl.String)
        firsts = firsts.with_columns(docs).filter(pl.col("_doc").is_not_null())
        if not firsts.height:
            return set()
        firsts = firsts.with_columns(_CLUSTER_KEY)
        busy = list(self._cluster_busy)
        rest = firsts.filter(~pl.col("_ckey").is_in(busy)) if busy else firsts
        since = firsts.get_column("t").min()
        assert isinstance(since, float)
        recent = [chunk for top, chunk in self._cluster_log if top >= since - window]
        counts = rest.group_by("_ckey").len()
        if recent:
            kept = (
                pl.concat(recent)
                .filter(pl.col("t") >= since - window)
                .group_by("_ckey")
                .agg(pl.len().alias("_kept"))
            )
            counts = counts.join(kept, on="_ckey", how="left").with_columns(
                pl.col("len") + pl.col("_kept").fill_null(0)
            )
        promoted = counts.filter(pl.col("len") >= cfg.cluster_min_cards).get_column("_ckey")
        if promoted.len():
            self._promote_cluster(promoted.to_list())
            busy += promoted.to_list()
        seqs: set[int] = set()
        keys_seen: set[tuple[str, str]] = set()
        if busy:
            on_busy = firsts.filter(pl.col("_ckey").is_in(busy))
            for seq, caller, cell, doc in zip(
                *_columns(on_busy.select("seq", "caller", "cell_id", "_doc")), strict=True
            ):
                seqs.add(seq)
                wake.add(caller)
                if (cell, doc) not in keys_seen:
                    keys_seen.add((cell, doc))
                    wake.update(m for _, m in self._cell_starts.get((cell, doc), ()))
            rest = firsts.filter(~pl.col("_ckey").is_in(busy))
        if rest.height:
            top = rest.get_column("t").max()
            assert isinstance(top, float)
            self._cluster_log.append((top, rest.select(_CLUSTER_LOG_COLUMNS)))
            self._cluster_rows += rest.height
            if self._cluster_rows > self._cluster_compact_at:
                log = self._cluster_cold_table()
                self._cluster_log = [(since, log)] if log.height else []
                self._cluster_rows = log.height
                self._cluster_compact_at = max(2 * log.height, _MIN_COMPACT_ROWS)
        return seqs

    def _cluster_cold_table(self) -> pl.DataFrame:
        """The quiet keys' first calls still in their window (the deques' contents)."""
        if not self._cluster_log:
            return pl.DataFrame(schema=_CLUSTER_LOG_SCHEMA)
        log = pl.concat([chunk for _, chunk in self._cluster_log])
        if self._cluster_busy:
            log = log.filter(~pl.col("_ckey").is_in(list(self._cluster_busy)))
        return log.filter(
            pl.col("t") >= pl.col("t").max().over("_ckey") - self.config.cluster_window_s
        )

    def _promote_cluster(self, keys: list[str]) -> None:
        """Move ``keys`` from the quiet table to the reference's ``_cell_starts`` (for good)."""
        if self._cluster_log:
            log = pl.concat([chunk for _, chunk in self._cluster_log]).filter(
                pl.col("_ckey").is_in(keys)
            )
            log = log.filter(
                pl.col("t") >= pl.col("t").max().over("_ckey") - self.config.cluster_window_s
            )
            for _, cell, doc, t, caller in zip(*_columns(log), strict=True):
                self._cell_starts.setdefault((cell, doc), deque()).append((t, caller))
        self._cluster_busy.update(keys)

    # -- the cold tier --------------------------------------------------------------------

    def _cold_tables(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The cold tier's live outbound and inbound calls (the reference's deques' contents)."""
        outbound = pl.concat(self._cold_out) if self._cold_out else pl.DataFrame(schema=_OUT_SCHEMA)
        inbound = pl.concat(self._cold_in) if self._cold_in else pl.DataFrame(schema=_IN_SCHEMA)
        hot = list(self._numbers)
        if hot:
            outbound = outbound.filter(~pl.col("caller").is_in(hot))
            inbound = inbound.filter(~pl.col("callee").is_in(hot))
        outbound = outbound.filter(pl.col("t") >= pl.col("t").max().over("caller") - self._horizon)
        inbound = inbound.filter(
            pl.col("t") >= pl.col("t").max().over("callee") - self.config.static_window_s
        )
        return outbound, inbound

    def _compact(self) -> None:
        outbound, inbound = self._cold_tables()
        self._cold_out = [outbound]
        self._cold_in = [inbound]
        self._cold_rows = outbound.height + inbound.height
        self._compact_at = max(2 * self._cold_rows, _MIN_COMPACT_ROWS)

    def _materialise(self, names: list[str]) -> None:
        """Move ``names`` from the cold tier to the reference's objects (hot, for good)."""
        calls: dict[str, list[_Call]] = {}
        answered: dict[str, list[float]] = {}
        if self._cold_out or self._cold_in:
            selected = self._numbers_in_tables(names)
            for caller, *call in zip(*_columns(selected[0]), strict=True):
                calls.setdefault(caller, []).append(_Call(*call))
            for callee, t in zip(*_columns(selected[1]), strict=True):
                answered.setdefault(callee, []).append(t)
        for m in names:
            attempts = self._cold_attempts.pop(m, 0)
            number = _Number(attempts=attempts, seen=attempts > 0)
            number.outbound.extend(calls.get(m, ()))
            number.inbound_answered.extend(answered.get(m, ()))
            self._numbers[m] = number

    def _numbers_in_tables(self, names: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
        outbound = (
            pl.concat(self._cold_out) if self._cold_out else pl.DataFrame(schema=_OUT_SCHEMA)
        ).filter(pl.col("caller").is_in(names))
        inbound = (
            pl.concat(self._cold_in) if self._cold_in else pl.DataFrame(schema=_IN_SCHEMA)
        ).filter(pl.col("callee").is_in(names))
        outbound = outbound.filter(pl.col("t") >= pl.col("t").max().over("caller") - self._horizon)
        inbound = inbound.filter(
            pl.col("t") >= pl.col("t").max().over("callee") - self.config.static_window_s
        )
        return outbound, inbound

    def _materialise_all(self) -> None:
        if not (
            self._cold_attempts
            or self._cold_out
            or self._cold_in
            or self._imei_log
            or self._cluster_log
        ):
            return
        names = dict.fromkeys(self._cold_attempts)
        for chunk in self._cold_in:
            names.update(dict.fromkeys(chunk.get_column("callee").to_list()))
        self._materialise([m for m in names if m not in self._numbers])
        self._cold_attempts.clear()
        self._cold_out.clear()
        self._cold_in.clear()
        self._cold_rows = 0
        quiet = [key for key, known in self._imei_index.items() if known is not None]
        if quiet:
            self._promote_imei(quiet)
        self._imei_log.clear()
        self._imei_rows = 0
        quiet_starts = self._cluster_cold_table().get_column("_ckey").unique().to_list()
        if quiet_starts:
            self._promote_cluster(quiet_starts)
        self._cluster_log.clear()
        self._cluster_rows = 0

    # -- checkpoints ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The reference's checkpoint (:meth:`StreamDetector.state`), cold numbers included."""
        state = super().state()
        numbers: dict[str, Any] = state["numbers"]
        outbound, inbound = self._cold_tables()
        calls: dict[str, list[list[Any]]] = {}
        for caller, *call in zip(*_columns(outbound), strict=True):
            calls.setdefault(caller, []).append(call)
        answered: dict[str, list[float]] = {}
        for callee, t in zip(*_columns(inbound), strict=True):
            answered.setdefault(callee, []).append(t)
        for m in [*self._cold_attempts, *answered]:
            if m in numbers or m in self._numbers:
                continue
            attempts = self._cold_attempts.get(m, 0)
            numbers[m] = [attempts, calls.get(m, []), answered.get(m, []), None, attempts > 0]
        quiet: dict[tuple[str, str | None], dict[str, tuple[float, str]]] = {}
        for _, imsi, imei, cell, t, caller in zip(*_columns(self._imei_cold_table()), strict=True):
            quiet.setdefault((imei, cell), {})[imsi] = (t, caller)
        state["imei"] += [[imei, cell, sims] for (imei, cell), sims in quiet.items()]
        starts: dict[tuple[str, str], list[tuple[float, str]]] = {}
        for _, cell, doc, t, caller in zip(*_columns(self._cluster_cold_table()), strict=True):
            starts.setdefault((cell, doc), []).append((t, caller))
        state["cell_starts"] += [[cell, doc, q] for (cell, doc), q in starts.items()]
        return state

    def snapshot(self) -> dict[str, Any]:
        """The state as it stands, columnar tier and all, for a live worker's checkpoint.

        :meth:`state` turns the cold tier back into the reference's per-number lists, which
        on the demo's day costs about 1.5 CPU s of a worker's path; this keeps the tables as
        they are (Polars frames pickle as Arrow buffers) and costs a few dozen milliseconds.
        Only a :class:`BatchDetector` with the same configuration restores it; what the
        subscribers table gives is left out, as in :meth:`state`.
        """
        return {
            "version": _SNAPSHOT_VERSION,
            "config": dataclasses.asdict(self.config),
            "fields": {k: v for k, v in vars(self).items() if k not in _FROM_CONFIGURATION},
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the state with a checkpoint of either detector (or a :meth:`snapshot`)."""
        if state.get("version") == _SNAPSHOT_VERSION:
            if state.get("config") != dataclasses.asdict(self.config):
                raise ValueError(
                    "the detector snapshot was taken with another detector configuration"
                )
            vars(self).update(state["fields"])
            return
        super().restore(state)
        self._cold_attempts = {}
        self._cold_out = []
        self._cold_in = []
        self._has_inbound = set()
        outbound: list[list[Any]] = []
        inbound: list[tuple[str, float]] = []
        clock = -math.inf
        for m, number in list(self._numbers.items()):
            if number.inbound_answered:
                self._has_inbound.add(m)
            if not self._regular(number):
                continue  # stays an object: the reference's code handles any order
            del self._numbers[m]
            self._cold_attempts[m] = number.attempts
            for c in number.outbound:
                outbound.append([m, c.t, c.callee, c.answered, c.ring_s, c.cell, c.international])
            inbound.extend((m, t) for t in number.inbound_answered)
            if number.outbound:
                clock = max(clock, number.outbound[-1].t)
            if number.inbound_answered:
                clock = max(clock, number.inbound_answered[-1])
        if outbound:
            self._cold_out.append(pl.DataFrame(outbound, schema=_OUT_SCHEMA, orient="row"))
        if inbound:
            self._cold_in.append(pl.DataFrame(inbound, schema=_IN_SCHEMA, orient="row"))
        self._cold_rows = len(outbound) + len(inbound)
        self._compact_at = max(2 * self._cold_rows, _MIN_COMPACT_ROWS)
        self._clock = clock
        self._imei_index = {}
        self._imei_log = []
        log: list[tuple[str, str, str, str | None, float, str]] = []
        for (imei, cell), sims in list(self._imei.items()):
            key = _imei_key(imei, cell)
            if len(sims) >= self.config.imei_max_sims:
                self._imei_index[key] = None
                continue
            del self._imei[(imei, cell)]
            self._imei_index[key] = tuple(sims)
            log.extend((key, imsi, imei, cell, t, caller) for imsi, (t, caller) in sims.items())
        if log:
            self._imei_log.append(pl.DataFrame(log, schema=_IMEI_LOG_SCHEMA, orient="row"))
        self._imei_rows = len(log)
        self._imei_compact_at = max(2 * len(log), _MIN_COMPACT_ROWS)
        self._cluster_busy = set()
        self._cluster_log = []
        firsts: list[tuple[str, str, str, float, str]] = []
        for (cell, doc), group in list(self._cell_starts.items()):
            key = _cluster_key(cell, doc)
            times = [t for t, _ in group]
            if any(b < a for a, b in itertools.pairwise(times)) or (
                times and times[0] < times[-1] - self.config.cluster_window_s
            ):
                self._cluster_busy.add(key)
                continue
            del self._cell_starts[(cell, doc)]
            firsts.extend((key, cell, doc, t, m) for t, m in group)
        if firsts:
            frame = pl.DataFrame(firsts, schema=_CLUSTER_LOG_SCHEMA, orient="row")
            self._cluster_log.append((max(f[3] for f in firsts), frame))
        self._cluster_rows = len(firsts)
        self._cluster_compact_at = max(2 * len(firsts), _MIN_COMPACT_ROWS)

    def _regular(self, number: _Number) -> bool:
        """Whether the cold tier's expiry reproduces the number's windows exactly."""
        if number.first_cell is not None or number.seen != (number.attempts > 0):
            return False
        for times, span in (
            ([c.t for c in number.outbound], self._horizon),
            (list(number.inbound_answered), self.config.static_window_s),
        ):
            if times and (
                any(b < a for a, b in zip(times, times[1:], strict=False))
                or times[0] < times[-1] - span
            ):
                return False
        return True
