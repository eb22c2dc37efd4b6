"""Structured logs: one JSON object a line, with the ``extra`` fields of each record."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

__all__ = ["JsonFormatter", "configure_json_logs"]

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as ``{"at", "level", "logger", "message", ...extra fields}``.

    Examples
    --------
    >>> import logging
    >>> r = logging.makeLogRecord({"msg": "hi", "levelname": "INFO", "name": "x", "ms": 1.5})
    >>> sorted(json.loads(JsonFormatter().format(r)))
    ['at', 'level', 'logger', 'message', 'ms']
    """

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, object] = {
            "at": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                body[key] = value
        if record.exc_info:
            body["error"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False, default=str)


def configure_json_logs(level: int = logging.INFO, *, access_log: bool = True) -> None:
    """Send ``telewarden.*`` and uvicorn's error log to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("telewarden", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    logging.getLogger("telewarden.api.access").setLevel(
        logging.INFO if access_log else logging.WARNING
    )
