"""Screening use cases: the gated policy, screeners built from the store, one screened event.

The legal gate on SMS content is decided here once (:func:`gated_policy`,
:func:`content_allowed`) and every path that reads message bodies asks it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from telewarden.core.errors import ConfigurationError, InvalidInputError, TelewardenError
from telewarden.core.numbers import NumberIntel
from telewarden.core.ports import DecisionLog, ListStore, OptInStore
from telewarden.core.screening import (
    ContentInspector,
    Decision,
    ListKind,
    NumberList,
    NumberLookup,
    OptInBook,
    PolicySettings,
    Screener,
    ScreeningEvent,
)
from telewarden.core.screening.settings import HOW_TO_OPEN_CONTENT

if TYPE_CHECKING:
    from telewarden.services.context import AppContext, Gates

__all__ = [
    "SIMULATED_TRAFFIC",
    "content_allowed",
    "content_gate_closed_text",
    "simulated_traffic_policy",
    "gated_policy",
    "load_screener",
    "screen_one",
    "screener_for",
    "shipped_content_inspector",
]


SIMULATED_TRAFFIC = "simulated traffic, no subscriber content"
"""The basis on which the demo and the simulator's loops open the gate for their own traffic."""


def simulated_traffic_policy(
    policy: PolicySettings | None = None, *, deployment: bool | None = None
) -> PolicySettings:
    """``policy`` (default: the defaults) with content inspection open on synthetic traffic.

    Only for in-memory or demo stores holding the simulator's messages: no subscriber content
    is read. ``deployment=False`` (``TELEWARDEN_CONTENT_INSPECTION=false``) keeps it closed.
    """
    base = policy or PolicySettings()
    if deployment is False:
        return base.model_copy(update={"content_inspection": False, "content_legal_basis": None})
    return base.model_copy(
        update={"content_inspection": True, "content_legal_basis": SIMULATED_TRAFFIC}
    )


def content_gate_closed_text(gates: Gates) -> str:
    """Why the gate is closed and how to open it lawfully."""
    if gates.content_inspection is False:
        return (
            "content inspection is switched off by the deployment "
            "(TELEWARDEN_CONTENT_INSPECTION=false or content_inspection = false in "
            "telewarden.toml); remove that setting, then " + HOW_TO_OPEN_CONTENT
        )
    return (
        "content inspection is switched off (the legal gate is closed by default: nobody may "
        "inspect telecom content without a lawful basis and a legal review); " + HOW_TO_OPEN_CONTENT
    )


def gated_policy(policy: PolicySettings, gates: Gates) -> PolicySettings:
    """``policy`` with the process gates applied.

    The stored policy is the legal gate: closed until a supervisor opens it with a recorded
    legal basis. The process setting can only narrow it: ``gates.content_inspection`` False
    closes SMS body inspection whatever the stored policy says; True or None leave the stored
    gate as it is, so a gate a supervisor closed stays closed (issue #12: the stored policy's
    gate holds on every path). Configured high-risk countries replace the stored list.
    """
    update: dict[str, object] = {}
    if gates.content_inspection is False and policy.content_inspection:
        update["content_inspection"] = False
    if gates.high_risk_countries is not None:
        update["high_risk_countries"] = [c.upper() for c in gates.high_risk_countries]
    return policy.model_copy(update=update) if update else policy


def content_allowed(ctx: AppContext) -> bool:
    """Whether message bodies may be read: the stored policy and the process gate both allow it."""
    return ctx.effective_policy().content_inspection


def require_content_allowed(ctx: AppContext, what: str) -> None:
    """Refuse a content-reading use case (``sms classify`` ...) while the legal gate is closed."""
    if not content_allowed(ctx):
        raise ConfigurationError(
            f"{what} reads message bodies, but {content_gate_closed_text(ctx.gates)}"
        )


def shipped_content_inspector() -> ContentInspector | None:
    """The shipped SMS model as a ``ContentInspector``; None when it is not installed."""
    try:
        from telewarden.adapters.sms_model import load_default_model
        from telewarden.core.sms.inspector import SmsClassifier, SmsContentInspector

        return SmsContentInspector(SmsClassifier(load_default_model()))
    except (ImportError, TelewardenError):
        return None


def content_inspector(
    policy: PolicySettings, factory: Callable[[], ContentInspector | None] | None = None
) -> ContentInspector | None:
    """The content inspector the policy allows, or None (the screener then says why in its trace)."""
    if not policy.content_inspection:
        return None
    return (factory or shipped_content_inspector)()


def _intel(policy: PolicySettings, numbers: NumberIntel | None) -> NumberIntel:
    return (
        numbers
        if numbers is not None
        else NumberIntel(high_risk_countries=policy.high_risk_countries)
    )


