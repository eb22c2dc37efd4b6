"""`telewarden eval`: reproduce the published figures, on the project's data or a carrier's.

``eval numbers`` is defined here (the work is in ``telewarden.services.evaluation_numbers``);
``eval sms`` lives in ``telewarden.cli.sms`` and is imported only when it runs. ``eval numbers``
prints the figures, or writes them where ``--output`` says (Markdown, or JSON for a ``.json``
file); rewriting the block in ``docs/evaluation.md`` is release tooling
(``scripts/write_evaluation_numbers.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from telewarden.cli.lazy import LazyCommand, lazy_group
from telewarden.cli.progress import progress_bar
from telewarden.core.errors import InvalidInputError

LAZY_COMMANDS = (
    LazyCommand(
        "sms",
        "telewarden.cli.sms:eval_sms",
        "Reproduce the SMS evaluation figures (cross-validated) and print them.",
    ),
    LazyCommand(
        "adaptation",
        "telewarden.cli.eval_adaptation:eval_adaptation",
        "Recall on a new campaign after N reports, with precision on legitimate traffic held.",
    ),
    LazyCommand(
        "own-scorer",
        "telewarden.cli.eval_own_scorer:eval_own_scorer",
        "Precision, recall and flag share on the next day of a scorer trained on one day's outcomes.",
    ),
    LazyCommand(
        "adversaries",
        "telewarden.cli.eval_adversaries:eval_adversaries",
        "Harm (victims, losses) with and without the live loop, and cards burnt per victim.",
    ),
    LazyCommand(
        "warnings",
        "telewarden.cli.eval_warnings:eval_warnings",
        "Share of simulated victims warned before their loss, lead time, warnings per victim.",
    ),
)
"""Subcommands defined elsewhere, imported when they run."""

app = typer.Typer(
    help="Reproduce the published evaluation figures on your own data.",
    no_args_is_help=True,
    cls=lazy_group(LAZY_COMMANDS),
)
console = Console(stderr=True)
"""Progress goes to stderr so that stdout carries only the figures."""


@app.callback()
def _group() -> None:
    # A callback keeps `eval` a group: Typer would otherwise turn a Typer whose only eager
    # command is `numbers` into that command itself.
    pass


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"3,4,5"`` -> ``(3, 4, 5)``; anything else is invalid input."""
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise InvalidInputError(
            f"--sim-seeds: not a comma-separated list of integers: {text!r}"
        ) from None
    if not seeds:
        raise InvalidInputError("--sim-seeds: give at least one seed")
    return seeds


@app.command("numbers")
def numbers(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder holding sichuan/features.csv (and edges.csv).",
            envvar="TELEWARDEN_SHARED_DATA",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (.json: JSON, else Markdown)."),
    ] = None,
    folds: Annotated[int, typer.Option(help="Outer CV folds.")] = 5,
    cv_seed: Annotated[int, typer.Option(help="Seed of the outer CV split.")] = 0,
    sim_preset: Annotated[str, typer.Option(help="Simulator preset for time to detect.")] = "tiny",
    sim_seeds: Annotated[
        str,
        typer.Option(help="Comma-separated simulator seeds (rules were tuned on seeds 1 and 2)."),
    ] = "3,4,5",
    skip_sichuan: Annotated[bool, typer.Option(help="Only the simulator part.")] = False,
) -> None:
    """Reproduce the number-scoring and detection figures; print them or write --output."""
    from telewarden.services.evaluation_numbers import (
        NumbersEvaluation,
        evaluate_sichuan,
        evaluate_simulator,
    )

    seeds = parse_seeds(sim_seeds)
    if output is not None and not output.parent.is_dir():
        raise InvalidInputError(f"--output: no such folder {output.parent}")
    sichuan = None
    if not skip_sichuan:
        if data is None:
            raise InvalidInputError("give --data (or TELEWARDEN_SHARED_DATA), or --skip-sichuan")
        with progress_bar("sichuan CV", console) as progress:
            task = progress.add_task("cv", total=2 * folds)
            sichuan = evaluate_sichuan(
                data, folds=folds, seed=cv_seed, on_fold=lambda _: progress.advance(task)
            )
    with console.status("simulating and running detectors"):
        simulator = evaluate_simulator(sim_preset, seeds)
    result = NumbersEvaluation(simulator=simulator, sichuan=sichuan)
    if output is not None and output.suffix == ".json":
        text = json.dumps(result.to_dict(), indent=2) + "\n"
    else:
        text = result.to_markdown() + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    temporary = output.with_name(f".{output.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(output)
    console.print(f"-> {output}")
