"""``/v1`` routes over the screening state: opt-ins, lists, policy, logs, statistics, numbers.

Each route parses, calls one service (``telewarden.services``) with the caller as the audit
actor, tells the process's screener cache when it changed something, and renders.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from telewarden.api import models as m
from telewarden.api.auth import (
    Auditor,
    ListEditor,
    PolicyEditor,
    Reader,
    state_of,
)
from telewarden.api.errors import ERROR_RESPONSES
from telewarden.api.paging import Limit, Offset, page_fields, window
from telewarden.core.ports import AuditRecord
from telewarden.core.screening import ListEntry, OptIn
from telewarden.services import lists, optins, policy, statistics

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

Msisdn = Annotated[str, Path(min_length=1, max_length=64)]
Kind = Annotated[Literal["deny", "allow"], Path()]


def _optin(o: OptIn) -> m.OptInOut:
    return m.OptInOut(
        msisdn=o.msisdn, scope=o.scope.value, opted_in=o.opted_in, at=o.at, source=o.source
    )


def _entry(e: ListEntry) -> m.ListEntryOut:
    return m.ListEntryOut(pattern=e.pattern, match=e.match.value, source=e.source, reason=e.reason)


def _audit(r: AuditRecord) -> m.AuditOut:
    return m.AuditOut(**asdict(r))


# -- opt-ins -----------------------------------------------------------------------------------


@router.post("/optins", response_model=m.OptInChangeOut, tags=["opt-ins"])
def add_optin(
    who: ListEditor,
    body: m.OptInRequest,
    request: Request,
) -> m.OptInChangeOut:
    """Record a subscriber's cross-border opt-in (or explicit opt-out); effective at once."""
    state = state_of(request)
    change = optins.opt_in(
        state.ctx.store, state.ctx.clock, body.msisdn, scope=body.scope,
        opted_in=body.opted_in, source=body.source, actor=who.actor,
    )  # fmt: skip
    state.changed()
    return m.OptInChangeOut(optin=_optin(change.optin), replaced=change.replaced)


@router.get("/optins/{msisdn}", response_model=m.OptInsOut, tags=["opt-ins"])
def show_optins(
    who: Reader,
    msisdn: Msisdn,
    request: Request,
) -> m.OptInsOut:
    """A subscriber's opt-in records."""
    e164, records = optins.optins_of(state_of(request).ctx.store, msisdn)
    return m.OptInsOut(msisdn=e164, optins=[_optin(o) for o in records])


@router.delete("/optins/{msisdn}", response_model=m.Removed, tags=["opt-ins"])
def remove_optins(
    who: ListEditor,
    msisdn: Msisdn,
    request: Request,
    scope: Literal["calls", "sms", "both"] | None = None,
) -> m.Removed:
    """Delete a subscriber's records (one scope or all); 404 when there were none."""
    state = state_of(request)
    removed = optins.remove_optins(state.ctx.store, msisdn, scope, actor=who.actor)
    state.changed()
    return m.Removed(removed=removed)


# -- lists -------------------------------------------------------------------------------------


@router.get("/lists/counts", response_model=dict[str, int], tags=["lists"])
def list_counts(
    who: Reader,
    request: Request,
) -> dict[str, int]:
    """Entries per list."""
    store = state_of(request).ctx.store
    return lists.count_entries(store, [lists.list_kind(k) for k in lists.KINDS])


@router.get("/lists/{kind}", response_model=m.ListPage, tags=["lists"])
def show_list(
    who: Reader,
    kind: Kind,
    request: Request,
    offset: Offset = 0,
    limit: Limit = 50,
    starting_with: Annotated[str, Query(max_length=32, pattern=r"^\+?[0-9]*$")] = "",
) -> m.ListPage:
    """Entries in pattern order, optionally those starting with ``starting_with``."""
    store = state_of(request).ctx.store
    entries, total = lists.show_entries(
        store, lists.list_kind(kind), starting_with=starting_with,
        limit=window(offset, limit),
    )  # fmt: skip
    shown_total = total if not starting_with else None
    return m.ListPage(
        items=[_entry(e) for e in entries[offset : offset + limit]],
        **page_fields(
            shown_total, offset, limit, len(entries) + (1 if total > offset + limit else 0)
        ),
    )


@router.post("/lists/{kind}", response_model=m.ListEntryChange, tags=["lists"])
def add_list_entry(
    who: ListEditor,
    kind: Kind,
    body: m.ListEntryIn,
    request: Request,
) -> m.ListEntryChange:
    """Add or replace one entry: a number (exact) or a ``+digits`` prefix."""
    state = state_of(request)
    entry, replaced = lists.add_entry(
        state.ctx.store, lists.list_kind(kind), body.pattern, match=body.match,
        reason=body.reason, source=body.source, actor=who.actor,
    )  # fmt: skip
    state.changed()
    return m.ListEntryChange(entry=_entry(entry), replaced=replaced)


@router.delete("/lists/{kind}/{pattern}", response_model=m.ListEntryOut, tags=["lists"])
def remove_list_entry(
    who: ListEditor,
    kind: Kind,
    pattern: Annotated[str, Path(min_length=1, max_length=32)],
    request: Request,
) -> m.ListEntryOut:
    """Remove the entry for a number or prefix; 404 when it is not on the list."""
    state = state_of(request)
    removed = lists.remove_entry(state.ctx.store, lists.list_kind(kind), pattern, actor=who.actor)
    state.changed()
    return _entry(removed)


