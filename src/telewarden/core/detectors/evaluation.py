"""Scoring detector alerts against the simulator's ground truth: recall, precision, time to detect.

What belongs here: :func:`evaluate_detection`, which turns alerts, the calls they came from and
``truth_cards`` into per-campaign-kind figures. Time to detect is counted from each card's first
fraud call (``first_fraud_at``) to its first alert, in the card's own call attempts and in
minutes; a card flagged on its first fraud call counts 1 attempt, one flagged before it 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from telewarden.core.detectors.streaming import Alert


@dataclass(slots=True)
class KindResult:
    """Figures for one campaign kind."""

    cards: int = 0
    detected: int = 0
    attempts: list[int] = field(default_factory=list)
    minutes: list[float] = field(default_factory=list)


@dataclass(slots=True)
class DetectionResult:
    """Per-kind figures and overall precision.

    ``legit_bulk`` are callers outside the ground truth that made at least ``bulk_min_calls``
    calls (couriers, sales agents, notice lines); ``legit_bulk_flagged`` of them were flagged.
    """

    per_kind: dict[str, KindResult]
    flagged: int
    true_flagged: int
    legit_bulk: int
    legit_bulk_flagged: int


def evaluate_detection(
    alerts: Iterable[Alert],
    calls: pl.DataFrame,
    truth_cards: pl.DataFrame,
    bulk_min_calls: int = 50,
) -> DetectionResult:
    """Recall, precision and time to detect of ``alerts`` on simulated traffic.

    Parameters
    ----------
    alerts : iterable of Alert
        Detector output.
    calls : polars.DataFrame
        The calls the detectors read.
    truth_cards : polars.DataFrame
        Ground truth (``msisdn``, ``campaign_kind``, ``first_fraud_at``).
    bulk_min_calls : int
        Calls that make an outsider of the ground truth a "legitimate bulk caller".

    Returns
    -------
    DetectionResult
        Only campaign kinds whose numbers placed calls are listed.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    >>> calls = pl.DataFrame({"caller": ["f"] * 4, "start_at": [
    ...     t0 + dt.timedelta(minutes=m) for m in (0, 5, 10, 15)]})
    >>> truth = pl.DataFrame({"msisdn": ["f"], "campaign_kind": ["sim_bank"],
    ...     "first_fraud_at": [t0 + dt.timedelta(minutes=5)]})
    >>> alert = Alert("f", "sim_bank_imei", t0 + dt.timedelta(minutes=10), 3, "r")
    >>> r = evaluate_detection([alert], calls, truth).per_kind["sim_bank"]
    >>> r.detected, r.attempts, r.minutes
    (1, [2], [5.0])
    """
    first_flag: dict[str, Alert] = {}
    for alert in alerts:
        seen = first_flag.get(alert.msisdn)
        if seen is None or alert.flagged_at < seen.flagged_at:
            first_flag[alert.msisdn] = alert
    callers = calls.group_by("caller").agg(pl.col("start_at").sort().alias("times"))
    times = dict(callers.iter_rows())
    per_kind: dict[str, KindResult] = {}
    truth_numbers = set(truth_cards["msisdn"].to_list())
    for msisdn, kind, first_fraud in truth_cards.select(
        "msisdn", "campaign_kind", "first_fraud_at"
    ).iter_rows():
        if first_fraud is None or msisdn not in times:
            continue
        result = per_kind.setdefault(kind, KindResult())
        result.cards += 1
        flag = first_flag.get(msisdn)
        if flag is None:
            continue
        result.detected += 1
        if flag.flagged_at < first_fraud:
            result.attempts.append(0)
            result.minutes.append(0.0)
            continue
        result.attempts.append(sum(1 for x in times[msisdn] if first_fraud <= x <= flag.flagged_at))
        result.minutes.append((flag.flagged_at - first_fraud).total_seconds() / 60)
    flagged = set(first_flag)
    counts = calls.group_by("caller").len()
    bulk = set(
        counts.filter(
            (pl.col("len") >= bulk_min_calls) & ~pl.col("caller").is_in(list(truth_numbers))
        )["caller"].to_list()
    )
    return DetectionResult(
        per_kind=per_kind,
        flagged=len(flagged),
        true_flagged=len(flagged & truth_numbers),
        legit_bulk=len(bulk),
        legit_bulk_flagged=len(flagged & bulk),
    )
