"""The ``telewarden`` command: registers every command group and renders errors once.

Error rendering (see ``telewarden.core.errors``): invalid input exits 2, not-found and conflict
exit 1, configuration problems exit 3; each prints one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from telewarden._version import __version__
from telewarden.cli import batch, demo, eval, lists, numbers, optin, policy, screen, sim, sms
from telewarden.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TelewardenError,
)

app = typer.Typer(
    name="telewarden",
    help="Screen calls and SMS, find fraud cards, and warn the people they target.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(screen.app, name="screen")
app.add_typer(optin.app, name="optin")
app.add_typer(lists.app, name="lists")
app.add_typer(policy.app, name="policy")
app.command("sim")(sim.sim)
app.add_typer(sms.app, name="sms")
app.add_typer(numbers.app, name="numbers")
app.add_typer(eval.app, name="eval")
app.command("detect")(numbers.detect)
app.command("demo")(demo.demo)
app.add_typer(batch.app, name="batch")


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


_EXIT_CODES: list[tuple[type[TelewardenError], int]] = [
    (InvalidInputError, 2),
    (NotFoundError, 1),
    (ConflictError, 1),
    (ConfigurationError, 3),
]


def main() -> None:
    """Run the CLI, turning telewarden errors into one-line messages and exit codes."""
    try:
        app(standalone_mode=True)
    except TelewardenError as exc:
        code = next((c for kind, c in _EXIT_CODES if isinstance(exc, kind)), 1)
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(code)


if __name__ == "__main__":
    main()