class ScreenerSource(OptInStore, ListStore, Protocol):
    """The two ports a screener's opt-ins and lists are loaded from."""


def load_screener(
    store: ScreenerSource,
    policy: PolicySettings,
    *,
    numbers: NumberIntel | None = None,
    content: ContentInspector | None = None,
    measures: NumberLookup | None = None,
) -> Screener:
    """A ``Screener`` holding ALL of the store's opt-ins and deny/allow lists in memory.

    For batch screening and long-running workers; a single screen uses :func:`screener_for`.
    ``measures`` (a ``MeasureLookup`` over disposal's measures) adds the ``card_measure`` rules.
    """
    optins = OptInBook()
    for optin in store.iter_optins():
        optins.set(optin)
    deny = NumberList()
    store.load_list(ListKind.DENY, deny)
    allow = NumberList()
    store.load_list(ListKind.ALLOW, allow)
    if measures is None:
        return Screener(
            policy, numbers=_intel(policy, numbers), optins=optins, deny=deny, allow=allow,
            content=content,
        )  # fmt: skip
    from telewarden.core.screening import MEASURE_LOOKUP, MEASURE_RULES

    return Screener(
        policy,
        numbers=_intel(policy, numbers),
        optins=optins,
        deny=deny,
        allow=allow,
        content=content,
        rules=MEASURE_RULES,
        lookups={MEASURE_LOOKUP: measures},
    )


def measures_now(ctx: AppContext) -> NumberLookup | None:
    """Disposal's measures in force as a screener lookup at the context's now (None without a
    case store): for screeners that stay loaded, rebuilt whenever the store changes."""
    if ctx.cases is None:
        return None
    from telewarden.core.disposal.book import MeasureBook, MeasureLookup

    return MeasureLookup(MeasureBook(ctx.cases.measures_in_force()), ctx.clock.now())


def screener_for(
    store: ScreenerSource,
    policy: PolicySettings,
    event: ScreeningEvent,
    *,
    numbers: NumberIntel | None = None,
    content: ContentInspector | None = None,
) -> Screener:
    """A ``Screener`` loaded with only the state that can affect ``event``.

    The callee's opt-ins and the list entries matching the caller or callee are fetched by
    index, so a single screen costs a few queries however long the lists are.
    """
    intel = _intel(policy, numbers)
    e164s = [
        e for e in (intel.normalise(event.caller), intel.normalise(event.callee)) if e is not None
    ]
    optins = OptInBook()
    for msisdn in e164s:
        for optin in store.optins_for(msisdn):
            optins.set(optin)
    deny = NumberList(store.entries_matching(ListKind.DENY, e164s))
    allow = NumberList(store.entries_matching(ListKind.ALLOW, e164s))
    return Screener(policy, numbers=intel, optins=optins, deny=deny, allow=allow, content=content)


def measure_rules(ctx: AppContext) -> dict[str, object]:
    """The rules and lookups that make a screener honour disposal's measures (none without a
    case store): the ``card_measure`` and ``call_to_flagged_number`` rules over the cases."""
    if ctx.cases is None:
        return {}
    from telewarden.core.disposal.book import CaseMeasureLookup
    from telewarden.core.screening import MEASURE_LOOKUP, MEASURE_RULES

    lookup = CaseMeasureLookup(ctx.cases, ctx.clock.now())
    return {"rules": MEASURE_RULES, "lookups": {MEASURE_LOOKUP: lookup}}


def screen_one(ctx: AppContext, event: ScreeningEvent, *, actor: str) -> Decision:
    """Screen one call or SMS against the store's state, log the decision, return it.

    A card under a measure (restricted, suspended, pending re-verification) is blocked with its
    own reason and the appeal contact, except towards emergency numbers. An empty callee is
    invalid input (a file screen quarantines such a row as ``missing callee``); an empty
    caller is not: calls without a caller ID exist and have their own rule.
    """
    if not event.callee.strip():
        raise InvalidInputError("the callee (recipient) is empty: a screen needs the number called")
    policy = ctx.effective_policy()
    content = content_inspector(policy, ctx.inspector_factory) if event.text else None
    screener = screener_for(ctx.store, policy, event, content=content)
    extra = measure_rules(ctx)
    if extra:
        screener = Screener(
            policy,
            numbers=screener.numbers,
            optins=screener.optins,
            deny=screener.deny,
            allow=screener.allow,
            content=content,
            **extra,  # type: ignore[arg-type]
        )
    decision = screener.decide(event)
    log: DecisionLog = ctx.store
    log.log_decision(event, decision, actor=actor, at=ctx.clock.now())
    return decision
