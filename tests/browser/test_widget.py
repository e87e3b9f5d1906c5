"""The widget in headless Chromium against the real stack (Rasa, action server, api)."""

from __future__ import annotations

import functools
import re
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.browser.widget import Widget
from tests.support.stack import MARKUP_ALIAS, MARKUP_ENTRY_ID, MARKUP_TITLE, LiveStack

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_cantonese_question_gets_the_right_form(widget: Widget) -> None:
    widget.open()
    widget.page.locator(".lang", has_text="繁體").click()
    reply = widget.ask_for_cards("我想申請生果金，點搞？")
    assert {"swd-ssa-application", "swd-ssa-eligibility"} & set(widget.card_ids()), widget.text_of(
        reply
    )
    card = widget.cards.first
    expect(card.locator(".card-title")).to_have_text(CJK)
    link = card.locator(".card-links a").first
    assert link.get_attribute("href").startswith("https://")
    assert link.get_attribute("rel") == "noopener noreferrer"


def test_english_question(widget: Widget) -> None:
    widget.open()
    reply = widget.ask_for_cards("How do I file my individual tax return?")
    assert "ird-bir60" in widget.card_ids(), widget.text_of(reply)
    expect(widget.cards.filter(has_text="BIR60").first).to_be_visible()
    expect(widget.cards.filter(has_text="Tax Return").first).to_be_visible()


def test_switch_language(widget: Widget) -> None:
    widget.open()
    page = widget.page
    expect(widget.input).to_have_attribute("placeholder", "Type your question…")
    page.get_by_role("button", name="繁體").click()
    expect(page.get_by_role("button", name="繁體")).to_have_attribute("aria-pressed", "true")
    expect(widget.input).to_have_attribute("placeholder", "請輸入你的問題…")
    expect(page.locator(".send")).to_have_text("傳送")
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as request:
        reply = widget.ask("點樣報稅？")
    assert request.value.post_data_json["lang"] == "zh"
    assert CJK.search(widget.text_of(reply))
    page.get_by_role("button", name="English").click()
    expect(widget.input).to_have_attribute("placeholder", "Type your question…")
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as request:
        widget.ask("hello")
    assert request.value.post_data_json["lang"] == "en"
    # the choice survives a reload
    page.reload()
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")


def test_clarifying_question_answered_by_button(widget: Widget) -> None:
    widget.open()
    widget.ask("車牌")
    expect(widget.replies.first).to_be_visible()
    titles = widget.replies.all_inner_texts()
    assert len(titles) >= 2
    before = len(widget.card_ids())
    widget.click_reply(titles[0])
    assert len(widget.card_ids()) > before
    expect(widget.user_messages.last).to_have_text(re.compile(re.escape(titles[0])))


def test_history_restored_after_reload(widget: Widget) -> None:
    widget.open()
    widget.ask("How do I renew my passport?")
    sender = widget.sender()
    texts = widget.log.inner_text()
    widget.page.reload()
    expect(widget.panel).to_be_visible()  # it stays open
    expect(widget.user_messages.last).to_have_text(re.compile("renew my passport"))
    assert widget.sender() == sender
    assert widget.log.inner_text() == texts


def test_thumbs_down_is_recorded(widget: Widget, live_stack: LiveStack) -> None:
    widget.open()
    widget.ask_for_cards("How do I file my individual tax return?")
    answer = widget.page.locator(".msg-bot").filter(has=widget.page.locator(".card")).last
    with widget.page.expect_response(lambda r: r.url.endswith("/api/feedback")) as resp:
        answer.get_by_role("button", name="Not helpful").click()
    assert resp.value.status == 201
    expect(answer.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "true"
    )
    rows = live_stack.rows(
        "SELECT rating, query, result_ids, source FROM feedback WHERE sender = ?", widget.sender()
    )
    assert len(rows) == 1
    rating, query, result_ids, source = rows[0]
    assert (rating, source) == ("bad", "widget")
    assert query  # the question (or the clarifying option chosen) that led to the cards
    assert "ird-bir60" in result_ids


def test_user_markup_is_shown_as_text(widget: Widget) -> None:
    widget.open()
    payload = "<img src=x onerror=alert(1)>"
    widget.ask(payload)
    expect(widget.user_messages.last).to_have_text(payload)
    assert widget.page.locator(".hkforms-widget-host img").count() == 0
    assert widget.page.evaluate("() => document.querySelectorAll('img').length") == 0


def test_catalogue_markup_is_shown_as_text(widget: Widget) -> None:
    widget.open()
    reply = widget.ask_for_cards(f"{MARKUP_ALIAS} form")
    assert MARKUP_ENTRY_ID in widget.card_ids(), widget.text_of(reply)
    title = widget.cards.filter(has_text="Widget markup check").first.locator(".card-title")
    expect(title).to_have_text(MARKUP_TITLE)
    assert widget.page.locator(".hkforms-widget-host img, .hkforms-widget-host b").count() == 0
    widget.page.wait_for_timeout(500)  # an onerror handler would have fired by now


