"""The service store that goes with a screening store: SQL beside ``SqlStore``, memory beside
``MemoryStore``."""

from __future__ import annotations

from telewarden.adapters.storage.protocol import ScreeningStore
from telewarden.core.errors import ConfigurationError
from telewarden.core.ports import Clock
from telewarden.core.service_ports import ServiceStore

__all__ = ["service_store_for"]


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
