"""Command groups that import a command's module only when that command runs.

Why: the command modules import Polars, PyArrow, pydantic-settings, the SMS model and (inside
commands) LightGBM; importing them all to print ``telewarden --help`` or to run one command cost
seconds. A :class:`LazyCommand` names the module and attribute of a command plus the one-line
help shown in the group's listing, so the listing needs no import and running ``telewarden sim``
imports only ``telewarden.cli.sim``. ``tests/cli/test_startup.py`` checks that every listed
help line matches the real command's.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

import typer
from typer.core import TyperGroup

try:  # Typer 0.29 vendors Click as typer._click; older releases use click itself
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError  # type: ignore[assignment]

Command = Any
"""A Click command as Typer builds it (``typer.core.TyperCommand`` or ``TyperGroup``)."""


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a subcommand lives and what the group's listing says about it."""

    name: str
    target: str
    """``module:attribute``: a ``typer.Typer`` (a command group) or a command function."""
    help: str
    """The one-line help of the listing; must equal the real command's first help line."""

    def load(self) -> Command:
        """Import the module and build the Click command."""
        module_name, attribute = self.target.split(":")
        obj = getattr(importlib.import_module(module_name), attribute)
        if isinstance(obj, typer.Typer):
            command = typer.main.get_command(obj)
        else:
            single = typer.Typer()
            single.command(self.name)(obj)
            command = typer.main.get_command(single)
        command.name = self.name
        return command


def lazy_group(commands: Sequence[LazyCommand]) -> type[TyperGroup]:
    """A ``TyperGroup`` class (for ``typer.Typer(cls=...)``) that loads ``commands`` on use."""
    by_name = {c.name: c for c in commands}

    class LazyGroup(TyperGroup):
        _listing = False
        _loaded: dict[str, Command]

        def list_commands(self, ctx: Any) -> list[str]:
            return [*by_name, *super().list_commands(ctx)]

        def get_command(self, ctx: Any, cmd_name: str) -> Command | None:
            eager = super().get_command(ctx, cmd_name)
            if eager is not None or cmd_name not in by_name:
                return eager
            entry = by_name[cmd_name]
            loaded = self.__dict__.setdefault("_loaded", {})
            if cmd_name in loaded:
                return loaded[cmd_name]
            if self._listing:
                return typer.core.TyperCommand(name=cmd_name, help=entry.help)
            loaded[cmd_name] = entry.load()
            return loaded[cmd_name]

        def resolve_command(self, ctx: Any, args: list[str]) -> Any:
            try:
                return super().resolve_command(ctx, args)
            except UsageError as error:
                # Typer suggests from the commands already built; offer the lazy ones too.
                matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
                if matches and "Did you mean" not in error.message:
                    names = ", ".join(repr(m) for m in matches)
                    error.message = f"{error.message.rstrip('.')}. Did you mean {names}?"
                raise

        def format_help(self, ctx: Any, formatter: Any) -> None:
            self._listing = True
            try:
                super().format_help(ctx, formatter)
            finally:
                self._listing = False

    return LazyGroup
