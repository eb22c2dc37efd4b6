"""The ``telewarden`` command: registers every command group and renders errors once.

Error rendering (see ``telewarden.core.errors``): invalid input exits 2, not-found and conflict
exit 1, configuration problems exit 3; each prints one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from telewarden._version import __version__
from telewarden.cli.lazy import LazyCommand, lazy_group
from telewarden.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TelewardenError,
)

# Each command's module is imported only when the command runs (see telewarden.cli.lazy), so
# `telewarden --help` and a command that trains or scores nothing load no model library. The
# help lines are the commands' own; tests/cli/test_startup.py holds them equal.
COMMANDS = (
    LazyCommand(
        "screen", "telewarden.cli.screen:app", "Screen one call, one SMS, or a file of events."
    ),
    LazyCommand(
        "optin",
        "telewarden.cli.optin:app",
        "Subscribers' opt-ins to cross-border calls and SMS (blocked by default).",
    ),
    LazyCommand(
        "lists", "telewarden.cli.lists:app", "Deny and allow lists of numbers and prefixes."
    ),
    LazyCommand("policy", "telewarden.cli.policy:app", "Show and change the screening policy."),
    LazyCommand(
        "sim",
        "telewarden.cli.sim:sim",
        "Simulate a carrier and write calls, SMS, usage, subscribers, accounts and ground truth.",
    ),
    LazyCommand(
        "sms",
        "telewarden.cli.sms:app",
        "Classify SMS content, explain verdicts, retrain the model.",
    ),
    LazyCommand(
        "numbers",
        "telewarden.cli.numbers:app",
        "Behaviour features, scoring and explanations for numbers.",
    ),
    LazyCommand(
        "eval",
        "telewarden.cli.eval:app",
        "Reproduce the published evaluation figures on your own data.",
    ),
    LazyCommand(
        "detect",
        "telewarden.cli.detect:detect",
        "Run signals, features, the scorer and the rule detectors.",
    ),
    LazyCommand(
        "demo",
        "telewarden.cli.demo:demo",
        "Simulate a carrier day, screen every call and SMS, and print what was stopped.",
    ),
    LazyCommand(
        "run",
        "telewarden.cli.run:app",
        "The live loop: screen, detect, dispose and warn in event time.",
    ),
    LazyCommand("decisions", "telewarden.cli.decisions:app", "Retention of the decision log."),
    LazyCommand(
        "privacy",
        "telewarden.cli.privacy:app",
        "Keys of the hashed subscriber numbers in the logs.",
    ),
    LazyCommand(
        "cases", "telewarden.cli.cases:app", "Disposal cases: flags, measures, decisions, appeals."
    ),
    LazyCommand(
        "measures", "telewarden.cli.measures:app", "Graded measures on cards and their approval."
    ),
    LazyCommand(
        "accounts", "telewarden.cli.cascade:accounts_app", "Internet accounts linked to numbers."
    ),
    LazyCommand(
        "cascade",
        "telewarden.cli.cascade:app",
        "Notify platforms of linked accounts (signed webhooks).",
    ),
    LazyCommand("audit", "telewarden.cli.audit:app", "The tamper-evident audit log."),
    LazyCommand(
        "credit",
        "telewarden.cli.credit:app",
        "ID documents: cards per ID, sale check, credit list.",
    ),
    LazyCommand("police", "telewarden.cli.police:app", "Police referral packets and feedback."),
    LazyCommand(
        "reports",
        "telewarden.cli.reports:app",
        "Subscriber reports, analysts' labels and case outcomes.",
    ),
    LazyCommand(
        "models",
        "telewarden.cli.models:app",
        "Model versions: register, shadow-score, promote, roll back, watch drift.",
    ),
    LazyCommand(
        "warn", "telewarden.cli.warn:app", "Warn the subscribers exposed to flagged fraud numbers."
    ),
    LazyCommand(
        "serve",
        "telewarden.cli.serve:serve",
        "Serve the REST API and the console (health at /v1/health, OpenAPI at /openapi.json).",
    ),
    LazyCommand("users", "telewarden.cli.serve:users", "People who log in to the API and console."),
    LazyCommand("keys", "telewarden.cli.serve:keys", "Integrators' API keys (screening only)."),
    LazyCommand(
        "batch",
        "telewarden.cli.batch:app",
        "The nightly batch job: features, contact graph and scores, embedded or on Spark.",
    ),
)

app = typer.Typer(
    name="telewarden",
    help="Screen calls and SMS, find fraud cards, and warn the people they target.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=lazy_group(COMMANDS),
)


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
