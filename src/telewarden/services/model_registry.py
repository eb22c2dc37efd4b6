"""The model registry's use cases: register, promote, roll back, and load the serving version.

A registered version is a model file with its SHA-256, the data it was trained on, its metrics
and its model card, and who registered it when. Putting a version into service (a promotion, or
a rollback that restores one) is a supervisor's act, never the registrant's own (four eyes), and
always has a reason; each is a row of the serving history and a record of the audit chain. The
serving paths (``sms classify``, the API's and the live loop's SMS screening through
:func:`serving_inspector_factory`) load the serving version after checking the file against the
registered SHA-256: a changed, missing or damaged file is refused with one message, never
served and never silently replaced by the shipped model.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telewarden.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
)
from telewarden.core.ports import Clock
from telewarden.core.registry import (
    DataRef,
    ModelKind,
    ModelRegistry,
    ModelVersion,
    ServingAction,
    ServingEvent,
    check_can_serve,
    rollback_target,
    serving_version,
)

if TYPE_CHECKING:
    from telewarden.core.screening import ContentFinding, ContentInspector
    from telewarden.core.sms.classifier import SmsModel
    from telewarden.core.sms.inspector import SmsClassifier

__all__ = [
    "MAX_REASON_CHARS",
    "file_sha256",
    "load_sms_version",
    "parse_data_refs",
    "parse_metrics",
    "promote",
    "register_model",
    "registry_for",
    "rollback",
    "ServingInspector",
    "ServingModels",
    "ServingInspectors",
    "serving",
    "serving_inspector_factory",
    "serving_model_path",
    "serving_sms_model",
    "verified_bytes",
]

MAX_REASON_CHARS = 512
_IDS_RE = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def registry_for(store: Any) -> ModelRegistry | None:
    """The registry beside a screening store: SQL (sharing its engine and audit chain) or an
    in-memory one for a ``MemoryStore`` (tests, demos); None for any other store."""
    engine = getattr(store, "engine", None)
    if engine is not None:
        from telewarden.adapters.storage.registry_sql import SqlModelRegistry

        registry: ModelRegistry = SqlModelRegistry(engine, store.clock)
        return registry
    from telewarden.adapters.memory import MemoryStore

    if isinstance(store, MemoryStore):
        from telewarden.adapters.memory_registry import MemoryModelRegistry

        return MemoryModelRegistry(store)
    return None


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the whole file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_data_refs(items: Sequence[str]) -> list[DataRef]:
    """``NAME=ROWS`` or ``NAME=ROWS:IDS`` (ids like ``1-500,612``) as data references.

    Examples
    --------
    >>> parse_data_refs(["zh_sms=33000", "reports=3:1-2,7"])
    [DataRef(name='zh_sms', rows=33000, ids=''), DataRef(name='reports', rows=3, ids='1-2,7')]
    >>> parse_data_refs(["zh_sms"])
    Traceback (most recent call last):
    ...
    telewarden.core.errors.InvalidInputError: --data 'zh_sms': write NAME=ROWS or NAME=ROWS:IDS
    """
    out = []
    for item in items:
        name, sep, rest = item.partition("=")
        rows, _, ids = rest.partition(":")
        if not sep or not name.strip() or not rows.strip().isdigit():
            raise InvalidInputError(f"--data {item!r}: write NAME=ROWS or NAME=ROWS:IDS")
        if ids and not _IDS_RE.match(ids):
            raise InvalidInputError(f"--data {item!r}: ids are numbers and ranges (1-500,612)")
        out.append(DataRef(name.strip()[:128], int(rows), ids))
    return out


def parse_metrics(items: Sequence[str]) -> dict[str, float]:
    """``NAME=VALUE`` pairs as metrics (finite numbers).

    Examples
    --------
    >>> parse_metrics(["zh_sms_f1=0.9479"])
    {'zh_sms_f1': 0.9479}
    """
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not name.strip() or number != number or abs(number) == float("inf"):
            raise InvalidInputError(f"--metric {item!r}: write NAME=NUMBER")
        out[name.strip()[:64]] = number
    return out


def _load(kind: ModelKind, data: bytes, origin: str) -> Any:
    if kind is ModelKind.SMS:
        from telewarden.adapters.sms_model import load_model_bytes

        return load_model_bytes(data, origin)
    from telewarden.adapters.number_model import load_model_bytes as load_numbers

    return load_numbers(data, origin)


def _derived_data(kind: ModelKind, model: Any) -> list[DataRef]:
    """What the file itself says it was trained on (the SMS model's last update)."""
    meta = getattr(model, "meta", None)
    if kind is not ModelKind.SMS or not isinstance(meta, dict):
        return []
    updates = meta.get("updates") or []
    if not updates:
        return []
    last = updates[-1]
    out = [DataRef(str(last.get("trained_on") or "labelled"), int(last.get("n_labelled", 0)))]
    if last.get("anchors"):
        out.append(DataRef(str(last["anchors"]), int(last.get("n_anchors", 0))))
    return out


def _default_card(kind: ModelKind, path: Path, model: Any) -> str:
    meta = getattr(model, "meta", None)
    lines = [f"# {kind} model {path.name}", ""]
    if isinstance(meta, dict) and meta:
        lines.append("Provenance written into the file:")
        lines.append("")
        lines.append("```json")
        lines.append(json.dumps(meta, ensure_ascii=False, indent=2, default=str)[:20_000])
        lines.append("```")
    else:
        lines.append("No model card was given and the file carries no provenance.")
    return "\n".join(lines)


def register_model(
    registry: ModelRegistry,
    clock: Clock,
    kind: ModelKind,
    path: Path,
    *,
    actor: str,
    data: Sequence[DataRef] = (),
    metrics: dict[str, float] | None = None,
    card: str | None = None,
    note: str = "",
) -> ModelVersion:
    """Register the model file at ``path`` as the next version of ``kind`` (audited).

    The file must load as a model of ``kind`` (so a damaged file is refused now, not when it
    is promoted). ``data`` defaults to what the file says (an SMS model's last update: its
    labelled file and anchors with their counts); ``card`` to the file's provenance.

    Raises
    ------
    InvalidInputError
        When ``path`` is missing.
    ConfigurationError
        When the file is not a readable model of ``kind``.
    """
    path = path.resolve()
    if not path.is_file():
        raise InvalidInputError(f"no model file at {path}")
    blob = path.read_bytes()
    model = _load(kind, blob, str(path))
    refs = list(data) or _derived_data(kind, model)
    version = ModelVersion(
        kind,
        0,
        str(path),
        hashlib.sha256(blob).hexdigest(),
        actor,
        clock.now(),
        tuple(refs),
        dict(metrics or {}),
        card if card is not None else _default_card(kind, path, model),
        note,
    )
    return registry.add_version(version)


def verified_bytes(version: ModelVersion) -> bytes:
    """The version's file, refused unless its SHA-256 is the registered one.

    Raises
    ------
    ConfigurationError
        When the file is missing or differs from the registered one.
    """
    path = Path(version.path)
    name = f"{version.kind} model version {version.version}"
    if not path.is_file():
        raise ConfigurationError(f"{name}: its file {path} is missing; restore it or roll back")
    blob = path.read_bytes()
    found = hashlib.sha256(blob).hexdigest()
    if found != version.sha256:
        raise ConfigurationError(
            f"{name}: {path} does not match its registered SHA-256 (registered "
            f"{version.sha256[:12]}, file {found[:12]}): the file was changed or damaged; "
            "restore it or roll back"
        )
    return blob


def _check_loads(version: ModelVersion) -> None:
    _load(version.kind, verified_bytes(version), version.path)


def load_sms_version(version: ModelVersion) -> SmsModel:
    """The SMS model of ``version``, checksum-checked (ConfigurationError otherwise)."""
    model: SmsModel = _load(ModelKind.SMS, verified_bytes(version), version.path)
    return model


def serving(registry: ModelRegistry, kind: ModelKind) -> ModelVersion | None:
    """The serving version of ``kind``; None while the shipped model serves."""
    number = serving_version(registry.serving_history(kind))
    return None if number is None else registry.get_version(kind, number)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInputError("a promotion or rollback needs a reason (--reason)")
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInputError(f"the reason is longer than {MAX_REASON_CHARS} characters")
    return reason


def promote(
    registry: ModelRegistry,
    clock: Clock,
    kind: ModelKind,
    version: int,
    *,
    actor: str,
    reason: str,
) -> ServingEvent:
    """Put ``version`` into service (audited, with its reason).

    Raises
    ------
    NotFoundError
        When the version is unknown.
    ConflictError
        When ``actor`` registered it, or it is already serving.
    ConfigurationError
        When its file is missing, changed or damaged.
    InvalidInputError
        When ``reason`` is empty or too long.
    """
    why = _reason(reason)
    target = registry.get_version(kind, version)
    check_can_serve(target, actor)
    history = registry.serving_history(kind)
    current = serving_version(history)
    if current == version:
        raise ConflictError(f"{kind} model version {version} is already serving")
    _check_loads(target)
    event = ServingEvent(kind, ServingAction.PROMOTE, version, current, actor, clock.now(), why)
    registry.add_serving_event(event)
    return event


def rollback(
    registry: ModelRegistry, clock: Clock, kind: ModelKind, *, actor: str, reason: str
) -> ServingEvent:
    """Restore the version that served before the serving one's promotion (None: shipped).

    Raises
    ------
    ConflictError
        When the shipped model is serving, or ``actor`` registered the version restored.
    ConfigurationError
        When the restored version's file is missing, changed or damaged.
    InvalidInputError
        When ``reason`` is empty or too long.
    """
    why = _reason(reason)
    history = registry.serving_history(kind)
    target = rollback_target(history)
    if target is not None:
        restored = registry.get_version(kind, target)
        check_can_serve(restored, actor)
        _check_loads(restored)
    event = ServingEvent(
        kind, ServingAction.ROLLBACK, target, serving_version(history), actor, clock.now(), why
    )
    registry.add_serving_event(event)
    return event


def serving_model_path(registry: ModelRegistry | None, kind: ModelKind) -> Path | None:
    """The serving version's file once its checksum was checked (None: the shipped model).

    For the paths that read a model file themselves (the number scorer's ``explain_number``).
    """
    current = serving(registry, kind) if registry is not None else None
    if current is None:
        return None
    verified_bytes(current)
    return Path(current.path)


def serving_sms_model(registry: ModelRegistry | None) -> tuple[SmsModel, int | None]:
    """The serving SMS model and its version (None: the shipped model, loaded from the package)."""
    current = serving(registry, ModelKind.SMS) if registry is not None else None
    if current is None:
        from telewarden.adapters.sms_model import load_default_model

        return load_default_model(), None
    return load_sms_version(current), current.version


class ServingModels:
    """The serving SMS model of a registry, followed across promotions and rollbacks.

    :meth:`classifier` asks at most every ``poll_s`` seconds which version serves (one query)
    and loads a newly promoted (or restored) version before the next message, so a change made
    by the CLI or another API worker is followed within seconds without a restart. Without a
    registry, or while none is promoted, it is the shipped model. A serving file that fails its
    checksum raises ConfigurationError on every call (the API answers 503 with the message, the
    CLI exits 3) rather than scoring with a model that was not promoted.
    """

    def __init__(self, registry: ModelRegistry | None, poll_s: float = 5.0) -> None:
        self.registry = registry
        self.poll_s = poll_s
        self._lock = threading.Lock()
        self._loaded: tuple[int | None, SmsClassifier] | None = None
        self._checked = -float("inf")

    def key(self) -> int | None:
        """The serving SMS version (None: the shipped model)."""
        if self.registry is None:
            return None
        return serving_version(self.registry.serving_history(ModelKind.SMS))

    def classifier(self) -> SmsClassifier:
        """The serving version's classifier (reloaded when the serving version changed)."""
        now = time.monotonic()
        if self._loaded is not None and now - self._checked < self.poll_s:
            return self._loaded[1]
        with self._lock:
            key = self.key()
            if self._loaded is None or self._loaded[0] != key:
                from telewarden.core.sms.inspector import SmsClassifier

                self._loaded = None
                model, _ = serving_sms_model(self.registry)
                self._loaded = (key, SmsClassifier(model))
            self._checked = time.monotonic()
            return self._loaded[1]


class ServingInspectors:
    """An ``AppContext.inspector_factory`` that screens SMS with the serving version.

    Without a registry it is ``shipped_content_inspector``; with one, each screener gets a
    :class:`ServingInspector` over one shared :class:`ServingModels`.
    """

    def __init__(self, registry: ModelRegistry | None, poll_s: float = 5.0) -> None:
        self.registry = registry
        self.models = ServingModels(registry, poll_s)

    def __call__(self) -> ContentInspector | None:
        """The inspector for a screener."""
        if self.registry is None:
            from telewarden.services.screening import shipped_content_inspector

            return shipped_content_inspector()
        return ServingInspector(self.models)


class ServingInspector:
    """A ``ContentInspector`` over the serving SMS model (:class:`ServingModels`)."""

    def __init__(self, models: ServingModels) -> None:
        self.models = models

    def inspect(self, text: str) -> ContentFinding:
        """The serving model's finding for ``text``."""
        return self.inspect_many([text])[0]

    def inspect_many(self, texts: Sequence[str]) -> list[ContentFinding]:
        """The serving model's findings for ``texts``, in one batch."""
        from telewarden.core.sms.inspector import SmsContentInspector

        return SmsContentInspector(self.models.classifier()).inspect_many(texts)


def serving_inspector_factory(
    registry: ModelRegistry | None, poll_s: float = 5.0
) -> ServingInspectors:
    """The :class:`ServingInspectors` of ``registry`` (an ``AppContext.inspector_factory``)."""
    return ServingInspectors(registry, poll_s)
