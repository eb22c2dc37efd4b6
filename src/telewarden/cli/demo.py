"""`telewarden demo`: the main job on embedded defaults (README's first command).

It simulates a carrier day (or reuses one already simulated with the same preset and seed),
screens every call and SMS with the default policy, and prints what was stopped, what was
labelled and what got through, scored against the simulator's ground truth.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from telewarden.cli import sim as sim_cli
from telewarden.cli.progress import progress_bar
from telewarden.settings import load_settings

if TYPE_CHECKING:
    from telewarden.core.detectors.evaluation import DetectionResult
    from telewarden.core.screening import PolicySettings
    from telewarden.services.adaptive_replay import AdversaryReport
    from telewarden.services.demo import ChannelReport, DemoReport
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
    _render(console, report)
    console.rule("[bold]3. Finding fraud cards from behaviour (label-free detectors)")
    with progress_bar("detectors", console) as progress:
        task = progress.add_task("detect", total=count_rows(out / "calls.parquet"))
        result, detect_s = detect_cards(out, lambda n: progress.update(task, completed=n))
        progress.update(task, completed=progress.tasks[task].total)
    _render_detection(console, result, detect_s, report.calls.events)
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
    _render_loop(console, loop)
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
        _render_adversaries(console, adversaries)
    if as_json:
        extra = {} if adversaries is None else {"adaptive": _adversaries_json(adversaries)}
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


def _adversaries_json(report: AdversaryReport) -> dict[str, object]:
    return {
        "totals": report.totals().to_dicts(),
        "campaigns": report.summary().to_dicts(),
        "loop": {s.name: s.loop for s in report.scenarios},
    }


def _render_adversaries(console: Console, report: AdversaryReport) -> None:
    from telewarden.cli.eval_adversaries import render_totals

    render_totals(console, report, compact=True)


def _render_loop(console: Console, loop: LoopDemo) -> None:
    table = Table(
        title="Fraud traffic with the live loop against screening alone", title_justify="left"
    )
    for column in (
        "campaign",
        "fraud events",
        "delivered (screening alone)",
        "delivered (loop)",
        "calls after 1st detection",
        "of which blocked",
        "victims with loss",
        "exposure prevented",
        "warned before loss",
        "median min to measure",
    ):
        table.add_column(column, justify="left" if column == "campaign" else "right")
    for c in loop.report.campaigns:
        d = c.as_dict()
        table.add_row(
            c.kind,
            f"{c.fraud_events:,}",
            f"{c.delivered_screening_alone:,}",
            f"{c.delivered_with_loop:,}",
            f"{c.calls_after_first_detection:,}",
            f"{c.of_which_blocked:,}",
            f"{c.victims_with_loss:,}",
            f"{c.exposures_prevented:,}",
            f"{c.warned_before_loss:,}",
            "-" if d["median_minutes_to_measure"] is None else f"{d['median_minutes_to_measure']}",
        )
    console.print(table)
    totals = loop.report.totals()
    console.print(
        f"{loop.run.events:,} events through the loop in {loop.run.seconds:.1f} s "
        f"({totals['loop_events_per_second']:,} events/s): {loop.intake.cases_opened} cases, "
        f"{loop.intake.measures_in_force} measures in force, {loop.notices} notices, "
        f"{len(loop.run.warnings):,} warnings; legitimate events blocked "
        f"{totals['legitimate_blocked']:,} (subscribers {totals['legitimate_subscribers_blocked']})"
    )


def _median(values: list[int] | list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    mid = len(ordered) // 2
    value = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _render_detection(
    console: Console, result: DetectionResult, seconds: float, calls: int
) -> None:
    table = Table(title="Fraud cards found by the detectors", title_justify="left")
    for column in (
        "campaign",
        "cards",
        "detected",
        "recall %",
        "median attempts",
        "median minutes",
    ):
        table.add_column(column, justify="left" if column == "campaign" else "right")
    for kind, figures in sorted(result.per_kind.items()):
        if figures.cards == 0:
            continue
        recall = 100.0 * figures.detected / figures.cards
        table.add_row(
            kind,
            f"{figures.cards:,}",
            f"{figures.detected:,}",
            f"{recall:.0f}",
            _median(figures.attempts),
            _median(figures.minutes),
        )
    console.print(table)
    precision = result.true_flagged / result.flagged if result.flagged else 0.0
    console.print(
        f"[bold]Numbers flagged:[/] {result.flagged:,} (precision {precision:.1%}); "
        f"[bold]legitimate bulk callers flagged:[/] {result.legit_bulk_flagged} of {result.legit_bulk}; "
        f"{calls:,} calls replayed in {seconds:.1f} s."
    )


def _table(title: str, channel: ChannelReport, fraud_kinds: tuple[str, ...]) -> Table:
    from telewarden.services.demo import LEGIT_DOMESTIC, LEGIT_INTERNATIONAL

    table = Table(title=title, title_justify="left")
    for column in (
        "traffic (ground truth)",
        "events",
        "blocked",
        "labelled",
        "allowed",
        "blocked %",
    ):
        table.add_column(column, justify="left" if column.startswith("traffic") else "right")
    names = [str(k) for k in fraud_kinds] + [LEGIT_INTERNATIONAL, LEGIT_DOMESTIC]
    for name in names:
        c = channel.category(name)
        if c.events == 0:
            continue
        share = 100.0 * c.blocked / c.events
        table.add_row(
            name,
            f"{c.events:,}",
            f"{c.blocked:,}",
            f"{c.labelled:,}",
            f"{c.allowed:,}",
            f"{share:.1f}",
        )
    return table


def _render(console: Console, report: DemoReport) -> None:
    from telewarden.services.demo import (
        CALL_FRAUD_KINDS,
        LEGIT_DOMESTIC,
        LEGIT_INTERNATIONAL,
        SMS_FRAUD_KINDS,
    )

    calls, sms = report.calls, report.sms
    console.print(_table("Calls", calls, CALL_FRAUD_KINDS))
    console.print(_table("SMS", sms, SMS_FRAUD_KINDS))
    spoofed = calls.category("spoofed_cli")
    intl = calls.category(LEGIT_INTERNATIONAL)
    intl_sms = sms.category(LEGIT_INTERNATIONAL)
    domestic_fp = calls.category(LEGIT_DOMESTIC).blocked + sms.category(LEGIT_DOMESTIC).blocked
    cross_border_blocked = calls.reasons.get("cross_border_default_block", 0)
    console.print(
        f"[bold]Cross-border calls stopped by default:[/] {cross_border_blocked:,}   "
        f"[bold]spoofed calls stopped:[/] {spoofed.blocked:,} of {spoofed.events:,}   "
        f"[bold]opted-in cross-border calls labelled:[/] {intl.labelled:,} "
        f"(and {intl_sms.labelled:,} SMS; {report.opted_in_subscribers:,} subscribers opted in)"
    )
    domestic_labelled = (
        calls.category(LEGIT_DOMESTIC).labelled + sms.category(LEGIT_DOMESTIC).labelled
    )
    console.print(
        f"[bold]Legitimate domestic calls and SMS blocked (false positives):[/] {domestic_fp:,}; "
        f"labelled as suspect: {domestic_labelled:,}; "
        f"registered enterprise senders on the allow list: {report.registered_senders}"
    )
    from telewarden.services.screening import SIMULATED_TRAFFIC

    if report.content_inspection:
        console.print(f"content inspection on: {SIMULATED_TRAFFIC}")
    else:
        console.print(
            "SMS content inspection is off (legal gate or no model): SMS were screened on sender "
            "and metadata rules only; the demo opens the gate on its simulated traffic unless "
            "TELEWARDEN_CONTENT_INSPECTION=false closes it (remove that setting)."
        )
    screened = calls.events + sms.events
    decide_s = calls.decide_s + sms.decide_s
    console.print(
        f"{screened:,} events screened in {report.total_s:.1f} s end to end; "
        f"the policy itself ran at {screened / max(decide_s, 1e-9):,.0f} verdicts/s."
    )
