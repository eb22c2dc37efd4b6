"""Streaming rule detectors over call records in time order.

What belongs here: :class:`StreamDetector`, which keeps sliding-window state per number, per
IMEI, per cell and per country code and applies each rule of :class:`DetectorConfig` as a call
arrives, and :func:`detect_stream`, the batch replay of a calls table through it. One code path
serves replay and live use; nothing here reads the clock (time is the records' ``start_at``).

Rules (domain.md section c signal in brackets), each with its threshold and window:

``sim_bank_imei`` [S12, S11]
    One IMEI carries ``imei_max_sims`` or more distinct IMSIs within ``imei_window_s`` from one
    cell: a SIM bank or GoIP gateway. Every card seen on it in that cell is flagged. A gateway is
    a box in one place; the same IMEI turning up on cards in different cells (or cities) at once
    is a duplicated or cloned handset IMEI, common on cheap phones, not a rack, so SIMs count
    together only when they call from the same cell.
``sim_bank_cluster`` [S13]
    ``cluster_min_cards`` or more cards registered on one ID document make their first call
    from the same cell within ``cluster_window_s``: a rack switching on. (Sales outlets are not
    used: in a busy cell, four customers of one shop calling within minutes is ordinary.)
``sim_bank_static`` [S11, S14, S15]
    A young card (activated less than ``young_card_age_s`` before, or of unknown age) with
    ``static_min_outbound`` outbound calls in ``static_window_s``, all from one cell, an answer
    rate at most ``static_max_answer_rate`` and no answered inbound call.
``new_card_burst`` [S1, S3, S5, S10, S15]
    A new card (activated less than ``new_card_age_s`` before) with ``burst_min_outbound``
    calls to as many distinct callees within ``burst_window_s`` and an answer rate at most
    ``burst_max_answer_rate``, unless the callees are local: when at least
    ``burst_min_located`` of them have a known home city (subscribers table) and a share of at
    least ``burst_local_share`` live in the caller's own home city, the burst is a local business
    (a new shop or sales line calling its town), not a call centre spraying the country.
``wangiri`` [S20]
    An international caller with ``wangiri_min_calls`` unanswered calls of at most
    ``wangiri_max_ring_s`` ringing to distinct callees within ``wangiri_window_s``.
``robocall`` [S22]
    An off-net caller with ``robocall_min_calls`` calls to distinct callees in
    ``robocall_window_s`` and an answer rate at most ``robocall_max_answer_rate``.
``intl_surge`` [S17]
    International inbound calls from one country code in the last ``surge_window_s`` reach
    ``surge_min_calls`` and ``surge_factor`` times the hourly mean of the preceding
    ``surge_baseline_s``; callers in the surge with ``surge_min_caller_calls`` calls are flagged.

Legitimate high-volume callers (couriers, sales agents, bank notice lines) get answered most of
the time and receive calls back, which is why every volume rule is paired with an answer-rate
or inbound condition. Established sales agents can still look like a SIM-bank card by volume
and answer rate alone; the card-age condition is what keeps them out (measured on the simulator:
without it, about ten legitimate agents per 4,000 subscribers were flagged).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import polars as pl


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Thresholds and windows of every rule (see the module docstring)."""

    imei_max_sims: int = 3
    imei_window_s: int = 86_400
    cluster_min_cards: int = 4
    cluster_window_s: int = 900
    static_min_outbound: int = 12
    static_max_answer_rate: float = 0.4
    static_window_s: int = 86_400
    burst_min_outbound: int = 10
    burst_max_answer_rate: float = 0.5
    burst_window_s: int = 7_200
    burst_local_share: float = 0.8
    burst_min_located: int = 5
    young_card_age_s: int = 30 * 86_400
    new_card_age_s: int = 7 * 86_400
    wangiri_min_calls: int = 5
    wangiri_max_ring_s: int = 5
    wangiri_window_s: int = 3_600
    robocall_min_calls: int = 8
    robocall_max_answer_rate: float = 0.5
    robocall_window_s: int = 86_400
    surge_min_calls: int = 20
    surge_factor: float = 3.0
    surge_window_s: int = 3_600
    surge_baseline_s: int = 86_400
    surge_min_caller_calls: int = 3


