"""`telewarden eval`: reproduce every published figure of the project."""

from __future__ import annotations

import typer

from telewarden.cli import eval_warnings, numbers, sms

app = typer.Typer(
    help="Reproduce evaluation figures into docs/evaluation.md.", no_args_is_help=True
)
app.command("sms")(sms.eval_sms)
app.command("numbers")(numbers.eval_numbers)
app.command("warnings")(eval_warnings.eval_warnings)
