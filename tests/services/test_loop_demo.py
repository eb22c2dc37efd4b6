"""The demo's live-loop stage on a small simulated day: measures act, nobody legitimate is hit."""

from __future__ import annotations

from pathlib import Path

import pytest

from telewarden.services.demo import enterprise_registry
from telewarden.services.loop_demo import run_loop_demo


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from telewarden.adapters.records_io import TableWriter
    from telewarden.core.sim import Simulation, preset

    out = tmp_path_factory.mktemp("tiny")
    simulation = Simulation(preset("tiny", 11))
    with TableWriter(out) as writer:
        for chunk in simulation.chunks():
            writer.write("calls", chunk.calls)
            writer.write("sms", chunk.sms)
            writer.write("truth_events", chunk.truth_events)
            writer.write("truth_victims", chunk.truth_victims)
        writer.write("subscribers", simulation.subscribers())
        writer.write("optins", simulation.optins())
        writer.write("truth_cards", simulation.truth_cards())
    return out


@pytest.mark.slow
def test_the_loop_blocks_detected_cards_and_no_legitimate_subscriber(records: Path) -> None:
    demo = run_loop_demo(records, hash_key=b"k" * 32, allow=enterprise_registry())
    totals = demo.report.totals()
    assert totals["fraud_calls_after_first_detection"] > 0
    assert totals["of_which_blocked"] >= 0.95 * totals["fraud_calls_after_first_detection"]
    assert totals["legitimate_blocked"] == 0
    assert totals["legitimate_subscribers_blocked"] == 0
    assert demo.intake.measures_in_force > 0 and demo.notices > 0
    assert demo.intake.reconciles
    # The loop's verdicts cover every event exactly once.
    assert demo.run.decisions["position"].n_unique() == demo.run.events
