"""Alembic environment of the telewarden store, run programmatically by ``migrate.upgrade``.

The caller passes an open connection in ``config.attributes["connection"]``; the ``alembic``
command line also works (``sqlalchemy.url`` from the config) for maintainers writing a migration.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from telewarden.adapters.storage import disposal_models  # noqa: F401  (registers its tables)
from telewarden.adapters.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the given connection, or one opened from ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
