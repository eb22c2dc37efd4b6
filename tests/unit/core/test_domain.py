"""The domain check's arithmetic: decile profiles and per-feature PSI."""

from __future__ import annotations

import numpy as np
import pytest

from telewarden.core.features.domain import (
    MAX_SHIFTED_SHARE,
    DomainProfile,
    build_profile,
    check_domain,
)

NAMES = [f"f{i}" for i in range(8)]


def _sample(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    x = rng.lognormal(size=(n, len(NAMES))) + shift
    x[rng.random((n, len(NAMES))) < 0.1] = np.nan  # missing values are a bin of their own
    return x


def test_a_sample_of_the_same_population_is_in_domain() -> None:
    rng = np.random.default_rng(0)
    profile = build_profile(_sample(rng, 4000), NAMES, "train")
    check = check_domain(profile, _sample(rng, 1000), NAMES)
    assert check.in_domain
    assert check.median_psi < 0.05
    assert check.shifted == ()
    assert "in domain" in check.summary()


def test_a_shifted_population_is_out_of_domain_and_named() -> None:
    rng = np.random.default_rng(1)
    profile = build_profile(_sample(rng, 4000), NAMES, "train")
    check = check_domain(profile, _sample(rng, 1000, shift=1.5), NAMES)
    assert not check.in_domain
    assert len(check.shifted) == len(NAMES)
    assert check.summary().startswith("OUT OF DOMAIN")


def test_a_few_shifted_features_are_tolerated_but_not_many() -> None:
    rng = np.random.default_rng(2)
    profile = build_profile(_sample(rng, 4000), NAMES, "train")
    sample = _sample(rng, 2000)
    allowed = int(MAX_SHIFTED_SHARE * len(NAMES))  # 2 of 8
    sample[:, :allowed] += 5.0
    assert check_domain(profile, sample, NAMES).in_domain
    sample[:, allowed] += 5.0
    assert not check_domain(profile, sample, NAMES).in_domain


def test_missing_values_where_training_had_none_count_as_a_shift() -> None:
    rng = np.random.default_rng(3)
    train = rng.normal(size=(2000, 1))
    profile = build_profile(train, ["x"], "train")
    sample = rng.normal(size=(2000, 1))
    sample[:1000] = np.nan
    assert check_domain(profile, sample, ["x"]).psi[0][1] > 1.0


def test_profiles_round_trip_and_bad_ones_are_refused() -> None:
    rng = np.random.default_rng(4)
    profile = build_profile(_sample(rng, 500), NAMES, "train")
    assert DomainProfile.from_dict(profile.to_dict()) == profile
    with pytest.raises(ValueError, match="not a telewarden domain profile"):
        DomainProfile.from_dict({"format": "x"})
    data = profile.to_dict()
    data["features"][0]["shares"] = [1.0]
    with pytest.raises(ValueError, match="do not match"):
        DomainProfile.from_dict(data)


def test_columns_the_profile_needs_must_be_there() -> None:
    profile = build_profile(np.ones((10, 2)), ["a", "b"], "train")
    with pytest.raises(ValueError, match="missing: b"):
        check_domain(profile, np.ones((10, 1)), ["a"])
    with pytest.raises(ValueError, match="no rows"):
        check_domain(profile, np.ones((0, 2)), ["a", "b"])
