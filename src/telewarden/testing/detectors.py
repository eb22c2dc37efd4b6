"""``check_detector``: the contract every stream detector keeps, checked on given traffic.

The contract (what :class:`telewarden.core.detectors.StreamDetector` guarantees and the live
runner relies on):

- **fields**: every alert names a number and a rule, carries a UTC-aware ``flagged_at``, the
  number's attempts so far (at least 1) and a non-empty reason;
- **time order**: an alert returned by ``observe`` is stamped with the time of the call that
  completed its evidence (``flagged_at`` equals that call's ``start_at``), so alerts come out in
  time order when calls go in in time order;
- **seen numbers only**: a detector never flags a number that has not appeared in a call;
- **deterministic**: two detectors built the same way give the same alerts on the same calls;
- **resumable**: a detector copied at chunk boundaries (a checkpoint restored) gives the same
  alerts as one fed the whole stream, so its state is all in the object;
- **bounded state**: replaying the same population's traffic week after week does not grow the
  state (it grows with the numbers seen, not with the calls);
- **no subscribers table needed**: the factory accepts ``None``.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

from telewarden.core.detectors import Alert
from telewarden.core.detectors.streaming import STREAM_COLUMNS
from telewarden.core.records import SUBSCRIBERS_SCHEMA


class Detector(Protocol):
    """A stream detector: takes one call attempt at a time, returns the alerts it completes."""

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
        """Take one call attempt into the detector's windows."""
        ...


DetectorFactory = Callable[[pl.DataFrame | None], Detector]
"""Builds a fresh detector from the subscribers table (or ``None``)."""


@dataclass(frozen=True, slots=True)
class DetectorReport:
    """What the checked detector did on the traffic (for coverage assertions)."""

    calls: int
    alerts: int
    alerts_by_detector: dict[str, int]
    state_growth: float
    """State size after six replays of the traffic over the size after two."""


