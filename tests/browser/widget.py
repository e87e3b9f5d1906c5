"""Page object of the chat widget (its shadow root is open, so locators reach inside)."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page, expect

REPLY_TIMEOUT_MS = 90_000


class Widget:
    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    # -- parts -------------------------------------------------------------------------------
    @property
    def launcher(self) -> Locator:
        return self.page.locator(".launcher")

    @property
    def panel(self) -> Locator:
        return self.page.locator(".panel")

    @property
    def input(self) -> Locator:
        return self.page.locator("#hkf-input")

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log")

    @property
    def bot_messages(self) -> Locator:
        return self.page.locator(".msg-bot")

    @property
    def user_messages(self) -> Locator:
        """The text bubbles of the citizen's messages."""
        return self.page.locator(".msg-user .bubble")

    @property
    def cards(self) -> Locator:
        return self.page.locator(".card")

    @property
    def status(self) -> Locator:
        return self.page.locator(".status")

    @property
    def replies(self) -> Locator:
        return self.page.locator(".reply")

    # -- actions -----------------------------------------------------------------------------
    def open(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)
        if self.panel.is_hidden():
            self.launcher.click()
        expect(self.panel).to_be_visible()
        expect(self.bot_messages.first).to_be_visible()

    def wait_idle(self, before: int, timeout_ms: int = REPLY_TIMEOUT_MS) -> None:
        """Wait until a reply arrived (more bot messages than ``before``) and nothing pending."""
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            if self.bot_messages.count() > before and self.page.locator(".typing").is_hidden():
                return
            self.page.wait_for_timeout(100)
        raise AssertionError(f"no reply within {timeout_ms} ms")

    def ask(self, text: str, timeout_ms: int = REPLY_TIMEOUT_MS) -> list[Locator]:
        """Type ``text``, press Enter, wait for the reply; returns the new bot messages."""
        before = self.bot_messages.count()
        self.input.fill(text)
        self.input.press("Enter")
        self.wait_idle(before, timeout_ms)
        return self.new_since(before)

    def ask_for_cards(self, text: str) -> list[Locator]:
        """Ask; when the bot answers with a clarifying question instead of cards, take its
        first option. Returns the messages that carry the cards (or the last reply)."""
        reply = self.ask(text)
        if not any(m.locator(".card").count() for m in reply) and reply:
            options = reply[-1].locator(".reply")
            if options.count():
                reply = self.click_reply(options.first.inner_text())
        return reply

    def click_reply(self, title: str | re.Pattern[str]) -> list[Locator]:
        before = self.bot_messages.count()
        self.replies.filter(has_text=title).first.click()
        self.wait_idle(before)
        return self.new_since(before)

    def new_since(self, before: int) -> list[Locator]:
        """The bot messages after the first ``before`` ones."""
        return [self.bot_messages.nth(i) for i in range(before, self.bot_messages.count())]

    def text_of(self, messages: list[Locator]) -> str:
        return "\n".join(m.inner_text() for m in messages)

    def scroll_to_last_question(self) -> None:
        """Scroll the message list so the last question is at its top (for screenshots)."""
        self.page.locator(".msg-user").last.evaluate(
            "e => { const log = e.closest('.log');"
            " log.scrollTop = e.offsetTop - log.offsetTop - 8; }"
        )

    def card_ids(self) -> list[str]:
        """Ids of every card shown so far (from the widget's stored history)."""
        return self.page.evaluate(
            """() => {
              const history = JSON.parse(localStorage.getItem('hkforms.v1.history') || '[]');
              return history.flatMap(m => (m.cards || []).map(c => c.id));
            }"""
        )

    def sender(self) -> str:
        return self.page.evaluate("() => JSON.parse(localStorage.getItem('hkforms.v1.sender'))")
