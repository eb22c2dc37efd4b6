"""`telewarden numbers` and `telewarden detect`: fraud-card detection (issue #5)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Behaviour features, scoring and explanations for numbers.", no_args_is_help=True
)


def detect() -> None:
    """Run features, scorer and rule detectors over simulator output."""
    raise typer.BadParameter("not implemented yet (issue #5)")


def eval_numbers() -> None:
    """Reproduce the number-scoring evaluation figures and write them into docs/evaluation.md."""
    raise typer.BadParameter("not implemented yet (issue #5)")
