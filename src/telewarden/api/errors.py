"""The ONE place where errors become HTTP statuses.

The core's error tree says how each kind is rendered (``telewarden.core.errors``); the service
answers ``{"detail": "..."}`` with:

==========================  ======
InvalidInputError           422
NotFoundError               404
ConflictError               409
ConfigurationError          503 (the service cannot do this as configured; never a 500)
body is not JSON            400
no or unknown credential    401
credential of another role  403
body too large              413
overloaded                  503 with Retry-After
==========================  ======
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from telewarden.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TelewardenError,
)

__all__ = [
    "ERROR_RESPONSES",
    "STATUS_OF",
    "AuthError",
    "HttpError",
    "install_error_handlers",
    "status_of",
]

log = logging.getLogger("telewarden.api")

STATUS_OF: tuple[tuple[type[TelewardenError], int], ...] = (
    (InvalidInputError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ConfigurationError, 503),
)


class HttpError(Exception):
    """An error the service itself raises with its status (a batch over the limit: 413)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class AuthError(HttpError):
    """A request without a valid credential (401) or with one of the wrong role (403)."""


def status_of(exc: TelewardenError) -> int:
    """The HTTP status of a telewarden error.

    Examples
    --------
    >>> status_of(NotFoundError("x")), status_of(InvalidInputError("y"))
    (404, 422)
    """
    return next((code for kind, code in STATUS_OF if isinstance(exc, kind)), 422)


def _error_body(description: str) -> dict[str, object]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"detail": {}},
                    "required": ["detail"],
                }
            }
        },
    }


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: _error_body("The body is not JSON"),
    401: _error_body("No credential, or one that is unknown, expired or revoked"),
    403: _error_body("The credential's role may not do this"),
    404: _error_body("No such entry, subscriber record, key or user"),
    409: _error_body("The state does not allow the change (a username taken, ...)"),
    413: _error_body("Request body or batch too large"),
    422: _error_body("Invalid input"),
    503: _error_body("Overloaded (retry after the Retry-After seconds) or not configured"),
}
"""Responses every authenticated route may give, for the OpenAPI document."""


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that render errors as ``{"detail": ...}`` with their status."""

    async def telewarden_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TelewardenError)
        return JSONResponse({"detail": str(exc)}, status_code=status_of(exc))

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HttpError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)

    app.add_exception_handler(TelewardenError, telewarden_error)
    app.add_exception_handler(HttpError, http_error)
