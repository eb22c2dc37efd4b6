"""Conformance suites for plug-ins: run the same contract checks on every implementation.

What belongs here: :func:`check_detector` and :func:`check_scorer` (as River's
``check_estimator``), the traffic and feature rows they exercise a plug-in with, and the
protocols they check against; ``telewarden.testing.stores`` holds the suites of the store ports
and stream seams (memory twins, SQLite, PostgreSQL, a carrier's own). A carrier that writes its own detector or scorer runs the same
suite the shipped ones pass (``tests/testing/test_conformance.py``). This package imports the
core only, so a plug-in's test needs no storage, CLI or model library beyond its own.

Examples
--------
>>> from telewarden.core.detectors import DetectorConfig, StreamDetector
>>> from telewarden.testing import check_detector
>>> report = check_detector(lambda subscribers: StreamDetector(DetectorConfig(), subscribers))
>>> sorted(report.alerts_by_detector)[:3]
['intl_surge', 'new_card_burst', 'robocall']
"""

from __future__ import annotations

from telewarden.testing.detectors import (
    Detector,
    DetectorFactory,
    DetectorReport,
    check_detector,
    contract_traffic,
)
from telewarden.testing.scorers import ScorerReport, check_scorer, contract_features

__all__ = [
    "Detector",
    "DetectorFactory",
    "DetectorReport",
    "ScorerReport",
    "check_detector",
    "check_scorer",
    "contract_features",
    "contract_traffic",
]
