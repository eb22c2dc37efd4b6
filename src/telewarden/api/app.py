"""The application factory: ``create_app(ctx_factory)`` -> the FastAPI app of API and console."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from telewarden._version import __version__
from telewarden.api.auth import (
    Reader,
    state_of,
)
from telewarden.api.errors import ERROR_RESPONSES, install_error_handlers
from telewarden.api.middleware import InFlight, Metrics, ServiceMiddleware
from telewarden.api.models import Health
from telewarden.api.state import ApiConfig, ApiState
from telewarden.core.service_ports import ServiceStore
from telewarden.services.context import AppContext

__all__ = ["create_app"]

DESCRIPTION = """\
Screen calls and SMS before they are answered or delivered, manage opt-ins, lists and policy,
and read what was stopped. Authenticate with `Authorization: Bearer <key or token>`: API keys
(integrators, screening only) come from `telewarden keys create`; people log in at
`/v1/auth/login`. Errors are `{"detail": ...}` with 401/403 (credential), 404, 409, 413, 422
(input), 503 (overloaded: retry after `Retry-After`; or not configured).
"""


def create_app(
    ctx_factory: Callable[[], AppContext],
    *,
    config: ApiConfig | None = None,
    service_factory: Callable[[AppContext], ServiceStore] | None = None,
    console: bool = True,
) -> FastAPI:
    """The service's ASGI application.

    Parameters
    ----------
    ctx_factory : callable
        Builds the ``AppContext`` (store, clock, gates) on first use, inside the worker process.
    config : ApiConfig, optional
        Limits and behaviour; defaults suit one process on a small machine.
    service_factory : callable, optional
        Builds the ``ServiceStore`` from the context; default: the one sharing its store.
    console : bool
        Serve the analyst console at ``/console`` too.
    """
    config = config or ApiConfig()
    state = ApiState(ctx_factory, config, service_factory)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if config.preload:
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(state.screeners.get)
        yield
        state.close()

    app = FastAPI(
        title="telewarden",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.api = state
    metrics = Metrics()
    in_flight = InFlight()
    app.state.metrics = metrics
    install_error_handlers(app)

    from telewarden.api import (
        routes_accounts,
        routes_disposal,
        routes_models,
        routes_screening,
        routes_state,
    )

    @app.get("/v1/health", response_model=Health, tags=["health"])
    async def health(request: Request) -> Health:
        """Liveness; the only route without authentication."""
        s = state_of(request)
        return Health(
            status="ok",
            version=__version__,
            screener_version=s.screeners.version,
            in_flight=in_flight.value,
        )

    @app.get(
        "/metrics",
        tags=["health"],
        responses={200: {"content": {"text/plain": {}}}, **ERROR_RESPONSES},
        response_class=Response,
    )
    def prometheus(
        who: Reader,
    ) -> Response:
        """Prometheus text format (this process's series)."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(routes_screening.router)
    app.include_router(routes_state.router)
    app.include_router(routes_disposal.router)
    app.include_router(routes_accounts.router)
    app.include_router(routes_models.router)
    if console:
        from telewarden.api.console import mount_console

        mount_console(app)

    app.add_middleware(
        ServiceMiddleware,
        metrics=metrics,
        in_flight=in_flight,
        max_in_flight=config.max_in_flight,
        max_body_bytes=config.max_body_bytes,
        access_log=config.access_log,
    )
    return app
