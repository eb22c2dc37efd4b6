"""The demo's live-loop stage on a small simulated day: measures act, nobody legitimate is hit."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import write_simulation

from telewarden.services.demo import enterprise_registry
from telewarden.services.loop_demo import run_loop_demo


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from telewarden.core.sim import preset

    return write_simulation(tmp_path_factory.mktemp("tiny"), preset("tiny", 11), truth=True)


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


def test_the_adaptive_stage_runs_the_loop_in_front_of_reacting_campaigns() -> None:
    from dataclasses import replace

    from telewarden.core.sim import preset
    from telewarden.core.sim.config import adaptive_config
    from telewarden.services.adaptive_replay import LoopSettings
    from telewarden.services.loop_demo import adaptive_stage_chunks, run_adaptive_stage

    config = replace(preset("tiny", 7), subscribers=1000, hours=8)
    settings = LoopSettings(hash_key=b"k" * 32, allow=enterprise_registry())
    seen: list[int] = []
    report = run_adaptive_stage(config, settings, lambda: seen.append(1))
    assert len(seen) == adaptive_stage_chunks(adaptive_config(config), settings.step_s)
    adaptive = report.scenarios[-1]
    assert adaptive.reactions.height > 0  # the campaigns heard the loop's measures
    assert "cc-gamer" in set(adaptive.outcomes["campaign_id"])  # the threshold gamer is there
    assert adaptive.loop["legitimate_measured"] == 0
    totals = {r["scenario"]: r for r in report.totals().iter_rows(named=True)}
    assert totals["loop, adaptive campaigns"]["victims"] <= totals["no loop"]["victims"]
