"""`telewarden eval warnings`: early warning scored against the simulator's victims (issue #14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from telewarden.cli.common import stderr, stdout

if TYPE_CHECKING:
    from telewarden.core.warning.evaluation import WarningEvaluation


def eval_warnings(
    preset: Annotated[str, typer.Option(help="Simulator preset.")] = "day",
    seeds: Annotated[
        str,
        typer.Option(
            help="Comma-separated seeds (defaults were set on seeds 1 and 7: avoid them)."
        ),
    ] = "21,22",
    hours: Annotated[int | None, typer.Option(min=1, help="Override the preset's hours.")] = None,
    records: Annotated[
        Path | None, typer.Option(help="Score this `telewarden sim` folder instead of simulating.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Share of simulated victims warned before their loss, lead time, warnings per victim."""
    from telewarden.core.errors import InvalidInputError
    from telewarden.services.warning import SeedEvaluation, evaluate_warnings_on_simulator

    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError as exc:
        raise InvalidInputError(f"seeds must be comma-separated integers: {seeds!r}") from exc
    if not seed_list:
        raise InvalidInputError("give at least one seed")
    err = stderr()

    def progress(result: SeedEvaluation) -> None:
        e = result.evaluation
        err.print(
            f"seed {result.seed}: {e.warned_before_loss}/{e.victims_with_loss} warned before "
            f"the loss, {e.warnings_sent} warnings, {result.duration_s:.0f} s"
        )

    with err.status(f"simulating {preset} and warning, seeds {seed_list}"):
        report = evaluate_warnings_on_simulator(
            seed_list, preset_name=preset, hours=hours, records=records, on_seed=progress
        )
    if as_json:
        out = report.pooled.as_dict()
        out["preset"] = preset if records is None else str(records)
        out["seeds"] = [r.seed for r in report.seeds]
        out["tuning_seeds"] = list(report.tuning_seeds)
        out["per_seed"] = {
            str(r.seed): {
                "victims_with_loss": r.evaluation.victims_with_loss,
                "warned_before_loss": r.evaluation.warned_before_loss,
                "median_lead_minutes": r.evaluation.median_lead_minutes,
                "warnings_sent": r.evaluation.warnings_sent,
            }
            for r in report.seeds
        }
        typer.echo(json.dumps(out, indent=2))
        return
    _render(report.pooled, [r.seed for r in report.seeds], report.tuning_seeds)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _render(e: WarningEvaluation, seeds: list[int], tuning: tuple[int, ...]) -> None:
    from rich.table import Table

    console = stdout()
    per_victim = e.warnings_per_victim_in_time
    console.print(
        f"seeds {seeds} (defaults set on seeds {list(tuning)}): "
        f"{e.warned_before_loss}/{e.victims_with_loss} victims with a loss warned before it "
        f"({e.share_warned_before_loss:.1%}); lead median {_fmt(e.median_lead_minutes)} min, "
        f"p10 {_fmt(e.p10_lead_minutes)} min"
    )
    console.print(
        f"{e.warnings_sent:,} warnings sent, "
        f"{'-' if per_victim is None else f'{per_victim:.1f}'} per victim warned in time; "
        f"warned never exposed {e.warned_never_exposed}; about a non-fraud number "
        f"{e.warned_not_fraud}; warned twice for one campaign {e.duplicates_per_campaign}; "
        f"exposed victims warned {e.victims_warned}/{e.victims_exposed}"
    )
    table = Table(title="By campaign kind")
    for column in ("kind", "victims with loss", "warned before", "share", "lead median", "p10"):
        table.add_column(column, justify="right" if column != "kind" else "left")
    table.add_column("warnings", justify="right")
    for k in e.by_kind:
        table.add_row(
            k.kind,
            str(k.victims_with_loss),
            str(k.warned_before_loss),
            f"{k.share:.0%}" if k.victims_with_loss else "-",
            _fmt(k.median_lead_minutes),
            _fmt(k.p10_lead_minutes),
            f"{k.warnings_sent:,}",
        )
    console.print(table)
    signals = Table(title="Loss rate by first signal (subscriber, fraud number) pairs")
    signals.add_column("signal")
    signals.add_column("pairs", justify="right")
    signals.add_column("lost money", justify="right")
    for signal, figures in e.loss_rate_by_signal.items():
        signals.add_row(signal, f"{int(figures['pairs']):,}", f"{figures['loss_rate']:.2%}")
    console.print(signals)
