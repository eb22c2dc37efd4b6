"""Load and save SMS model files: the shipped default from package data, or any path.

What belongs here: the on-disk format of :class:`telewarden.core.sms.classifier.SmsModel`.
A model file is a NumPy ``.npz`` archive (no pickle, so loading a file cannot run code) with
``coef`` and ``idf`` as sparse index/value pairs, ``intercept``, ``threshold`` and a JSON
``meta`` string holding the feature configuration and the provenance written into the model
card. The shipped file lives at ``telewarden/data/sms/default_model.npz``.

Format 2 adds ``sha256``: the SHA-256 of the ``meta`` text and of every array's bytes, in
:data:`_ARRAYS` order. Before NumPy reads an array, the archive's entry names and declared
sizes are checked (no entry over its bound, so a zip bomb is refused unread); after, every
array's type, shape and index range, then the checksum. Format 1 files (no ``sha256``) are read
after the same checks, without a checksum (see :mod:`telewarden.adapters.model_files`).
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from telewarden.adapters.files.output import atomic_file
from telewarden.adapters.model_files import MAX_DECOMPRESSED_BYTES, sha256_of
from telewarden.core.errors import ConfigurationError, NotFoundError
from telewarden.core.sms.classifier import FeatureConfig, SmsModel

__all__ = [
    "DEFAULT_MODEL_RESOURCE",
    "FORMAT_VERSION",
    "load_default_model",
    "load_model",
    "load_model_bytes",
    "save_model",
]

DEFAULT_MODEL_RESOURCE = "default_model.npz"
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, FORMAT_VERSION)
_ARRAYS = (
    "coef_idx",
    "coef_val",
    "idf_idx",
    "idf_val",
    "intercept",
    "threshold",
    "cjk_threshold",
)
MAX_FEATURES = 1 << 24
"""More hashed features than any configuration uses (2**20 by default)."""
_cache: dict[str, SmsModel] = {}


def _sparse(vec: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    idx = np.flatnonzero(vec).astype(np.int32)
    return idx, vec[idx].astype(np.float32)


def save_model(model: SmsModel, path: Path | str) -> Path:
    """Write ``model`` to ``path`` (compressed ``.npz``) and return the path."""
    path = Path(path)
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
    arrays = {
        "coef_idx": coef_idx,
        "coef_val": coef_val,
        "idf_idx": idf_idx,
        "idf_val": model.idf_[idf_idx].astype(np.float32),
        "intercept": np.array([model.intercept_]),
        "threshold": np.array([model.threshold_]),
        "cjk_threshold": np.array([-1.0 if model.cjk_threshold_ is None else model.cjk_threshold_]),
    }
    meta_text = json.dumps(meta, ensure_ascii=False)
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        **arrays,  # type: ignore[arg-type]  # numpy's stub types **kwds too narrowly
        meta=np.array(meta_text),
        sha256=np.array(_checksum(meta_text, arrays)),
    )
    with atomic_file(path, "wb") as handle:
        handle.write(buf.getvalue())
    return path


def _checksum(meta_text: str, arrays: dict[str, np.ndarray[Any, Any]]) -> str:
    return sha256_of(
        [meta_text.encode()] + [np.ascontiguousarray(arrays[name]).tobytes() for name in _ARRAYS]
    )


def _check_archive(data: bytes, source: str) -> None:
    """Entry names and declared sizes, read from the zip directory before any entry is."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ConfigurationError(f"{source}: not a model archive ({exc})") from exc
    names = {info.filename.removesuffix(".npy") for info in infos}
    missing = {*_ARRAYS, "meta"} - names
    if missing:
        raise ConfigurationError(f"{source}: model archive lacks {', '.join(sorted(missing))}")
    unknown = names - {*_ARRAYS, "meta", "sha256"}
    if unknown:
        raise ConfigurationError(
            f"{source}: model archive has unknown {', '.join(sorted(unknown))}"
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_DECOMPRESSED_BYTES:
        raise ConfigurationError(
            f"{source}: model archive declares {total} bytes, more than {MAX_DECOMPRESSED_BYTES}"
        )


def _check_arrays(arrays: dict[str, np.ndarray[Any, Any]], n: int, source: str) -> None:
    if not 0 < n <= MAX_FEATURES:
        raise ConfigurationError(f"{source}: n_features {n} outside 1..{MAX_FEATURES}")
    for idx, val in (("coef_idx", "coef_val"), ("idf_idx", "idf_val")):
        index, values = arrays[idx], arrays[val]
        if index.ndim != 1 or values.ndim != 1 or index.shape != values.shape:
            raise ConfigurationError(f"{source}: {idx} and {val} differ in shape")
        if index.dtype.kind not in "iu" or values.dtype.kind != "f":
            raise ConfigurationError(f"{source}: {idx}/{val} have the wrong types")
        if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
            raise ConfigurationError(f"{source}: {idx} out of range 0..{n - 1}")
        if not np.all(np.isfinite(values)):
            raise ConfigurationError(f"{source}: {val} holds NaN or infinity")
    for name in ("intercept", "threshold", "cjk_threshold"):
        value = arrays[name]
        if value.shape != (1,) or value.dtype.kind != "f" or not np.isfinite(value[0]):
            raise ConfigurationError(f"{source}: {name} is not one finite number")


def _from_bytes(data: bytes, source: str) -> SmsModel:
    _check_archive(data, source)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta_text = str(z["meta"])
            meta = json.loads(meta_text)
            version = meta.get("format_version")
            if version not in _READABLE_VERSIONS:
                raise ConfigurationError(
                    f"{source}: model format {version} is not one of {_READABLE_VERSIONS}"
                )
            arrays = {name: z[name] for name in _ARRAYS}
            stored = str(z["sha256"]) if "sha256" in z.files else None
        n = int(meta["n_features"])
        _check_arrays(arrays, n, source)
        if version >= 2 and stored != _checksum(meta_text, arrays):
            raise ConfigurationError(f"{source}: checksum mismatch (the file is damaged)")
        config = FeatureConfig.from_dict(meta["config"])
        coef = np.zeros(n, dtype=np.float32)
        coef[arrays["coef_idx"]] = arrays["coef_val"]
        idf = np.full(n, meta["idf_default"], dtype=np.float32)
        idf[arrays["idf_idx"]] = arrays["idf_val"]
        return SmsModel(
            config,
            coef,
            float(arrays["intercept"][0]),
            idf,
            float(arrays["threshold"][0]),
            dict(meta.get("meta", {})),
            cjk if (cjk := float(arrays["cjk_threshold"][0])) > 0 else None,
        )
    except ConfigurationError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
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


def load_model_bytes(data: bytes, origin: str) -> SmsModel:
    """A model from the bytes of a model file (already read, e.g. checksum-checked by the registry).

    Raises
    ------
    ConfigurationError
        When ``data`` is not a readable model of this format (``origin`` names it).
    """
    return _from_bytes(data, origin)


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
