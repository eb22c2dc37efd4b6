"""``/v1/models``: the model registry (list, one version, promote, roll back).

Reading needs ``read``; promoting and rolling back need ``approve`` (supervisors), and the use
cases refuse (409) a supervisor who registered the version being put into service. Each change
is audited with the caller as actor; every process's SMS screening follows it within seconds
(``services.model_registry.ServingInspector``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request

from telewarden.api import models_registry as m
from telewarden.api.auth import Approver, Reader, state_of
from telewarden.api.errors import ERROR_RESPONSES
from telewarden.core.errors import ConfigurationError
from telewarden.core.registry import (
    ModelKind,
    ModelRegistry,
    ModelVersion,
    ServingEvent,
    serving_version,
)
from telewarden.services import model_registry as registry_use_cases

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["models"])

Kind = Annotated[Literal["sms", "numbers"], Path(description="sms or numbers")]
Version = Annotated[int, Path(ge=1, le=1_000_000)]


def _registry(request: Request) -> ModelRegistry:
    ctx = state_of(request).ctx
    if ctx.models is None:  # a context built without one (tests): the store's own, kept
        ctx.models = registry_use_cases.registry_for(ctx.store)
    if ctx.models is None:
        raise ConfigurationError("this service's store keeps no model registry")
    registry: ModelRegistry = ctx.models
    return registry


def version_out(v: ModelVersion, serving: int | None, card: bool = False) -> m.ModelVersionOut:
    """A version as the API shows it."""
    return m.ModelVersionOut(
        kind=str(v.kind), version=v.version, serving=v.version == serving, path=v.path,
        sha256=v.sha256, registered_by=v.registered_by, registered_at=v.registered_at,
        data=[m.DataRefOut(name=d.name, rows=d.rows, ids=d.ids) for d in v.data],
        metrics=dict(v.metrics), note=v.note, card=v.card if card else None,
    )  # fmt: skip


def event_out(e: ServingEvent) -> m.ServingEventOut:
    """A serving change as the API shows it."""
    return m.ServingEventOut(
        kind=str(e.kind), action=str(e.action), version=e.version, previous=e.previous,
        actor=e.actor, at=e.at, reason=e.reason,
    )  # fmt: skip


@router.get("/models", response_model=m.ModelListOut)
def list_models(who: Reader, request: Request) -> m.ModelListOut:
    """Every registered version, the serving version of each kind (null: shipped), the history."""
    reg = _registry(request)
    versions, history, serving = [], [], {}
    for kind in ModelKind:
        events = reg.serving_history(kind)
        serving[str(kind)] = current = serving_version(events)
        versions += [version_out(v, current) for v in reg.list_versions(kind)]
        history += [event_out(e) for e in events]
    return m.ModelListOut(versions=versions, serving=serving, history=history)


@router.get("/models/{kind}/{version}", response_model=m.ModelVersionOut)
def get_model(who: Reader, kind: Kind, version: Version, request: Request) -> m.ModelVersionOut:
    """One version with its data, metrics and model card."""
    reg = _registry(request)
    k = ModelKind(kind)
    return version_out(reg.get_version(k, version), serving_version(reg.serving_history(k)), True)


@router.post("/models/{kind}/{version}/promote", response_model=m.ServingEventOut)
def promote_model(
    who: Approver, kind: Kind, version: Version, body: m.ServingChange, request: Request
) -> m.ServingEventOut:
    """Put a version into service; 409 when the caller registered it or it already serves."""
    reg = _registry(request)
    event = registry_use_cases.promote(
        reg, state_of(request).ctx.clock, ModelKind(kind), version, actor=who.actor,
        reason=body.reason,
    )  # fmt: skip
    return event_out(event)


@router.post("/models/{kind}/rollback", response_model=m.ServingEventOut)
def rollback_model(
    who: Approver, kind: Kind, body: m.ServingChange, request: Request
) -> m.ServingEventOut:
    """Restore the version that served before the serving one (null: the shipped model)."""
    reg = _registry(request)
    event = registry_use_cases.rollback(
        reg, state_of(request).ctx.clock, ModelKind(kind), actor=who.actor, reason=body.reason
    )
    return event_out(event)
