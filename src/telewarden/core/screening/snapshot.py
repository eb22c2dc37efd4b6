"""Policy snapshots: one immutable view of the policy that both evaluators decide with.

A :class:`PolicySnapshot` holds a copy of the policy values, the rule set compiled for them,
and the collaborators the facts come from (number analyser, opt-in book, allow and deny lists,
content inspector, injected lookups). Nothing in it changes after it is built, so a server or
a stream worker can share one across threads; a policy, list or lookup change builds a new
snapshot and the :class:`~telewarden.core.screening.policy.Screener` swaps its reference in
one assignment (a reader keeps the snapshot it started with until its decision is made).

What stays live by design, and is safe to share: the number analyser's cache (a cache, not
policy), and the opt-in book, the allow and deny lists and the injected lookups, which are
read by reference so that a change takes effect from the very next decision (a subscriber who
texts 1219 expects the next call to get through; a 1M-entry deny list is not copied per
change). Each read of them is a dict look-up, atomic under the interpreter lock; the screener
watches their ``version`` to drop its optional decision memo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from telewarden.core.numbers import NumberInfo, NumberIntel
from telewarden.core.screening.facts import (
    ContentFacts,
    FactCatalogue,
    ListingFacts,
    NumberLookup,
    PairFacts,
    PolicyValues,
    content_facts,
    listing_extractor,
    pair_facts,
)
from telewarden.core.screening.lists import NumberList
from telewarden.core.screening.optins import OptInBook
from telewarden.core.screening.rules import DEFAULT_RULES, RuleSet
from telewarden.core.screening.scalar import ScalarEvaluator
from telewarden.core.screening.settings import PolicySettings
from telewarden.core.screening.types import (
    Channel,
    ContentFinding,
    ContentInspector,
    Decision,
    ScreeningEvent,
)

__all__ = ["PolicySnapshot"]


def _no_inspector(text: str) -> ContentFacts:  # pragma: no cover - guarded by has_inspector
    return ContentFacts("ok", ContentFinding("ok", 0.0, "no content inspector configured"))


@dataclass(frozen=True, eq=False)
class PolicySnapshot:
    """An immutable policy: values, compiled rules and the sources of facts.

    Build it with :meth:`build`; decide with :meth:`decide` (per event) or
    :func:`~telewarden.core.screening.batch.decide_frame` (per frame).

    Examples
    --------
    >>> from telewarden.core.screening.types import ScreeningEvent
    >>> snap = PolicySnapshot.build(PolicySettings(cross_border_block_calls=False))
    >>> snap.decide(ScreeningEvent("+85223456789", "13800138000")).reason.value
    'cross_border_allowed'
    >>> snap.values.cross_border_block_calls
    False
    """

    settings: PolicySettings
    """A private copy of the settings the snapshot was built from (read it, do not edit it)."""
    values: PolicyValues
    rules: RuleSet
    numbers: NumberIntel
    optins: OptInBook
    deny: NumberList
    allow: NumberList
    content: ContentInspector | None
    lookups: tuple[tuple[str, NumberLookup], ...]
    memoise: bool = True
    catalogue: FactCatalogue = field(init=False, repr=False)
    evaluator: ScalarEvaluator = field(init=False, repr=False)
    listing: Callable[[str | None], ListingFacts] = field(init=False, repr=False)
    """List and lookup facts of one number (:func:`~telewarden.core.screening.facts.listing_facts`)."""
    pair: Callable[[NumberInfo, Channel], PairFacts] = field(init=False, repr=False)
    """Opt-in and cross-border default facts of (callee, channel)."""

    def __post_init__(self) -> None:
        catalogue = FactCatalogue(self.values, [name for name, _ in self.lookups])
        object.__setattr__(self, "catalogue", catalogue)
        inspector = self.content
        allow, deny = self.allow, self.deny
        lookups = self.lookups
        optins, values = self.optins, self.values

        listing = listing_extractor(allow, deny, lookups)

        # A closure over the snapshot's sources: the per-event path calls it directly.
        def pair(callee: NumberInfo, channel: Channel) -> PairFacts:
            return pair_facts(callee.e164, channel, callee, optins, values)

        object.__setattr__(self, "listing", listing)
        object.__setattr__(self, "pair", pair)
        evaluator = ScalarEvaluator(
            self.rules,
            catalogue,
            numbers=self.numbers,
            listing=listing,
            pair=pair,
            content=(
                (lambda text: content_facts(inspector, text))
                if inspector is not None
                else _no_inspector
            ),
            memoise=self.memoise,
        )
        object.__setattr__(self, "evaluator", evaluator)

    @classmethod
    def build(
        cls,
        settings: PolicySettings | None = None,
        *,
        rules: RuleSet = DEFAULT_RULES,
        numbers: NumberIntel | None = None,
        optins: OptInBook | None = None,
        deny: NumberList | None = None,
        allow: NumberList | None = None,
        content: ContentInspector | None = None,
        lookups: Mapping[str, NumberLookup] | None = None,
        memoise: bool = True,
    ) -> PolicySnapshot:
        """A snapshot of ``settings`` (copied) with these rules and fact sources."""
        settings = settings if settings is not None else PolicySettings()
        frozen = settings.model_copy(deep=True)
        deny = deny if deny is not None else NumberList()
        allow = allow if allow is not None else NumberList()
        named = tuple((lookups or {}).items())
        return cls(
            settings=frozen,
            values=PolicyValues.from_settings(frozen, has_inspector=content is not None),
            rules=rules,
            numbers=(
                numbers
                if numbers is not None
                else NumberIntel(high_risk_countries=settings.high_risk_countries)
            ),
            optins=optins if optins is not None else OptInBook(),
            deny=deny,
            allow=allow,
            content=content,
            lookups=named,
            memoise=memoise,
        )

    # -- the fact sources (one extraction each, used by both evaluators) -----------------------

    def pair_by_e164(
        self, e164: str | None, channel: Channel, callee: NumberInfo | None
    ) -> PairFacts:
        """As :meth:`pair` when only the E.164 form is at hand (allowed without overrides)."""
        return pair_facts(e164, channel, callee, self.optins, self.values)

    @property
    def lists_are_empty(self) -> bool:
        """True when no list entry and no lookup can make a list fact true."""
        return not self.lookups and len(self.allow) == 0 and len(self.deny) == 0

    # -- deciding ------------------------------------------------------------------------------

    def decide(self, event: ScreeningEvent) -> Decision:
        """The :class:`Decision` for one event (see ``Screener.decide``)."""
        return self.evaluator.decide(event)
