"""`telewarden sms`: scam-SMS classification, fraud types and indicators (issue #4)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Classify SMS content, explain verdicts, retrain the model.", no_args_is_help=True
)


def eval_sms() -> None:
    """Reproduce the SMS evaluation figures and write them into docs/evaluation.md."""
    raise typer.BadParameter("not implemented yet (issue #4)")
