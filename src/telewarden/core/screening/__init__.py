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

from telewarden.core.screening.batch import OUTPUT_COLUMNS, decide_frame
from telewarden.core.screening.lists import NumberList, normalise_pattern
from telewarden.core.screening.optins import OptInBook
from telewarden.core.screening.policy import (
    CONTENT_GATE_TEXT,
    RULES,
    SIP_BLOCK_STATUS,
    Screener,
)
from telewarden.core.screening.settings import PolicySettings, RegionPolicy
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
    "decide_frame",
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
