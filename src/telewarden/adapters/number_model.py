"""Loading and saving number-scorer models: the shipped default and carriers' own.

What belongs here: file I/O for :class:`telewarden.core.models.NumberScorer`. A model file is
the scorer's dictionary as gzip-compressed JSON (``*.json.gz``); the default model ships inside
the package under ``telewarden/data/numbers/`` and is read through ``importlib.resources`` so it
works from a wheel as well as from a checkout.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path
from typing import Any

from telewarden.core.errors import ConfigurationError
from telewarden.core.models.number_scorer import NumberScorer

DEFAULT_MODEL = "model.json.gz"
"""File name of the shipped default model inside ``telewarden/data/numbers/``."""


def _decode(blob: bytes, origin: str) -> NumberScorer:
    try:
        data: dict[str, Any] = json.loads(gzip.decompress(blob))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{origin}: not a telewarden number model ({exc})") from exc
    return NumberScorer.from_dict(data)


def load_default_model() -> NumberScorer:
    """The number scorer shipped with the package (trained on the Sichuan contest labels)."""
    resource = resources.files("telewarden").joinpath("data", "numbers", DEFAULT_MODEL)
    if not resource.is_file():
        raise ConfigurationError(f"the shipped model {DEFAULT_MODEL} is missing from the package")
    return _decode(resource.read_bytes(), f"package data {DEFAULT_MODEL}")


def load_model(path: Path | None = None) -> NumberScorer:
    """A model from ``path``, or the shipped default when ``path`` is ``None``."""
    if path is None:
        return load_default_model()
    if not path.is_file():
        raise ConfigurationError(f"no model file at {path}")
    return _decode(path.read_bytes(), str(path))


def save_model(scorer: NumberScorer, path: Path) -> Path:
    """Write ``scorer`` to ``path`` as gzip-compressed JSON; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = json.dumps(scorer.to_dict(), separators=(",", ":")).encode()
    # mtime=0 keeps the file byte-identical for the same model.
    path.write_bytes(gzip.compress(blob, compresslevel=9, mtime=0))
    return path
