"""`telewarden eval adversaries`: harm with and without the live loop on campaigns that adapt (#19).

Runs the simulator three times on the same seed: adaptive campaigns without a loop (screening
alone is scored on the same run, since it feeds nothing back); the live loop (screening,
detectors, disposal, early warning) on the same campaigns made static; the live loop on the
adaptive campaigns, which hear its measures step by step. It prints, per campaign and in total,
victims, losses, cards burnt and bought, and cards burnt per victim. ``--json`` prints the same
as JSON. The use case is ``telewarden.services.adaptive_replay``.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from telewarden.core.sim import PRESETS, preset
from telewarden.core.sim.config import adaptive_config
from telewarden.services.adaptive_replay import AdversaryReport, LoopSettings, evaluate_adversaries

__all__ = ["eval_adversaries", "loop_settings", "render_outcomes", "render_totals"]

_OUTCOME_COLUMNS = (
    "campaign_id",
    "attempts",
    "blocked",
    "rejected",
    "victims",
    "losses",
    "loss_cny",
    "cards_bought",
    "cards_burnt",
)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(title: str, frame: pl.DataFrame) -> Table:
    table = Table(title=title, title_justify="left")
    for name, dtype in frame.schema.items():
        table.add_column(name, justify="left" if dtype == pl.String else "right")
    for row in frame.iter_rows():
        table.add_row(*(_cell(v) for v in row))
    return table


def render_outcomes(console: Console, outcomes: pl.DataFrame, title: str) -> None:
    """Print a ``truth_outcomes`` table (with ``rejected`` when a loop's verdicts are counted)."""
    console.print(
        _table(title, outcomes.select(c for c in _OUTCOME_COLUMNS if c in outcomes.columns))
    )


def render_totals(console: Console, report: AdversaryReport, *, compact: bool = False) -> None:
    """Print harm and the gangs' cost per scenario, and what the loop did in each run."""
    totals = report.totals()
    if compact:  # fits 80 columns
        totals = totals.select(
            "scenario", "victims", "losses", "loss_cny", "cards_burnt", "cost_cny",
            "burnt_per_victim",
        )  # fmt: skip
    console.print(_table("Harm and the gangs' cost, all campaigns", totals))
    for s in report.scenarios[2:]:
        loop = s.loop
        console.print(
            f"{s.name}: {loop['events']:,} events, {loop['flags']} flags, "
            f"{loop['measured_numbers']} numbers cut off; legitimate numbers flagged "
            f"{loop['legitimate_flagged']}, cut off {loop['legitimate_measured']}, legitimate "
            f"events blocked by measures {loop['legitimate_blocked_by_measures']}; "
            f"{loop['warnings']} warnings"
        )


def loop_settings(step_s: int, *, registry: bool = True) -> LoopSettings:
    """The live loop as the demo builds it: settings' hash key and content gate, the registry."""
    from telewarden.core.screening import ContentInspector
    from telewarden.services.demo import enterprise_registry
    from telewarden.services.screening import simulated_traffic_policy
    from telewarden.settings import load_settings

    settings = load_settings()
    # The simulator's messages are synthetic: the gate opens on them unless the deployment closes it.
    policy = simulated_traffic_policy(deployment=settings.content_inspection)
    content: ContentInspector | None = None
    if policy.content_inspection:
        from telewarden.adapters.sms_model import load_default_model
        from telewarden.core.sms.inspector import SmsClassifier, SmsContentInspector

        content = SmsContentInspector(SmsClassifier(load_default_model()))
    return LoopSettings(
        hash_key=settings.effective_hash_key(),
        step_s=step_s,
        policy=policy,
        content=content,
        allow=enterprise_registry() if registry else None,
    )


def eval_adversaries(
    preset_name: Annotated[
        str, typer.Option("--preset", help=f"Scenario: {', '.join(sorted(PRESETS))}.")
    ] = "tiny",
    seed: Annotated[int, typer.Option("--seed", help="Simulation seed.")] = 7,
    hours: Annotated[
        int | None, typer.Option("--hours", min=1, help="Override the preset's hours.")
    ] = None,
    subscribers: Annotated[
        int | None,
        typer.Option("--subscribers", min=50, help="Override the preset's subscriber count."),
    ] = None,
    step_s: Annotated[
        int,
        typer.Option("--step-s", min=1, help="Simulator time step and the loop's micro-batch, s."),
    ] = 300,
    registry: Annotated[
        bool,
        typer.Option(
            "--registry/--no-registry",
            help="Allow-list the carrier's registered enterprise SMS ports and service numbers.",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Harm (victims, losses) with and without the live loop, and cards burnt per victim."""
    console = Console()
    config = preset(preset_name, seed)
    if hours is not None:
        config = replace(config, hours=hours)
    if subscribers is not None:
        config = replace(config, subscribers=subscribers)
    settings = loop_settings(step_s, registry=registry)
    started = time.perf_counter()
    report = evaluate_adversaries(adaptive_config(config), settings)
    elapsed = time.perf_counter() - started
    summary, totals = report.summary(), report.totals()
    if as_json:
        payload = {
            "preset": preset_name,
            "seed": seed,
            "hours": config.hours,
            "subscribers": config.subscribers,
            "step_s": step_s,
            "content_inspection": settings.content is not None,
            "seconds": round(elapsed, 1),
            "totals": totals.to_dicts(),
            "campaigns": summary.to_dicts(),
            "catches": {s.name: s.catches.to_dicts() for s in report.scenarios},
            "reactions": {
                s.name: s.reactions.group_by("campaign_id", "reaction")
                .len()
                .sort("campaign_id", "reaction")
                .to_dicts()
                for s in report.scenarios
            },
            "loop": {s.name: s.loop for s in report.scenarios},
        }
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        return
    wide = summary.pivot(
        on="scenario", index=["campaign_id", "campaign_kind"], values=["victims", "loss_cny"]
    )
    from telewarden.services.screening import SIMULATED_TRAFFIC

    console.print(_table("Victims and losses per campaign", wide))
    loop_adaptive = report.scenarios[-1]
    burnt = summary.filter(pl.col("scenario") == loop_adaptive.name).select(
        "campaign_id", "victims", "cards_bought", "cards_burnt", "cost_cny", "burnt_per_victim"
    )
    console.print(_table("Loop on adaptive campaigns: the gangs' cards", burnt))
    console.print(_table("What the loop caught (adaptive campaigns)", loop_adaptive.catches))
    reactions = loop_adaptive.reactions.group_by("campaign_id", "reaction").len()
    console.print(_table("Reactions", reactions.sort("campaign_id", "reaction")))
    render_totals(console, report)
    console.print(
        f"{preset_name} seed {seed}, step {step_s} s, content inspection "
        f"{'on: ' + SIMULATED_TRAFFIC if settings.content is not None else _GATE_OFF}; "
        f"three runs in {elapsed:.1f} s"
    )


_GATE_OFF = (
    "off (TELEWARDEN_CONTENT_INSPECTION=false closes it; unset, it opens on simulated traffic)"
)
