"""`telewarden eval adversaries`: harm with and without the live loop, as tables or JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from telewarden.cli.eval import app

runner = CliRunner()
SMALL = ["adversaries", "--preset", "tiny", "--hours", "6", "--subscribers", "800"]


def test_json_gives_four_scenarios_per_campaign_and_the_cards_per_victim() -> None:
    result = runner.invoke(app, [*SMALL, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    scenarios = [row["scenario"] for row in payload["totals"]]
    assert scenarios == [
        "no loop",
        "screening alone",
        "loop, static campaigns",
        "loop, adaptive campaigns",
    ]
    campaigns = {row["campaign_id"] for row in payload["campaigns"]}
    assert len(payload["campaigns"]) == 4 * len(campaigns)
    for row in payload["campaigns"]:
        assert row["burnt_per_victim"] == round(row["cards_burnt"] / max(row["victims"], 1), 2)
    wangiri = {
        row["scenario"]: row for row in payload["campaigns"] if row["campaign_id"] == "wangiri-1"
    }
    assert wangiri["no loop"]["blocked"] == 0
    assert wangiri["loop, static campaigns"]["blocked"] > 0
    assert wangiri["loop, static campaigns"]["victims"] < wangiri["no loop"]["victims"]
    loop = payload["loop"]["loop, adaptive campaigns"]
    assert loop["measured_numbers"] > 0 and loop["legitimate_measured"] == 0


def test_tables_name_the_settings() -> None:
    result = runner.invoke(app, SMALL)
    assert result.exit_code == 0, result.output
    assert "Harm and the gangs' cost" in result.output
    assert "step 300 s" in result.output and "numbers cut off" in result.output
    printed = " ".join(result.output.split())  # Rich wraps the line
    assert "content inspection on: simulated traffic, no subscriber content" in printed
