"""Safe writing: never onto an input, always through a temporary file renamed into place.

Every writer of telewarden (verdicts, quarantine files, classified messages, features, scores,
simulated records) goes through :func:`atomic_path` or :func:`atomic_file`, so

* a run killed mid-write leaves the previous file (or none) under the final name, never half
  of a new one: the data goes to a hidden temporary file in the same folder (same file system,
  so the rename is atomic) and is renamed over ``path`` only when the block succeeds;
* an output folder that cannot be created or written gets one clear
  :class:`~telewarden.core.errors.InvalidInputError`, not a traceback;
* the file is created readable by its owner only (0600): outputs hold subscriber numbers.

:func:`refuse_inputs_as_outputs` is the check a use case runs before reading anything: an
output that is, or resolves to (symbolic link, hard link, ``./``), one of its inputs is refused.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from telewarden.core.errors import InvalidInputError

__all__ = ["atomic_file", "atomic_path", "refuse_inputs_as_outputs", "same_file"]


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (after links and ``..``), existing or not."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def refuse_inputs_as_outputs(inputs: Iterable[Path | None], outputs: Iterable[Path | None]) -> None:
    """Invalid input when an output is one of the inputs or two outputs are one file.

    Examples
    --------
    >>> refuse_inputs_as_outputs([Path("s.csv")], [Path("./s.csv")])
    Traceback (most recent call last):
    ...
    telewarden.core.errors.InvalidInputError: output s.csv is the input s.csv: choose another output path
    """  # noqa: E501
    sources = [p for p in inputs if p is not None]
    targets = [p for p in outputs if p is not None]
    for target in targets:
        for source in sources:
            if same_file(target, source):
                raise InvalidInputError(
                    f"output {target} is the input {source}: choose another output path"
                )
    for i, target in enumerate(targets):
        for other in targets[i + 1 :]:
            if same_file(target, other):
                raise InvalidInputError(f"two outputs are the same file {target}")


def _prepare(path: Path) -> None:
    if path.is_dir():
        raise InvalidInputError(f"cannot write {path}: it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot create the folder {path.parent}: {exc.strerror or exc}"
        ) from exc


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for a library to write; renamed onto ``path`` on success.

    Raises
    ------
    InvalidInputError
        When the folder cannot be created or written, or the rename fails.
    """
    _prepare(path)
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        try:
            os.replace(temporary, path)
        except OSError as exc:
            raise InvalidInputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def atomic_file(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file object (text UTF-8 for ``"w"``, bytes for ``"wb"``) renamed onto ``path`` on success."""
    with atomic_path(path) as temporary:
        try:
            handle = (
                temporary.open("wb")
                if "b" in mode
                else temporary.open("w", encoding="utf-8", newline="")
            )
        except OSError as exc:
            raise InvalidInputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        with handle:
            yield handle
