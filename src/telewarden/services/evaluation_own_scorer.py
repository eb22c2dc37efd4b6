"""Does a scorer trained on one day of the carrier's own outcomes catch the next day's fraud cards?

What belongs here: the ``eval own-scorer`` use case (issue #17, item 5). The simulator plays the
carrier: day A (one seed) gives features of every subscriber (``numbers features`` on its
records) and outcomes (the on-net fraud cards of its ground truth are confirmed cases, every
other subscriber is taken as legitimate); a scorer is trained on them exactly as ``numbers
train`` does (deduplicated, cross-validated, same model). Day B (another seed: another
population, other cards, never trained on) is then scored: precision, recall and flag share at
the model's own threshold, and per campaign kind. The shipped Sichuan-trained model is scored on
the same day for comparison, and the domain check is run for both models on day B.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy.typing as npt
import polars as pl

from telewarden.core.errors import InvalidInputError
from telewarden.core.features.domain import DomainCheck, DomainProfile, check_domain
from telewarden.core.features.sichuan import FEATURE_NAMES, KEY
from telewarden.services.number_domain import domain_of, feature_matrix
from telewarden.services.number_features import features_from_records
from telewarden.services.number_training import (
    ACT_MIN_PRECISION,
    CvFigures,
    TrainingData,
    fit_scorer,
    model_meta,
    write_model,
)


@dataclass(frozen=True, slots=True)
class SimulatedDay:
    """One simulated day's subscribers: features, outcome labels and campaign kinds."""

    seed: int
    features: pl.DataFrame
    labels: npt.NDArray[Any]
    kinds: pl.Series
    """Campaign kind of each fraud number, null for the others."""


def simulate_day(preset_name: str, seed: int, subscribers: int | None = None) -> SimulatedDay:
    """Simulate one day and compute the 55 features of every subscriber, with the truth."""
    from telewarden.core.sim import Simulation, preset

    config = preset(preset_name, seed)
    if subscribers is not None:
        config = replace(config, subscribers=subscribers)
    simulation = Simulation(config)
    chunks = list(simulation.chunks())
    records = {
        "calls": pl.concat([c.calls for c in chunks]),
        "sms": pl.concat([c.sms for c in chunks]),
        "usage": pl.concat([c.usage for c in chunks]),
        "subscribers": simulation.subscribers(),
        "cells": simulation.cells(),
    }
    features = features_from_records(records)
    truth = simulation.truth_cards().select(
        pl.col("msisdn").alias(KEY), pl.col("campaign_kind").cast(pl.String).alias("kind")
    )
    kinds = features.select(KEY).join(truth.unique(KEY), on=KEY, how="left")["kind"]
    labels = kinds.is_not_null().cast(pl.Int64).to_numpy()
    return SimulatedDay(seed, features, labels, kinds)


@dataclass(frozen=True, slots=True)
class DayFigures:
    """A model's flags on a day it was not trained on."""

    numbers: int
    fraud: int
    flagged: int
    true_flagged: int
    per_kind: tuple[tuple[str, int, int], ...]
    """Campaign kind, fraud numbers of that kind, of them flagged."""

    @property
    def precision(self) -> float:
        """Flagged numbers that are fraud cards."""
        return self.true_flagged / max(self.flagged, 1)

    @property
    def recall(self) -> float:
        """Fraud cards flagged."""
        return self.true_flagged / max(self.fraud, 1)

    @property
    def flag_share(self) -> float:
        """Share of all subscribers flagged."""
        return self.flagged / max(self.numbers, 1)

    @property
    def legit_flag_share(self) -> float:
        """Share of ordinary subscribers flagged."""
        return (self.flagged - self.true_flagged) / max(self.numbers - self.fraud, 1)


