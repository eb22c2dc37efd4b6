"""Real-time screening of calls and SMS: cross-border policy, opt-ins, lists, caller-ID checks.

Everything an adapter or entry point needs is re-exported here::

    from telewarden.core.screening import Screener, ScreeningEvent, PolicySettings

Examples
--------
>>> from telewarden.core.screening import Screener, ScreeningEvent, Ingress
>>> Screener().decide(ScreeningEvent("110", "13800138000", ingress=Ingress.INTERNATIONAL)).reason
<ReasonCode.SERVICE_NUMBER_IMPERSONATION: 'service_number_impersonation'>
"""

from __future__ import annotations

from telewarden.core.screening.batch import OUTPUT_COLUMNS, compile_condition, decide_frame
from telewarden.core.screening.conditions import Condition, Fact, Namespace
from telewarden.core.screening.facts import (
    NumberLookup,
    callee,
    caller,
    content,
    event,
    pair,
    policy,
)
from telewarden.core.screening.lists import NumberList, normalise_pattern
from telewarden.core.screening.optins import OptInBook
from telewarden.core.screening.policy import (
    CONTENT_GATE_TEXT,
    RULES,
    SIP_BLOCK_STATUS,
    Screener,
)
from telewarden.core.screening.rules import (
    CARD_MEASURE,
    DEFAULT_RULES,
    MEASURE_LOOKUP,
    MEASURE_RULES,
    Notice,
    Outcome,
    Rule,
    RuleSet,
    WhyNot,
)
from telewarden.core.screening.settings import PolicySettings, RegionPolicy
from telewarden.core.screening.snapshot import PolicySnapshot
from telewarden.core.screening.types import (
    Channel,
    ContentFinding,
    ContentInspector,
    Decision,
    Ingress,
    ListEntry,
    ListKind,
    MatchKind,
    OptIn,
    OptInScope,
    ReasonCode,
    RuleTrace,
    ScreeningEvent,
    Verdict,
)

__all__ = [
    "OUTPUT_COLUMNS",
    "CARD_MEASURE",
    "DEFAULT_RULES",
    "MEASURE_LOOKUP",
    "MEASURE_RULES",
    "Condition",
    "Fact",
    "Namespace",
    "Notice",
    "NumberLookup",
    "Outcome",
    "PolicySnapshot",
    "Rule",
    "RuleSet",
    "WhyNot",
    "callee",
    "caller",
    "compile_condition",
    "content",
    "decide_frame",
    "event",
    "pair",
    "policy",
    "CONTENT_GATE_TEXT",
    "RULES",
    "SIP_BLOCK_STATUS",
    "Channel",
    "ContentFinding",
    "ContentInspector",
    "Decision",
    "Ingress",
    "ListEntry",
    "ListKind",
    "MatchKind",
    "NumberList",
    "OptIn",
    "OptInBook",
    "OptInScope",
    "PolicySettings",
    "ReasonCode",
    "RegionPolicy",
    "RuleTrace",
    "Screener",
    "ScreeningEvent",
    "Verdict",
    "normalise_pattern",
]
