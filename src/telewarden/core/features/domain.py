"""Does a features table look like the data a model was trained on? (population stability)

What belongs here: the pure arithmetic of the domain check. A :class:`DomainProfile` holds, for
each feature of a training set, the edges of its deciles and the share of training rows in each
bin (missing values are a bin of their own); :func:`check_domain` bins another table the same way
and compares the shares with the population stability index (PSI) per feature:

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

with shares floored at ``1e-4`` so that an empty bin is a large, finite term. The usual reading
(credit scoring, where the index comes from) is below 0.1 stable, 0.1 to 0.25 a moderate shift,
above 0.25 a large one. A table is *in domain* when its median feature PSI is at most
:data:`MAX_MEDIAN_PSI` and at most :data:`MAX_SHIFTED_SHARE` of the features shift by more than
:data:`SHIFT_PSI`. The core does no I/O: profiles are plain dictionaries for the adapters to
store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

PROFILE_FORMAT = "telewarden-domain-profile-1"
BINS = 10
FLOOR = 1e-4
SHIFT_PSI = 0.25
"""A feature whose PSI exceeds this has shifted a lot (the conventional 0.25)."""
MAX_MEDIAN_PSI = 0.25
"""In domain only if the median feature PSI is at most this."""
MAX_SHIFTED_SHARE = 0.25
"""In domain only if at most this share of the features shifted by more than SHIFT_PSI."""


@dataclass(frozen=True, slots=True)
class FeatureProfile:
    """One feature of the training set: inner bin edges and the share of rows in each bin.

    ``shares`` has ``len(edges) + 2`` entries: ``len(edges) + 1`` value bins and, last, the
    missing values.
    """

    name: str
    edges: tuple[float, ...]
    shares: tuple[float, ...]

    def bin_shares(self, values: FloatArray) -> FloatArray:
        """The share of ``values`` in each bin of this profile (missing values last)."""
        counts = np.zeros(len(self.edges) + 2, dtype=np.float64)
        missing = np.isnan(values)
        present = values[~missing]
        index = np.searchsorted(np.asarray(self.edges, dtype=np.float64), present, side="right")
        np.add.at(counts, index, 1.0)
        counts[-1] = float(missing.sum())
        return counts / max(len(values), 1)


@dataclass(frozen=True, slots=True)
class DomainProfile:
    """The training distribution of every feature, and how many rows it was taken from."""

    features: tuple[FeatureProfile, ...]
    rows: int
    source: str
    """What the training set was (a file name, "Sichuan contest", ...)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "format": PROFILE_FORMAT,
            "rows": self.rows,
            "source": self.source,
            "features": [
                {"name": f.name, "edges": list(f.edges), "shares": list(f.shares)}
                for f in self.features
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DomainProfile:
        """Rebuild a profile from :meth:`to_dict` output; ValueError when it is not one."""
        if not isinstance(data, Mapping) or data.get("format") != PROFILE_FORMAT:
            raise ValueError("not a telewarden domain profile")
        features = []
        for item in data["features"]:
            edges = tuple(float(e) for e in item["edges"])
            shares = tuple(float(s) for s in item["shares"])
            if len(shares) != len(edges) + 2:
                raise ValueError(f"profile of {item['name']}: shares do not match its edges")
            features.append(FeatureProfile(str(item["name"]), edges, shares))
        return cls(tuple(features), int(data["rows"]), str(data.get("source", "")))


def build_profile(
    matrix: FloatArray, names: Sequence[str], source: str, bins: int = BINS
) -> DomainProfile:
    """The decile profile of each column of ``matrix`` (rows = numbers, NaN = missing).

    Ties collapse edges (a feature that is zero for most numbers has few bins).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(100, dtype=float).reshape(-1, 1)
    >>> profile = build_profile(x, ["calls"], "example")
    >>> len(profile.features[0].edges), profile.features[0].shares[:2]
    (9, (0.1, 0.1))
    """
    if matrix.shape[1] != len(names):
        raise ValueError("one name per column")
    features = []
    for j, name in enumerate(names):
        column = matrix[:, j]
        present = column[~np.isnan(column)]
        if present.size:
            quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
            edges = tuple(float(e) for e in np.unique(quantiles))
        else:
            edges = ()
        profile = FeatureProfile(name, edges, ())
        shares = tuple(round(float(s), 6) for s in profile.bin_shares(column))
        features.append(FeatureProfile(name, edges, shares))
    return DomainProfile(tuple(features), int(matrix.shape[0]), source)


@dataclass(frozen=True, slots=True)
class DomainCheck:
    """How far a table is from a training profile."""

    rows: int
    psi: tuple[tuple[str, float], ...]
    """Every feature and its PSI, largest first."""

    @property
    def median_psi(self) -> float:
        """Median PSI over the features."""
        return float(np.median([p for _, p in self.psi])) if self.psi else 0.0

    @property
    def shifted(self) -> tuple[str, ...]:
        """Features whose PSI exceeds :data:`SHIFT_PSI`, largest first."""
        return tuple(name for name, p in self.psi if p > SHIFT_PSI)

    @property
    def shifted_share(self) -> float:
        """Share of the features that shifted."""
        return len(self.shifted) / max(len(self.psi), 1)

    @property
    def in_domain(self) -> bool:
        """Median PSI and share of shifted features both within bounds."""
        return self.median_psi <= MAX_MEDIAN_PSI and self.shifted_share <= MAX_SHIFTED_SHARE

    def summary(self) -> str:
        """One line: the verdict, the median PSI and the most shifted features."""
        worst = ", ".join(f"{n} {p:.2f}" for n, p in self.psi[:3])
        verdict = "in domain" if self.in_domain else "OUT OF DOMAIN"
        return (
            f"{verdict}: median PSI {self.median_psi:.3f} (limit {MAX_MEDIAN_PSI}), "
            f"{len(self.shifted)} of {len(self.psi)} features shifted by PSI > {SHIFT_PSI} "
            f"(limit {MAX_SHIFTED_SHARE:.0%}); largest: {worst}"
        )


def check_domain(profile: DomainProfile, matrix: FloatArray, names: Sequence[str]) -> DomainCheck:
    """PSI of each profiled feature between the training profile and the rows of ``matrix``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> profile = build_profile(rng.normal(size=(2000, 1)), ["x"], "example")
    >>> check_domain(profile, rng.normal(size=(2000, 1)), ["x"]).in_domain
    True
    >>> check_domain(profile, rng.normal(2.0, size=(2000, 1)), ["x"]).in_domain
    False
    """
    if matrix.shape[0] == 0:
        raise ValueError("no rows to compare with the training profile")
    column_of = {name: j for j, name in enumerate(names)}
    missing = [f.name for f in profile.features if f.name not in column_of]
    if missing:
        raise ValueError(f"feature columns missing: {', '.join(missing[:5])}")
    values = []
    for feature in profile.features:
        actual = np.maximum(feature.bin_shares(matrix[:, column_of[feature.name]]), FLOOR)
        expected = np.maximum(np.asarray(feature.shares, dtype=np.float64), FLOOR)
        values.append(
            (feature.name, float(np.sum((actual - expected) * np.log(actual / expected))))
        )
    values.sort(key=lambda item: -item[1])
    return DomainCheck(int(matrix.shape[0]), tuple(values))
