"""Disposal and early warning through /v1: the case queue, a supervisor-approved suspension with
its notice, an appeal that lifts it, the credit list, warnings, SMS batches, number scores."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from telewarden.core.disposal.ports import Card
from telewarden.core.warning.engine import WarningNotice
from tests.api.conftest import NOW, Service, build, open_content_gate

CARD = "+8617000000001"
OTHER = "+8617000000002"


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    s = build()
    with s.client:
        state = s.client.app.state.api  # type: ignore[attr-defined]
        state.disposal_store.import_cards(
            [Card(CARD, "id-hash-1"), Card(OTHER, "id-hash-2")], actor="test", source_name="t"
        )
        yield s


def _open(svc: Service, msisdn: str) -> dict:
    r = svc.client.post(
        "/v1/cases", json={"msisdn": msisdn, "reason": "calls 300 strangers an hour"},
        headers=svc.as_("analyst"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_suspension_needs_a_supervisor_and_an_upheld_appeal_lifts_it(svc: Service) -> None:
    analyst, supervisor = svc.as_("analyst"), svc.as_("supervisor")
    case = _open(svc, CARD)
    assert case["state"] == "open" and case["fraud_types"] == ["analyst"]
    assert case["evidence"][0]["reason"] == "calls 300 strangers an hour"
    cid = case["id"]

    r = svc.client.post(f"/v1/cases/{cid}/measures", json={"kind": "suspend"}, headers=analyst)
    assert r.status_code == 201, r.text
    measure = r.json()["measures"][-1]
    assert measure["state"] == "pending_approval" and measure["approval"] == "supervisor"
    mid = measure["id"]

    refused = svc.client.post(f"/v1/cases/{cid}/measures/{mid}/approve", headers=analyst)
    assert refused.status_code == 409 and "supervisor" in refused.json()["detail"]
    r = svc.client.post(f"/v1/cases/{cid}/measures/{mid}/approve", headers=supervisor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["measures"][-1]["state"] == "in_force"
    assert body["measures"][-1]["approved_by"] == "user:supervisor1"
    notices = {n["lang"]: n for n in body["notices"]}
    assert set(notices) == {"zh", "en"}
    assert "反电信网络诈骗法" in notices["zh"]["body"] and "appeal" in notices["en"]["body"]

    in_force = svc.client.get("/v1/measures", headers=svc.as_("auditor")).json()
    assert [m["id"] for m in in_force["items"]] == [mid] and in_force["count"] == 1

    r = svc.client.post(
        f"/v1/cases/{cid}/appeals", json={"grounds": "I run a call centre legally"}, headers=analyst
    )
    assert r.status_code == 201 and r.json()["state"] == "appealed"
    appeals = svc.client.get("/v1/appeals", headers=analyst).json()["items"]
    assert appeals[0]["case_id"] == cid and appeals[0]["state"] == "under_review"
    assert dt.datetime.fromisoformat(appeals[0]["review_due"]) == NOW + dt.timedelta(hours=48)

    r = svc.client.post(
        f"/v1/cases/{cid}/appeals/decision", json={"upheld": True, "note": "licence shown"},
        headers=analyst,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "cleared"
    assert body["measures"][-1]["state"] == "lifted"
    assert body["measures"][-1]["lift_reason"] == "appeal_upheld"
    assert len(body["notices"]) == 4  # in force and lifted, each in zh and en
    assert svc.client.get("/v1/measures", headers=analyst).json()["count"] == 0

    audit = svc.client.get("/v1/audit?entity=measure", headers=svc.as_("auditor")).json()["items"]
    actors = {(a["action"], a["actor"]) for a in audit}
    assert ("measure_in_force", "user:supervisor1") in actors
    assert ("measure_proposed", "user:analyst1") in actors
    appeal_audit = svc.client.get("/v1/audit?entity=appeal", headers=svc.as_("auditor")).json()
    lodged = [a for a in appeal_audit["items"] if a["action"] == "appeal_lodged"]
    assert lodged[0]["actor"] == "subscriber"
    assert "taken by user:analyst1 via hotline" in str(lodged[0]["after"])


def test_the_queue_filters_by_state_and_fraud_type_and_pages(svc: Service) -> None:
    _open(svc, OTHER)
    h = svc.as_("auditor")
    everything = svc.client.get("/v1/cases", headers=h).json()
    assert OTHER in [c["msisdn"] for c in everything["items"]]
    # the counts by state cover every case of the (single-page) queue
    assert sum(everything["counts"].values()) == len(everything["items"])
    assert everything["counts"]["open"] == sum(c["state"] == "open" for c in everything["items"])
    open_ = svc.client.get("/v1/cases?state=open&fraud_type=analyst", headers=h).json()
    assert OTHER in [c["msisdn"] for c in open_["items"]]
    assert all(c["state"] == "open" for c in open_["items"])
    assert svc.client.get("/v1/cases?fraud_type=sim_bank", headers=h).json()["items"] == []
    page = svc.client.get("/v1/cases?limit=1", headers=h).json()
    assert len(page["items"]) == 1
    assert svc.client.get("/v1/cases?state=closed", headers=h).status_code == 422
    assert svc.client.get("/v1/cases/Cnope", headers=h).status_code == 404


def test_cases_open_only_on_the_carriers_cards_and_auditors_change_nothing(svc: Service) -> None:
    r = svc.client.post(
        "/v1/cases", json={"msisdn": "+8613999999999", "reason": "x"}, headers=svc.as_("analyst")
    )
    assert r.status_code == 404 and "carrier's cards" in r.json()["detail"]
    r = svc.client.post(
        "/v1/cases", json={"msisdn": CARD, "reason": "x"}, headers=svc.as_("auditor")
    )
    assert r.status_code == 403


def test_a_case_is_decided_and_a_restriction_lifted_by_an_analyst(svc: Service) -> None:
    analyst = svc.as_("analyst")
    cid = _open(svc, OTHER)["id"]
    r = svc.client.post(f"/v1/cases/{cid}/measures", json={"kind": "restrict"}, headers=analyst)
    mid = r.json()["measures"][-1]["id"]
    r = svc.client.post(f"/v1/cases/{cid}/measures/{mid}/approve", headers=analyst)
    assert r.json()["measures"][-1]["state"] == "in_force"
    r = svc.client.post(f"/v1/cases/{cid}/decision", json={"outcome": "confirm"}, headers=analyst)
    assert r.json()["state"] == "confirmed"
    r = svc.client.post(f"/v1/cases/{cid}/measures/{mid}/lift", headers=analyst)
    assert r.json()["measures"][-1]["state"] == "lifted"


def test_credit_listings_are_for_supervisors_and_hash_the_id(svc: Service) -> None:
    body = {"id_document": "11010119900307803X", "basis": "card_trading", "term_years": 2}
    assert (
        svc.client.post("/v1/credit/listings", json=body, headers=svc.as_("analyst")).status_code
        == 403
    )
    r = svc.client.post("/v1/credit/listings", json=body, headers=svc.as_("supervisor"))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["listing"]["term_years"] == 2 and {n["lang"] for n in out["notices"]} == {"zh", "en"}
    listed = svc.client.get("/v1/credit/listings", headers=svc.as_("auditor")).json()
    assert listed[0]["id"] == out["listing"]["id"]
    assert "11010119900307803X" not in str(listed)
    audit = svc.client.get("/v1/audit", headers=svc.as_("auditor")).text
    assert "11010119900307803X" not in audit and "user:supervisor1" in audit


def test_warnings_sent_are_listed_and_counted(svc: Service) -> None:
    store = svc.client.app.state.api.warning_store  # type: ignore[attr-defined]
    warnings = [
        WarningNotice(
            f"W{i}",
            f"+861380013800{i}",
            OTHER,
            "msisdn",
            "impersonation",
            "c1",
            "robocall",
            0.9,
            "high",
            "answered",
            ("answered a flagged number",),
            NOW,
            NOW,
            ("sms",),
            None,
            "t",
            "请注意",
            "Beware",
            "call",
            i,
        )  # fmt: skip
        for i in range(3)
    ]
    store.save_warnings(warnings, actor="loop")
    page = svc.client.get("/v1/warnings", headers=svc.as_("auditor")).json()
    assert page["total"] == 3 and len(page["items"]) == 3
    stats = svc.client.get("/v1/warnings/stats", headers=svc.as_("auditor")).json()
    assert stats["by_band"] == {"high": 3} and stats["by_day"] == {NOW.date().isoformat(): 3}


def test_number_score_without_features_is_a_clear_503(svc: Service) -> None:
    r = svc.client.get("/v1/numbers/13800138000/score", headers=svc.as_("analyst"))
    assert r.status_code == 503 and "TELEWARDEN_API_NUMBER_FEATURES" in r.json()["detail"]


def test_sms_batch_is_classified_in_order(svc: Service) -> None:
    texts = ["【公安局】您涉嫌洗钱，请立即将资金转入安全账户 6222020200112233445", "晚上一起吃饭吗"]
    open_content_gate(svc)
    r = svc.client.post("/v1/sms/classify/batch", json={"texts": texts}, headers=svc.as_("key"))
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert r.json()["count"] == 2 and results[0]["verdict"] in ("spam", "scam")
    assert results[1]["verdict"] == "ok"
    too_many = {"texts": ["x"] * 1001}
    assert (
        svc.client.post("/v1/sms/classify/batch", json=too_many, headers=svc.as_("key")).status_code
        == 422
    )


def _csrf(page: str) -> str:
    import re

    found = re.search(r'name="csrf" value="(\w+)"', page)
    assert found is not None
    return found.group(1)


def test_console_suspends_shows_the_notice_and_lifts_on_appeal(svc: Service) -> None:
    c = svc.client
    card = "+8617000000003"
    c.app.state.api.disposal_store.import_cards(  # type: ignore[attr-defined]
        [Card(card, "id-hash-3")], actor="test", source_name="t"
    )
    try:
        c.cookies.set("tw_session", svc.as_("analyst")["Authorization"].split()[1])
        queue = c.get("/console/cases")
        assert queue.status_code == 200 and "案件队列" in queue.text
        r = c.post(
            "/console/cases", data={"msisdn": card, "reason": "SIM box", "csrf": _csrf(queue.text)},
            follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303, r.text
        case_url = r.headers["location"].split("?")[0]
        page = c.get(case_url)
        assert "SIM box" in page.text and 'id="evidence"' in page.text
        r = c.post(f"{case_url}/propose", data={"kind": "suspend", "csrf": _csrf(page.text)})
        assert "需主管批准" in r.text and "pending_approval" in r.text  # no approve button
        c.cookies.set("tw_session", svc.as_("supervisor")["Authorization"].split()[1])
        page = c.get(case_url)
        approve = re.search(r'action="([^"]+/approve)"', page.text)
        assert approve is not None
        r = c.post(approve.group(1), data={"csrf": _csrf(page.text)})
        assert 'id="notice"' in r.text and "反电信网络诈骗法" in r.text
        assert "Anti-Telecom" in c.get(f"{case_url}?lang=en").text
        c.cookies.set("tw_session", svc.as_("analyst")["Authorization"].split()[1])
        measures = c.get("/console/measures").text
        assert card in measures
        r = c.post(f"{case_url}/appeal", data={"grounds": "my own phone", "csrf": _csrf(measures)})
        assert 'id="uphold"' in r.text
        r = c.post(f"{case_url}/appeal/decide", data={"upheld": "true", "csrf": _csrf(r.text)})
        assert "appeal_upheld" in r.text and ">cleared<" in r.text
        assert card not in c.get("/console/measures").text.split("appeal-list")[0]
        dashboard = c.get("/console/")
        assert (
            'id="cards-disposed"' in dashboard.text and 'id="chart-fraud-types"' in dashboard.text
        )
        assert "Warnings sent" in c.get("/console/warnings?lang=en").text
        assert c.get("/console/cases?state=cleared&fraud_type=analyst").text.count(card) >= 1
        missing = c.get("/console/cases/Cnope")
        assert missing.status_code == 404 and "Cnope" in missing.text
    finally:
        c.cookies.clear()


def test_number_score_explains_a_number_of_the_features_file(tmp_path: Path) -> None:
    import numpy as np
    import polars as pl

    from telewarden.api import ApiConfig
    from telewarden.core.features.sichuan import FEATURE_NAMES

    rng = np.random.default_rng(1)
    numbers = ["+8613800138000", "+8613800138001"]
    frame = pl.DataFrame({n: rng.normal(size=2) for n in FEATURE_NAMES}).select(
        pl.Series("phone_no_m", numbers), *FEATURE_NAMES
    )
    features = tmp_path / "features.csv"
    frame.write_csv(features)
    s = build(ApiConfig(change_poll_s=0.0, access_log=False, number_features=str(features)))
    with s.client:
        r = s.client.get("/v1/numbers/+8613800138000/score?top=5", headers=s.as_("analyst"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert 0.0 <= body["score"] <= 1.0 and len(body["pushes"]) == 5
        missing = s.client.get("/v1/numbers/+8613999999999/score", headers=s.as_("analyst"))
        assert missing.status_code == 404


def test_a_suspension_approved_over_the_api_blocks_the_cards_next_call() -> None:
    s = build(measures=True)
    with s.client:
        s.client.app.state.api.disposal_store.import_cards(  # type: ignore[attr-defined]
            [Card(CARD, "id-hash-1")], actor="test", source_name="t"
        )
        call = {"caller": CARD, "callee": "13900139000", "ingress": "domestic"}
        assert (
            s.client.post("/v1/screen", json=call, headers=s.as_("key")).json()["verdict"]
            == "allow"
        )
        cid = _open(s, CARD)["id"]
        r = s.client.post(
            f"/v1/cases/{cid}/measures", json={"kind": "suspend"}, headers=s.as_("analyst")
        )
        mid = r.json()["measures"][-1]["id"]
        s.client.post(f"/v1/cases/{cid}/measures/{mid}/approve", headers=s.as_("supervisor"))
        blocked = s.client.post("/v1/screen", json=call, headers=s.as_("key")).json()
        assert blocked["verdict"] == "block" and blocked["rule"] == "card_measure"
        s.client.post(f"/v1/cases/{cid}/measures/{mid}/lift", headers=s.as_("analyst"))
        assert (
            s.client.post("/v1/screen", json=call, headers=s.as_("key")).json()["verdict"]
            == "allow"
        )