@dataclass(frozen=True, slots=True)
class Alert:
    """A number flagged by a rule.

    Attributes
    ----------
    msisdn : str
        The flagged number (a subscriber card or an off-net caller ID).
    detector : str
        Rule name, e.g. ``sim_bank_imei``.
    flagged_at : datetime
        Time of the call that completed the evidence (UTC).
    attempts : int
        Call attempts the number had made when it was flagged, that call included.
    reason : str
        The evidence, with the threshold crossed.
    """

    msisdn: str
    detector: str
    flagged_at: dt.datetime
    attempts: int
    reason: str

    def as_row(self) -> tuple[str, str, dt.datetime, int, str]:
        """The alert as a row of ``msisdn, detector, flagged_at, attempts, reason``."""
        return (self.msisdn, self.detector, self.flagged_at, self.attempts, self.reason)


class _LazyTime:
    """A call's start time as POSIX seconds; the datetime is built only if an alert needs it."""

    __slots__ = ("_t", "_value")

    def __init__(self, t: float) -> None:
        self._t = t
        self._value: dt.datetime | None = None

    def value(self) -> dt.datetime:
        if self._value is None:
            self._value = dt.datetime.fromtimestamp(self._t, dt.UTC)
        return self._value


class _TimeWindow:
    """Sorted event times with the counts of the last ``window`` and the ``baseline`` before it.

    Appending in time order and moving two cursors makes each count O(1) amortised, where a
    scan of the deque cost O(n) per call at a busy international gateway. A late (out of order)
    time is inserted in place, so the counts stay those of a sorted window.
    """

    __slots__ = ("_split", "_start", "_times")

    def __init__(self) -> None:
        self._times: list[float] = []
        self._start = 0
        self._split = 0

    def state(self) -> list[Any]:
        """The live part of the window (times from the start cursor) and the split offset."""
        return [self._times[self._start :], self._split - self._start]

    @classmethod
    def from_state(cls, state: list[Any]) -> _TimeWindow:
        """A window restored from :meth:`state`."""
        window = cls()
        window._times = [float(t) for t in state[0]]
        window._split = int(state[1])
        return window

    def add(self, t: float, window: float, baseline: float) -> tuple[int, int]:
        """Add ``t``; return (times in ``[t - window, ...]``, times in the baseline before)."""
        times = self._times
        late = bool(times) and t < times[-1]
        if late:
            bisect.insort(times, t, lo=self._start)
        else:
            times.append(t)
        self._start = bisect.bisect_left(times, t - window - baseline, lo=self._start)
        # A late time moves the window's start back, so its cursor is searched from scratch.
        lo = self._start if late else max(self._split, self._start)
        self._split = bisect.bisect_left(times, t - window, lo=lo)
        if self._start > 4096 and self._start * 2 > len(times):
            del times[: self._start]
            self._split -= self._start
            self._start = 0
        return len(times) - self._split, self._split - self._start


@dataclass(slots=True)
class _Call:
    t: float
    callee: str
    answered: bool
    ring_s: int
    cell: str | None
    international: bool


@dataclass(slots=True)
class _Number:
    attempts: int = 0
    outbound: deque[_Call] = field(default_factory=deque)
    inbound_answered: deque[float] = field(default_factory=deque)
    first_cell: str | None = None
    seen: bool = False


def _country_code(number: str) -> str:
    try:
        return str(phonenumbers.parse(number, None).country_code)
    except phonenumbers.NumberParseException:
        return "unknown"


