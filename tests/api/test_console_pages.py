"""Console pages without a browser: both languages have every word, forms need their CSRF field."""

from __future__ import annotations

import re
from pathlib import Path

from telewarden.api.console.i18n import WORDS
from tests.api.conftest import Service

TEMPLATES = Path(__file__).resolve().parents[2] / "src/telewarden/api/console/templates"


def test_every_word_the_templates_use_is_translated() -> None:
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"t\('(\w+)'\)", template.read_text()))
    assert "dashboard" in used
    assert used <= set(WORDS), sorted(used - set(WORDS))
    assert all(zh and en for zh, en in WORDS.values())


def _cookie(svc: Service, role: str) -> None:
    svc.client.cookies.set("tw_session", svc.as_(role)["Authorization"].split()[1])


def test_forms_refuse_a_missing_csrf_field(svc: Service) -> None:
    _cookie(svc, "admin")
    try:
        r = svc.client.post(
            "/console/lists/add", data={"kind": "deny", "pattern": "+8616600000001"}
        )
        assert r.status_code == 403
        page = svc.client.get("/console/policy").text
        csrf = re.search(r'name="csrf" value="(\w+)"', page).group(1)  # type: ignore[union-attr]
        r = svc.client.post(
            "/console/lists/add",
            data={"kind": "deny", "pattern": "+8616600000001", "csrf": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303 and "%E2%9C%93" in r.headers["location"]
    finally:
        svc.client.cookies.clear()


def test_english_and_chinese_pages(svc: Service) -> None:
    _cookie(svc, "auditor")
    try:
        assert "<h1>总览</h1>" in svc.client.get("/console/").text
        assert "<h1>Dashboard</h1>" in svc.client.get("/console/?lang=en").text
        assert "Audit log" in svc.client.get("/console/audit?lang=en").text
        # an auditor sees no editing forms
        assert "/console/lists/add" not in svc.client.get("/console/policy").text
    finally:
        svc.client.cookies.clear()


def _csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="(\w+)"', page)
    assert found is not None
    return found.group(1)


def test_policy_and_list_forms_go_back_with_what_they_did(svc: Service) -> None:
    from urllib.parse import unquote

    _cookie(svc, "admin")
    try:
        csrf = _csrf_of(svc.client.get("/console/policy").text)

        def post(path: str, **data: str) -> str:
            r = svc.client.post(path, data={**data, "csrf": csrf}, follow_redirects=False)
            assert r.status_code == 303, r.text
            return unquote(r.headers["location"])

        before = svc.client.get("/v1/policy", headers=svc.as_("admin")).json()["version"]
        done = post("/console/policy/set", key="cross_border_block_sms", value="false")
        assert done == f"/console/policy?message=✓ cross_border_block_sms = false (v{before + 1})"
        assert post("/console/policy/set", key="nope", value="1").startswith(
            "/console/policy?message=✗ "
        )
        assert svc.client.get("/v1/policy", headers=svc.as_("admin")).json()["version"] == (
            before + 1
        )
        done = post("/console/lists/add", kind="deny", pattern="+8616600000002")
        assert done == "/console/policy?message=✓ deny: +8616600000002"
        assert post("/console/lists/add", kind="deny", pattern="not a number").startswith(
            "/console/policy?message=✗ "
        )
    finally:
        svc.client.cookies.clear()


def test_measure_buttons_reject_and_lift(svc: Service) -> None:
    from urllib.parse import unquote

    from telewarden.core.disposal.ports import Card

    c = svc.client
    card = "+8617000000009"
    c.app.state.api.disposal_store.import_cards(  # type: ignore[attr-defined]
        [Card(card, "id-hash-9")], actor="test", source_name="t"
    )
    _cookie(svc, "supervisor")
    try:
        queue = c.get("/console/cases")
        r = c.post(
            "/console/cases", data={"msisdn": card, "reason": "SIM box", "csrf": _csrf_of(queue.text)},
            follow_redirects=False,
        )  # fmt: skip
        case_url = r.headers["location"].split("?")[0]
        csrf = _csrf_of(c.get(case_url).text)
        case_id = case_url.rsplit("/", 1)[1]

        def measures() -> list[dict[str, str]]:
            got = c.get(f"/v1/cases/{case_id}", headers=svc.as_("supervisor")).json()
            return list(got["measures"])

        def press(measure_id: str, action: str) -> str:
            """The button's answer: ``✓`` or ``✗`` and the measure's state afterwards."""
            r = c.post(
                f"{case_url}/measures/{measure_id}/{action}", data={"csrf": csrf},
                follow_redirects=False,
            )  # fmt: skip
            assert r.status_code == 303, r.text
            mark = unquote(r.headers["location"]).split("message=")[1][0]
            return f"{mark} {measures()[-1]['state']}"

        c.post(f"{case_url}/propose", data={"kind": "suspend", "csrf": csrf})
        assert press(measures()[-1]["id"], "reject") == "✓ rejected"
        _cookie(svc, "analyst")
        analyst_csrf = _csrf_of(c.get(case_url).text)
        c.post(f"{case_url}/propose", data={"kind": "restrict", "csrf": analyst_csrf})
        _cookie(svc, "supervisor")
        restricting = measures()[-1]
        assert press(restricting["id"], "approve") == "✓ in_force"
        assert press(restricting["id"], "lift") == "✓ lifted"
        # a second lift is refused by the core and said so on the case page
        assert press(restricting["id"], "lift") == "✗ lifted"
        r = c.post(f"{case_url}/measures/{restricting['id']}/lift", data={"csrf": "stale"})
        assert r.status_code == 403
    finally:
        c.cookies.clear()
