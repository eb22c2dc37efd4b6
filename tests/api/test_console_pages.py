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
