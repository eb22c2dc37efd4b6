"""`telewarden sim`: the synthetic carrier (issue #3).

One command: ``telewarden sim --preset day --seed 7 --out DIR [--format parquet|csv|sichuan]``.
It streams the simulation chunk by chunk into files, shows a progress bar, and ends with what
it injected and a throughput line.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from telewarden.adapters.records_io import SichuanWriter, TableWriter
from telewarden.cli.eval_adversaries import loop_settings, render_outcomes
from telewarden.core.records import CampaignKind
from telewarden.core.sichuan import SichuanMapper
from telewarden.core.sim import PRESETS, Simulation, preset
from telewarden.core.sim.config import adaptive_config
from telewarden.services.adaptive_replay import FeedbackLoop, run_with_loop

app = typer.Typer(help="Generate synthetic carrier traffic with fraud campaigns and ground truth.")


class OutputFormat(StrEnum):
    """File formats the simulator writes."""

    PARQUET = "parquet"
    CSV = "csv"
    SICHUAN = "sichuan"


@app.callback(invoke_without_command=True)
def sim(
    preset_name: Annotated[
        str, typer.Option("--preset", help=f"Scenario: {', '.join(sorted(PRESETS))}.")
    ] = "tiny",
    seed: Annotated[
        int, typer.Option("--seed", help="Same seed, same traffic (byte for byte).")
    ] = 7,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("sim-out"),
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", help="parquet, csv, or sichuan (the contest's four tables)."),
    ] = OutputFormat.PARQUET,
    hours: Annotated[
        int | None, typer.Option("--hours", min=1, help="Override the preset's hours.")
    ] = None,
    subscribers: Annotated[
        int | None,
        typer.Option("--subscribers", min=50, help="Override the preset's subscriber count."),
    ] = None,
    disable: Annotated[
        list[CampaignKind] | None,
        typer.Option("--disable", help="Switch a campaign kind off (repeatable)."),
    ] = None,
    adaptive: Annotated[
        bool,
        typer.Option(
            "--adaptive",
            help="Campaigns react to blocking (plus a threshold-gaming call centre); the live "
            "loop (screening, detectors, disposal, warning) runs in front of the simulator and "
            "its measures go back to it step by step.",
        ),
    ] = False,
    loop: Annotated[
        bool, typer.Option("--loop/--no-loop", help="With --adaptive: run the live loop.")
    ] = True,
    step_s: Annotated[
        int, typer.Option("--step-s", min=1, help="With the loop: time step in seconds.")
    ] = 300,
) -> None:
    """Simulate a carrier and write calls, SMS, usage, subscribers, accounts and ground truth."""
    console = Console()
    config = preset(preset_name, seed)
    if hours is not None:
        config = replace(config, hours=hours)
    if subscribers is not None:
        config = replace(config, subscribers=subscribers)
    if disable:
        config = replace(
            config,
            campaigns=tuple(
                replace(c, enabled=False) if c.kind in disable else c for c in config.campaigns
            ),
        )
    if adaptive:
        config = adaptive_config(config)
    started = time.perf_counter()
    with console.status("building the population and social graph"):
        simulation = Simulation(config)
    built = time.perf_counter() - started
    live = FeedbackLoop(simulation, loop_settings(step_s)) if adaptive and loop else None

    counts: dict[str, int] = {}
    truth_counts = {"truth_events": 0, "truth_victims": 0, "losses": 0}
    per_campaign: dict[str, list[int]] = {}  # campaign id -> events, victims, losses
    table_fmt: Literal["parquet", "csv"] = "csv" if fmt is OutputFormat.CSV else "parquet"
    sichuan = (
        SichuanWriter(out, SichuanMapper(simulation.subscribers(), simulation.cells()))
        if fmt is OutputFormat.SICHUAN
        else None
    )
    with (
        TableWriter(out, table_fmt) as writer,
        Progress(
            TextColumn("[bold]simulating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("chunks · {task.fields[records]:,} records"),
            TimeElapsedColumn(),
            console=console,
        ) as progress,
    ):
        total = simulation.chunk_count(None if live is None else step_s)
        task = progress.add_task("sim", total=total, records=0)
        records = 0
        chunks = simulation.chunks() if live is None else run_with_loop(simulation, live)
        for chunk in chunks:
            if sichuan is None:
                writer.write("calls", chunk.calls)
                writer.write("sms", chunk.sms)
                writer.write("usage", chunk.usage)
            else:
                sichuan.add(chunk.calls, chunk.sms, chunk.usage)
            writer.write("truth_events", chunk.truth_events)
            writer.write("truth_victims", chunk.truth_victims)
            for name, frame in (
                ("calls", chunk.calls),
                ("sms", chunk.sms),
                ("usage", chunk.usage),
            ):
                counts[name] = counts.get(name, 0) + frame.height
            for cid, n_events in chunk.truth_events.group_by("campaign_id").len().iter_rows():
                per_campaign.setdefault(cid, [0, 0, 0])[0] += n_events
            for cid, n_victims, n_losses in (
                chunk.truth_victims.group_by("campaign_id")
                .agg(pl.len(), pl.col("loss_at").is_not_null().sum())
                .iter_rows()
            ):
                per_campaign.setdefault(cid, [0, 0, 0])[1] += n_victims
                per_campaign[cid][2] += n_losses
            truth_counts["truth_events"] += chunk.truth_events.height
            truth_counts["truth_victims"] += chunk.truth_victims.height
            truth_counts["losses"] += int(chunk.truth_victims["loss_at"].is_not_null().sum())
            records += chunk.calls.height + chunk.sms.height + chunk.usage.height
            progress.update(task, advance=1, records=records)
        statics = {
            "subscribers": simulation.subscribers(),
            "accounts": simulation.accounts(),
            "optins": simulation.optins(),
            "cells": simulation.cells(),
            "truth_cards": simulation.truth_cards(),
            "truth_campaigns": simulation.truth_campaigns(),
        }
        for name, frame in statics.items():
            if sichuan is None or name.startswith("truth_"):
                writer.write(name, frame)
            counts[name] = frame.height
    if sichuan is not None:
        sichuan_counts = sichuan.finish(
            statics["subscribers"], statics["truth_cards"], config.start_at
        )
        counts.update({f"sichuan {k}": v for k, v in sichuan_counts.items()})
    elapsed = time.perf_counter() - started
    manifest = {
        "preset": preset_name,
        "seed": seed,
        "format": fmt.value,
        "hours": config.hours,
        "subscribers": config.subscribers,
        "start_at": config.start_at.isoformat(),
        "counts": counts,
        "truth": truth_counts,
        "campaigns": [c.campaign_id for c in config.campaigns if c.enabled],
    }
    if adaptive:
        # With the loop, harm is what remains after its verdicts as well as its measures.
        outcomes = simulation.truth_outcomes() if live is None else live.ledger.outcomes(simulation)
        _write_frame(out / f"truth_outcomes.{table_fmt}", outcomes)
        _write_frame(out / f"truth_reactions.{table_fmt}", simulation.truth_reactions())
        manifest["adaptive"] = {
            "loop": live is not None,
            "step_s": step_s,
            "flags": 0 if live is None else len(live.flags),
            "measured_numbers": 0 if live is None else len(live.reported),
        }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    _report(console, simulation, statics["truth_cards"], per_campaign, counts, truth_counts)
    if adaptive:
        render_outcomes(console, outcomes, "Outcomes per campaign (truth_outcomes)")
    traffic = counts.get("calls", 0) + counts.get("sms", 0) + counts.get("usage", 0)
    console.print(
        (_GATE_ON if live is not None and live.settings.content is not None else "")
        + f"{traffic:,} traffic records in {elapsed:.1f} s "
        f"({traffic / max(elapsed, 1e-9):,.0f} records/s; population built in {built:.1f} s) "
        f"-> {out}"
    )


_GATE_ON = "content inspection on: simulated traffic, no subscriber content; "


def _write_frame(path: Path, frame: pl.DataFrame) -> None:
    """Write a table next to the others, through a temporary file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    if path.suffix == ".csv":
        frame.write_csv(tmp)
    else:
        frame.write_parquet(tmp)
    tmp.replace(path)


