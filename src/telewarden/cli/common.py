"""Helpers every store-backed command group shares: the store from settings, the services'
context, the ``--actor`` default, consoles, JSON output and one-line input errors.

Heavy libraries (SQLAlchemy, Polars, Rich) are imported inside the functions so that
``telewarden --help`` and a single screen start quickly.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from typing import TYPE_CHECKING, Any

import typer

from telewarden.core.errors import InvalidInputError

if TYPE_CHECKING:
    from rich.console import Console

    from telewarden.adapters.storage.protocol import ScreeningStore
    from telewarden.adapters.storage.sql import SqlStore
    from telewarden.core.screening import Ingress
    from telewarden.services.context import AppContext

ACTOR_HELP = "Who makes the change, for the audit log (default: $USER, else 'cli')."


def resolve_actor(actor: str | None) -> str:
    """The audit actor: the ``--actor`` value, else the login name, else ``cli``."""
    if actor and actor.strip():
        return actor.strip()[:64]
    try:
        return getpass.getuser()[:64] or "cli"
    except Exception:  # no login name in some containers
        return "cli"


def app_context(store: ScreeningStore) -> AppContext:
    """The services' context for ``store``: the wall clock and the settings' gates."""
    from telewarden.adapters.clock import SystemClock
    from telewarden.services.context import AppContext, Gates
    from telewarden.settings import load_settings

    settings = load_settings()
    countries = settings.high_risk_countries
    gates = Gates(
        content_inspection=settings.content_inspection,
        high_risk_countries=tuple(countries) if countries is not None else None,
    )
    from telewarden.adapters.storage.disposal_sql import SqlDisposalStore
    from telewarden.adapters.storage.sql import SqlStore
    from telewarden.services.model_registry import registry_for
    from telewarden.services.model_registry import serving_inspector_factory as serve

    cases = SqlDisposalStore(store) if isinstance(store, SqlStore) else None
    ms = registry_for(store)  # the model registry: SMS screened with its serving version
    return AppContext(store, SystemClock(), gates, serve(ms), cases, models=ms)


def open_store() -> SqlStore:
    """The store named by the settings (SQLite under ``TELEWARDEN_HOME`` by default), migrated."""
    from telewarden.adapters.storage.sql import SqlStore
    from telewarden.settings import load_settings

    settings = load_settings()
    if settings.database_url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
    return SqlStore.open(settings.effective_database_url, keyring=settings.number_keyring())


def stdout() -> Console:
    """A Rich console on stdout."""
    from rich.console import Console

    return Console(highlight=False)


def stderr() -> Console:
    """A Rich console on stderr, for progress bars that must not pollute ``--json`` output."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout (no Rich markup, so it can be piped)."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def parse_ingress(value: str | None) -> Ingress:
    """``domestic``/``international`` (or ``unknown``); anything else is invalid input."""
    from telewarden.core.screening import Ingress

    if value is None:
        return Ingress.UNKNOWN
    parsed = Ingress.from_str(value)
    if parsed is Ingress.UNKNOWN and value.strip().lower() != "unknown":
        raise InvalidInputError(f"--ingress must be 'domestic' or 'international', not {value!r}")
    return parsed


def parse_at(value: str | None) -> dt.datetime | None:
    """An ISO-8601 time (UTC when it has no offset) or None."""
    if value is None:
        return None
    from telewarden.adapters.files.events import parse_time

    try:
        return parse_time(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"--at must be an ISO-8601 time such as 2026-11-28T10:00:00+08:00, not {value!r}"
        ) from exc


def parse_attestation(value: str | None) -> str | None:
    """STIR/SHAKEN attestation ``A``, ``B`` or ``C``, or None."""
    if value is None:
        return None
    letter = value.strip().upper()
    if letter not in ("A", "B", "C"):
        raise InvalidInputError(f"--attestation must be A, B or C, not {value!r}")
    return letter
