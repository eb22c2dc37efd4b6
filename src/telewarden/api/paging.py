"""Paging of the ``/v1`` listings: the ``offset`` and ``limit`` parameters and a page's fields."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

__all__ = ["MAX_WINDOW", "Limit", "Offset", "page_fields", "window"]

MAX_WINDOW = 10_000
"""offset + limit of any listing: pages beyond are refused rather than scanned."""
Offset = Annotated[int, Query(ge=0, le=MAX_WINDOW, description="Items to skip")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page")]


def window(offset: int, limit: int) -> int:
    """``offset + limit``; 422 beyond ``MAX_WINDOW``."""
    from telewarden.api.errors import HttpError

    if offset + limit > MAX_WINDOW:
        raise HttpError(422, f"offset + limit must be at most {MAX_WINDOW}")
    return offset + limit


def page_fields(total: int | None, offset: int, limit: int, fetched: int) -> dict[str, Any]:
    """The ``Page`` fields of a listing of which ``fetched`` items up to the window were read."""
    more = fetched > offset + limit or (total is not None and offset + limit < total)
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "next_offset": offset + limit if more else None,
    }
