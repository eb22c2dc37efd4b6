"""The screener: decides calls and SMS with the current policy snapshot.

:class:`Screener` is what entry points hold. It keeps the live policy objects (settings,
opt-ins, lists, content inspector, number analyser, injected lookups) as attributes, builds an
immutable :class:`~telewarden.core.screening.snapshot.PolicySnapshot` from them, and swaps it
whole when the settings, the rule set or a collaborator is replaced (or ``refresh`` is called):
``Screener.decide`` reads the snapshot reference once per event, so a decision never mixes two
policies. The rules themselves, their priorities, SIP mapping and trace texts, are defined once
in :mod:`telewarden.core.screening.rules`; their table is there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from telewarden.core.numbers import NumberIntel
from telewarden.core.screening.facts import NumberLookup
from telewarden.core.screening.lists import NumberList
from telewarden.core.screening.optins import OptInBook
from telewarden.core.screening.rules import (
    CONTENT_GATE_TEXT,
    DEFAULT_RULES,
    SIP_BLOCK_STATUS,
    RuleSet,
)
from telewarden.core.screening.settings import PolicySettings
from telewarden.core.screening.snapshot import PolicySnapshot
from telewarden.core.screening.types import (
    ContentInspector,
    Decision,
    ScreeningEvent,
)

__all__ = ["RULES", "SIP_BLOCK_STATUS", "Screener", "CONTENT_GATE_TEXT"]

RULES: tuple[tuple[str, int], ...] = DEFAULT_RULES.names_and_priorities()
"""``(name, priority)`` of the shipped rules, in evaluation order."""


class Screener:
    """Decide ``allow`` / ``allow_labelled`` / ``block`` for call and SMS events.

    Parameters
    ----------
    settings : PolicySettings, optional
        The deployment policy; defaults to :class:`PolicySettings` defaults.
    numbers : NumberIntel, optional
        Number analyser (shared cache); built from ``settings.high_risk_countries`` if absent.
    optins : OptInBook, optional
        Subscriber opt-ins; a change is effective for the very next decision.
    deny, allow : NumberList, optional
        Deny and allow lists of callers.
    content : ContentInspector, optional
        SMS body classifier, used only when ``settings.content_inspection`` is True.
    cache_size : int
        Bound of an optional memo of whole decisions per (caller, callee, channel, ingress),
        cleared when full and whenever the opt-ins, lists, settings or collaborators change.
        Off (0) by default: on traffic where (caller, callee) pairs rarely repeat it cost about
        40 % of batch throughput in ``bench/screening.py``-style runs; turn it on for replays
        or retransmission-heavy feeds.
    memoise : bool
        Keep memos of trace/message parts (False for the naive baseline of
        ``bench/screening.py``; the verdicts are identical either way).
    rules : RuleSet
        The rules; :data:`~telewarden.core.screening.rules.DEFAULT_RULES` unless a deployment
        adds its own.
    lookups : mapping of str to NumberLookup, optional
        Injected per-number facts (``caller.<name>``, ``callee.<name>``) the rules may read.

    Examples
    --------
    >>> s = Screener()
    >>> d = s.decide(ScreeningEvent("+85223456789", "13800138000"))
    >>> (d.verdict.value, d.reason.value, d.sip_status)
    ('block', 'cross_border_default_block', 603)
    >>> d.sip_reason
    'Network Blocked; cause=cross_border_default_block; appeal=10086'
    >>> s.decide(ScreeningEvent("+85223456789", "110")).verdict.value
    'allow_labelled'
    """

    def __init__(
        self,
        settings: PolicySettings | None = None,
        *,
        numbers: NumberIntel | None = None,
        optins: OptInBook | None = None,
        deny: NumberList | None = None,
        allow: NumberList | None = None,
        content: ContentInspector | None = None,
        cache_size: int = 0,
        memoise: bool = True,
        rules: RuleSet = DEFAULT_RULES,
        lookups: Mapping[str, NumberLookup] | None = None,
    ) -> None:
        self.settings = settings if settings is not None else PolicySettings()
        self.numbers = (
            numbers
            if numbers is not None
            else NumberIntel(high_risk_countries=self.settings.high_risk_countries)
        )
        self.optins = optins if optins is not None else OptInBook()
        self.deny = deny if deny is not None else NumberList()
        self.allow = allow if allow is not None else NumberList()
        self.content = content
        self.rules = rules
        # Read-only, so a change means a new mapping (and a new snapshot).
        self.lookups: Mapping[str, NumberLookup] = MappingProxyType(dict(lookups or {}))
        self.cache_size = max(0, cache_size)
        self.memoise = memoise
        self._lock = threading.Lock()
        self._snapshot: PolicySnapshot | None = None
        self._built_from: tuple[object, ...] = ()
        self._decisions: dict[tuple[object, ...], Decision] = {}
        self._memo_stamp: tuple[object, ...] = ()

    @classmethod
    def from_snapshot(cls, snapshot: PolicySnapshot, *, cache_size: int = 0) -> Screener:
        """A screener that decides with ``snapshot`` (its objects become the attributes).

        Examples
        --------
        >>> snap = PolicySnapshot.build(PolicySettings(appeal_contact="12321"))
        >>> Screener.from_snapshot(snap).decide(ScreeningEvent("abc", "13800138000")).sip_reason
        'Network Blocked; cause=unparseable_caller_id; appeal=12321'
        """
        screener = cls(
            snapshot.settings,
            numbers=snapshot.numbers,
            optins=snapshot.optins,
            deny=snapshot.deny,
            allow=snapshot.allow,
            content=snapshot.content,
            cache_size=cache_size,
            memoise=snapshot.memoise,
            rules=snapshot.rules,
            lookups=dict(snapshot.lookups),
        )
        screener.swap(snapshot)
        return screener

    # -- snapshots -----------------------------------------------------------------------------

    def _sources(self) -> tuple[object, ...]:
        """What a snapshot is built from: identities, and the settings' edit counter."""
        settings = self.settings
        return (
            id(settings),
            settings.revision,
            id(self.numbers),
            id(self.optins),
            id(self.deny),
            id(self.allow),
            id(self.content),
            id(self.rules),
            id(self.lookups),
            self.memoise,
        )

    @property
    def snapshot(self) -> PolicySnapshot:
        """The current policy snapshot (rebuilt first if the attributes changed)."""
        return self._current()

    def _current(self) -> PolicySnapshot:
        snapshot = self._snapshot
        if snapshot is not None and self._built_from == self._sources():
            return snapshot
        with self._lock:
            sources = self._sources()
            if self._snapshot is None or self._built_from != sources:
                self._snapshot = PolicySnapshot.build(
                    self.settings,
                    rules=self.rules,
                    numbers=self.numbers,
                    optins=self.optins,
                    deny=self.deny,
                    allow=self.allow,
                    content=self.content,
                    lookups=self.lookups,
                    memoise=self.memoise,
                )
                self._built_from = sources
            return self._snapshot

    def swap(self, snapshot: PolicySnapshot) -> None:
        """Decide with ``snapshot`` from the next event on (one reference assignment).

        The screener's attributes are pointed at the snapshot's objects, so reading them
        (``screener.deny``, ...) shows what is in force.
        """
        with self._lock:
            self.settings = snapshot.settings
            self.numbers = snapshot.numbers
            self.optins = snapshot.optins
            self.deny = snapshot.deny
            self.allow = snapshot.allow
            self.content = snapshot.content
            self.rules = snapshot.rules
            self.lookups = MappingProxyType(dict(snapshot.lookups))
            self.memoise = snapshot.memoise
            self._built_from = self._sources()
            self._snapshot = snapshot

    def refresh(self) -> None:
        """Rebuild the snapshot (needed only after editing settings' dicts or lists in place)."""
        with self._lock:
            self._built_from = ()
        self._decisions.clear()
        self._current()

    # -- deciding ------------------------------------------------------------------------------

    def decide(self, event: ScreeningEvent) -> Decision:
        """Return the :class:`Decision` for one event; never raises on bad numbers.

        Examples
        --------
        >>> Screener().decide(ScreeningEvent("13800138000", "13900139000")).reason.value
        'domestic'
        """
        snapshot = self._current()
        if self.cache_size:
            return self._decide_memo(snapshot, event)
        return snapshot.evaluator.decide(event)

    def decide_many(self, events: Iterable[ScreeningEvent]) -> list[Decision]:
        """Decide a batch, in order (one decision per event).

        The snapshot is read once per batch: a policy change made by another thread in the
        middle of a batch applies from the next call.

        Examples
        --------
        >>> ev = ScreeningEvent("+85223456789", "13800138000")
        >>> [d.verdict.value for d in Screener().decide_many([ev, ev])]
        ['block', 'block']
        """
        snapshot = self._current()
        if self.cache_size:
            return [self._decide_memo(snapshot, event) for event in events]
        one = snapshot.evaluator.decide
        return [one(event) for event in events]

    def _decide_memo(self, snapshot: PolicySnapshot, event: ScreeningEvent) -> Decision:
        """Decide through the optional whole-decision memo (SMS with text are never memoised)."""
        if event.text is not None:
            return snapshot.evaluator.decide(event)
        stamp = (
            id(snapshot),
            self.optins.version,
            self.deny.version,
            self.allow.version,
            tuple(lookup.version for lookup in self.lookups.values()),
        )
        decisions = self._decisions
        if stamp != self._memo_stamp:
            decisions.clear()
            self._memo_stamp = stamp
        key = (event.caller, event.callee, event.channel, event.ingress)
        decision = decisions.get(key)
        if decision is None:
            decision = snapshot.evaluator.decide(event)
            if len(decisions) >= self.cache_size:
                decisions.clear()
            decisions[key] = decision
        return decision

    def explain(self, event: ScreeningEvent) -> str:
        """Return the decision and its trace as readable lines (for logs and the CLI).

        Examples
        --------
        >>> print(Screener().explain(ScreeningEvent("13800138000", "120")).splitlines()[0])
        allow emergency_callee (rule emergency_callee, SIP 0)
        """
        d = self.decide(event)
        lines = [f"{d.verdict.value} {d.reason.value} (rule {d.rule}, SIP {d.sip_status})"]
        for t in d.trace:
            mark = "FIRED" if t.fired else "-"
            lines.append(f"  {t.priority:>3} {t.rule:<30} {mark:<5} {t.detail}")
        return "\n".join(lines)
