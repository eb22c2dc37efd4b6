"""Native code for the number scorer's tree ensembles, compiled once per model and cached.

What belongs here: turning each LightGBM member of a
:class:`~telewarden.core.models.number_scorer.NumberScorer` into machine code with ``lleaves``
(an LLVM compiler for LightGBM text models, from PyPI), caching the object code beside the model
file, checking a cached object before use and attaching the compiled predictors to the scorer.
Scores only: contributions (TreeSHAP) still come from LightGBM.

The cache holds only objects built on this machine by :func:`compile_scorer` (nothing is
shipped): each member's object ``<key>.<member>.o`` has a sidecar ``<key>.<member>.json`` with
its SHA-256. The key is the SHA-256 of the member's LightGBM text, the lleaves and llvmlite
versions and the host CPU (name and features), so a retrained model, an upgraded compiler or
another CPU never picks up a stale object. Before a compiled member is handed over, its raw
scores on probe rows (zeros, missing values, the model's own split thresholds and values just
either side of them) must equal LightGBM's within ``TOLERANCE``; otherwise ConfigurationError.

The shipped model's cache sits beside it in the package (``model.json.gz.compiled/``) when the
package folder is writable, else in ``$XDG_CACHE_HOME/telewarden/compiled`` (``~/.cache``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from telewarden.core.errors import ConfigurationError
from telewarden.core.models.number_scorer import NumberScorer

TOLERANCE = 1e-9
"""Largest difference allowed between compiled and LightGBM raw scores on the probe rows."""

ZERO_THRESHOLD = 1.0000000180025095e-35
"""LightGBM's ``kZeroThreshold`` (the float 1e-35): smaller magnitudes are read as zero."""

MEMBERS = ("booster", "forest")
CACHE_FORMAT = "telewarden-compiled-trees/1 no-inline sum"

FloatArray = npt.NDArray[np.float64]


def default_cache_dir(model: Path | None) -> Path:
    """Where a model's compiled members are cached: beside the file, else the user cache."""
    if model is not None:
        beside = model.parent
    else:
        beside = Path(str(resources.files("telewarden").joinpath("data", "numbers")))
        model = beside / "model.json.gz"
    if os.access(beside, os.W_OK):
        return beside / f"{model.name}.compiled"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "telewarden" / "compiled"


def _versions() -> str:
    return f"lleaves {metadata.version('lleaves')}; llvmlite {metadata.version('llvmlite')}"


def _host() -> str:
    import llvmlite.binding as llvm

    llvm.initialize()
    llvm.initialize_native_target()
    try:
        features = llvm.get_host_cpu_features().flatten()
    except RuntimeError:
        features = ""
    return f"{llvm.get_process_triple()} {llvm.get_host_cpu_name()} {features}"


def member_key(text: str) -> str:
    """Cache key of one member: its LightGBM text, the compiler versions and the host CPU."""
    blob = "\n".join([CACHE_FORMAT, _versions(), _host(), text]).encode()
    return hashlib.sha256(blob).hexdigest()


def probe_rows(text: str, features: int, seed: int = 0) -> FloatArray:
    """Rows that walk every kind of branch: each split threshold, just either side, NaN, 0.

    Row ``r`` takes, for each feature, one of that feature's thresholds in the model (nudged
    down, kept or nudged up by one ulp-scale step), a missing value or zero, so the probe
    crosses the decision boundaries where a wrong comparison would show.
    """
    rng = np.random.default_rng(seed)
    thresholds: list[list[float]] = [[] for _ in range(features)]
    for block in text.split("\nTree=")[1:]:
        found = re.search(r"^split_feature=(.*)$", block, re.M)
        bounds = re.search(r"^threshold=(.*)$", block, re.M)
        if not found or not bounds or not found.group(1):
            continue
        for f, t in zip(found.group(1).split(), bounds.group(1).split(), strict=True):
            if np.isfinite(float(t)):
                thresholds[int(f)].append(float(t))
    rows = 512
    x = rng.standard_normal((rows, features)) * 10.0
    for j, values in enumerate(thresholds):
        if values:
            picks = np.asarray(values)[rng.integers(0, len(values), rows)]
            side = rng.integers(-1, 2, rows).astype(np.float64)
            x[:, j] = picks + side * np.maximum(np.abs(picks), 1.0) * 1e-12
    x[rng.random((rows, features)) < 0.08] = np.nan
    x[rng.random((rows, features)) < 0.05] = 0.0
    return np.ascontiguousarray(x, dtype=np.float64)


