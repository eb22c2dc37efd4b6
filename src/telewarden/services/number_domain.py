"""The domain check: is a model offered on these numbers' features at all?

What belongs here: comparing a features table with the training distribution of a number model
(per-feature population stability index, :mod:`telewarden.core.features.domain`). The shipped
model was trained on eight-month aggregates of one Chinese province; on a simulated day it flags
a large share of ordinary subscribers, so its flags are offered only where the records look like
the contest's. Used by ``numbers domain``, ``detect`` and ``numbers train`` (which stores the
profile of its own training set in the model file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from telewarden.core.errors import InvalidInputError
from telewarden.core.features.domain import DomainCheck, DomainProfile, build_profile, check_domain
from telewarden.core.features.sichuan import FEATURE_NAMES, align_to_published
from telewarden.services.number_inputs import read_features


def feature_matrix(features: pl.DataFrame) -> npt.NDArray[Any]:
    """The 55 features as the scorer sees them (app features aligned to the published file)."""
    missing = [n for n in FEATURE_NAMES if n not in features.columns]
    if missing:
        raise InvalidInputError(f"feature columns missing: {', '.join(missing[:5])}")
    aligned = align_to_published(features.lazy()).select(
        pl.col(n).cast(pl.Float64) for n in FEATURE_NAMES
    )
    return aligned.collect().to_numpy().astype(np.float64)


def profile_of(features: pl.DataFrame, source: str) -> DomainProfile:
    """The decile profile of a training set's 55 features."""
    return build_profile(feature_matrix(features), FEATURE_NAMES, source)


def domain_of(features: pl.DataFrame, model: Path | None = None) -> DomainCheck | None:
    """How far ``features`` are from ``model``'s training data (None: the model has no profile)."""
    from telewarden.adapters.number_domain import load_profile

    profile = load_profile(model)
    if profile is None:
        return None
    if features.height == 0:
        raise InvalidInputError("no numbers to compare with the model's training data")
    return check_domain(profile, feature_matrix(features), FEATURE_NAMES)


def check_features_file(
    features_path: Path, model: Path | None = None, encoding: str | None = None
) -> DomainCheck | None:
    """:func:`domain_of` on a features file (its readable rows)."""
    return domain_of(read_features(features_path, encoding).frame, model)


def write_shipped_profile(features_path: Path, output: Path) -> DomainProfile:
    """Profile the shipped model's training features (release tooling) and write it."""
    from telewarden.adapters.number_domain import save_profile

    frame = read_features(features_path).frame
    profile = profile_of(frame, f"Sichuan contest training features ({frame.height} numbers)")
    save_profile(profile, output)
    return profile
