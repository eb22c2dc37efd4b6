"""Learned scorers: trained models that turn feature rows into calibrated fraud probabilities.

What belongs here: the ``Scorer`` protocol (``score_one`` / ``score_many``), model training,
calibration, threshold choice, per-row explanations and cross-validation. Models are plain
objects that serialise to and from dictionaries; reading and writing files is an adapter's job.
"""

from __future__ import annotations

from telewarden.core.models.number_scorer import NumberScorer, ScoredNumber, Scorer

__all__ = ["NumberScorer", "ScoredNumber", "Scorer"]
