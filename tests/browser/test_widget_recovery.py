"""With Rasa stopped the widget shows its retry state, and recovers when Rasa returns.
(Runs after test_widget.py: it restarts Rasa.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.widget import Widget
from tests.support.stack import LiveStack

pytestmark = pytest.mark.browser


def test_retry_state_and_recovery(widget: Widget, live_stack: LiveStack) -> None:
    widget.open()
    live_stack.stop_rasa()
    try:
        before = widget.bot_messages.count()
        widget.input.fill("How do I renew my passport?")
        widget.input.press("Enter")
        expect(widget.status).to_be_visible(timeout=15_000)
        expect(widget.status).to_contain_text(re.compile("Can.t reach the assistant"))
        expect(widget.page.get_by_role("button", name="Retry now")).to_be_visible()
        assert widget.bot_messages.count() == before  # no error page, no half answer
        # a reload during the outage keeps the unanswered question and keeps retrying it
        widget.page.reload()
        expect(widget.status).to_be_visible(timeout=15_000)
        expect(widget.user_messages.last).to_have_text("How do I renew my passport?")
    finally:
        live_stack.start_rasa()
    live_stack.wait_ready()
    # the widget retries by itself (backing off to every 15 s) and the answer arrives
    expect(widget.status).to_be_hidden(timeout=60_000)
    widget.wait_idle(before, timeout_ms=60_000)
    expect(widget.user_messages.last).to_have_text("How do I renew my passport?")
