"""Fixtures of the live runner's tests: half a simulated tiny day."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import write_simulation


@pytest.fixture(scope="session")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from telewarden.core.sim import preset

    # Half a tiny day with half its subscribers: about 4,800 events, 10 measures, 2 warnings.
    config = replace(preset("tiny", 11), hours=12, subscribers=2000)
    return write_simulation(tmp_path_factory.mktemp("half-day"), config)
