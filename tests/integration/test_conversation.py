"""Conversations through ``POST /api/chat`` on the real stack: the trained Rasa model, the
action server and the api with the real index (the session's ``live_stack``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import opencc
import pytest

from tests.support.stack import LiveStack

pytestmark = pytest.mark.integration

TO_SIMPLIFIED = opencc.OpenCC("t2s")
#: What a helpful 1823 agent would accept for 生果金 (Old Age Allowance, in the Social
#: Security Allowance Scheme).
OLD_AGE_ALLOWANCE_IDS = {"swd-ssa-application", "swd-ssa-eligibility"}


def new_sender() -> str:
    return f"it-{uuid.uuid4().hex[:16]}"


def chat(stack: LiveStack, sender: str, message: str, lang: str | None) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.url}/api/chat",
        json={"sender": sender, "message": message, "lang": lang},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    messages = response.json()["messages"]
    assert messages, f"no reply to {message!r}"
    return messages


def cards(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [card for m in messages for card in m["cards"]]


def buttons(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for m in messages for b in m["buttons"]]


def text(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def handoffs(stack: LiveStack, sender: str) -> list[tuple[Any, ...]]:
    return stack.rows(
        "SELECT reference, language, reason, transcript, searches FROM handoffs WHERE sender = ?",
        sender,
    )


def rasa_slots(stack: LiveStack, sender: str) -> dict[str, Any]:
    config = stack.stack.config
    response = httpx.get(
        f"{config.rasa_url}/conversations/{sender}/tracker",
        params={"token": stack.stack.secrets["RASA_TOKEN"]},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["slots"]


def test_cantonese_query_gets_the_right_form(live_stack: LiveStack) -> None:
    messages = chat(live_stack, new_sender(), "阿爸就快65歲，想申請生果金點搞？", "zh")
    found = cards(messages)
    assert OLD_AGE_ALLOWANCE_IDS & {c["id"] for c in found}, found
    assert text(messages).startswith("以下是")  # a Chinese answer
    payloads = [b["payload"] for b in buttons(messages)]
    assert {"/feedback_bad", "/handoff"} <= set(payloads)
    for card in found:
        assert card["title"] and card["department"]
        assert all(link["url"].startswith("https://") for link in card["links"])


@pytest.mark.parametrize(
    ("message", "lang", "says"),
    [("點樣申請 qwzx", "zh", "找不到"), ("zorbling flumox application", "en", "couldn't find")],
)
def test_nothing_relevant_is_said_honestly(
    live_stack: LiveStack, message: str, lang: str, says: str
) -> None:
    """The search ranks something for any text; the bot shows none of it when nothing
    matched well, and offers browsing and a person instead of inventing an answer."""
    messages = chat(live_stack, new_sender(), message, lang)
    assert not cards(messages)
    assert says in text(messages) and "1823" in text(messages)
    assert {"/handoff"} <= {b["payload"] for b in buttons(messages)}


def test_ambiguous_term_asks_then_shows_the_chosen_forms(live_stack: LiveStack) -> None:
    sender = new_sender()
    messages = chat(live_stack, sender, "車牌", "zh")
    options = [b for b in buttons(messages) if b["payload"].startswith("/choose_option")]
    assert len(options) >= 2, messages
    assert not cards(messages)  # one question, no guessing
    assert "車牌" in text(messages)

    chosen = options[0]
    messages = chat(live_stack, sender, chosen["payload"], "zh")
    found = cards(messages)
    assert found, messages
    assert all(c["id"].startswith("td-") for c in found)  # the Transport Department's forms
    assert chosen["title"] in text(messages)  # "以下是「<the option>」的表格："


@pytest.mark.parametrize(
    ("message", "lang", "language", "reply_marker"),
    [
        ("搵真人", "zh", "zh-Hant", "個案編號"),
        ("talk to a person", "en", "en", "case reference"),
    ],
)
def test_asking_for_a_person_creates_a_handoff(
    live_stack: LiveStack, message: str, lang: str, language: str, reply_marker: str
) -> None:
    sender = new_sender()
    chat(live_stack, sender, "生果金" if lang == "zh" else "old age allowance", lang)
    messages = chat(live_stack, sender, message, lang)
    rows = handoffs(live_stack, sender)
    assert len(rows) == 1
    reference, stored_language, reason, transcript, searches = rows[0]
    assert reference in text(messages)
    assert reply_marker in text(messages) and "1823" in text(messages)
    assert (stored_language, reason) == (language, "requested")
    turns = json.loads(transcript) if isinstance(transcript, str) else transcript
    assert [t["role"] for t in turns][:2] == ["user", "bot"]
    assert (turns[-1]["role"], turns[-1]["text"]) == ("user", message)
    assert json.loads(searches) if isinstance(searches, str) else searches


def test_simplified_in_simplified_out(live_stack: LiveStack) -> None:
    messages = chat(live_stack, new_sender(), "我想申请长者生活津贴", "zh")
    shown = [m["text"] for m in messages]
    shown += [b["title"] for b in buttons(messages)]
    shown += [c["title"] for c in cards(messages)] + [c["department"] for c in cards(messages)]
    for s in shown:
        assert s == TO_SIMPLIFIED.convert(s), f"not Simplified: {s!r}"
    # a Chinese reply, converted: e.g. 查询 / 服务 rather than 查詢 / 服務
    assert any(word in text(messages) for word in ("查询", "服务", "以下是")), shown


def test_conversation_survives_a_rasa_restart(live_stack: LiveStack) -> None:
    sender = new_sender()
    chat(live_stack, sender, "我想續領駕駛執照", None)
    before = rasa_slots(live_stack, sender)
    assert before["language"] == "zh"
    assert before["last_query"] == "我想續領駕駛執照"

    live_stack.stop_rasa()
    live_stack.start_rasa()
    live_stack.wait_ready()

    after = rasa_slots(live_stack, sender)
    for slot in ("language", "script", "last_query", "searches"):
        assert after[slot] == before[slot], slot
    # A one-word Latin reply keeps the conversation's language: the restored slot answers.
    messages = chat(live_stack, sender, "ok", None)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text(messages)), messages


def test_widget_language_and_switching_mid_conversation(live_stack: LiveStack) -> None:
    sender = new_sender()
    # one Latin word shows no language: the widget's (metadata) applies
    assert "你好" in text(chat(live_stack, sender, "hi", "zh"))
    assert text(chat(live_stack, sender, "English please", "zh")).startswith(
        "OK, I'll reply in English"
    )
    messages = chat(live_stack, sender, "ok", "zh")  # the switch holds over the widget default
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text(messages)), messages
    assert text(chat(live_stack, sender, "中文", "zh")).startswith("好的，我會以中文回覆")


def test_results_that_did_not_help_twice_go_to_1823(live_stack: LiveStack) -> None:
    sender = new_sender()
    chat(live_stack, sender, "how do I apply for the old age allowance", "en")
    first = chat(live_stack, sender, "/feedback_bad", "en")
    assert "1823" in text(first) and not handoffs(live_stack, sender)
    second = chat(live_stack, sender, "/feedback_bad", "en")
    rows = handoffs(live_stack, sender)
    assert len(rows) == 1
    reference, language, reason, _transcript, _searches = rows[0]
    assert (language, reason) == ("en", "repeated_failure")
    assert reference in text(second)
    feedback = live_stack.rows("SELECT rating FROM feedback WHERE sender = ?", sender)
    assert [r[0] for r in feedback] == ["bad", "bad"]
