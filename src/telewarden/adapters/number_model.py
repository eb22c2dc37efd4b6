"""Loading and saving number-scorer models: the shipped default and carriers' own.

What belongs here: file I/O for :class:`telewarden.core.models.NumberScorer`. A model file is
the scorer's dictionary as gzip-compressed JSON (``*.json.gz``); the default model ships inside
the package under ``telewarden/data/numbers/`` and is read through ``importlib.resources`` so it
works from a wheel as well as from a checkout.

File format 2 wraps the scorer's dictionary in an envelope ``{"file_format", "file_version",
"sha256", "model"}``; ``sha256`` is taken over the model dictionary serialised canonically
(sorted keys, no spaces). Before LightGBM parses a booster, the file is checked: decompressed
size bounded, envelope and checksum, every field's type, and each booster's text complete
(a truncated LightGBM model string aborts the process natively). Files without the envelope
(written before format 2) are read after the same field checks, without a checksum; see
:mod:`telewarden.adapters.model_files`.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path
from typing import Any

from telewarden.adapters.files.output import atomic_file
from telewarden.adapters.model_files import gunzip_bounded, sha256_of
from telewarden.core.errors import ConfigurationError
from telewarden.core.models.number_scorer import NumberScorer

DEFAULT_MODEL = "model.json.gz"
"""File name of the shipped default model inside ``telewarden/data/numbers/``."""


FILE_FORMAT = "telewarden-number-model-file"
FILE_VERSION = 2


def _canonical(model: dict[str, Any]) -> bytes:
    return json.dumps(model, separators=(",", ":"), sort_keys=True).encode()


def _check_booster(text: object, name: str, origin: str) -> None:
    if not isinstance(text, str) or not text.startswith("tree\n"):
        raise ConfigurationError(f"{origin}: {name} is not a LightGBM model")
    if "end of trees" not in text or "end of parameters" not in text:
        raise ConfigurationError(f"{origin}: {name} is truncated (no end of trees/parameters)")


def _check_fields(model: object, origin: str) -> dict[str, Any]:
    """The model dictionary when every field has its type; else ConfigurationError."""
    if not isinstance(model, dict):
        raise ConfigurationError(f"{origin}: the model is not a JSON object")
    expected: dict[str, type | tuple[type, ...]] = {
        "format": str,
        "key": str,
        "feature_names": list,
        "graph": bool,
        "params": dict,
        "num_boost_round": int,
        "platt": list,
        "threshold": (int, float),
        "booster": str,
    }
    for name, kind in expected.items():
        if not isinstance(model.get(name), kind):
            raise ConfigurationError(f"{origin}: field {name!r} is missing or of the wrong type")
    names = model["feature_names"]
    if not names or len(names) > 10_000 or not all(isinstance(n, str) for n in names):
        raise ConfigurationError(f"{origin}: feature_names must be 1 to 10000 strings")
    if len(model["platt"]) != 2:
        raise ConfigurationError(f"{origin}: platt must hold two numbers")
    _check_booster(model["booster"], "booster", origin)
    if model.get("forest"):
        _check_booster(model["forest"], "forest", origin)
        if not isinstance(model.get("blend"), list) or len(model["blend"]) != 4:
            raise ConfigurationError(f"{origin}: blend must hold four numbers")
    return model


def _verified(blob: bytes, origin: str) -> dict[str, Any]:
    """The model dictionary of a file, envelope and checksum checked; no booster parsed."""
    text = gunzip_bounded(blob, f"{origin}: not a telewarden number model")
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"{origin}: not a telewarden number model ({exc})") from exc
    if isinstance(data, dict) and "file_version" in data:
        if data.get("file_format") != FILE_FORMAT or data.get("file_version") != FILE_VERSION:
            raise ConfigurationError(
                f"{origin}: model file format {data.get('file_format')!r} version "
                f"{data.get('file_version')!r} is not {FILE_FORMAT} {FILE_VERSION}"
            )
        model = _check_fields(data.get("model"), origin)
        if sha256_of([_canonical(model)]) != data.get("sha256"):
            raise ConfigurationError(f"{origin}: checksum mismatch (the file is damaged)")
    else:  # written before format 2: checked field by field, no checksum
        model = _check_fields(data, origin)
    return model


def _decode(blob: bytes, origin: str) -> NumberScorer:
    model = _verified(blob, origin)
    try:
        return NumberScorer.from_dict(model)
    except ConfigurationError:
        raise
    except Exception as exc:  # LightGBM and the field casts raise many kinds
        raise ConfigurationError(f"{origin}: unusable number model ({exc})") from exc


def load_model_bytes(data: bytes, origin: str) -> NumberScorer:
    """A scorer from the bytes of a model file (already read, e.g. checksum-checked by the registry)."""
    return _decode(data, origin)


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


def load_model_meta(path: Path | None = None) -> dict[str, Any]:
    """The ``meta`` block of a model file (what it was trained on, its measured figures).

    The file is checked as :func:`load_model` does (envelope, checksum, fields); the shipped
    model and files written without a ``meta`` block give an empty dictionary.
    """
    if path is None:
        return {}
    if not path.is_file():
        raise ConfigurationError(f"no model file at {path}")
    meta = _verified(path.read_bytes(), str(path)).get("meta")
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ConfigurationError(f"{path}: field 'meta' is not an object")
    return meta


def save_model(scorer: NumberScorer, path: Path) -> Path:
    """Write ``scorer`` to ``path`` as gzip-compressed JSON; returns the path."""
    return save_dict(scorer.to_dict(), path)


def save_dict(model: dict[str, Any], path: Path) -> Path:
    """Write a scorer's dictionary in file format 2 (envelope with checksum), atomically."""
    envelope = {
        "file_format": FILE_FORMAT,
        "file_version": FILE_VERSION,
        "sha256": sha256_of([_canonical(model)]),
        "model": model,
    }
    blob = json.dumps(envelope, separators=(",", ":")).encode()
    with atomic_file(path, "wb") as handle:
        # mtime=0 keeps the file byte-identical for the same model.
        handle.write(gzip.compress(blob, compresslevel=9, mtime=0))
    return path
