"""Load and save SMS model files: the shipped default from package data, or any path.

What belongs here: the on-disk format of :class:`telewarden.core.sms.classifier.SmsModel`.
A model file is a NumPy ``.npz`` archive (no pickle, so loading a file cannot run code) with
``coef`` and ``idf`` as sparse index/value pairs, ``intercept``, ``threshold`` and a JSON
``meta`` string holding the feature configuration and the provenance written into the model
card. The shipped file lives at ``telewarden/data/sms/default_model.npz``.
"""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from telewarden.core.errors import ConfigurationError, NotFoundError
from telewarden.core.sms.classifier import FeatureConfig, SmsModel

__all__ = [
    "DEFAULT_MODEL_RESOURCE",
    "FORMAT_VERSION",
    "load_default_model",
    "load_model",
    "save_model",
]

DEFAULT_MODEL_RESOURCE = "default_model.npz"
FORMAT_VERSION = 1
_cache: dict[str, SmsModel] = {}


def _sparse(vec: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    idx = np.flatnonzero(vec).astype(np.int32)
    return idx, vec[idx].astype(np.float32)


def save_model(model: SmsModel, path: Path | str) -> Path:
    """Write ``model`` to ``path`` (compressed ``.npz``) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = model.config.n_features
    idf_default = float(np.max(model.idf_))
    coef_idx, coef_val = _sparse(model.coef_)
    # Unseen features all share the largest idf; store only the others.
    idf_idx = np.flatnonzero(model.idf_ != idf_default).astype(np.int32)
    meta = {
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "n_features": n,
        "idf_default": idf_default,
        "meta": model.meta,
    }
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        coef_idx=coef_idx,
        coef_val=coef_val,
        idf_idx=idf_idx,
        idf_val=model.idf_[idf_idx].astype(np.float32),
        intercept=np.array([model.intercept_]),
        threshold=np.array([model.threshold_]),
        cjk_threshold=np.array([-1.0 if model.cjk_threshold_ is None else model.cjk_threshold_]),
        meta=np.array(json.dumps(meta, ensure_ascii=False)),
    )
    path.write_bytes(buf.getvalue())
    return path


def _from_bytes(data: bytes, source: str) -> SmsModel:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format_version") != FORMAT_VERSION:
                raise ConfigurationError(
                    f"{source}: model format {meta.get('format_version')} is not {FORMAT_VERSION}"
                )
            config = FeatureConfig.from_dict(meta["config"])
            n = int(meta["n_features"])
            coef = np.zeros(n, dtype=np.float32)
            coef[z["coef_idx"]] = z["coef_val"]
            idf = np.full(n, meta["idf_default"], dtype=np.float32)
            idf[z["idf_idx"]] = z["idf_val"]
            return SmsModel(
                config,
                coef,
                float(z["intercept"][0]),
                idf,
                float(z["threshold"][0]),
                dict(meta.get("meta", {})),
                cjk if (cjk := float(z["cjk_threshold"][0])) > 0 else None,
            )
    except ConfigurationError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"{source}: not a telewarden SMS model file ({exc})") from exc


def load_model(path: Path | str) -> SmsModel:
    """Load a model file written by :func:`save_model`.

    Raises
    ------
    NotFoundError
        When the file does not exist.
    ConfigurationError
        When the file is not a readable model of this format.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"SMS model file not found: {path}")
    return _from_bytes(path.read_bytes(), str(path))


def load_default_model() -> SmsModel:
    """Load (once per process) the model shipped in ``telewarden/data/sms``."""
    if DEFAULT_MODEL_RESOURCE not in _cache:
        res = resources.files("telewarden").joinpath("data", "sms", DEFAULT_MODEL_RESOURCE)
        if not res.is_file():
            raise ConfigurationError(
                "the shipped SMS model is missing from the package (telewarden/data/sms); "
                "reinstall or pass --model"
            )
        _cache[DEFAULT_MODEL_RESOURCE] = _from_bytes(res.read_bytes(), f"package:{res}")
    return _cache[DEFAULT_MODEL_RESOURCE]
