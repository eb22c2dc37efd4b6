"""The synthetic carrier: seeded, chunked generation of traffic, fraud and ground truth.

Pure: nothing here reads or writes files; ``Simulation.chunks()`` yields Polars DataFrames
that ``telewarden.adapters.records_io`` writes. See docs/simulator.md.

Examples
--------
>>> from dataclasses import replace
>>> sim = Simulation(replace(preset("tiny"), subscribers=200, hours=1))
>>> sim.subscribers().height > 200
True
"""

from __future__ import annotations

from telewarden.core.sim.config import PRESETS, CampaignConfig, SimConfig, default_campaigns, preset
from telewarden.core.sim.engine import SimChunk, Simulation

__all__ = [
    "PRESETS",
    "CampaignConfig",
    "SimChunk",
    "SimConfig",
    "Simulation",
    "default_campaigns",
    "preset",
]
