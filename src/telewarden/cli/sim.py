"""`telewarden sim`: the synthetic carrier (issue #3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Generate synthetic carrier traffic with fraud campaigns and ground truth.")
