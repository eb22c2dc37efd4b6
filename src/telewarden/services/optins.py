"""Opt-in use cases: subscribers' choices about cross-border calls and SMS.

Cross-border traffic is blocked by default; a subscriber opts in (or explicitly out) per scope.
Every change is effective at the next screen and audited with its actor by the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from telewarden.core.errors import InvalidInputError, NotFoundError
from telewarden.core.numbers import NumberIntel
from telewarden.core.ports import AuditRecord, Clock, OptInStore
from telewarden.core.screening import OptIn, OptInScope

__all__ = [
    "OptInChange",
    "opt_in",
    "optin_history",
    "optins_of",
    "parse_scope",
    "remove_optins",
    "subscriber",
]

SCOPES = ("calls", "sms", "both")
MAX_SOURCE = 64


def subscriber(raw: str) -> str:
    """The subscriber's number in E.164, or InvalidInputError.

    Examples
    --------
    >>> subscriber("138 0013 8000")
    '+8613800138000'
    """
    e164 = NumberIntel(cache_size=16).normalise(raw)
    if e164 is None:
        raise InvalidInputError(f"{raw!r} is not a subscriber number")
    return e164


def parse_scope(raw: str) -> OptInScope:
    """``calls``, ``sms`` or ``both`` (any case), else InvalidInputError."""
    scope = raw.strip().lower()
    if scope not in SCOPES:
        raise InvalidInputError(f"--scope must be calls, sms or both, not {raw!r}")
    return OptInScope(scope)


@dataclass(frozen=True, slots=True)
class OptInChange:
    """The record stored and whether it replaced an earlier one."""

    optin: OptIn
    replaced: bool


def opt_in(
    store: OptInStore,
    clock: Clock,
    raw_msisdn: str,
    *,
    scope: str = "both",
    opted_in: bool = True,
    source: str = "cli",
    actor: str,
) -> OptInChange:
    """Record a subscriber's opt-in (or, with ``opted_in=False``, an explicit opt-out)."""
    optin = OptIn(
        msisdn=subscriber(raw_msisdn),
        scope=parse_scope(scope),
        opted_in=opted_in,
        at=clock.now(),
        source=source.strip()[:MAX_SOURCE] or "cli",
    )
    previous = store.set_optin(optin, actor=actor)
    return OptInChange(optin, previous is not None)


def remove_optins(store: OptInStore, raw_msisdn: str, scope: str | None, *, actor: str) -> int:
    """Delete the subscriber's records (one scope or all); NotFoundError when there were none."""
    e164 = subscriber(raw_msisdn)
    chosen = parse_scope(scope) if scope is not None else None
    removed = store.remove_optin(e164, chosen, actor=actor)
    if removed == 0:
        raise NotFoundError(
            f"{e164} has no opt-in record" + (f" for {chosen.value}" if chosen else "")
        )
    return removed


def optins_of(store: OptInStore, raw_msisdn: str) -> tuple[str, list[OptIn]]:
    """The subscriber's E.164 number and opt-in records."""
    e164 = subscriber(raw_msisdn)
    return e164, store.optins_for(e164)


def optin_history(
    store: OptInStore, raw_msisdn: str, *, limit: int = 100
) -> tuple[str, list[AuditRecord]]:
    """The subscriber's E.164 number and the audit records of their opt-ins, newest first."""
    e164 = subscriber(raw_msisdn)
    return e164, store.optin_history(e164, limit=limit)
