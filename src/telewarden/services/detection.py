"""Detect fraud cards in a folder of records: windowed signals, scores and rule detectors.

What belongs here: the ``detect`` use case. It reads canonical records, computes the windowed
signals of every subscriber, the 55 features and the scorer's scores (flags withheld on too
short a history), runs the stream detectors in time order, and writes ``signals.csv``,
``scores.csv`` and ``alerts.csv``. The scorer is imported inside :func:`detect_cards` (LightGBM
takes seconds to import).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from telewarden.core.detectors import DetectorConfig, detect_stream
from telewarden.core.errors import InvalidInputError
from telewarden.core.features.sichuan import KEY
from telewarden.core.features.signals import windowed_signals
from telewarden.services.number_features import features_from_records
from telewarden.services.number_inputs import read_records, write_frame

if TYPE_CHECKING:
    from telewarden.core.features.domain import DomainCheck

MIN_HISTORY_DAYS = 28.0
"""Fewest calendar days of records on which the shipped scorer's flags count; the same value as
``telewarden.core.models.number_scorer.MIN_HISTORY_DAYS`` (a test holds them equal), kept here
so that a command's default does not import LightGBM."""

ALERT_SCHEMA: dict[str, pl.DataType] = {
    "msisdn": pl.String(),
    "detector": pl.String(),
    "flagged_at": pl.Datetime("us", "UTC"),
    "attempts": pl.Int64(),
    "reason": pl.String(),
}
"""Columns of ``alerts.csv``, as :meth:`telewarden.core.detectors.Alert.as_row`."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def history_days(records: Mapping[str, pl.DataFrame]) -> int:
    """Calendar days (UTC) from the first to the last call or SMS, both ends counted."""
    times = [records["calls"]["start_at"]]
    if "sms" in records:
        times.append(records["sms"]["sent_at"])
    stamps = pl.concat([t.cast(pl.Datetime("us", "UTC")) for t in times]).drop_nulls()
    if stamps.is_empty():
        return 0
    first, last = stamps.min(), stamps.max()
    if not (isinstance(first, dt.datetime) and isinstance(last, dt.datetime)):
        return 0
    return (last.date() - first.date()).days + 1


@dataclass(frozen=True, slots=True)
class DetectReport:
    """What ``detect`` wrote and found."""

    output: Path
    calls: int
    subscribers_scored: int
    model_flags: int
    """Numbers the scorer flagged, whether or not the flags were withheld."""
    flags_withheld: bool
    withheld_because: str | None
    """Why the scorer's flags were withheld (short history, out of domain), or None."""
    scorer_acts: bool
    """The flags stand because the model's own figures allow it (``--scorer-acts``)."""
    domain: DomainCheck | None
    """The features against the model's training distribution (None: the model has none)."""
    history_days: int
    min_history_days: float
    flagged_by_detector: tuple[tuple[str, int], ...]
    """Distinct numbers flagged per detector, by detector name."""
    numbers_flagged: int
    """Distinct numbers flagged by any detector."""
    seconds: float

    @property
    def calls_per_s(self) -> float:
        """Calls handled per second of the whole run."""
        return self.calls / max(self.seconds, 1e-9)