def _report(
    console: Console,
    simulation: Simulation,
    cards: pl.DataFrame,
    per_campaign: dict[str, list[int]],
    counts: dict[str, int],
    truth_counts: dict[str, int],
) -> None:
    """Print what was injected and how many records were written."""
    events = truth_counts["truth_events"]
    table = Table(title="Injected fraud", title_justify="left")
    for column in ("campaign", "kind", "numbers", "used", "events", "victims", "losses"):
        table.add_column(column, justify="left" if column in ("campaign", "kind") else "right")
    table.add_column("hours", justify="right")
    per = cards.group_by("campaign_id").agg(
        pl.len().alias("numbers"), pl.col("first_fraud_at").is_not_null().sum().alias("used")
    )
    per_map = {r[0]: (r[1], r[2]) for r in per.iter_rows()}
    for p in simulation.plans:
        numbers, used = per_map.get(p.config.campaign_id, (0, 0))
        # active window in hours from the start (UTC times are in truth_campaigns)
        window = (
            f"{(p.start_us - simulation.start_us) / 3.6e9:g}-"
            f"{(p.end_us - simulation.start_us) / 3.6e9:g}"
        )
        n_events, n_victims, n_losses = per_campaign.get(p.config.campaign_id, [0, 0, 0])
        table.add_row(
            p.config.campaign_id,
            p.kind.value,
            f"{numbers:,}",
            f"{used:,}",
            f"{n_events:,}",
            f"{n_victims:,}",
            f"{n_losses:,}",
            window,
        )
    console.print(table)
    console.print(
        f"fraud events: {events:,} · victims exposed: {truth_counts['truth_victims']:,} "
        f"· victims with a loss: {truth_counts['losses']:,}"
    )
    written = Table(title="Records", title_justify="left")
    written.add_column("table")
    written.add_column("rows", justify="right")
    for name, n in counts.items():
        written.add_row(name, f"{n:,}")
    console.print(written)
