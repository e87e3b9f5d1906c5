"""The 1823 agent console in headless Chromium against the real stack: log in, search as
you type, filter, copy a link, open a handed-over transcript, take and close the case,
switch to Chinese, keyboard use, and axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.staff import account, hand_over, log_in, serious_violations
from tests.support.stack import LiveStack

pytestmark = pytest.mark.browser

MARKUP = "<img src=x onerror=alert(3)>"


def test_agent_searches_filters_copies_and_closes_a_case(
    page: Page, live_stack: LiveStack, axe_source: str
) -> None:
    agent = account(live_stack, "agent-ana", "agent")
    reference = hand_over(
        live_stack,
        "w-console-test",
        [
            ("user", "我想續領護照，但係唔識填表"),
            ("bot", "Here is what I found."),
            ("user", f"我想搵真人 {MARKUP}"),
        ],
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_stack.url)
    log_in(page, f"{live_stack.url}/agent", agent)

    # search as you type
    query = page.get_by_label(re.compile("What does the caller need"))
    query.press_sequentially("individual tax return", delay=20)
    results = page.locator("#results > li")
    expect(results.first.locator(".r-title")).to_have_text("Tax Return – Individuals")
    first = results.first
    expect(first.locator(".r-meta")).to_contain_text("BIR60")
    expect(first.locator(".r-title-zh")).to_have_text("個別人士報稅表")
    expect(first.locator(".r-dept")).to_contain_text("Inland Revenue Department · 稅務局")
    expect(page.locator("#search-status")).to_have_text(re.compile(r"\d+ results?"))

    # copy the link of the first result
    url = first.locator(".r-link a").get_attribute("href")
    assert url and url.startswith("https://")
    first.get_by_role("button", name=re.compile("^Copy link")).click()
    expect(page.locator("#copy-status")).to_have_text(f"Copied: {url}")
    assert page.evaluate("() => navigator.clipboard.readText()") == url

    # filters: a department, then e-services only
    query.fill("passport")
    page.get_by_label("Department").select_option("ImmD")
    expect(results.first).to_contain_text("Immigration Department")
    page.wait_for_timeout(400)
    for dept in page.locator("#results .r-dept").all_inner_texts():
        assert "Immigration Department" in dept
    page.get_by_label("Type").select_option("e-service")
    expect(results.first.locator(".r-meta")).to_have_text(re.compile("E-service"))
    page.wait_for_timeout(400)
    assert all("E-service" in m for m in page.locator("#results .r-meta").all_inner_texts())

    # form details, and back with Escape
    details = results.first.get_by_role("button", name=re.compile("^Details"))
    details.click()
    expect(page.locator("#details-title")).to_be_focused()
    expect(page.locator("#details-body")).to_contain_text("Official page")
    page.keyboard.press("Escape")
    expect(page.locator("#details")).to_be_hidden()
    expect(details).to_be_focused()

    # the handed-over conversation: newest first, transcript shown as text
    row = page.locator("#queue-body tr").first
    expect(row.locator("th")).to_have_text(reference)
    expect(row).to_contain_text("Chinese (Traditional)")
    page.get_by_role("button", name=f"Open case {reference}").click()
    expect(page.locator("#case-title")).to_have_text(f"Case {reference}")
    expect(page.locator("#case-title")).to_be_focused()
    transcript = page.locator("#case-transcript li")
    expect(transcript).to_have_count(3)
    expect(transcript.nth(0)).to_have_text("Citizen: 我想續領護照，但係唔識填表")
    expect(transcript.nth(2)).to_have_text(f"Citizen: 我想搵真人 {MARKUP}")
    assert page.locator("#case img").count() == 0
    expect(page.locator("#case-searches li")).to_have_count(2)

    assert serious_violations(page, axe_source) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "staff-agent.png"), full_page=True)

    page.get_by_role("button", name="Take this case").click()
    expect(page.locator("#case-status")).to_have_text(f"Case {reference} is now Taken.")
    page.get_by_role("button", name="Close this case").click()
    expect(page.locator("#case-status")).to_have_text(f"Case {reference} is now Closed.")
    rows = live_stack.rows(
        "SELECT status, assigned_to FROM handoffs WHERE reference = ?", reference
    )
    assert rows == [("closed", agent)]
    expect(page.locator("#queue-body")).not_to_contain_text(reference)  # active cases only

    # Chinese, and still accessible
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("1823 職員控制台")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant-HK")
    expect(page.get_by_label("部門")).to_be_visible()
    assert serious_violations(page, axe_source) == []


def test_login_form_by_keyboard_and_wrong_password(
    page: Page, live_stack: LiveStack, axe_source: str
) -> None:
    agent = account(live_stack, "agent-ana", "agent")
    page.goto(f"{live_stack.url}/agent")
    expect(page.get_by_label("Username")).to_be_focused()
    assert serious_violations(page, axe_source) == []
    page.keyboard.type(agent)
    page.keyboard.press("Tab")
    page.keyboard.type("not the password at all")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.locator("#app-view")).to_be_hidden()
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type(agent)
    page.keyboard.press("Tab")
    page.keyboard.type("browser tests only, not a real secret")
    page.keyboard.press("Enter")
    expect(page.locator("#app-title")).to_be_focused()
    # an agent's session does not open the admin page
    page.goto(f"{live_stack.url}/admin")
    expect(page.get_by_role("alert")).to_have_text("Your account cannot use this page.")
    expect(page.locator("#app-view")).to_be_hidden()