# -- policy ------------------------------------------------------------------------------------


@router.get("/policy", response_model=m.PolicyOut, tags=["policy"])
def show_policy(
    who: Reader,
    request: Request,
) -> m.PolicyOut:
    """The stored policy in force and its version (process gates not applied)."""
    version, settings = policy.policy_in_force(state_of(request).ctx.store)
    return m.PolicyOut(version=version, policy=settings.model_dump(mode="json"))


@router.put("/policy/settings", response_model=m.PolicyChangeOut, tags=["policy"])
def set_policy(
    who: PolicyEditor,
    body: m.PolicySetting,
    request: Request,
) -> m.PolicyChangeOut:
    """Set one dotted key; a new audited version when it changes anything."""
    state = state_of(request)
    value = json.dumps(body.value, ensure_ascii=False)
    change = policy.set_policy_value(
        state.ctx.store, body.key, value, actor=who.actor, legal_basis=body.legal_basis
    )
    state.changed()
    return m.PolicyChangeOut(**asdict(change))


@router.get("/policy/history", response_model=list[m.AuditOut], tags=["policy"])
def policy_history(
    who: Reader,
    request: Request,
    limit: Limit = 20,
) -> list[m.AuditOut]:
    """Policy changes, newest first, with the state before and after."""
    return [_audit(r) for r in policy.policy_history(state_of(request).ctx.store, limit=limit)]


# -- logs, statistics, numbers -----------------------------------------------------------------


@router.get("/audit", response_model=m.AuditPage, tags=["audit"])
def audit_log(
    who: Auditor,
    request: Request,
    offset: Offset = 0,
    limit: Limit = 50,
    entity: Annotated[str | None, Query(max_length=32)] = None,
) -> m.AuditPage:
    """Every audited change with its actor, newest first."""
    records = state_of(request).ctx.store.audit_log(entity=entity, limit=window(offset, limit) + 1)
    return m.AuditPage(
        items=[_audit(r) for r in records[offset : offset + limit]],
        **page_fields(None, offset, limit, len(records)),
    )


@router.get("/decisions", response_model=m.DecisionPage, tags=["statistics"])
def decisions(
    who: Reader,
    request: Request,
    offset: Offset = 0,
    limit: Limit = 50,
) -> m.DecisionPage:
    """Logged single screens, newest first."""
    state = state_of(request)
    state.decisions.flush()
    records = state.ctx.store.recent_decisions(limit=window(offset, limit) + 1)
    return m.DecisionPage(
        items=[m.DecisionOut(**asdict(r)) for r in records[offset : offset + limit]],
        **page_fields(None, offset, limit, len(records)),
    )


@router.get("/statistics", response_model=m.StatisticsOut, tags=["statistics"])
def stats(
    who: Reader,
    request: Request,
    days: Annotated[int, Query(ge=1, le=statistics.MAX_DAYS)] = 14,
) -> m.StatisticsOut:
    """Single screens by day, channel, verdict and reason; batches by day."""
    state = state_of(request)
    state.decisions.flush()
    found = statistics.statistics(state.service, state.ctx.store, state.ctx.clock, days=days)
    return m.StatisticsOut(
        since=found.since,
        totals=found.totals(),
        decisions=[m.DecisionCountOut(**asdict(c)) for c in found.decisions],
        batches=[m.BatchDayOut(**asdict(b)) for b in found.batches],
    )


@router.get("/numbers/{msisdn}", response_model=m.NumberProfileOut, tags=["numbers"])
def number(
    who: Reader,
    msisdn: Msisdn,
    request: Request,
    limit: Limit = 50,
) -> m.NumberProfileOut:
    """A number's analysis, list entries, opt-ins and the newest decisions about it."""
    state = state_of(request)
    state.decisions.flush()
    profile = statistics.number_profile(state.ctx.store, state.service, msisdn, limit=limit)
    return m.NumberProfileOut(**asdict(profile))


@router.get("/numbers/{msisdn}/score", response_model=m.NumberScoreOut, tags=["numbers"])
def number_score(
    who: Reader,
    msisdn: Msisdn,
    request: Request,
    top: Annotated[int, Query(ge=1, le=50)] = 10,
) -> m.NumberScoreOut:
    """The number model's fraud score and the features that pushed it (TreeSHAP); 503 when the
    service has no features file (``TELEWARDEN_API_NUMBER_FEATURES``), 404 for a number not in it."""
    from pathlib import Path as FilePath

    from telewarden.core.errors import ConfigurationError
    from telewarden.services.number_scoring import explain_number

    features = state_of(request).config.number_features
    if features is None:
        raise ConfigurationError(
            "number scoring is not configured: the service has no features file "
            "(set TELEWARDEN_API_NUMBER_FEATURES to a `telewarden numbers features` output)"
        )
    from telewarden.core.registry import ModelKind
    from telewarden.services.model_registry import serving_model_path

    model = serving_model_path(state_of(request).ctx.models, ModelKind.NUMBERS)  # None: shipped
    found = explain_number(msisdn, FilePath(features), top=top, model=model)
    return m.NumberScoreOut(
        msisdn=found.number, score=found.score, flagged=found.flagged,
        threshold=found.threshold, bias=found.bias, forest=found.forest,
        pushes=[m.FeaturePushOut(name=p.name, value=p.value, log_odds=p.log_odds)
                for p in found.pushes],
    )  # fmt: skip
