"""Settings come from TELEWARDEN_* variables or a config file and are validated at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from telewarden.core.errors import ConfigurationError
from telewarden.settings import load_settings


def test_defaults_to_a_sqlite_file_under_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path))
    monkeypatch.delenv("TELEWARDEN_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'telewarden.db'}"


def test_environment_overrides_the_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "telewarden.toml").write_text(
        'database_url = "sqlite:///from-file.db"\ncontent_inspection = false\n'
    )
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path))
    monkeypatch.setenv("TELEWARDEN_DATABASE_URL", "sqlite:///from-env.db")
    settings = load_settings()
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.content_inspection is False


def test_rejects_a_database_url_without_a_scheme(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path))
    monkeypatch.setenv("TELEWARDEN_DATABASE_URL", "just-a-path.db")
    with pytest.raises(ConfigurationError, match="TELEWARDEN_DATABASE_URL"):
        load_settings()


def test_rejects_unknown_keys_in_the_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "telewarden.toml").write_text("databse_url = 'typo'\n")
    monkeypatch.setenv("TELEWARDEN_HOME", str(tmp_path))
    monkeypatch.delenv("TELEWARDEN_DATABASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="DATABSE_URL"):
        load_settings()