def test_talk_to_a_person_creates_a_handoff(widget: Widget, live_stack: LiveStack) -> None:
    widget.open()
    widget.ask("How do I renew my passport?")
    before = widget.bot_messages.count()
    widget.page.locator(".human").click()  # the footer button, not the bot's quick reply
    widget.wait_idle(before)
    deadline = time.monotonic() + 10
    rows: list[tuple[object, ...]] = []
    while time.monotonic() < deadline and not rows:
        rows = live_stack.rows("SELECT reference FROM handoffs WHERE sender = ?", widget.sender())
        time.sleep(0.2)
    assert rows, "no handoff recorded"
    expect(widget.bot_messages.last).to_contain_text(str(rows[0][0]))


def test_keyboard_use(widget: Widget) -> None:
    page = widget.page
    page.goto(widget.base_url + "/")
    launcher = page.get_by_role("button", name="Ask about government forms")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(widget.input).to_be_focused()
    expect(widget.log).to_have_attribute("aria-live", "polite")
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    widget.wait_idle(1)
    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    # every control of the open panel has an accessible name
    launcher.click()
    for role in ("button", "textbox"):
        for control in page.get_by_role(role).all():
            if control.is_visible():
                name = control.get_attribute("aria-label") or control.inner_text()
                label = control.evaluate("e => e.labels ? e.labels.length : 0")
                assert name.strip() or label, control


def test_no_horizontal_overflow_at_360px(widget: Widget, page: Page) -> None:
    page.set_viewport_size(PHONE)
    widget.open()
    widget.ask("How do I file my individual tax return?")
    widget.ask("我想申請生果金，點搞？")
    overflow = page.evaluate(
        """() => {
          const host = document.querySelector('.hkforms-widget-host').shadowRoot;
          const log = host.querySelector('.log');
          return {
            doc: document.documentElement.scrollWidth,
            log: log.scrollWidth - log.clientWidth,
            panel: host.querySelector('.panel').getBoundingClientRect().width,
          };
        }"""
    )
    assert overflow["doc"] <= PHONE["width"]
    assert overflow["log"] <= 0
    assert overflow["panel"] <= PHONE["width"]
    widget.scroll_to_last_question()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-360.png"))
    assert page.locator(".header").bounding_box()["y"] == 0  # only the log scrolls
    # the on-screen keyboard leaves ~300 px: the input and the send button stay visible
    page.set_viewport_size({"width": 360, "height": 300})
    widget.input.focus()
    expect(widget.panel).to_have_js_property("offsetHeight", 300)
    for part in (widget.input, page.locator(".send")):
        box = part.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 300


def test_desktop_screenshot(widget: Widget, page: Page) -> None:
    widget.open()
    widget.ask_for_cards("How do I file my individual tax return?")
    widget.scroll_to_last_question()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-desktop.png"))
    panel, header = widget.panel.bounding_box(), page.locator(".header").bounding_box()
    assert panel and header and abs(header["y"] - panel["y"]) <= 1  # only the log scrolls


def test_axe_no_serious_or_critical_violations(widget: Widget, page: Page, axe_source: str) -> None:
    def serious() -> list[str]:
        page.evaluate(axe_source)
        result = page.evaluate("async () => await axe.run(document)")
        return [
            f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    page.goto(widget.base_url + "/")
    assert serious() == []  # closed: the demo page and the launcher
    widget.open()
    widget.ask("How do I file my individual tax return?")
    widget.ask("車牌")
    assert serious() == []  # open, with cards, quick replies and thumbs
    page.set_viewport_size(PHONE)
    assert serious() == []


def test_embedded_on_another_site(page: Page, live_stack: LiveStack, tmp_path: Path) -> None:
    """One script tag on a page of another origin (listed in CORS_ORIGINS) is enough."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="zh-Hant-HK"><head><meta charset="utf-8">'
        "<title>Department site</title></head><body><main><h1>部門網站</h1></main>"
        f'<script src="{live_stack.url}/static/widget.js" data-lang="zh" defer></script>'
        "</body></html>",
        encoding="utf-8",
    )
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", live_stack.embed_port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        widget = Widget(page, f"http://127.0.0.1:{live_stack.embed_port}")
        widget.open()
        expect(widget.input).to_have_attribute("placeholder", "請輸入你的問題…")
        with page.expect_response(lambda r: r.url == f"{live_stack.url}/api/chat") as resp:
            reply = widget.ask_for_cards("How do I file my individual tax return?")
        assert resp.value.status == 200
        assert "ird-bir60" in widget.card_ids(), widget.text_of(reply)
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
