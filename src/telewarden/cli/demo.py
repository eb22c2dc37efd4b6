"""`telewarden demo`: the main job on embedded defaults (README's first command)."""

from __future__ import annotations

import typer


def demo() -> None:
    """Generate sample traffic, screen it and print the verdict summary."""
    raise typer.BadParameter("not implemented yet (issue #2)")
