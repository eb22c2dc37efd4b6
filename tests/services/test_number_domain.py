"""The domain check on real and simulated features: the Sichuan model is offered only where the
records look like the contest's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from telewarden.adapters.number_domain import load_profile, load_shipped_profile
from telewarden.core.features.domain import check_domain
from telewarden.core.features.sichuan import FEATURE_NAMES
from telewarden.services.number_domain import domain_of, feature_matrix, profile_of
from telewarden.services.number_features import features_from_records
from telewarden.services.number_inputs import read_features


@pytest.fixture(scope="module")
def simulated_day() -> pl.DataFrame:
    from telewarden.core.sim import Simulation, preset

    simulation = Simulation(preset("tiny", 5))
    chunks = list(simulation.chunks())
    return features_from_records(
        {
            "calls": pl.concat([c.calls for c in chunks]),
            "sms": pl.concat([c.sms for c in chunks]),
            "usage": pl.concat([c.usage for c in chunks]),
            "subscribers": simulation.subscribers(),
            "cells": simulation.cells(),
        }
    )


def test_the_shipped_profile_is_the_sichuan_training_set() -> None:
    profile = load_shipped_profile()
    assert profile.rows == 4867
    assert [f.name for f in profile.features] == list(FEATURE_NAMES)
    assert load_profile(None) == profile


def test_a_simulated_day_is_out_of_the_shipped_models_domain(
    simulated_day: pl.DataFrame,
) -> None:
    check = domain_of(simulated_day)
    assert check is not None and not check.in_domain
    assert check.median_psi > 1.0  # a day of traffic is far from eight-month aggregates


def test_sichuan_numbers_the_profile_was_not_built_from_are_in_domain(shared_data: Path) -> None:
    frame = read_features(shared_data / "sichuan" / "features.csv").frame
    order = np.random.default_rng(0).permutation(frame.height)
    half = frame.height // 2
    built, held = frame[order[:half]], frame[order[half:]]
    check = check_domain(profile_of(built, "half"), feature_matrix(held), FEATURE_NAMES)
    assert check.in_domain and check.median_psi < 0.05
    # Against the shipped profile, a random 500 contest numbers are in domain.
    sample = domain_of(frame[order[:500]])
    assert sample is not None and sample.in_domain


def test_a_simulated_day_is_in_the_domain_of_a_model_trained_on_another_day(
    simulated_day: pl.DataFrame,
) -> None:
    from telewarden.core.sim import Simulation, preset

    other = Simulation(preset("tiny", 6))
    chunks = list(other.chunks())
    features = features_from_records(
        {
            "calls": pl.concat([c.calls for c in chunks]),
            "sms": pl.concat([c.sms for c in chunks]),
            "usage": pl.concat([c.usage for c in chunks]),
            "subscribers": other.subscribers(),
            "cells": other.cells(),
        }
    )
    check = check_domain(
        profile_of(features, "day 6"), feature_matrix(simulated_day), FEATURE_NAMES
    )
    assert check.in_domain
