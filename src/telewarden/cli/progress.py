"""The one progress bar every long-running command shows: label, bar, done/total, elapsed."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def progress_bar(label: str, console: Console, *, transient: bool = False) -> Progress:
    """A Rich progress bar with the project's columns, for ``with progress_bar(...) as p:``."""
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )
