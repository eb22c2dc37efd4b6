"""When and how a warning goes out: one per subscriber per campaign, quiet hours, rate limits.

What belongs here: :class:`WarningPolicy` (the operator's settings), :class:`WarningGate` (the
state that enforces them as warnings are decided, in event time, with no clock of its own) and
the quiet-hour arithmetic. The gate never drops a warning for capacity: it schedules it at the
next free minute (SMS) or hour (human calls), so the cost of a limit shows up as lead time lost,
which the evaluation measures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from telewarden.core.warning.risk import Risk, RiskBand

__all__ = [
    "Channel",
    "Plan",
    "WarningGate",
    "WarningPolicy",
    "in_quiet_hours",
    "quiet_end",
]


class Channel(StrEnum):
    """How a warning reaches the subscriber."""

    SMS = "sms"
    PUSH = "push"
    CALL = "call"
    """A human warning call (a line of the call list)."""
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class WarningPolicy:
    """The operator's warning settings.

    Attributes
    ----------
    quiet_start_h, quiet_end_h : int
        Local quiet hours ``[start, end)``; SMS and push wait for the end unless urgent, human
        calls always wait.
    utc_offset_h : int
        Local time of the subscribers (Beijing time, UTC+8).
    urgent_in_quiet_hours : bool
        Whether an urgent warning (a loss may follow within hours) goes out by SMS and push in
        quiet hours. A one-ring lure arrives at night on purpose; waiting for the morning would
        warn after the callback.
    sms_per_minute : int
        SMS capacity reserved for warnings; more wait for the next minute.
    calls_per_hour : int
        Warning calls the agents can make in an hour; more wait for the next hour.
    max_per_subscriber_per_day : int
        Warnings one subscriber gets in 24 hours, whatever the campaigns.
    campaign_window : datetime.timedelta
        One warning per subscriber per campaign key within this window.
    push : bool
        Whether warnings also go to the app push webhook.
    """

    quiet_start_h: int = 22
    quiet_end_h: int = 8
    utc_offset_h: int = 8
    urgent_in_quiet_hours: bool = True
    sms_per_minute: int = 300
    calls_per_hour: int = 120
    max_per_subscriber_per_day: int = 3
    campaign_window: dt.timedelta = dt.timedelta(days=7)
    push: bool = True


def _local_hour(at: dt.datetime, policy: WarningPolicy) -> float:
    local = at.astimezone(dt.UTC) + dt.timedelta(hours=policy.utc_offset_h)
    return local.hour + local.minute / 60.0 + local.second / 3600.0


def in_quiet_hours(at: dt.datetime, policy: WarningPolicy) -> bool:
    """Whether ``at`` falls in the local quiet hours (which may wrap midnight).

    Examples
    --------
    >>> import datetime as dt
    >>> p = WarningPolicy()  # 22:00-08:00 Beijing time
    >>> in_quiet_hours(dt.datetime(2026, 3, 1, 18, 30, tzinfo=dt.UTC), p)  # 02:30 Beijing
    True
    >>> in_quiet_hours(dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC), p)  # 10:00 Beijing
    False
    """
    hour = _local_hour(at, policy)
    start, end = policy.quiet_start_h, policy.quiet_end_h
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def quiet_end(at: dt.datetime, policy: WarningPolicy) -> dt.datetime:
    """``at`` itself outside quiet hours, else the instant the quiet hours end.

    Examples
    --------
    >>> import datetime as dt
    >>> quiet_end(dt.datetime(2026, 3, 1, 18, 30, tzinfo=dt.UTC), WarningPolicy()).isoformat()
    '2026-03-02T00:00:00+00:00'
    """
    if not in_quiet_hours(at, policy):
        return at
    offset = dt.timedelta(hours=policy.utc_offset_h)
    local = at.astimezone(dt.UTC) + offset
    end = local.replace(hour=policy.quiet_end_h, minute=0, second=0, microsecond=0)
    if end <= local:
        end += dt.timedelta(days=1)
    return (end - offset).replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Plan:
    """The gate's answer for one candidate warning."""

    send: bool
    reason: str
    """``warn``, ``below_threshold``, ``duplicate`` or ``subscriber_limit``."""
    send_at: dt.datetime | None = None
    """When the SMS and push go out (after quiet hours and rate limits)."""
    channels: tuple[Channel, ...] = ()
    call_at: dt.datetime | None = None
    """When the human call is due, for the call list (``None``: no call)."""


class WarningGate:
    """Applies a :class:`WarningPolicy` to candidate warnings in event-time order.

    Examples
    --------
    >>> import datetime as dt
    >>> from telewarden.core.warning.risk import Risk, RiskBand
    >>> gate = WarningGate(WarningPolicy())
    >>> t = dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)
    >>> risk = Risk(0.3, RiskBand.HIGH, True, "answered_long_call", ())
    >>> first = gate.plan("+8613800000001", "fraud_call", risk, t)
    >>> (first.reason, [str(c) for c in first.channels])
    ('warn', ['sms', 'push', 'call'])
    >>> gate.plan("+8613800000001", "fraud_call", risk, t).reason
    'duplicate'
    """

    def __init__(self, policy: WarningPolicy) -> None:
        self.policy = policy
        self._warned: dict[tuple[str, str], dt.datetime] = {}
        self._recent: dict[str, list[dt.datetime]] = {}
        self._sms_minutes: dict[int, int] = {}
        self._call_hours: dict[int, int] = {}

    def already_warned(self, msisdn: str, campaign_key: str, now: dt.datetime) -> bool:
        """Whether the subscriber was warned for this campaign within the campaign window."""
        at = self._warned.get((msisdn, campaign_key))
        return at is not None and now - at < self.policy.campaign_window

    def plan(self, msisdn: str, campaign_key: str, risk: Risk, now: dt.datetime) -> Plan:
        """Decide one candidate; a ``send`` plan is committed (it counts for later candidates)."""
        policy = self.policy
        if risk.band not in (RiskBand.HIGH, RiskBand.MEDIUM):
            return Plan(False, "below_threshold")
        if self.already_warned(msisdn, campaign_key, now):
            return Plan(False, "duplicate")
        day_ago = now - dt.timedelta(days=1)
        recent = [t for t in self._recent.get(msisdn, []) if t > day_ago]
        if len(recent) >= policy.max_per_subscriber_per_day:
            return Plan(False, "subscriber_limit")
        wanted = now if risk.urgent and policy.urgent_in_quiet_hours else quiet_end(now, policy)
        send_at = self._sms_slot(wanted)
        channels = [Channel.SMS]
        if policy.push:
            channels.append(Channel.PUSH)
        call_at = None
        if risk.band is RiskBand.HIGH:
            channels.append(Channel.CALL)
            call_at = self._call_slot(quiet_end(now, policy))
        recent.append(now)
        self._recent[msisdn] = recent
        self._warned[(msisdn, campaign_key)] = now
        return Plan(True, "warn", send_at, tuple(channels), call_at)

    def _sms_slot(self, wanted: dt.datetime) -> dt.datetime:
        minute = int(wanted.timestamp() // 60)
        while self._sms_minutes.get(minute, 0) >= self.policy.sms_per_minute:
            minute += 1
        self._sms_minutes[minute] = self._sms_minutes.get(minute, 0) + 1
        start = dt.datetime.fromtimestamp(minute * 60, dt.UTC)
        return max(wanted, start)

    def _call_slot(self, wanted: dt.datetime) -> dt.datetime:
        at = wanted
        while True:
            hour = int(at.timestamp() // 3600)
            if self._call_hours.get(hour, 0) < self.policy.calls_per_hour:
                self._call_hours[hour] = self._call_hours.get(hour, 0) + 1
                return at
            at = quiet_end(dt.datetime.fromtimestamp((hour + 1) * 3600, dt.UTC), self.policy)