def day_figures(day: SimulatedDay, flags: npt.NDArray[Any]) -> DayFigures:
    """Precision, recall and flag share of ``flags`` against the day's truth."""
    y = day.labels == 1
    frame = pl.DataFrame({"kind": day.kinds, "flag": flags}).filter(pl.col("kind").is_not_null())
    per_kind = frame.group_by("kind").agg(pl.len(), pl.col("flag").sum()).sort("kind")
    return DayFigures(
        numbers=len(y),
        fraud=int(y.sum()),
        flagged=int(flags.sum()),
        true_flagged=int((flags & y).sum()),
        per_kind=tuple((str(k), int(n), int(f)) for k, n, f in per_kind.rows()),
    )


@dataclass(frozen=True, slots=True)
class OwnScorerEvaluation:
    """Figures of ``eval own-scorer``."""

    preset: str
    train_seed: int
    test_seed: int
    train_numbers: int
    train_fraud: int
    threshold: float
    cv: CvFigures | None
    own: DayFigures
    """The scorer trained on day A, on day B."""
    shipped: DayFigures
    """The shipped Sichuan-trained model, on day B."""
    own_domain: DomainCheck
    shipped_domain: DomainCheck | None
    seconds: float
    cpu_seconds: float

    @property
    def precise_enough(self) -> bool:
        """Next-day precision at or above :data:`ACT_MIN_PRECISION`."""
        return self.own.precision >= ACT_MIN_PRECISION


def evaluate_own_scorer(
    *,
    train_seed: int = 11,
    test_seed: int = 12,
    preset_name: str = "day",
    subscribers: int | None = None,
    rounds: int = 700,
    forest_trees: int = 300,
    folds: int = 5,
    model_output: Path | None = None,
    on_stage: Callable[[str], Any] | None = None,
) -> OwnScorerEvaluation:
    """Train on day ``train_seed``, score day ``test_seed``; compare with the shipped model."""
    from telewarden.adapters.number_model import load_model

    if train_seed == test_seed:
        raise InvalidInputError("the test day needs another seed than the training day")

    def stage(text: str) -> None:
        if on_stage is not None:
            on_stage(text)

    started, cpu = time.perf_counter(), time.process_time()
    stage(f"simulating day A (seed {train_seed})")
    day_a = simulate_day(preset_name, train_seed, subscribers)
    stage(f"simulating day B (seed {test_seed})")
    day_b = simulate_day(preset_name, test_seed, subscribers)
    data = TrainingData(
        frame=day_a.features,
        labels=day_a.labels,
        rows_read=day_a.features.height,
        duplicates=0,
        unlabelled=int(len(day_a.labels) - day_a.labels.sum()),
        unlabelled_as="legitimate",
    )
    if data.fraud == 0:
        raise InvalidInputError(f"day A (seed {train_seed}) has no fraud card to learn from")
    stage("cross-validating and training on day A")
    scorer, cv = fit_scorer(data, rounds=rounds, forest_trees=forest_trees, folds=folds)
    source = f"simulated day ({preset_name}, seed {train_seed})"
    meta = model_meta(
        data,
        scorer,
        cv,
        sources={},
        source_name=source + " (outcomes: the on-net fraud cards of its ground truth)",
        written_by=f"telewarden eval own-scorer --train-seed {train_seed} --preset {preset_name}",
    )
    if model_output is not None:
        write_model(scorer, meta, model_output)
    stage(f"scoring day B (seed {test_seed})")
    own = day_figures(day_b, scorer.predict_proba(day_b.features) >= scorer.threshold_)
    shipped_model = load_model(None)
    shipped_flags = shipped_model.predict_proba(day_b.features) >= shipped_model.threshold_
    own_domain = check_domain(
        DomainProfile.from_dict(meta["domain"]), feature_matrix(day_b.features), FEATURE_NAMES
    )
    return OwnScorerEvaluation(
        preset=preset_name,
        train_seed=train_seed,
        test_seed=test_seed,
        train_numbers=len(data.labels),
        train_fraud=data.fraud,
        threshold=scorer.threshold_,
        cv=cv,
        own=own,
        shipped=day_figures(day_b, shipped_flags),
        own_domain=own_domain,
        shipped_domain=domain_of(day_b.features, None),
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
    )
