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

from telewarden.core.errors import ConfigurationError, InvalidInputError
from telewarden.core.privacy import KeyRing, NumberKey


def _default_home() -> Path:
    return Path.home() / ".telewarden"


class Settings(BaseSettings):
    """Validated runtime settings."""

    model_config = SettingsConfigDict(env_prefix="TELEWARDEN_", extra="forbid")

    home: Path = Field(default_factory=_default_home)
    """Where embedded files live: the default SQLite database, quarantine files, models."""

    database_url: str | None = None
    """SQLAlchemy URL; ``None`` means a SQLite file ``telewarden.db`` inside ``home``."""

    content_inspection: bool | None = None
    """The deployment's say on the legal gate for SMS content (AFL Arts. 25 and 32,
    Telecom Regulations Art. 65): it can only close it.

    The gate is the stored policy's, closed until a supervisor opens it with a recorded legal
    basis (`telewarden policy set content_inspection true --legal-basis ...`). ``false``
    closes it whatever the stored policy says; unset or ``true`` leave the stored gate as it
    is (a deployment cannot open a gate a supervisor closed). The demo and the simulator open
    it on their own synthetic traffic unless this is ``false``. While closed, SMS screening
    uses sender and metadata rules only and says so in every verdict.
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

    number_key: str | None = None
    """Current key of the keyed hashes under which subscriber numbers are logged, ``ID:SECRET``.

    ID is 1-8 lowercase letters or digits (stored in every hash, ``k<ID>:...``), SECRET at
    least 32 characters (``telewarden privacy new-key`` prints one). The decision log and the
    opt-in audit records hold numbers only as these hashes. When unset, a key is generated
    once in ``home/number.key`` (mode 0600) for the embedded SQLite store; a shared database
    (``database_url`` set) needs one key for every host, so it must then be given
    (``TELEWARDEN_NUMBER_KEY``). Rotation: ``docs/privacy.md``.
    """

    number_keys_retired: list[str] = Field(default_factory=list)
    """Former number keys, ``ID:SECRET`` each, kept for look-ups until the decision-log retention
    has purged the rows hashed under them (``TELEWARDEN_NUMBER_KEYS_RETIRED='["1:..."]'``)."""

    @field_validator("number_key")
    @classmethod
    def _check_number_key(cls, value: str | None) -> str | None:
        if value is not None:
            _number_key(value)
        return value

    @field_validator("number_keys_retired")
    @classmethod
    def _check_retired_keys(cls, value: list[str]) -> list[str]:
        for spec in value:
            _number_key(spec)
        return value

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

    def number_keyring(self) -> KeyRing:
        """The key ring of logged numbers: the settings, else the per-home key file (0600)."""
        if self.number_key:
            current = _number_key(self.number_key)
        elif self.database_url:
            raise ConfigurationError(
                "TELEWARDEN_NUMBER_KEY is required with a shared database "
                "(TELEWARDEN_DATABASE_URL): every host must hash subscriber numbers under the "
                "same key (`telewarden privacy new-key` prints one)"
            )
        else:
            path = self.home / "number.key"
            _create_secret_file(path, lambda: "1:" + _new_secret())
            spec = path.read_text(encoding="ascii").strip()
            try:
                current = NumberKey.from_spec(spec)
            except InvalidInputError as exc:
                raise ConfigurationError(
                    f"{path} does not hold a number key ({exc}); restore it from the backup, "
                    "or set TELEWARDEN_NUMBER_KEY"
                ) from exc
        try:
            return KeyRing(current, tuple(_number_key(s) for s in self.number_keys_retired))
        except InvalidInputError as exc:
            raise ConfigurationError(f"TELEWARDEN_NUMBER_KEYS_RETIRED: {exc}") from exc

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


MIN_NUMBER_SECRET_CHARS = 32


def _new_secret() -> str:
    import secrets

    return secrets.token_hex(32)


def _number_key(spec: str) -> NumberKey:
    """Parse one ``ID:SECRET`` number key; a ValueError (one line) when malformed."""
    key_id, sep, secret = spec.strip().partition(":")
    if not sep or len(secret) < MIN_NUMBER_SECRET_CHARS:
        raise ValueError(
            "a number key is ID:SECRET, ID 1-8 lowercase letters or digits and SECRET at least "
            f"{MIN_NUMBER_SECRET_CHARS} characters (`telewarden privacy new-key` prints one)"
        )
    try:
        return NumberKey(key_id, secret.encode("utf-8"))
    except InvalidInputError as exc:
        raise ValueError(str(exc)) from exc


def _create_secret_file(path: Path, content: Any) -> None:
    """Write ``content()`` to ``path`` once, readable by its owner only (0600)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; read theirs
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(content())


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
