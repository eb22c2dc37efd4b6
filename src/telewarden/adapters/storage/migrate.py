"""Programmatic Alembic upgrades, so the store migrates itself on first start.

A user never runs ``alembic`` by hand: ``upgrade(url)`` (called by ``SqlStore.open``) brings any
database to the newest revision shipped inside the package. Alembic itself is imported only when
a migration is due, which keeps a CLI call against a current database quick to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0006_model_registry"
"""Newest revision in ``migrations/versions``; a test checks it against Alembic's own view."""


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` pointing at the migrations shipped in this package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ``%`` would be read as interpolation by ConfigParser.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision according to Alembic's script directory."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, ``None`` for a database never migrated."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("select version_num from alembic_version")).scalar()


def upgrade(target: str | Engine) -> None:
    """Upgrade the database at ``target`` (URL or engine) to the newest revision.

    Cheap when the database is already current: one look at ``alembic_version``.
    """
    engine = create_engine(target) if isinstance(target, str) else target
    try:
        if current_revision(engine) == HEAD_REVISION:
            return
        from alembic import command

        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        if isinstance(target, str):
            engine.dispose()
