"""Behaviour features of mobile numbers, as pure Polars expressions over record tables.

What belongs here: definitions that turn raw records (calls, SMS, data usage, subscribers,
contact edges) into one row of numbers per ``msisdn``. Nothing here reads files or the clock:
callers hand in LazyFrames and, where a window ends, the instant it ends at.

- :mod:`.sichuan` the 55 features of the 2020 Sichuan fraud-call contest, from its four tables;
- :mod:`.signals` the wider windowed signal set (1 h / 24 h / 7 d) over canonical records;
- :mod:`.graph` inductive contact-graph features a scorer can compute for an unseen number.

The same functions serve batch use (all records at once) and incremental use (re-evaluate
over the records seen so far, or a sliding window of them): a definition is written once.
:class:`~.sichuan.SichuanAccumulator` refreshes the 55 features of only the numbers a new batch
touched; :func:`~.signals.signals` takes the instant its window ends at.
"""

from __future__ import annotations

from telewarden.core.features.graph import GRAPH_FEATURES, graph_features
from telewarden.core.features.sichuan import FEATURE_NAMES, SichuanAccumulator, sichuan_features
from telewarden.core.features.signals import SIGNAL_NAMES, signals, windowed_signals

__all__ = [
    "FEATURE_NAMES",
    "GRAPH_FEATURES",
    "SIGNAL_NAMES",
    "SichuanAccumulator",
    "graph_features",
    "sichuan_features",
    "signals",
    "windowed_signals",
]
