"""``/v1/screen``, ``/v1/screen/batch``, ``/v1/sms/classify[/batch]``: the integrators' hot path.

A single screen runs on the event loop against the process's cached screener (no database
round trip; the decision is queued for the log). A batch runs in the thread pool through
``decide_frame`` and leaves one ``batch_runs`` summary.
"""

from __future__ import annotations

import json
import time
from typing import Any

import polars as pl
from fastapi import APIRouter, Request, Response

from telewarden.api.auth import (
    Screening,
    state_of,
)
from telewarden.api.errors import ERROR_RESPONSES, HttpError
from telewarden.api.models import (
    BatchRequest,
    BatchResponse,
    ScreenRequest,
    ScreenResponse,
    SmsBatchRequest,
    SmsBatchResponse,
    SmsClassifyRequest,
)
from telewarden.core.ports import BatchSummary
from telewarden.core.screening import Channel, Ingress, ScreeningEvent
from telewarden.core.screening.batch import OUTPUT_COLUMNS, decide_frame

router = APIRouter(prefix="/v1", tags=["screening"], responses=ERROR_RESPONSES)


@router.post("/screen", response_model=ScreenResponse, summary="Screen one call or SMS")
async def screen(
    principal: Screening,
    body: ScreenRequest,
    request: Request,
) -> ScreenResponse:
    """The pre-answer verdict on one call or SMS, with the SIP status to reject it with."""
    state = state_of(request)
    cache = state.screeners
    screener = cache.get()
    ctx = state.ctx
    event = ScreeningEvent(
        caller=body.caller,
        callee=body.callee,
        channel=Channel(body.channel),
        ingress=Ingress(body.ingress),
        at=body.at or ctx.clock.now(),
        attestation=body.attestation,
        text=body.text,
    )
    decision = screener.decide(event)
    if state.config.log_decisions:
        state.decisions.add(event, decision, principal.actor, ctx.clock)
    request.app.state.metrics.verdicts.labels(
        "single", decision.verdict.value, decision.reason.value
    ).inc()
    return ScreenResponse(
        verdict=decision.verdict.value,
        reason=decision.reason.value,
        rule=decision.rule,
        sip_status=decision.sip_status,
        sip_reason=decision.sip_reason,
        origin=decision.origin,
        origin_zh=decision.origin_zh,
        message=decision.message,
        caller_e164=decision.caller.e164,
        callee_e164=decision.callee.e164,
        screener_version=cache.version,
        trace=[t.to_dict() for t in decision.trace] if body.explain else None,  # type: ignore[misc]
    )


@router.post(
    "/screen/batch",
    response_model=BatchResponse,
    summary="Screen a list of calls and SMS",
    responses={200: {"description": "Verdicts in request order"}},
)
def screen_batch(
    principal: Screening,
    body: BatchRequest,
    request: Request,
) -> Response:
    """Verdicts for up to ``max_batch_events`` events, in request order (``decide_frame``)."""
    state = state_of(request)
    limit = state.config.max_batch_events
    if len(body.events) > limit:
        raise HttpError(413, f"at most {limit} events per batch, got {len(body.events)}")
    started_at = state.ctx.clock.now()
    t0 = time.perf_counter()
    events = body.events
    frame = pl.DataFrame(
        {
            "caller": [e.caller for e in events],
            "callee": [e.callee for e in events],
            "channel": [e.channel for e in events],
            "ingress": [e.ingress for e in events],
            "text": [e.text for e in events],
        },
        schema={n: pl.String for n in ("caller", "callee", "channel", "ingress", "text")},
    )
    verdicts = decide_frame(state.screeners.get(), frame).select(OUTPUT_COLUMNS)
    pairs = verdicts.group_by("verdict", "reason").len()
    by_verdict = dict(pairs.group_by("verdict").agg(pl.col("len").sum()).iter_rows())
    by_reason = dict(pairs.group_by("reason").agg(pl.col("len").sum()).iter_rows())
    duration = time.perf_counter() - t0
    n = verdicts.height
    state.ctx.store.log_batch(
        BatchSummary(
            started_at=started_at,
            finished_at=state.ctx.clock.now(),
            source="api:/v1/screen/batch",
            output="response",
            rows_read=n,
            screened=n,
            quarantined=0,
            duration_s=duration,
            by_verdict=by_verdict,
            by_reason=by_reason,
        ),
        actor=principal.actor,
    )
    counter = request.app.state.metrics.verdicts
    for verdict, reason, count in pairs.iter_rows():
        counter.labels("batch", verdict, reason).inc(count)
    # Polars writes the rows as JSON itself: far faster than building a dict per verdict.
    content = (
        f'{{"count":{n},"by_verdict":{json.dumps(by_verdict)},"verdicts":{verdicts.write_json()}}}'
    )
    return Response(content=content, media_type="application/json")


@router.post(
    "/sms/classify",
    summary="Classify an SMS body (behind the legal gate)",
    responses={200: {"description": "Verdict, score, fraud types and indicators"}},
)
def sms_classify(
    principal: Screening,
    body: SmsClassifyRequest,
    request: Request,
) -> dict[str, Any]:
    """ok / spam / scam with score, fraud types and indicators; 503 while the gate is closed."""
    from telewarden.services.screening import require_content_allowed

    state = state_of(request)
    require_content_allowed(state.ctx, "SMS classification")
    result: dict[str, Any] = state.sms_classifier().classify(body.text).to_dict()
    return result


@router.post(
    "/sms/classify/batch",
    response_model=SmsBatchResponse,
    summary="Classify up to 1,000 SMS bodies (behind the legal gate)",
)
def sms_classify_batch(
    principal: Screening,
    body: SmsBatchRequest,
    request: Request,
) -> SmsBatchResponse:
    """One result per text, in order; 503 while the legal gate closes content inspection."""
    from telewarden.services.screening import require_content_allowed

    state = state_of(request)
    require_content_allowed(state.ctx, "SMS classification")
    results = state.sms_classifier().classify_many(body.texts)
    return SmsBatchResponse(count=len(results), results=[r.to_dict() for r in results])