T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def contract_traffic(seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two days of calls, in time order, that make every shipped rule fire, and subscribers.

    Ordinary subscribers call each other (answered mostly, home cells, own handsets); a rack of
    four young cards on one ID document share an IMEI in one cell and call out unanswered; a
    card activated yesterday sprays distinct numbers; four international callers ring once and
    hang up (a Wangiri wave and a surge from one country code); an off-net caller robo-dials.

    Returns
    -------
    tuple of polars.DataFrame
        ``calls`` (``id`` plus :data:`STREAM_COLUMNS`) and ``subscribers``
        (``SUBSCRIBERS_SCHEMA``).
    """
    rng = random.Random(seed)
    rows: list[tuple[Any, ...]] = []
    ordinary = [f"+86138000{i:05d}" for i in range(40)]
    rack = [f"+86170000{i:05d}" for i in range(4)]
    burst = "+8617100000001"
    subs = [
        (m, f"doc-{i}", T0 - dt.timedelta(days=400), f"city-{i % 3}", f"cell-{i % 7}", i)
        for i, m in enumerate(ordinary)
    ]
    subs += [
        (m, "doc-rack", T0 - dt.timedelta(days=2), "city-0", "cell-rack", 100 + i)
        for i, m in enumerate(rack)
    ]
    subs.append((burst, "doc-burst", T0 - dt.timedelta(days=1), "city-1", "cell-1", 200))

    def call(
        caller: str,
        callee: str,
        at: dt.datetime,
        answered: bool,
        ring_s: int,
        ingress: str,
        cell: str | None,
        imei: str | None,
        imsi: str | None,
    ) -> None:
        rows.append((caller, callee, at, ring_s, answered, ingress, cell, imei, imsi))

    for _ in range(600):
        i, j = rng.sample(range(len(ordinary)), 2)
        at = T0 + dt.timedelta(seconds=rng.randrange(2 * 86_400))
        answered = rng.random() < 0.85
        call(
            ordinary[i],
            ordinary[j],
            at,
            answered,
            rng.randrange(3, 20),
            "on_net",
            f"cell-{i % 7}",
            f"imei-{i}",
            f"imsi-{i}",
        )
    for k, card in enumerate(rack):  # switched on together, then dialling out from the rack
        for n in range(15):
            at = T0 + dt.timedelta(hours=3, minutes=2 * k + 20 * n)
            callee = ordinary[(k * 15 + n) % len(ordinary)]
            call(
                card,
                callee,
                at,
                n % 5 == 0,
                25,
                "on_net",
                "cell-rack",
                "imei-rack",
                f"imsi-rack-{k}",
            )
    for n in range(12):  # a day-old card sprays numbers across the country
        at = T0 + dt.timedelta(hours=10, minutes=5 * n)
        call(
            burst,
            f"+8613900{n:06d}",
            at,
            n % 4 == 0,
            20,
            "on_net",
            "cell-1",
            "imei-burst",
            "imsi-burst",
        )
    for c in range(4):  # one-ring calls from one country code within the hour
        for n in range(6):
            at = T0 + dt.timedelta(hours=30, minutes=9 * n + c)
            callee = ordinary[(c * 6 + n) % len(ordinary)]
            call(f"+22507000000{c}", callee, at, False, 2, "international", None, None, None)
    for n in range(10):  # an off-net robocaller
        at = T0 + dt.timedelta(hours=20, minutes=7 * n)
        call("+8601012345678", ordinary[n], at, n == 0, 15, "interconnect", None, None, None)
    rows.sort(key=lambda row: row[2])
    calls = (
        pl.DataFrame(rows, schema=list(STREAM_COLUMNS), orient="row")
        .with_row_index("id")
        .with_columns(pl.col("id").cast(pl.Int64), pl.col("ring_s").cast(pl.Int32))
    )
    subscribers = pl.DataFrame(
        {
            "msisdn": [s[0] for s in subs],
            "id_doc_hash": [s[1] for s in subs],
            "activated_at": [s[2] for s in subs],
            "city": [s[3] for s in subs],
            "home_cell_id": [s[4] for s in subs],
        }
    )
    subscribers = subscribers.with_columns(
        *(
            pl.lit(None, t).alias(c)
            for c, t in SUBSCRIBERS_SCHEMA.items()
            if c not in subscribers.columns
        )
    ).select(list(SUBSCRIBERS_SCHEMA))
    return calls, subscribers


def _replay(detector: Detector, calls: pl.DataFrame) -> list[tuple[int, Alert]]:
    """Feed ``calls`` in order; each alert with the row index of the call that raised it."""
    out: list[tuple[int, Alert]] = []
    for i, row in enumerate(calls.select(STREAM_COLUMNS).iter_rows()):
        out.extend((i, alert) for alert in detector.observe(*row))
    return out


def _size(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes held by ``obj`` and everything it refers to (containers, attributes, slots)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, type):
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_size(k, seen) + _size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset) or type(obj).__name__ == "deque":
        size += sum(_size(item, seen) for item in obj)
    if hasattr(obj, "__dict__"):
        size += _size(vars(obj), seen)
    for name in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, name):
            size += _size(getattr(obj, name), seen)
    return size


def _check_fields(alert: Alert, at: dt.datetime, seen: set[str]) -> None:
    where = f"alert {alert!r}"
    assert isinstance(alert.msisdn, str) and alert.msisdn, f"{where}: no number"
    assert isinstance(alert.detector, str) and alert.detector, f"{where}: no rule name"
    assert isinstance(alert.reason, str) and alert.reason.strip(), f"{where}: no reason"
    assert isinstance(alert.attempts, int) and alert.attempts >= 1, f"{where}: attempts < 1"
    flagged_at = alert.flagged_at
    assert isinstance(flagged_at, dt.datetime), f"{where}: flagged_at is not a datetime"
    assert flagged_at.utcoffset() == dt.timedelta(0), f"{where}: flagged_at is not UTC-aware"
    assert flagged_at == at, f"{where}: stamped {flagged_at}, raised by the call at {at}"
    assert alert.msisdn in seen, f"{where}: flags a number no call has shown yet"


def check_detector(
    factory: DetectorFactory,
    calls: pl.DataFrame | None = None,
    subscribers: pl.DataFrame | None = None,
    *,
    chunks: int = 5,
    replays: int = 6,
    max_state_growth: float = 1.25,
) -> DetectorReport:
    """Check a detector plug-in against the contract in this module's docstring.

    Parameters
    ----------
    factory : callable
        Builds a fresh detector from a subscribers table or ``None``.
    calls, subscribers : polars.DataFrame, optional
        The traffic to check on (:data:`STREAM_COLUMNS`, in time order); default
        :func:`contract_traffic`.
    chunks : int
        Chunk boundaries at which a copy of the detector takes over.
    replays : int
        Times the traffic is replayed, a week apart each, for the state check.
    max_state_growth : float
        Largest allowed ratio of the state after ``replays`` replays to that after two.

    Returns
    -------
    DetectorReport

    Raises
    ------
    AssertionError
        Naming the broken part of the contract.
    """
    if calls is None:
        calls, subscribers = contract_traffic()
    calls = calls.sort("start_at", maintain_order=True)
    times = calls["start_at"].to_list()
    callers = calls["caller"].to_list()
    callees = calls["callee"].to_list()

    whole = _replay(factory(subscribers), calls)
    seen: set[str] = set()
    next_call = 0
    for i, alert in whole:
        while next_call <= i:
            seen.update((callers[next_call], callees[next_call]))
            next_call += 1
        _check_fields(alert, times[i], seen)

    again = _replay(factory(subscribers), calls)
    assert again == whole, "not deterministic: the same calls gave other alerts"

    detector = factory(subscribers)
    resumed: list[tuple[int, Alert]] = []
    step = max(1, -(-calls.height // chunks))
    for start in range(0, calls.height, step):
        part = _replay(detector, calls.slice(start, step))
        resumed.extend((start + i, alert) for i, alert in part)
        detector = copy.deepcopy(detector)
    assert resumed == whole, "not resumable: a copy taken between chunks gave other alerts"

    _replay(factory(None), calls)  # no subscribers table: must run

    week = dt.timedelta(days=7)
    detector = factory(subscribers)
    sizes = []
    for n in range(replays):
        _replay(detector, calls.with_columns(pl.col("start_at") + n * week))
        sizes.append(_size(detector))
    growth = sizes[-1] / max(sizes[1], 1)
    assert growth <= max_state_growth, (
        f"state grows with the calls: {sizes[1]:,} bytes after 2 replays of the same "
        f"population, {sizes[-1]:,} after {replays}"
    )
    by_detector = Counter(alert.detector for _, alert in whole)
    return DetectorReport(calls.height, len(whole), dict(sorted(by_detector.items())), growth)
