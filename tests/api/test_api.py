"""The REST API over a MemoryStore: screening, state changes, errors, limits, metrics."""

from __future__ import annotations

import asyncio

import pytest

from telewarden.api import ApiConfig
from telewarden.core.screening import ListEntry, ListKind, MatchKind
from tests.api.conftest import GATE_BASIS, NOW, Service, build, open_content_gate

HK = "+85223456789"


def screen(svc: Service, caller: str, callee: str, who: str = "key", **extra: object) -> dict:
    r = svc.client.post(
        "/v1/screen", json={"caller": caller, "callee": callee, **extra}, headers=svc.as_(who)
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_health_needs_no_credential(svc: Service) -> None:
    body = svc.client.get("/v1/health").json()
    assert body["status"] == "ok"


def test_screen_blocks_cross_border_and_an_optin_takes_effect_at_once(svc: Service) -> None:
    callee = "13800138123"
    first = screen(svc, HK, callee)
    assert (first["verdict"], first["reason"], first["sip_status"]) == (
        "block", "cross_border_default_block", 603,
    )  # fmt: skip
    r = svc.client.post("/v1/optins", json={"msisdn": callee}, headers=svc.as_("analyst"))
    assert r.status_code == 200 and r.json()["optin"]["msisdn"] == "+8613800138123"
    second = screen(svc, HK, callee)
    assert second["reason"] == "cross_border_opted_in"
    assert second["screener_version"] > first["screener_version"]
    # The change is audited with the person who made it.
    audit = svc.client.get("/v1/audit?entity=optin", headers=svc.as_("auditor")).json()
    assert audit["items"][0]["actor"] == "user:analyst1"


def test_a_change_made_by_another_process_is_picked_up(svc: Service) -> None:
    """The store changed behind the service's back (the CLI, another worker): the counter moves."""
    caller = "+8617100001111"
    assert screen(svc, caller, "13900139000")["verdict"] == "allow"
    svc.store.add_entry(
        ListKind.DENY, ListEntry(caller, MatchKind.EXACT, "cli", "fraud"), actor="cli"
    )
    assert screen(svc, caller, "13900139000")["reason"] == "deny_listed_number"


def test_explain_returns_the_trace(svc: Service) -> None:
    body = screen(svc, HK, "13800138000", explain=True)
    assert body["trace"] and any(step["fired"] for step in body["trace"])
    assert screen(svc, HK, "13800138000")["trace"] is None


def test_batch_gives_the_single_verdicts_in_order(svc: Service) -> None:
    events = [
        {"caller": HK, "callee": "13800138001"},
        {"caller": "13800138000", "callee": "13900139000"},
        {"caller": "+8610086", "callee": "13900139000", "ingress": "international"},
        {"caller": "", "callee": "13900139000", "channel": "sms"},
    ]
    r = svc.client.post("/v1/screen/batch", json={"events": events}, headers=svc.as_("key"))
    assert r.status_code == 200, r.text
    body = r.json()
    singles = [screen(svc, **{k: v for k, v in e.items()}) for e in events]  # type: ignore[arg-type]
    assert [(v["verdict"], v["reason"]) for v in body["verdicts"]] == [
        (s["verdict"], s["reason"]) for s in singles
    ]
    assert body["count"] == 4 and sum(body["by_verdict"].values()) == 4
    batches = svc.client.get("/v1/statistics", headers=svc.as_("analyst")).json()["batches"]
    assert batches and batches[-1]["screened"] >= 4


def test_batch_over_the_event_limit_is_413() -> None:
    s = build(ApiConfig(max_batch_events=3, access_log=False), console=False)
    events = [{"caller": HK, "callee": "13800138000"}] * 4
    r = s.client.post("/v1/screen/batch", json={"events": events}, headers=s.as_("key"))
    assert r.status_code == 413


def test_body_over_the_size_limit_is_413() -> None:
    s = build(ApiConfig(max_body_bytes=1000, access_log=False), console=False)
    events = [{"caller": HK, "callee": "13800138000"}] * 100
    r = s.client.post("/v1/screen/batch", json={"events": events}, headers=s.as_("key"))
    assert r.status_code == 413


def test_bad_input_is_422_never_500(svc: Service) -> None:
    h = svc.as_("admin")
    assert svc.client.post("/v1/screen", json={"caller": "1"}, headers=h).status_code == 422
    r = svc.client.put("/v1/policy/settings", json={"key": "nope", "value": 1}, headers=h)
    assert r.status_code == 422 and "unknown policy key" in r.json()["detail"]
    r = svc.client.post("/v1/optins", json={"msisdn": "not a number"}, headers=h)
    assert r.status_code == 422 and "not a subscriber number" in r.json()["detail"]
    r = svc.client.post("/v1/lists/deny", json={"pattern": "abc"}, headers=h)
    assert r.status_code == 422


def test_not_found_is_404_and_conflict_409(svc: Service) -> None:
    h = svc.as_("admin")
    assert svc.client.delete("/v1/lists/deny/+8613000000000", headers=h).status_code == 404
    assert svc.client.delete("/v1/optins/13000000001", headers=h).status_code == 404
    assert svc.client.delete("/v1/keys/twk_nokey", headers=h).status_code == 404
    user = {"username": "analyst1", "password": "long enough pw", "role": "analyst"}
    assert svc.client.post("/v1/users", json=user, headers=h).status_code == 409


def test_the_content_gate_is_closed_by_default_and_opens_only_with_a_legal_basis(
    svc: Service,
) -> None:
    h, key = svc.as_("supervisor"), svc.as_("key")
    r = svc.client.post("/v1/sms/classify", json={"text": "hello"}, headers=key)
    assert r.status_code == 503 and "content inspection" in r.json()["detail"]
    assert "--legal-basis" in r.json()["detail"]  # says how to open it lawfully
    opening = {"key": "content_inspection", "value": True}
    r = svc.client.put("/v1/policy/settings", json=opening, headers=h)
    assert r.status_code == 422 and "legal basis" in r.json()["detail"]
    blank = {**opening, "legal_basis": "  "}
    assert svc.client.put("/v1/policy/settings", json=blank, headers=h).status_code == 422
    open_content_gate(svc)
    r = svc.client.post("/v1/sms/classify", json={"text": "hello"}, headers=key)
    assert r.status_code == 200
    record = svc.client.get("/v1/policy/history", headers=h).json()[0]
    assert record["after"]["content_legal_basis"] == GATE_BASIS and record["actor"]
    closing = {"key": "content_inspection", "value": False}
    assert svc.client.put("/v1/policy/settings", json=closing, headers=h).status_code == 200
    r = svc.client.post("/v1/sms/classify", json={"text": "hello"}, headers=key)
    assert r.status_code == 503 and "content inspection" in r.json()["detail"]


def test_sms_classify_with_the_shipped_model(svc: Service) -> None:
    open_content_gate(svc)
    r = svc.client.post(
        "/v1/sms/classify",
        json={"text": "【公安局】您涉嫌洗钱，请立即将资金转入安全账户 6222020200112233445"},
        headers=svc.as_("key"),
    )
    assert r.status_code == 200
    assert r.json()["verdict"] in ("spam", "scam")


def test_lists_paginate(svc: Service) -> None:
    h = svc.as_("analyst")
    for i in range(5):
        r = svc.client.post("/v1/lists/allow", json={"pattern": f"+86139000000{i:02d}"}, headers=h)
        assert r.status_code == 200
    first = svc.client.get("/v1/lists/allow?limit=2", headers=h).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2 and first["total"] >= 5
    second = svc.client.get("/v1/lists/allow?limit=2&offset=2", headers=h).json()
    assert second["items"][0]["pattern"] > first["items"][-1]["pattern"]
    assert svc.client.get("/v1/lists/counts", headers=h).json()["allow"] >= 5
    r = svc.client.get("/v1/lists/allow?limit=500&offset=9600", headers=h)
    assert r.status_code == 422


def test_policy_change_is_versioned_and_in_history(svc: Service) -> None:
    h = svc.as_("supervisor")
    before = svc.client.get("/v1/policy", headers=h).json()["version"]
    r = svc.client.put(
        "/v1/policy/settings",
        json={"key": "region_overrides.广东.cross_border_block_calls", "value": False},
        headers=h,
    )
    body = r.json()
    assert body["changed"] and body["version"] == before + 1
    assert body["key"] == "region_overrides.Guangdong.cross_border_block_calls"
    history = svc.client.get("/v1/policy/history", headers=h).json()
    assert history[0]["actor"] == "user:supervisor1"


def test_statistics_and_number_profile(svc: Service) -> None:
    callee = "13800138777"
    screen(svc, HK, callee)
    h = svc.as_("analyst")
    stats = svc.client.get("/v1/statistics?days=3", headers=h).json()
    blocked = [d for d in stats["decisions"] if d["verdict"] == "block"]
    assert blocked and blocked[0]["day"] == NOW.date().isoformat()
    assert stats["totals"]["block"] == sum(d["count"] for d in blocked)
    profile = svc.client.get(f"/v1/numbers/{callee}", headers=h).json()
    assert profile["e164"] == "+8613800138777"
    assert profile["decisions"][0]["reason"] == "cross_border_default_block"
    decisions = svc.client.get("/v1/decisions?limit=1", headers=h).json()
    assert decisions["items"] and decisions["next_offset"] == 1


def test_keys_can_be_revoked(svc: Service) -> None:
    h = svc.as_("admin")
    new = svc.client.post("/v1/keys", json={"name": "temp"}, headers=h).json()
    kh = {"Authorization": f"Bearer {new['secret']}"}
    assert svc.client.get("/v1/auth/me", headers=kh).json()["role"] == "integrator"
    assert svc.client.delete(f"/v1/keys/{new['key_id']}", headers=h).status_code == 200
    assert svc.client.get("/v1/auth/me", headers=kh).status_code == 401
    audit = svc.client.get("/v1/audit?entity=api_key", headers=h).json()["items"]
    assert audit[0]["action"] == "revoke" and audit[0]["actor"] == "user:admin1"


def test_wrong_password_and_logout() -> None:
    s = build(console=False)
    r = s.client.post("/v1/auth/login", json={"username": "admin1", "password": "nope"})
    assert r.status_code == 401
    r = s.client.post("/v1/auth/login", json={"username": "ghost", "password": "nope"})
    assert r.status_code == 401
    h = s.as_("analyst")
    assert s.client.post("/v1/auth/logout", headers=h).status_code == 204
    assert s.client.get("/v1/auth/me", headers=h).status_code == 401


def test_metrics_count_requests(svc: Service) -> None:
    screen(svc, HK, "13800138000")
    text = svc.client.get("/metrics", headers=svc.as_("auditor")).text
    assert 'telewarden_http_requests_total{method="POST",route="/v1/screen",status="200"}' in text
    assert "telewarden_verdicts_total" in text


def test_overload_is_shed_with_503() -> None:
    """With every slot taken, the next request is refused at once with Retry-After."""
    from telewarden.api.middleware import InFlight, Metrics, ServiceMiddleware

    started = asyncio.Event()
    release = asyncio.Event()

    async def slow_app(scope, receive, send):  # type: ignore[no-untyped-def]
        started.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    mw = ServiceMiddleware(
        slow_app, metrics=Metrics(), in_flight=InFlight(), max_in_flight=1,
        max_body_bytes=100, access_log=False,
    )  # fmt: skip
    sent: list[list[dict]] = [[], []]

    def scope(path: str) -> dict:
        return {"type": "http", "path": path, "method": "POST", "headers": []}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def run() -> None:
        async def collect(i: int, message: dict) -> None:
            sent[i].append(message)

        first = asyncio.create_task(mw(scope("/v1/screen"), receive, lambda m: collect(0, m)))
        await started.wait()
        await mw(scope("/v1/screen"), receive, lambda m: collect(1, m))
        health: list[dict] = []

        async def keep(m: dict) -> None:
            health.append(m)

        release.set()
        await first
        await mw(scope("/v1/screen"), receive, keep)
        assert health[0]["status"] == 200

    asyncio.run(run())
    assert sent[0][0]["status"] == 200
    assert sent[1][0]["status"] == 503
    assert (b"retry-after", b"1") in sent[1][0]["headers"]


@pytest.mark.parametrize("path", ["/v1/health", "/openapi.json"])
def test_public_documents(svc: Service, path: str) -> None:
    assert svc.client.get(path).status_code == 200
