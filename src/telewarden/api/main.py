"""The service built from the settings: what ``telewarden serve`` hands to uvicorn.

uvicorn imports :func:`app_from_settings` in each worker process (``factory=True``), so every
worker opens its own store connection pool and loads its own screener. Limits come from
``TELEWARDEN_API_*`` variables set by ``telewarden serve`` for its workers.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from telewarden.api.app import create_app
from telewarden.api.state import ApiConfig
from telewarden.services.context import AppContext

__all__ = ["app_from_settings", "context_from_settings"]


def context_from_settings() -> AppContext:
    """The store named by the settings (migrated), the wall clock and the settings' gates."""
    from telewarden.adapters.clock import SystemClock
    from telewarden.adapters.storage.sql import SqlStore
    from telewarden.services.context import Gates
    from telewarden.settings import load_settings

    settings = load_settings()
    if settings.database_url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
    countries = settings.high_risk_countries
    gates = Gates(
        content_inspection=settings.content_inspection,
        high_risk_countries=tuple(countries) if countries is not None else None,
    )
    clock = SystemClock()
    store = SqlStore.open(
        settings.effective_database_url, clock=clock, keyring=settings.number_keyring()
    )
    from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
    from telewarden.core.errors import ConfigurationError

    try:
        hash_key: bytes | None = settings.effective_hash_key()
    except ConfigurationError:  # a shared database without the key: credit routes answer 503
        hash_key = None
    # Screens honour disposal's measures (the screener is rebuilt when the store changes).
    from telewarden.services.model_registry import registry_for, serving_inspector_factory

    # SMS bodies are screened with the registry's serving version (the shipped model until one
    # is promoted); a promoted file that fails its checksum is refused (503), never swapped.
    models = registry_for(store)
    return AppContext(
        store=store,
        clock=clock,
        gates=gates,
        cases=SqlDisposalStore(store),
        hash_key=hash_key,
        models=models,
        inspector_factory=serving_inspector_factory(models),
    )


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def config_from_environment() -> ApiConfig:
    """``ApiConfig`` with ``TELEWARDEN_API_*`` overrides (set by ``telewarden serve``)."""
    defaults = ApiConfig()
    return ApiConfig(
        max_in_flight=int(os.environ.get("TELEWARDEN_API_MAX_IN_FLIGHT", defaults.max_in_flight)),
        access_log=_flag("TELEWARDEN_API_ACCESS_LOG", defaults.access_log),
        log_decisions=_flag("TELEWARDEN_API_LOG_DECISIONS", defaults.log_decisions),
        number_features=os.environ.get("TELEWARDEN_API_NUMBER_FEATURES") or None,
    )


def app_from_settings() -> FastAPI:
    """The app over the configured store (uvicorn's factory)."""
    from telewarden.api.logs import configure_json_logs

    config = config_from_environment()
    configure_json_logs(access_log=config.access_log)
    return create_app(context_from_settings, config=config)
