"""The exception tree of telewarden.

Each error says how an entry point renders it (CLI exit code, HTTP status)::

    TelewardenError                 base; never raised directly
    ├── InvalidInputError           bad user input: CLI exit 2, HTTP 422
    │   └── MalformedRecordError    one record of a batch is malformed: quarantined, not raised
    ├── NotFoundError               unknown subscriber, list entry, model: CLI exit 1, HTTP 404
    ├── ConflictError               state does not allow the change: CLI exit 1, HTTP 409
    └── ConfigurationError          settings or model files are unusable: CLI exit 3, HTTP 500

Bad traffic (an unparseable caller ID, say) is never an exception: it is a verdict with a
reason code.
"""

from __future__ import annotations


class TelewardenError(Exception):
    """Base class of every error telewarden raises on purpose."""


class InvalidInputError(TelewardenError, ValueError):
    """User input is invalid. Rendered as CLI exit code 2 or HTTP 422."""


class MalformedRecordError(InvalidInputError):
    """One record in a batch cannot be read; batch readers quarantine it with its line and reason.

    Parameters
    ----------
    line : int
        1-based line (or row) number in the source file, header counted as line 1 for CSV.
    reason : str
        Why the record was rejected, in words an operator understands.
    """

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class NotFoundError(TelewardenError, LookupError):
    """A named thing does not exist. Rendered as CLI exit code 1 or HTTP 404."""


class ConflictError(TelewardenError):
    """The current state does not allow the change. Rendered as CLI exit code 1 or HTTP 409."""


class ConfigurationError(TelewardenError):
    """Settings, policy or a model file is unusable. Rendered as CLI exit code 3 or HTTP 500."""
