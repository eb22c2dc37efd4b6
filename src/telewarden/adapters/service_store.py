"""The service, disposal and warning stores that go with a screening store: SQL beside
``SqlStore``, memory beside ``MemoryStore``."""

from __future__ import annotations

from typing import Any

from telewarden.adapters.storage.protocol import ScreeningStore
from telewarden.core.errors import ConfigurationError
from telewarden.core.ports import Clock
from telewarden.core.service_ports import ServiceStore

__all__ = ["disposal_store_for", "service_store_for", "warning_store_for"]


def service_store_for(store: ScreeningStore, clock: Clock) -> ServiceStore:
    """The ``ServiceStore`` sharing ``store``'s database (or memory) and audit log."""
    from telewarden.adapters.memory import MemoryStore
    from telewarden.adapters.storage.sql import SqlStore

    if isinstance(store, SqlStore):
        from telewarden.adapters.storage.service_sql import SqlServiceStore

        return SqlServiceStore(store.engine, clock, store.keyring)
    if isinstance(store, MemoryStore):
        from telewarden.adapters.memory_service import MemoryServiceStore

        return MemoryServiceStore(store)
    raise ConfigurationError(f"no service store for a {type(store).__name__}")


def disposal_store_for(store: ScreeningStore) -> Any:
    """The disposal store (cases, cards, credit listings, cascade outbox) beside ``store``."""
    from telewarden.adapters.memory import MemoryStore
    from telewarden.adapters.storage.sql import SqlStore

    if isinstance(store, SqlStore):
        from telewarden.adapters.storage.disposal_sql import SqlDisposalStore

        return SqlDisposalStore(store)
    if isinstance(store, MemoryStore):
        from telewarden.adapters.memory_disposal import MemoryDisposalStore

        return MemoryDisposalStore(store)
    raise ConfigurationError(f"no disposal store for a {type(store).__name__}")


def warning_store_for(store: ScreeningStore) -> Any:
    """The store of warnings sent beside ``store`` (same database or memory, same audit log)."""
    from telewarden.adapters.memory import MemoryStore
    from telewarden.adapters.storage.sql import SqlStore

    if isinstance(store, SqlStore):
        from telewarden.adapters.storage.warnings import SqlWarningStore

        return SqlWarningStore(store)
    if isinstance(store, MemoryStore):
        from telewarden.adapters.memory_warnings import MemoryWarningStore

        return MemoryWarningStore(store)
    raise ConfigurationError(f"no warning store for a {type(store).__name__}")
