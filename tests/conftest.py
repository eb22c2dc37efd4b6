"""Shared fixtures: a real PostgreSQL URL for integration tests, the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TELEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data"))
POSTGRES_URL = os.environ.get(
    "TELEWARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL URL; skips locally when none runs, fails under CI=true."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # any driver error means "no server here"
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}: {exc}")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The outside data sets; skips with a clear message when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set TELEWARDEN_SHARED_DATA)")
    return SHARED_DATA