def detect_cards(
    records_dir: Path,
    output: Path,
    *,
    model: Path | None = None,
    min_history_days: float = MIN_HISTORY_DAYS,
    scorer_acts: bool = False,
    domain_check: bool = True,
    config: DetectorConfig | None = None,
    on_stage: Callable[[str], Any] | None = None,
    on_calls: Callable[[int, int], Any] | None = None,
) -> DetectReport:
    """Run signals, features, the scorer and the rule detectors over a records folder.

    Parameters
    ----------
    records_dir : Path
        Canonical records (``calls`` required).
    output : Path
        Folder for ``alerts.csv``, ``scores.csv`` and ``signals.csv``.
    model : Path, optional
        Scorer file; the shipped model by default.
    min_history_days : float
        On records spanning fewer calendar days the scorer's flags are withheld
        (``flag_withheld``); scores are still written.
    scorer_acts : bool
        Act on the flags of a model trained on the carrier's own outcomes whatever the history,
        when its model file says its cross-validated precision allows it
        (:func:`telewarden.services.number_training.may_act`); InvalidInputError otherwise (the
        shipped Sichuan-trained model always stays advisory). Flags are withheld in any case
        when the features are out of the model's training domain.
    domain_check : bool
        Compare the features with the model's training distribution and withhold the flags
        when they differ (:mod:`telewarden.services.number_domain`); off only for experiments.
    on_stage : callable, optional
        Called with a short description as each stage starts.
    on_calls : callable, optional
        Called with ``(calls done, calls in all)`` while the detectors run.
    """
    from telewarden.adapters.number_model import load_model, load_model_meta
    from telewarden.services.number_domain import domain_of

    if scorer_acts:
        if model is None:
            raise InvalidInputError(
                "--scorer-acts: the shipped model was trained on the Sichuan contest and stays "
                "advisory; train one on your own outcomes (`numbers train`) and pass --model"
            )
        meta = load_model_meta(model)
        if not meta.get("act_on_flags"):
            cv = meta.get("cv") or {}
            precision = cv.get("precision")
            measured = f"{precision:.4f}" if isinstance(precision, float) else "not measured"
            raise InvalidInputError(
                f"--scorer-acts: {model} may not act on its flags (its card says "
                f"cross-validated precision {measured} on {cv.get('fraud', 0)} fraud numbers; "
                f"rule: {meta.get('act_rule', 'cv precision >= 0.95')})"
            )

    def stage(text: str) -> None:
        if on_stage is not None:
            on_stage(text)

    started = time.perf_counter()
    stage("reading records")
    records = read_records(records_dir)
    calls = records["calls"]
    stage("computing windowed signals (1 h / 24 h / 7 d)")
    end_at = calls["start_at"].max()
    signals = (
        windowed_signals(
            calls.lazy(),
            end_at + dt.timedelta(seconds=1) if isinstance(end_at, dt.datetime) else _EPOCH,
            sms=records["sms"].lazy() if "sms" in records else None,
            usage=records["usage"].lazy() if "usage" in records else None,
            subscribers=records["subscribers"].lazy() if "subscribers" in records else None,
        )
        .collect()
        .sort("msisdn")
    )
    stage("computing features and scores")
    span_days = history_days(records)
    features = features_from_records(records)
    domain = domain_of(features, model) if domain_check and features.height else None
    withheld_because = None
    if domain is not None and not domain.in_domain:
        withheld_because = (
            f"the features are out of the model's training domain ({domain.summary()})"
        )
    elif span_days < min_history_days and not scorer_acts:
        withheld_because = (
            f"the records cover {span_days} days, fewer than --min-history-days "
            f"{min_history_days:g}"
        )
    withheld = withheld_because is not None
    # Reasons (exact TreeSHAP, milliseconds a row) are worked out only for flags that stand:
    # withheld flags are read by no one, and explaining them was most of a short run's time.
    scores = (
        load_model(model)
        .score_many(
            features,
            explain="none" if withheld else "flagged",
            threads=os.cpu_count() or 1,
        )
        .rename({KEY: "msisdn"})
    )
    model_flags = int(scores["flagged"].sum())
    scores = scores.with_columns(
        (pl.col("flagged") & pl.lit(not withheld)).alias("flagged"),
        pl.lit(withheld).alias("flag_withheld"),
    )
    stage("running the detectors")
    progress = (lambda n: on_calls(n, calls.height)) if on_calls is not None else None
    rows = [
        alert.as_row()
        for alert in detect_stream(
            calls, records.get("subscribers"), config or DetectorConfig(), on_progress=progress
        )
    ]
    if on_calls is not None:
        on_calls(calls.height, calls.height)
    alerts = pl.DataFrame(rows, schema=ALERT_SCHEMA, orient="row")
    output.mkdir(parents=True, exist_ok=True)
    write_frame(scores, output / "scores.csv")
    write_frame(signals, output / "signals.csv")
    write_frame(alerts, output / "alerts.csv")
    per_detector = alerts.group_by("detector").agg(pl.col("msisdn").n_unique()).sort("detector")
    return DetectReport(
        output=output,
        calls=calls.height,
        subscribers_scored=scores.height,
        model_flags=model_flags,
        flags_withheld=withheld,
        withheld_because=withheld_because,
        scorer_acts=scorer_acts and not withheld,
        domain=domain,
        history_days=span_days,
        min_history_days=min_history_days,
        flagged_by_detector=tuple((str(d), int(n)) for d, n in per_detector.rows()),
        numbers_flagged=alerts["msisdn"].n_unique(),
        seconds=time.perf_counter() - started,
    )
