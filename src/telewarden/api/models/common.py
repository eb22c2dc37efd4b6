"""What the models of every area share: strict input, a number field and a page of a listing."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Number = Field(min_length=1, max_length=64, description="As received: E.164, national or local")


class StrictModel(BaseModel):
    """Input: unknown fields are an error (422), not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Removed(BaseModel):
    """How many records were removed."""

    removed: int


class Page(BaseModel):
    """One page of a listing: ``next_offset`` is null on the last page."""

    total: int | None = Field(description="Size of the whole listing when known")
    offset: int
    limit: int
    next_offset: int | None
