"""Settings from ``TELEWARDEN_*`` environment variables or a TOML config file, validated at start-up.

Only entry points (``cli``, ``api``, ``runners``) read this module; the core and the adapters
receive plain values.

Precedence, highest first: environment variables, the file named by ``TELEWARDEN_CONFIG``
(or ``$TELEWARDEN_HOME/telewarden.toml`` when it exists), then the defaults below.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from telewarden.core.errors import ConfigurationError


def _default_home() -> Path:
    return Path.home() / ".telewarden"


class Settings(BaseSettings):
    """Validated runtime settings."""

    model_config = SettingsConfigDict(env_prefix="TELEWARDEN_", extra="forbid")

    home: Path = Field(default_factory=_default_home)
    """Where embedded files live: the default SQLite database, quarantine files, models."""

    database_url: str | None = None
    """SQLAlchemy URL; ``None`` means a SQLite file ``telewarden.db`` inside ``home``."""

    content_inspection: bool = True
    """Legal gate for SMS content analysis (Telecom Regulations Art. 65, AFL Arts. 25 and 32).

    When false, SMS screening uses sender and metadata rules only and says so in every verdict.
    """

    high_risk_countries: list[str] | None = None
    """ISO 3166 alpha-2 codes; ``None`` keeps the seeded list in ``telewarden.core.numbers``."""

    decision_retention_days: int = Field(default=180, ge=1)
    """Days ``telewarden decisions purge`` keeps single-event decisions (subscriber numbers)."""

    hash_key: str | None = None
    """Key of the keyed hashes (HMAC-SHA256) under which ID documents are stored.

    When unset, a random key is generated once in ``home/hash.key`` (mode 0600) for the embedded
    SQLite store; a shared database (``database_url`` set) needs one key for every host, so it
    must then be given (``TELEWARDEN_HASH_KEY``). Losing the key orphans every stored hash.
    """

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError(
                "must be an SQLAlchemy URL such as sqlite:///path or postgresql+psycopg://host/db"
            )
        return value

    @property
    def effective_database_url(self) -> str:
        """The database URL to connect to, defaulting to SQLite under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'telewarden.db'}"

    def effective_hash_key(self) -> bytes:
        """The hash key: the setting, else the per-home key file (created 0600 on first use)."""
        if self.hash_key:
            return self.hash_key.encode("utf-8")
        if self.database_url:
            raise ConfigurationError(
                "TELEWARDEN_HASH_KEY is required with a shared database (TELEWARDEN_DATABASE_URL): "
                "every host must hash ID documents under the same key"
            )
        path = self.home / "hash.key"
        if not path.exists():
            import secrets

            self.home.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process created it first; read theirs
            else:
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(secrets.token_hex(32))
        key = path.read_text(encoding="ascii").strip()
        if not key:
            raise ConfigurationError(f"{path} is empty; delete it or set TELEWARDEN_HASH_KEY")
        return key.encode("utf-8")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads ``TELEWARDEN_CONFIG`` or ``$TELEWARDEN_HOME/telewarden.toml``."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path_text = os.environ.get("TELEWARDEN_CONFIG")
        if path_text:
            path = Path(path_text)
            if not path.is_file():
                raise ConfigurationError(f"TELEWARDEN_CONFIG names {path}, which is not a file")
        else:
            home = Path(os.environ.get("TELEWARDEN_HOME") or _default_home())
            path = home / "telewarden.toml"
            if not path.is_file():
                return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path}: not valid TOML: {exc}") from exc
        section: dict[str, Any] = data.get("telewarden", data)
        return section


def load_settings(**overrides: Any) -> Settings:
    """Load and validate settings, turning validation failures into one readable error."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"TELEWARDEN_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
