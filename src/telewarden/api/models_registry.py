"""Request and response models of ``/v1/models`` (the model registry), kept apart from the
already long ``api/models.py``."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DataRefOut", "ModelListOut", "ModelVersionOut", "ServingChange", "ServingEventOut"]


class DataRefOut(BaseModel):
    """One part of the data a version was trained on."""

    name: str
    rows: int
    ids: str = Field("", description="Report or outcome ids, e.g. 1-500,612")


class ModelVersionOut(BaseModel):
    """A registered model version."""

    kind: str = Field(description="sms or numbers")
    version: int
    serving: bool
    path: str
    sha256: str
    registered_by: str
    registered_at: dt.datetime
    data: list[DataRefOut]
    metrics: dict[str, float]
    note: str
    card: str | None = Field(None, description="The model card (Markdown), on the version route")


class ServingEventOut(BaseModel):
    """A promotion or rollback (version null: the shipped model)."""

    kind: str
    action: str
    version: int | None
    previous: int | None
    actor: str
    at: dt.datetime
    reason: str


class ModelListOut(BaseModel):
    """Every version, the serving one of each kind and the serving history."""

    versions: list[ModelVersionOut]
    serving: dict[str, int | None]
    history: list[ServingEventOut]


class ServingChange(BaseModel):
    """Why a version is promoted or rolled back (kept in the audit log)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=512)
