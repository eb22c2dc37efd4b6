"""Rule detectors that need no labels: SIM banks, Wangiri, robocall waves, new-card bursts, surges.

What belongs here: detectors that read call records in time order, keep per-number, per-IMEI,
per-cell and per-country windows, and raise an :class:`~.streaming.Alert` with the rule, the
threshold crossed and the evidence. They run as one incremental pass (the same code for a replay
of a day and for a live feed), so "time to detect" is measured in call attempts and minutes.
:mod:`.evaluation` scores alerts against the simulator's ground truth.
"""

from __future__ import annotations

from telewarden.core.detectors.batch import BatchDetector
from telewarden.core.detectors.streaming import Alert, DetectorConfig, StreamDetector, detect_stream

__all__ = ["Alert", "BatchDetector", "DetectorConfig", "StreamDetector", "detect_stream"]
