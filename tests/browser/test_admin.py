"""The content admin in headless Chromium against the real stack (Rasa, actions, api):
bad rows reported by line while the live index keeps serving; an edited catalogue
published while a conversation goes on, the new title in search, rollback, an alias added
from the review queue; axe-core on the pages. The stack's index is put back at the end."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.staff import PASSWORD, account, log_in, serious_violations
from tests.browser.widget import Widget
from tests.support.stack import LiveStack

pytestmark = pytest.mark.browser

EDITED_ID = "lcsd-lcs218"  # not among the regression queries' answers
OLD_TITLE = "Application for Use of LCSD Non-fee Charging Facilities"
NEW_TITLE = "Application for Use of LCSD Non-fee Charging Facilities (2027 edition)"
ALIAS = "老人錢"  # "old people's money": how some callers name the Old Age Allowance
ALIAS_ENTRY = "swd-ssa-application"
PUBLISH_TIMEOUT_MS = 600_000


@pytest.fixture(scope="module")
def admin(live_stack: LiveStack) -> Iterator[str]:
    """An admin account; at the end the index version the stack started with is put back
    (through the rollback route), so later tests see the catalogue they expect."""
    name = account(live_stack, "admin-ada", "admin")
    with httpx.Client(base_url=live_stack.url, timeout=120) as client:
        original = client.get("/api/search", params={"q": "tax"}).json()["index_version"]
    yield name
    with httpx.Client(base_url=live_stack.url, timeout=120) as client:
        csrf = client.post("/api/auth/login", json={"username": name, "password": PASSWORD}).json()[
            "csrf_token"
        ]
        r = client.post(
            "/api/admin/rollback", json={"version": original}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 200, r.text


def _live_version(live_stack: LiveStack) -> str:
    return str(
        httpx.get(f"{live_stack.url}/api/search", params={"q": "tax"}, timeout=60).json()[
            "index_version"
        ]
    )


def _download(page: Page) -> list[dict[str, object]]:
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the live catalogue (JSONL)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _check(page: Page, path: Path) -> None:
    page.get_by_label("Catalogue file to check (JSONL or CSV)").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#report-title")).to_be_focused()


def _wait_published(page: Page) -> str:
    status = page.locator("#job-status")
    expect(status).to_have_text(
        re.compile(r"Published: version \S+ is live\."), timeout=(PUBLISH_TIMEOUT_MS)
    )
    return status.inner_text().split("version ")[1].split(" ")[0]


def _agent_search(page: Page, query: str) -> None:
    box = page.get_by_label(re.compile("What does the caller need"))
    box.fill(query)


def test_bad_rows_are_reported_by_line_while_the_live_index_serves(
    page: Page, live_stack: LiveStack, admin: str, axe_source: str, tmp_path: Path
) -> None:
    log_in(page, f"{live_stack.url}/admin", admin)
    assert serious_violations(page, axe_source) == []
    before = _live_version(live_stack)
    rows = _download(page)
    assert len(rows) > 600 and any(r["id"] == EDITED_ID for r in rows)
    lines = [json.dumps(r, ensure_ascii=False) for r in rows[:6]]
    lines[1] = json.dumps({**rows[1], "url": "ftp://example.org/form.pdf"})  # line 2
    lines[3] = json.dumps({**rows[3], "department_code": "NOWHERE"})  # line 4
    lines[4] = '{"id": "broken", '  # line 5
    lines[5] = json.dumps({**rows[5], "kind": "leaflet"})  # line 6
    bad = tmp_path / "catalogue-with-errors.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _check(page, bad)
    expect(page.locator("#report-status")).to_have_text(
        "4 problems found in the file; nothing was published. Fix them and check the file again."
    )
    table = page.locator("#report-errors table tbody tr")
    expect(table).to_have_count(4)
    got = [
        (row.locator("th").inner_text(), row.locator("td").first.inner_text())
        for row in table.all()
    ]
    assert got == [
        ("Line 2", "url"),
        ("Line 4", "department_code"),
        ("Line 5", "(json)"),
        ("Line 6", "kind"),
    ]
    expect(page.get_by_role("button", name="Publish this catalogue")).to_be_hidden()
    assert serious_violations(page, axe_source) == []
    # the live index was not touched, and keeps serving
    assert _live_version(live_stack) == before
    found = httpx.get(f"{live_stack.url}/api/search", params={"q": "LCS 218"}, timeout=60).json()
    assert found["results"][0]["id"] == EDITED_ID
    page.get_by_role("button", name="中文").click()
    expect(page.locator("#report-errors caption")).to_have_text("問題（按檔案行數）")
    expect(table.first.locator("th")).to_have_text("第 2 行")
    assert serious_violations(page, axe_source) == []
    page.get_by_role("button", name="English").click()


def _chat_until(live_stack: LiveStack, stop: threading.Event, outcomes: list[int]) -> None:
    """One conversation, turn after turn, until told to stop (what a citizen does)."""
    questions = ["How do I renew my passport?", "我想申請生果金", "individual tax return", "hello"]
    with httpx.Client(base_url=live_stack.url, timeout=60) as client:
        i = 0
        while not stop.is_set():
            r = client.post(
                "/api/chat",
                json={"sender": "w-during-publish", "message": questions[i % len(questions)]},
            )
            ok = r.status_code == 200 and bool(r.json()["messages"])
            outcomes.append(r.status_code if ok else -r.status_code)
            i += 1


def test_publish_during_a_chat_then_rollback_and_an_alias_from_the_review_queue(
    page: Page, live_stack: LiveStack, admin: str, axe_source: str, tmp_path: Path
) -> None:
    log_in(page, f"{live_stack.url}/admin", admin)
    original = _live_version(live_stack)
    rows = _download(page)
    edited = [{**r, "title_en": NEW_TITLE} if r["id"] == EDITED_ID else r for r in rows]
    path = tmp_path / "catalogue.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in edited), "utf-8")
    _check(page, path)
    expect(page.locator("#report-status")).to_have_text(re.compile(r"1 changed"))
    expect(page.locator("#report-diff")).to_contain_text(f"title_en: “{OLD_TITLE}” → “{NEW_TITLE}”")

    # publish while a conversation goes on (over HTTP and in the widget)
    stop, outcomes = threading.Event(), []
    chat = threading.Thread(target=_chat_until, args=(live_stack, stop, outcomes), daemon=True)
    chat.start()
    try:
        page.get_by_role("button", name="Publish this catalogue").click()
        expect(page.locator("#job-label")).to_have_text(re.compile(r"^Publishing \("))
        citizen = page.context.new_page()
        widget = Widget(citizen, live_stack.url)
        widget.open()
        reply = widget.ask("How do I file my individual tax return?")
        assert reply and widget.text_of(reply).strip()
        citizen.close()
        version = _wait_published(page)
    finally:
        stop.set()
        chat.join(timeout=120)
    assert outcomes and all(code == 200 for code in outcomes), outcomes
    assert version != original
    expect(page.locator("#job-progress")).to_have_js_property("value", 1)
    expect(page.locator("#job-quality table")).to_contain_text("Recall@5")
    expect(page.locator("#versions-body tr").first.locator("th")).to_have_text(version)
    expect(page.locator("#versions-body tr").first).to_contain_text(admin)
    assert serious_violations(page, axe_source) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "staff-admin.png"), full_page=True)

    # the new title in search (the agent console serves admins too)
    console = page.context.new_page()
    console.goto(f"{live_stack.url}/agent")
    _agent_search(console, "LCS 218")
    expect(console.locator("#results > li").first.locator(".r-title")).to_have_text(
        NEW_TITLE, timeout=30_000
    )

    # roll back: the old title returns
    page.get_by_role("button", name=f"Roll back to version {original}").click()
    expect(page.locator("#versions-status")).to_have_text(f"Version {original} is live again.")
    _agent_search(console, "LCS 218 ")
    expect(console.locator("#results > li").first.locator(".r-title")).to_have_text(OLD_TITLE)
    assert _live_version(live_stack) == original

    # a question that keeps failing reaches the review queue; fix it with an alias
    for _ in range(2):
        r = httpx.post(
            f"{live_stack.url}/api/feedback",
            json={
                "sender": "w-review",
                "rating": "bad",
                "query": ALIAS,
                "result_ids": ["swd-elder-card"],
            },
            timeout=30,
        )
        assert r.status_code == 201
    page.reload()
    expect(page.locator("#app-view")).to_be_visible()
    row = page.locator("#review-body tr", has_text=ALIAS)
    expect(row).to_contain_text("didn't help ×2")
    row.get_by_role("button", name=f"Add an alias for “{ALIAS}”").click()
    expect(page.get_by_label("Find the entry")).to_be_focused()
    expect(page.get_by_label("Alias", exact=True)).to_have_value(ALIAS)
    page.get_by_label("Find the entry").fill("old age allowance application")
    page.get_by_role("button", name="Find", exact=True).click()
    page.locator("#alias-results li", has_text=f"({ALIAS_ENTRY})").get_by_role(
        "button", name=re.compile("^Choose")
    ).click()
    expect(page.get_by_label("Entry id")).to_have_value(ALIAS_ENTRY)
    page.get_by_role("button", name="Add the alias").click()
    _wait_published(page)
    expect(page.locator("#review-body")).not_to_contain_text(ALIAS)
    expect(page.locator("#alias-current")).to_contain_text(ALIAS)
    _agent_search(console, ALIAS)
    expect(console.locator("#results > li").first.locator(".r-meta")).to_be_visible()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{live_stack.url}/api/search", params={"q": f"點申請{ALIAS}"}, timeout=60
        ).json()
        if found["results"] and found["results"][0]["id"] == ALIAS_ENTRY:
            break
        time.sleep(0.5)
    assert found["results"][0]["id"] == ALIAS_ENTRY
    expect(page.locator("#audit-body")).to_contain_text("alias added")
    expect(page.locator("#audit-body")).to_contain_text("rolled back")
    assert serious_violations(page, axe_source) == []
    console.close()