class StreamDetector:
    """Applies every rule of a :class:`DetectorConfig` to calls as they arrive.

    Parameters
    ----------
    config : DetectorConfig
        Thresholds and windows.
    subscribers : polars.DataFrame or None
        The ``subscribers`` table (``msisdn``, ``id_doc_hash``, ``sales_outlet``,
        ``activated_at``); without it the cluster and new-card rules stay silent.

    Examples
    --------
    >>> import datetime as dt
    >>> det = StreamDetector(DetectorConfig())
    >>> t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    >>> alerts = []
    >>> for i in range(3):
    ...     alerts += det.observe(f"+861380000000{i}", "+8613900000000", t0, 5, False,
    ...         "on_net", "c1", "353280110000001", f"46000000000000{i}")
    >>> [(a.msisdn, a.detector, a.attempts) for a in alerts][:2]
    [('+8613800000000', 'sim_bank_imei', 1), ('+8613800000001', 'sim_bank_imei', 1)]
    """

    def __init__(self, config: DetectorConfig, subscribers: pl.DataFrame | None = None) -> None:
        self.config = config
        # Outbound calls are kept for the longest window any rule looks back over.
        self._horizon = max(config.static_window_s, config.robocall_window_s, config.burst_window_s)
        self._numbers: dict[str, _Number] = {}
        self._imei: dict[tuple[str, str | None], dict[str, tuple[float, str]]] = {}
        self._cell_starts: dict[tuple[str, str], deque[tuple[float, str]]] = {}
        self._country: dict[str, _TimeWindow] = {}
        self._cc_cache: dict[str, str] = {}
        self._flagged: set[tuple[str, str]] = set()
        self._doc: dict[str, str] = {}
        self._activated: dict[str, float] = {}
        self._city: dict[str, str] = {}
        if subscribers is not None and subscribers.height and "city" in subscribers.columns:
            for msisdn, city in subscribers.select("msisdn", "city").drop_nulls().iter_rows():
                self._city[msisdn] = city
        if subscribers is not None and subscribers.height:
            for msisdn, doc, activated in subscribers.select(
                "msisdn", "id_doc_hash", "activated_at"
            ).iter_rows():
                if doc is not None:
                    self._doc[msisdn] = doc
                if activated is not None:
                    self._activated[msisdn] = activated.timestamp()

    def state(self) -> dict[str, Any]:
        """The windows and flags as plain JSON-ready data (a checkpoint of a live worker).

        What the subscribers table gives (ID documents, activation, home city) is not included:
        a restored detector takes it from the table again.
        """
        return {
            "version": 1,
            "numbers": {
                m: [
                    n.attempts,
                    [
                        [c.t, c.callee, c.answered, c.ring_s, c.cell, c.international]
                        for c in n.outbound
                    ],
                    list(n.inbound_answered),
                    n.first_cell,
                    n.seen,
                ]
                for m, n in self._numbers.items()
            },
            "imei": [[imei, cell, sims] for (imei, cell), sims in self._imei.items()],
            "cell_starts": [[cell, doc, list(q)] for (cell, doc), q in self._cell_starts.items()],
            "country": {code: w.state() for code, w in self._country.items()},
            "flagged": sorted(self._flagged),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the windows and flags with a checkpoint taken by :meth:`state`."""
        if state.get("version") != 1:
            raise ValueError(f"unknown detector checkpoint version {state.get('version')!r}")
        self._numbers = {}
        for m, (attempts, outbound, inbound, first_cell, seen) in state["numbers"].items():
            number = _Number(attempts=attempts, first_cell=first_cell, seen=seen)
            number.outbound.extend(_Call(*c) for c in outbound)
            number.inbound_answered.extend(inbound)
            self._numbers[m] = number
        self._imei = {
            (imei, cell): {imsi: (t, caller) for imsi, (t, caller) in sims.items()}
            for imei, cell, sims in state["imei"]
        }
        self._cell_starts = {
            (cell, doc): deque((t, m) for t, m in starts)
            for cell, doc, starts in state["cell_starts"]
        }
        self._country = {code: _TimeWindow.from_state(w) for code, w in state["country"].items()}
        self._flagged = {(m, d) for m, d in state["flagged"]}

    def _number(self, msisdn: str) -> _Number:
        state = self._numbers.get(msisdn)
        if state is None:
            state = self._numbers[msisdn] = _Number()
        return state

    def _alert(
        self, msisdn: str, detector: str, at: _LazyTime, reason: str, out: list[Alert]
    ) -> None:
        if (msisdn, detector) in self._flagged:
            return
        self._flagged.add((msisdn, detector))
        out.append(Alert(msisdn, detector, at.value(), self._number(msisdn).attempts, reason))

    def observe_batch(self, calls: pl.DataFrame) -> list[Alert]:
        """Take a micro-batch of call attempts in order; the alerts, in the order they complete.

        ``calls`` has the columns of :meth:`observe_epoch` in its order (:data:`BATCH_COLUMNS`:
        ``caller, callee, t, ring_s, answered, ingress, cell_id, imei, imsi``, ``t`` in POSIX
        seconds). Here every call goes through :meth:`observe_epoch` (the reference path);
        :class:`~telewarden.core.detectors.batch.BatchDetector` gives the same alerts from
        columnar state.
        """
        columns = calls.select(BATCH_COLUMNS).get_columns()
        rows = zip(*(column.to_list() for column in columns), strict=True)  # faster than iter_rows
        observe = self.observe_epoch
        alerts: list[Alert] = []
        for row in rows:
            found = observe(*row)
            if found:
                alerts += found
        return alerts

    def observe(
        self,
        caller: str,
        callee: str,
        start_at: dt.datetime,
        ring_s: int | None,
        answered: bool,
        ingress: str | None,
        cell_id: str | None = None,
        imei: str | None = None,
        imsi: str | None = None,
    ) -> list[Alert]:
        """Take one call attempt into the windows and return the alerts it completes."""
        return self.observe_epoch(
            caller, callee, start_at.timestamp(), ring_s, answered, ingress, cell_id, imei, imsi
        )

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
        """:meth:`observe` with the start time as POSIX seconds (the replay's fast path).

        Every rule first checks the cheapest necessary condition (enough calls in the window,
        enough SIMs on the IMEI) before building any list, so the common call that cannot
        complete a rule costs a few dictionary and deque operations.
        """
        cfg = self.config
        alerts: list[Alert] = []
        at = _LazyTime(t)
        international = ingress == "international"
        state = self._numbers.get(caller)
        if state is None:
            state = self._numbers[caller] = _Number()
        state.attempts += 1
        outbound = state.outbound
        outbound.append(_Call(t, callee, bool(answered), int(ring_s or 0), cell_id, international))
        oldest = t - self._horizon
        while outbound[0].t < oldest:
            outbound.popleft()
        if answered:
            callee_state = self._numbers.get(callee)
            if callee_state is None:
                callee_state = self._numbers[callee] = _Number()
            inbound = callee_state.inbound_answered
            inbound.append(t)
            while inbound and inbound[0] < t - cfg.static_window_s:
                inbound.popleft()
        subscriber = imsi is not None
        first_call = not state.seen
        state.seen = True

        if subscriber and imei is not None:
            self._imei_rule(caller, at, t, imei, imsi, cell_id, alerts)
        if subscriber and first_call and cell_id is not None:
            self._cluster_rule(caller, at, t, cell_id, alerts)
        if subscriber:
            if len(outbound) >= cfg.static_min_outbound:
                self._static_rule(caller, state, at, t, alerts)
            if len(outbound) >= cfg.burst_min_outbound:
                self._burst_rule(caller, state, at, t, alerts)
        elif len(outbound) >= cfg.robocall_min_calls:
            self._robocall_rule(caller, state, at, t, alerts)
        if international:
            if len(outbound) >= cfg.wangiri_min_calls:
                self._wangiri_rule(caller, state, at, t, alerts)
            self._surge_rule(caller, state, at, t, alerts)
        return alerts

    @staticmethod
    def _recent(state: _Number, since: float) -> list[_Call]:
        return [c for c in state.outbound if c.t >= since]

    @staticmethod
    def _answer_rate(calls: list[_Call]) -> float:
        return sum(c.answered for c in calls) / len(calls)

    @staticmethod
    def _distinct_callees(calls: list[_Call]) -> int:
        return len({c.callee for c in calls})

    def _imei_rule(
        self,
        caller: str,
        at: _LazyTime,
        t: float,
        imei: str,
        imsi: str | None,
        cell: str | None,
        out: list[Alert],
    ) -> None:
        cfg = self.config
        key = (imei, cell)
        sims = self._imei.get(key)
        if sims is None:
            sims = self._imei[key] = {}
        sims[str(imsi)] = (t, caller)
        if len(sims) < cfg.imei_max_sims:
            # Expiry only ever shrinks the set, so below the threshold it cannot matter yet;
            # the set stays bounded because it is expired whenever it reaches the threshold.
            return
        for stale in [k for k, (seen, _) in sims.items() if seen < t - cfg.imei_window_s]:
            del sims[stale]
        if len(sims) >= cfg.imei_max_sims:
            where = "" if cell is None else f" in cell {cell}"
            reason = (
                f"IMEI {imei} carried {len(sims)} SIMs{where} within "
                f"{cfg.imei_window_s // 3600} h (threshold {cfg.imei_max_sims})"
            )
            for _, msisdn in sorted(sims.values()):
                self._alert(msisdn, "sim_bank_imei", at, reason, out)

    def _cluster_rule(
        self, caller: str, at: _LazyTime, t: float, cell: str, out: list[Alert]
    ) -> None:
        cfg = self.config
        mine = self._doc.get(caller)
        if mine is None:
            # A card without a known ID document can never be part of a group.
            return
        # First calls are kept per (cell, ID document): only cards on the same document group.
        starts = self._cell_starts.get((cell, mine))
        if starts is None:
            starts = self._cell_starts[(cell, mine)] = deque()
        starts.append((t, caller))
        while starts[0][0] < t - cfg.cluster_window_s:
            starts.popleft()
        if len(starts) < cfg.cluster_min_cards:
            return
        group = sorted({m for _, m in starts})
        if len(group) >= cfg.cluster_min_cards:
            reason = (
                f"{len(group)} cards on one ID document switched on in cell {cell} within "
                f"{cfg.cluster_window_s // 60} min (threshold {cfg.cluster_min_cards})"
            )
            for msisdn in group:
                self._alert(msisdn, "sim_bank_cluster", at, reason, out)

    def _static_rule(
        self, caller: str, state: _Number, at: _LazyTime, t: float, out: list[Alert]
    ) -> None:
        cfg = self.config
        # The cheap conditions first: most busy cards are old or get answered calls.
        if state.inbound_answered or not self._young(caller, t):
            return
        calls = self._recent(state, t - cfg.static_window_s)
        if len(calls) < cfg.static_min_outbound:
            return
        cells = {c.cell for c in calls}
        if len(cells) != 1:
            return
        answer_rate = self._answer_rate(calls)
        if answer_rate <= cfg.static_max_answer_rate:
            reason = (
                f"{len(calls)} outbound calls from one cell, answer rate {answer_rate:.2f}, "
                f"nothing answered inbound in {cfg.static_window_s // 3600} h{self._age(caller, t)}"
            )
            self._alert(caller, "sim_bank_static", at, reason, out)

    def _young(self, msisdn: str, t: float) -> bool:
        activated = self._activated.get(msisdn)
        return activated is None or t - activated < self.config.young_card_age_s

    def _age(self, msisdn: str, t: float) -> str:
        activated = self._activated.get(msisdn)
        return "" if activated is None else f", card {(t - activated) / 86_400:.1f} days old"

    def _burst_rule(
        self, caller: str, state: _Number, at: _LazyTime, t: float, out: list[Alert]
    ) -> None:
        cfg = self.config
        activated = self._activated.get(caller)
        if activated is None or t - activated >= cfg.new_card_age_s:
            return
        calls = self._recent(state, t - cfg.burst_window_s)
        if len(calls) < cfg.burst_min_outbound:
            return
        distinct = self._distinct_callees(calls)
        answer_rate = self._answer_rate(calls)
        if (
            distinct >= cfg.burst_min_outbound
            and answer_rate <= cfg.burst_max_answer_rate
            and not self._local(caller, calls)
        ):
            reason = (
                f"{len(calls)} calls to {distinct} numbers in {cfg.burst_window_s // 60} min, "
                f"answer rate {answer_rate:.2f}{self._age(caller, t)}"
            )
            self._alert(caller, "new_card_burst", at, reason, out)

    def _local(self, caller: str, calls: list[_Call]) -> bool:
        """Whether the callees are mostly in the caller's home city (a local business)."""
        home = self._city.get(caller)
        if home is None:
            return False
        cities = [city for c in calls if (city := self._city.get(c.callee)) is not None]
        if len(cities) < self.config.burst_min_located:
            return False
        return sum(city == home for city in cities) >= self.config.burst_local_share * len(cities)

    def _robocall_rule(
        self, caller: str, state: _Number, at: _LazyTime, t: float, out: list[Alert]
    ) -> None:
        cfg = self.config
        calls = self._recent(state, t - cfg.robocall_window_s)
        if len(calls) < cfg.robocall_min_calls:
            return
        distinct = self._distinct_callees(calls)
        answer_rate = self._answer_rate(calls)
        if distinct >= cfg.robocall_min_calls and answer_rate <= cfg.robocall_max_answer_rate:
            reason = (
                f"off-net caller: {len(calls)} calls to {distinct} numbers in "
                f"{cfg.robocall_window_s // 3600} h, answer rate {answer_rate:.2f}"
            )
            self._alert(caller, "robocall", at, reason, out)

    def _wangiri_rule(
        self, caller: str, state: _Number, at: _LazyTime, t: float, out: list[Alert]
    ) -> None:
        cfg = self.config
        rings = [
            c
            for c in self._recent(state, t - cfg.wangiri_window_s)
            if c.international and not c.answered and c.ring_s <= cfg.wangiri_max_ring_s
        ]
        distinct = len({c.callee for c in rings})
        if distinct >= cfg.wangiri_min_calls:
            reason = (
                f"{distinct} one-ring (<= {cfg.wangiri_max_ring_s} s) unanswered international "
                f"calls to distinct numbers in {cfg.wangiri_window_s // 60} min"
            )
            self._alert(caller, "wangiri", at, reason, out)

    def _surge_rule(
        self, caller: str, state: _Number, at: _LazyTime, t: float, out: list[Alert]
    ) -> None:
        cfg = self.config
        code = self._cc_cache.get(caller)
        if code is None:
            code = self._cc_cache[caller] = _country_code(caller)
        times = self._country.get(code)
        if times is None:
            times = self._country[code] = _TimeWindow()
        recent, earlier = times.add(t, cfg.surge_window_s, cfg.surge_baseline_s)
        self._surge_check(caller, state, at, t, code, recent, earlier, out)

    def _surge_check(
        self,
        caller: str,
        state: _Number,
        at: _LazyTime,
        t: float,
        code: str,
        recent: int,
        earlier: int,
        out: list[Alert],
    ) -> None:
        """The surge rule once the country's window has taken the call (``recent``, ``earlier``)."""
        cfg = self.config
        baseline = earlier / (cfg.surge_baseline_s / cfg.surge_window_s)
        if recent < cfg.surge_min_calls or recent < cfg.surge_factor * max(baseline, 1.0):
            return
        mine = sum(1 for c in self._recent(state, t - cfg.surge_window_s) if c.international)
        if mine >= cfg.surge_min_caller_calls:
            reason = (
                f"+{code} inbound surge: {recent} calls in {cfg.surge_window_s // 60} min vs "
                f"{baseline:.1f}/h before; this caller {mine}"
            )
            self._alert(caller, "intl_surge", at, reason, out)


STREAM_COLUMNS = (
    "caller",
    "callee",
    "start_at",
    "ring_s",
    "answered",
    "ingress",
    "cell_id",
    "imei",
    "imsi",
)
"""The call fields a detector observes, in ``observe``'s argument order."""

BATCH_COLUMNS = ["t" if c == "start_at" else c for c in STREAM_COLUMNS]
"""The columns of :meth:`StreamDetector.observe_batch`, ``t`` the start in POSIX seconds."""


def detect_stream(
    calls: pl.DataFrame,
    subscribers: pl.DataFrame | None = None,
    config: DetectorConfig | None = None,
    on_progress: Callable[[int], Any] | None = None,
) -> Iterator[Alert]:
    """Replay a calls table in time order through a :class:`StreamDetector`.

    Parameters
    ----------
    calls : polars.DataFrame
        Canonical calls (``telewarden.core.records.CALLS_SCHEMA``).
    subscribers : polars.DataFrame or None
        Canonical subscribers, for the cluster and new-card rules.
    config : DetectorConfig or None
        Thresholds; defaults when ``None``.
    on_progress : callable or None
        Called with the number of calls processed, every 10,000 calls.

    Yields
    ------
    Alert
        In the order the evidence completed.
    """
    detector = StreamDetector(config or DetectorConfig(), subscribers)
    ordered = calls.sort("start_at", "id") if "id" in calls.columns else calls.sort("start_at")
    # POSIX seconds computed once in Polars instead of a datetime per row and .timestamp().
    epoch = (pl.col("start_at").dt.epoch("us") / 1_000_000).alias("start_at")
    columns = [epoch if c == "start_at" else pl.col(c) for c in STREAM_COLUMNS]
    observe = detector.observe_epoch
    for i, row in enumerate(ordered.select(columns).iter_rows(), start=1):
        found = observe(*row)
        if found:
            yield from found
        if on_progress is not None and i % 10_000 == 0:
            on_progress(i)
