"""Per-subscriber cross-border opt-ins and opt-outs, held in memory and effective at once."""

from __future__ import annotations

from collections.abc import Iterator

from telewarden.core.screening.types import Channel, OptIn, OptInScope

__all__ = ["OptInBook"]


class OptInBook:
    """Opt-in/opt-out records keyed by E.164 msisdn and scope.

    A record for one channel (``calls`` or ``sms``) and a ``both`` record can coexist; the
    most recent one covering the channel decides, and on a tie the channel-specific one wins.

    Examples
    --------
    >>> import datetime as dt
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> book = OptInBook()
    >>> book.set(OptIn("+8613800138000", OptInScope.CALLS, True, t0))
    >>> book.lookup("+8613800138000", Channel.CALL).opted_in
    True
    >>> book.lookup("+8613800138000", Channel.SMS) is None
    True
    >>> book.remove("+8613800138000", OptInScope.CALLS), len(book)
    (True, 0)
    """

    def __init__(self) -> None:
        self._by_msisdn: dict[str, dict[OptInScope, OptIn]] = {}
        self._count = 0
        # Bumped on every change so derived caches can be dropped.
        self.version = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, msisdn: object) -> bool:
        """True when ``msisdn`` has a record of any scope (one dict look-up)."""
        return msisdn in self._by_msisdn

    def __iter__(self) -> Iterator[OptIn]:
        for records in self._by_msisdn.values():
            yield from records.values()

    def set(self, optin: OptIn) -> None:
        """Record ``optin``, replacing any record with the same msisdn and scope."""
        records = self._by_msisdn.setdefault(optin.msisdn, {})
        if optin.scope not in records:
            self._count += 1
        records[optin.scope] = optin
        self.version += 1

    def remove(self, msisdn: str, scope: OptInScope) -> bool:
        """Drop the record for ``msisdn`` and ``scope``; True if one existed."""
        records = self._by_msisdn.get(msisdn)
        if records is None or records.pop(scope, None) is None:
            return False
        if not records:
            del self._by_msisdn[msisdn]
        self._count -= 1
        self.version += 1
        return True

    def records(self, msisdn: str) -> tuple[OptIn, ...]:
        """Every record of ``msisdn`` (any scope)."""
        return tuple(self._by_msisdn.get(msisdn, {}).values())

    def lookup(self, msisdn: str, channel: Channel) -> OptIn | None:
        """Return the record that decides ``channel`` for ``msisdn``, or None."""
        records = self._by_msisdn.get(msisdn)
        if not records:
            return None
        specific = records.get(OptInScope.CALLS if channel is Channel.CALL else OptInScope.SMS)
        if channel is Channel.UNKNOWN:
            specific = None
        both = records.get(OptInScope.BOTH)
        if specific is None:
            return both
        if both is None or specific.at >= both.at:
            return specific
        return both
