"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``TELEWARDEN_HOME`` (embedded SQLite store), no database URL or config file."""
    home = tmp_path / "home"
    monkeypatch.setenv("TELEWARDEN_HOME", str(home))
    monkeypatch.delenv("TELEWARDEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEWARDEN_CONFIG", raising=False)
    return home
