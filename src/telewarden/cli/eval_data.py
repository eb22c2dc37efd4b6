"""What the `telewarden eval` commands over a data folder share: the folder's option and
checks, and the JSON file of figures written with ``--output``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from telewarden.core.errors import InvalidInputError

__all__ = ["data_option", "output_option", "require_data", "write_json"]


def data_option(holding: str) -> Any:
    """``--data``: the folder holding ``holding``, by default ``TELEWARDEN_SHARED_DATA``."""
    return typer.Option(
        envvar="TELEWARDEN_SHARED_DATA",
        help=f"Data folder holding {holding} [env: TELEWARDEN_SHARED_DATA].",
        show_envvar=False,
    )


def output_option() -> Any:
    """``--output``/``-o``: also write the figures as JSON there."""
    return typer.Option("--output", "-o", help="Also write the figures as JSON here.")


def require_data(data: Path | None, folds: int) -> Path:
    """The data folder; a clear error without one or with fewer than two folds."""
    if data is None:
        raise InvalidInputError("no data folder: pass --data or set TELEWARDEN_SHARED_DATA")
    if folds < 2:
        raise InvalidInputError(f"--folds must be at least 2, not {folds}")
    return data


def write_json(path: Path, figures: dict[str, object]) -> None:
    """Write the figures as JSON through a temporary file and a rename."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", "utf-8")
        os.replace(temp, path)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        temp.unlink(missing_ok=True)