@dataclass
class CompiledMember:
    """One compiled member: ``predict(x, threads)`` gives LightGBM's raw score of each row."""

    model: Any  # lleaves.Model, compiled
    object_path: Path

    def predict(self, x: FloatArray, threads: int) -> FloatArray:
        tiny = (np.abs(x) <= ZERO_THRESHOLD) & (x != 0)
        if tiny.any():  # LightGBM skips such values when it reads a dense row: they are 0
            x = np.where(tiny, 0.0, x)
        return np.asarray(self.model.predict(x, n_jobs=max(threads, 1)), dtype=np.float64)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _lleaves_model(text: str, cache: Path) -> Any:
    """An lleaves model of ``text`` compiled against the object file ``cache``.

    Two differences from LightGBM's own predictor are undone here and in
    :meth:`CompiledMember.predict`: LightGBM's raw score of a random forest (``rf`` mode,
    ``average_output``) is the sum over the trees, not the average lleaves would compute, so the
    flag is dropped before compiling; and LightGBM reads a value within ``ZERO_THRESHOLD`` of 0
    as 0. Cross-function inlining is off: on the 300 deep forest trees it took minutes and
    gigabytes to compile, and off, compiling takes seconds for the same speed class.
    """
    import lleaves

    plain = re.sub(r"^average_output$\n", "", text, count=1, flags=re.M)
    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "model.txt"
        model_file.write_text(plain)
        model = lleaves.Model(model_file=str(model_file))
        model.compile(cache=str(cache), raw_score=True, finline=False)
    return model


def _build(text: str, key: str, directory: Path, member: str) -> Path:
    """Compile ``text`` into ``directory/<key>.<member>.o`` (temp + rename) with its sidecar."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{key[:32]}.{member}.o"
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".o")
    os.close(fd)
    temporary = Path(name)
    temporary.unlink()  # lleaves writes the object only where no file exists yet
    try:
        _lleaves_model(text, temporary)
        if not temporary.is_file():
            raise ConfigurationError(f"lleaves wrote no object file for the {member}")
        sidecar = {"format": CACHE_FORMAT, "key": key, "sha256": _sha256(temporary)}
        sidecar["compiler"] = _versions()
        side_tmp = temporary.with_suffix(".json")
        side_tmp.write_text(json.dumps(sidecar, indent=1))
        temporary.replace(target)
        side_tmp.replace(target.with_suffix(".json"))
    finally:
        temporary.unlink(missing_ok=True)
        temporary.with_suffix(".json").unlink(missing_ok=True)
    return target


def _load(text: str, key: str, directory: Path, member: str) -> CompiledMember | None:
    """The cached member when its object and sidecar are present and its checksum holds."""
    target = directory / f"{key[:32]}.{member}.o"
    sidecar_path = target.with_suffix(".json")
    if not target.is_file() or not sidecar_path.is_file():
        return None
    try:
        sidecar = json.loads(sidecar_path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{sidecar_path}: unreadable ({exc}); delete it") from exc
    if not isinstance(sidecar, dict) or sidecar.get("key") != key:
        raise ConfigurationError(f"{sidecar_path}: not the sidecar of this model; delete it")
    if sidecar.get("sha256") != _sha256(target):
        raise ConfigurationError(f"{target}: checksum mismatch (the file is damaged); delete it")
    return CompiledMember(_lleaves_model(text, target), target)


def _check(
    member: CompiledMember, reference: Callable[[FloatArray], FloatArray], x: FloatArray
) -> None:
    got = member.predict(x, 1)
    want = np.asarray(reference(x), dtype=np.float64)
    worst = float(np.max(np.abs(got - want))) if len(x) else 0.0
    if not np.all(np.isfinite(got)) or worst > TOLERANCE:
        raise ConfigurationError(
            f"{member.object_path}: compiled scores differ from LightGBM's by {worst:.3g} "
            f"(more than {TOLERANCE:g}); delete the file to rebuild it"
        )


@dataclass(frozen=True, slots=True)
class CompileReport:
    """What :func:`compile_scorer` did for each member: ``built`` or ``cached``."""

    directory: Path
    members: tuple[tuple[str, str, Path], ...]


def compile_scorer(
    scorer: NumberScorer, cache_dir: Path, *, build: bool = True
) -> CompileReport | None:
    """Attach compiled predictors to ``scorer`` (building missing ones when ``build``).

    Returns ``None`` (and leaves ``scorer`` on LightGBM) when a member is not cached and
    ``build`` is false. A cached object that is damaged or disagrees with LightGBM is
    ConfigurationError.
    """
    boosters = [scorer.booster_, scorer.forest_]
    compiled: list[CompiledMember | None] = []
    done: list[tuple[str, str, Path]] = []
    for name, booster in zip(MEMBERS, boosters, strict=True):
        if booster is None:
            compiled.append(None)
            continue
        text = booster.model_to_string()
        key = member_key(text)
        member = _load(text, key, cache_dir, name)
        how = "cached"
        if member is None:
            if not build:
                return None
            path = _build(text, key, cache_dir, name)
            member = _load(text, key, cache_dir, name)
            assert member is not None, path
            how = "built"
        probe = probe_rows(text, booster.num_feature())

        def reference(x: FloatArray, b: Any = booster) -> FloatArray:
            return np.asarray(b.predict(x, raw_score=True, num_threads=1), dtype=np.float64)

        _check(member, reference, probe)
        compiled.append(member)
        done.append((name, how, member.object_path))
    assert compiled[0] is not None
    scorer.compiled_ = (compiled[0], compiled[1])
    return CompileReport(cache_dir, tuple(done))
