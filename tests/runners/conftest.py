"""Fixtures of the live runner's tests: half a simulated tiny day."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from telewarden.adapters.records_io import TableWriter
    from telewarden.core.sim import Simulation, preset

    out = tmp_path_factory.mktemp("half-day")
    # Half a tiny day with half its subscribers: about 4,800 events, 10 measures, 2 warnings.
    config = replace(preset("tiny", 11), hours=12, subscribers=2000)
    simulation = Simulation(config)
    with TableWriter(out) as writer:
        for chunk in simulation.chunks():
            writer.write("calls", chunk.calls)
            writer.write("sms", chunk.sms)
        writer.write("subscribers", simulation.subscribers())
        writer.write("optins", simulation.optins())
    return out
