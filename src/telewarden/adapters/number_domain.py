"""Where the training distributions of number models are stored (the domain check's reference).

What belongs here: reading the shipped model's profile (``telewarden/data/numbers/domain.json``,
the Sichuan training features' deciles, written by ``scripts/write_number_domain.py``) and the
profile a carrier's own model carries in its ``meta`` block (written by ``numbers train``), and
writing a profile file. The arithmetic is :mod:`telewarden.core.features.domain`.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from telewarden.adapters.files.output import atomic_file
from telewarden.adapters.number_model import load_model_meta
from telewarden.core.errors import ConfigurationError
from telewarden.core.features.domain import DomainProfile

SHIPPED_PROFILE = "domain.json"
"""File name of the shipped model's profile inside ``telewarden/data/numbers/``."""


def _parse(text: str | bytes, origin: str) -> DomainProfile:
    try:
        return DomainProfile.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"{origin}: not a domain profile ({exc})") from exc


def load_shipped_profile() -> DomainProfile:
    """The training distribution of the shipped (Sichuan-trained) model."""
    resource = resources.files("telewarden").joinpath("data", "numbers", SHIPPED_PROFILE)
    if not resource.is_file():
        raise ConfigurationError(f"the shipped profile {SHIPPED_PROFILE} is missing")
    return _parse(resource.read_bytes(), f"package data {SHIPPED_PROFILE}")


def load_profile(model: Path | None) -> DomainProfile | None:
    """The profile of ``model`` (None: the shipped model); None when the file carries none."""
    if model is None:
        return load_shipped_profile()
    meta = load_model_meta(model)
    if "domain" not in meta:
        return None
    return _parse(json.dumps(meta["domain"]), f"{model}: meta.domain")


def save_profile(profile: DomainProfile, path: Path) -> Path:
    """Write ``profile`` as JSON (temporary file, then rename)."""
    with atomic_file(path, "w") as handle:
        json.dump(profile.to_dict(), handle, separators=(",", ":"))
        handle.write("\n")
    return path
