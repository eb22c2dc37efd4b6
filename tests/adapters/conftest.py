"""Fixtures shared by the store tests: a fresh PostgreSQL schema per test module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa


@pytest.fixture(scope="module")
def pg_schema_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    base = request.getfixturevalue("postgres_url")
    schema = f"tw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"create schema {schema}")
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"drop schema if exists {schema} cascade")
        admin.dispose()
