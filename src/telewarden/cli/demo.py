"""`telewarden demo`: the main job on embedded defaults (README's first command).

It simulates a carrier day (or reuses one already simulated with the same preset and seed),
screens every call and SMS with the default policy, and prints what was stopped, what was
labelled and what got through, scored against the simulator's ground truth.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from telewarden.cli import sim as sim_cli
from telewarden.cli.demo_render import (
    adversaries_json,
    render,
    render_adversaries,
    render_detection,
    render_loop,
)
from telewarden.cli.progress import progress_bar
from telewarden.settings import load_settings

if TYPE_CHECKING:
    from telewarden.core.screening import PolicySettings
    from telewarden.services.loop_demo import LoopDemo


def _already_simulated(out: Path, preset: str, seed: int) -> bool:
    manifest = out / "manifest.json"
    if not manifest.is_file():
        return False
    meta = json.loads(manifest.read_text(encoding="utf-8"))
    return bool(
        meta.get("preset") == preset
        and meta.get("seed") == seed
        and meta.get("format") == "parquet"
    )


def demo(
    preset: Annotated[str, typer.Option("--preset", help="Simulator preset to screen.")] = "day",
    seed: Annotated[int, typer.Option("--seed", help="Simulator seed.")] = 7,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where the simulated records go (default: $TELEWARDEN_HOME/demo)."
        ),
    ] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Simulate again even if present.")] = False,
    registry: Annotated[
        bool,
        typer.Option(
            "--registry/--no-registry",
            help="Allow-list the carrier's registered enterprise SMS ports and service numbers.",
        ),
    ] = True,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the loop's figures as JSON (the tables go to stderr)."),
    ] = False,
    adaptive: Annotated[
        bool,
        typer.Option(
            "--adaptive",
            help="Add a stage: the loop drives the simulator, whose campaigns react to its "
            "measures (three more runs of the day; minutes).",
        ),
    ] = False,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then keep the day in a store and serve the API and console until Ctrl-C.",
        ),
    ] = False,
    host: Annotated[
        str, typer.Option("--host", help="Address to serve on (--serve).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to serve on (--serve).")] = 8080,
) -> None:
    """Simulate a carrier day, screen every call and SMS, and print what was stopped."""
    # Heavy libraries (scikit-learn, LightGBM, Polars) load here, not when the CLI starts.
    from telewarden.adapters.sms_model import load_default_model
    from telewarden.core.screening import ContentInspector
    from telewarden.core.sms.inspector import SmsClassifier, SmsContentInspector
    from telewarden.services.demo import count_rows, detect_cards, enterprise_registry, run_demo
    from telewarden.services.screening import simulated_traffic_policy

    settings = load_settings()
    console = Console(stderr=as_json)
    out = out or settings.home / "demo" / f"{preset}-seed{seed}"
    if fresh or not _already_simulated(out, preset, seed):
        console.rule(f"[bold]1. Simulating the carrier ({preset}, seed {seed})")
        # With --json, stdout carries the one JSON document: the simulator's report goes to
        # stderr with the other tables.
        with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
            sim_cli.sim(
                preset_name=preset,
                seed=seed,
                out=out,
                fmt=sim_cli.OutputFormat.PARQUET,
                hours=None,
                subscribers=None,
                disable=None,
            )
    else:
        console.rule(f"[bold]1. Reusing the simulated carrier in {out}")
    console.rule("[bold]2. Screening every call and SMS before delivery")
    # Synthetic traffic only: the demo opens the gate for its own store (unless the deployment
    # closed it), and says so; no subscriber content is read.
    policy = simulated_traffic_policy(deployment=settings.content_inspection)
    content: ContentInspector | None = None
    if policy.content_inspection:
        content = SmsContentInspector(SmsClassifier(load_default_model()))
    with progress_bar("screening", console) as progress:
        task = progress.add_task("screen", total=None)
        report = run_demo(
            out,
            policy=policy,
            content=content,
            allow=enterprise_registry() if registry else None,
            on_total=lambda n: progress.update(task, total=n),
            progress=lambda n: progress.advance(task, n),
        )
    render(console, report)
    console.rule("[bold]3. Finding fraud cards from behaviour (label-free detectors)")
    with progress_bar("detectors", console) as progress:
        task = progress.add_task("detect", total=count_rows(out / "calls.parquet"))
        result, detect_s = detect_cards(out, lambda n: progress.update(task, completed=n))
        progress.update(task, completed=progress.tasks[task].total)
    render_detection(console, result, detect_s, report.calls.events)
    from telewarden.services.loop_demo import run_loop_demo

    console.rule("[bold]4. The live loop: screen, detect, dispose and warn in event time")
    with progress_bar("live loop", console) as progress:
        task = progress.add_task(
            "loop", total=count_rows(out / "calls.parquet") + count_rows(out / "sms.parquet")
        )
        loop = run_loop_demo(
            out,
            hash_key=settings.effective_hash_key(),
            policy=policy,
            content=content,
            allow=enterprise_registry() if registry else None,
            progress=lambda n: progress.advance(task, n),
        )
    render_loop(console, loop)
    adversaries = None
    if adaptive:
        from telewarden.core.sim import preset as sim_preset
        from telewarden.core.sim.config import adaptive_config
        from telewarden.services.adaptive_replay import LoopSettings
        from telewarden.services.loop_demo import adaptive_stage_chunks, run_adaptive_stage

        console.rule("[bold]5. Adaptive campaigns: the loop drives the simulator in event time")
        loop_settings = LoopSettings(
            hash_key=settings.effective_hash_key(),
            policy=policy,
            content=content,
            allow=enterprise_registry() if registry else None,
        )
        with progress_bar("adaptive", console) as progress:
            config = sim_preset(preset, seed)
            task = progress.add_task(
                "adaptive",
                total=adaptive_stage_chunks(adaptive_config(config), loop_settings.step_s),
            )
            adversaries = run_adaptive_stage(
                config, loop_settings, lambda: progress.advance(task, 1)
            )
        render_adversaries(console, adversaries)
    if as_json:
        extra = {} if adversaries is None else {"adaptive": adversaries_json(adversaries)}
        typer.echo(
            json.dumps(
                {
                    **loop.report.totals(),
                    "campaigns": [c.as_dict() for c in loop.report.campaigns],
                    "cases": loop.intake.cases_opened,
                    "measures_in_force": loop.intake.measures_in_force,
                    "notices": loop.notices,
                    "warnings_sent": len(loop.run.warnings),
                    "loop_seconds": round(loop.run.seconds, 2),
                    "scorer": loop.scorer,
                    **extra,
                },
                indent=2,
                default=str,
            )
        )
    if serve:
        _serve_day(console, loop, out, (settings.effective_hash_key(), policy), host, port)


def _serve_day(
    console: Console,
    loop: LoopDemo,
    records: Path,
    key_policy: tuple[bytes, PolicySettings],
    host: str,
    port: int,
) -> None:
    """Keep the loop's day in a fresh SQLite store beside the records and serve it."""
    hash_key, policy = key_policy
    import shutil

    import uvicorn

    from telewarden.adapters.clock import SystemClock
    from telewarden.adapters.service_store import service_store_for, warning_store_for
    from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
    from telewarden.adapters.storage.sql import SqlStore
    from telewarden.api import ApiConfig, create_app
    from telewarden.services.context import AppContext
    from telewarden.services.demo_serve import ShiftedClock, create_logins, day_end, keep_day

    console.rule("[bold]5. The day in the console")
    home = records / "console"
    shutil.rmtree(home, ignore_errors=True)  # a fresh store each run: no case twice
    home.mkdir(parents=True)
    clock = ShiftedClock(day_end(loop), SystemClock())
    store = SqlStore.open(f"sqlite:///{home / 'telewarden.db'}", clock=clock)
    cases = SqlDisposalStore(store)
    kept = keep_day(
        loop, records=records, hash_key=hash_key, cases=cases,
        warnings=warning_store_for(store), screening=store, policy=policy,
    )  # fmt: skip
    logins = create_logins(service_store_for(store, clock), clock)
    console.print(
        f"kept in {home / 'telewarden.db'}: {kept.cards:,} cards, {kept.cases} cases "
        f"({kept.measures_in_force} measures in force, {kept.notices} notices), "
        f"{kept.warnings:,} warnings; the console's clock reads {clock.now():%Y-%m-%d %H:%M} UTC "
        "(the evening after the simulated day)",
        highlight=False,
    )
    ctx = AppContext(store=store, clock=clock, cases=cases, hash_key=hash_key)
    app = create_app(lambda: ctx, config=ApiConfig(access_log=False))
    # Plain lines (not Rich, which may wrap them): scripts and tests read the address and logins.
    print(f"console: http://{host}:{port}/console/  API: http://{host}:{port}/v1", flush=True)
    for login in logins:
        print(f"login: {login.username}  password: {login.password}  ({login.role})", flush=True)
    print("serving until Ctrl-C", flush=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
