"""`telewarden policy`: see issue #2 (foundation and real-time screening)."""

from __future__ import annotations

import typer

app = typer.Typer(help="policy commands.", no_args_is_help=True)
