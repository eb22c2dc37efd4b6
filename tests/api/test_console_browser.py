"""The console in a real browser: Playwright driving Debian's Chromium against uvicorn.

Log in, read the dashboard, look up an opt-in and add a deny entry on the policy page, open a
number, switch language. Screenshots go to ``tests/artifacts/console`` (ignored by git;
``TELEWARDEN_ARTIFACTS`` moves them). Skips only when no Chromium is installed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.live import (
    ADMIN,
    ANALYST,
    CARD,
    FRAUD,
    OPTED_IN,
    PASSWORD,
    SUPERVISOR,
    Live,
    seed,
    serve,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = (
    Path(os.environ.get("TELEWARDEN_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))
    / "console"
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not installed (apt-get install -y chromium fonts-wqy-microhei; .ci/run does)",
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = tmp_path_factory.mktemp("console")
    seed(home)
    with serve(home) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _login(browser: object, live: Live, user: str) -> object:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{live.url}/console/")
    assert page.url.endswith("/console/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}/console/")
    return page


def test_wrong_password_is_refused(browser: object, live: Live) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{live.url}/console/login")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "用户名或密码错误"
    page.close()


def test_dashboard_policy_and_number(browser: object, live: Live) -> None:
    page = _login(browser, live, ANALYST)
    # dashboard: tiles from the decision log, bars in both charts, Chinese labels
    assert page.locator("h1").inner_text() == "总览"
    blocked_calls = int(page.locator("#blocked-calls").inner_text())
    assert blocked_calls > 0
    assert page.locator("#chart-stopped svg rect").count() > 7
    assert page.locator("#chart-batch svg rect").count() >= 7
    assert "跨境默认拦截" in page.locator("#chart-stopped").inner_text()
    _shot(page, "1-dashboard-zh")

    # policy: opt-in look-up, then add a deny entry with the form
    page.click("nav >> text=策略")
    page.fill("main input[name=msisdn]", "138 0013 8000")
    page.keyboard.press("Enter")
    assert "calls" in page.locator("#optins").inner_text()
    assert FRAUD in page.locator("#list-deny").inner_text()
    page.fill("input[name=pattern]", "+8616500000001")
    page.fill("input[name=reason]", "测试")
    page.click("form[action='/console/lists/add'] button")
    assert page.locator("[role=status]").inner_text().startswith("✓")
    assert "+8616500000001" in page.locator("#list-deny").inner_text()
    # an analyst may not change the policy: the form is not offered
    assert page.locator("form[action='/console/policy/set']").count() == 0
    _shot(page, "2-policy-zh")

    # a number's page from the quick search box (keyboard only)
    page.fill("header input[name=msisdn]", FRAUD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/numbers/*")
    assert page.locator("#e164").inner_text() == FRAUD
    assert "诈骗号码" in page.locator("#list-status").inner_text()
    assert "黑名单号码" in page.locator("#decisions").inner_text()
    _shot(page, "3-number-zh")

    # English
    page.click("a.lang")
    assert page.locator("h1").inner_text().startswith("Number profile")
    page.click("nav >> text=Dashboard")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert "cross_border_default_block" in page.locator("#chart-stopped").inner_text()
    _shot(page, "4-dashboard-en")
    page.context.close()


def test_supervisor_changes_the_policy_and_admin_sees_the_audit(
    browser: object, live: Live
) -> None:
    page = _login(browser, live, ADMIN)
    page.goto(f"{live.url}/console/policy")
    page.fill("input[name=key]", "region_overrides.广东.cross_border_block_calls")
    page.fill("input[name=value]", "false")
    page.click("form[action='/console/policy/set'] button")
    assert "Guangdong" in page.locator("[role=status]").inner_text()
    assert "Guangdong" in page.locator("#regions").inner_text()
    page.click("nav >> text=审计日志")
    audit = page.locator("#audit").inner_text()
    assert "user:admin" in audit and "policy" in audit
    assert f"{OPTED_IN}" in audit or "optin" in audit
    _shot(page, "5-audit-zh")
    page.context.close()


def test_a_case_is_suspended_with_its_notice_then_lifted_on_appeal(
    browser: object, live: Live
) -> None:
    # the analyst finds the case in the queue and proposes a suspension
    page = _login(browser, live, ANALYST)
    page.click("nav >> text=案件")
    page.select_option("select[name=fraud_type]", "robocall")
    page.click("#case-filters button")
    assert CARD in page.locator("#cases").inner_text()
    _shot(page, "6-case-queue-zh")
    page.click(f"#cases >> text={CARD}")  # the number's page lists its case
    page.wait_for_url("**/console/numbers/*")
    page.click("#number-cases a")
    page.wait_for_url("**/console/cases/*")
    case_url = page.url
    assert "412 calls to strangers" in page.locator("#evidence").inner_text()
    page.click("#propose-suspend")
    assert page.locator("[role=status]").inner_text().startswith("✓")
    assert "需主管批准" in page.locator("#measures").inner_text()  # no approve button for analysts
    page.context.close()

    # the supervisor approves it: in force at once, the notice says why and how to appeal
    page = _login(browser, live, SUPERVISOR)
    page.goto(case_url)
    page.locator("#measures tr", has_text="pending_approval").locator("button.approve").click()
    assert page.locator("[role=status]").inner_text().startswith("✓")
    notice = page.locator("#notice").inner_text()
    assert "暂停电话卡功能" in notice and "反电信网络诈骗法" in notice and "申诉" in notice
    _shot(page, "7-case-suspended-zh")
    page.click("nav >> text=处置措施")
    assert CARD in page.locator("#measures-in-force").inner_text()

    # the subscriber appeals by the hotline; the appeal is upheld and every measure lifted
    page.goto(case_url)
    page.fill("#file-appeal input[name=grounds]", "号码本人使用，外呼为合法业务")
    page.click("#file-appeal button")
    assert "under_review" in page.locator("#appeals").inner_text()
    page.click("#uphold")
    assert page.locator("#case-state").inner_text() == "cleared"
    states = page.locator("#measures .measure-state").all_inner_texts()
    assert "in_force" not in states and "lifted" in states
    assert "appeal_upheld" in page.locator("#measures").inner_text()
    _shot(page, "8-case-appeal-upheld-zh")
    page.click("nav >> text=处置措施")
    assert CARD not in page.locator("main").inner_text().split("申诉")[0]
    page.click("a.lang")
    assert "Anti-Telecom" in page.goto(case_url).text()  # type: ignore[union-attr]
    page.context.close()
