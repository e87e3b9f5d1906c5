"""Pure helpers of a chat turn: cleaning the input, folding Rasa's messages into the
contract's ``messages``, converting them to Simplified characters, polite canned answers."""

from __future__ import annotations

import unicodedata
from typing import Any

from api.schemas import BotMessage, Button, Card, Link
from api.script import to_simplified

#: Answer to an empty, whitespace-only, binary or control-character-only message.
EMPTY_REPLY = {
    "en": "I didn't catch that. Please type what you are looking for, e.g. “renew passport”.",
    "zh": "我未收到你的問題。請輸入你想找的表格或服務，例如「續領護照」。",
}
#: Answer when Rasa cannot be reached (with the 503).
UNAVAILABLE_REPLY = (
    "Sorry, the assistant is not available right now. Please try again in a moment, "
    "or call 1823. 抱歉，助理暫時未能回應，請稍後再試，或致電 1823。"
)


def clean_message(text: str) -> str:
    """``text`` without control and format characters (tabs and newlines become spaces),
    NFC-normalised and trimmed. An empty result means there is nothing to answer."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\v\f\u2028\u2029":
            out.append(" ")
        elif cat in ("Cc", "Cs", "Co", "Cn") or ch == "\ufffd":
            continue  # control, surrogate, private-use, unassigned, replacement (binary junk)
        elif cat == "Cf" and ch not in "\u200d\u200c":
            continue  # zero-width and direction marks, except joiners needed by emoji
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def looks_binary(raw: str) -> bool:
    """True when ``raw`` is mostly control or replacement characters (a pasted file)."""
    if not raw:
        return False
    junk = sum(
        1
        for ch in raw
        if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r")
    )
    return "\x00" in raw or junk / len(raw) > 0.1


def _https(url: Any) -> bool:
    return isinstance(url, str) and url.lower().startswith("https://") and len(url) < 2048


def _card(raw: Any) -> Card | None:
    if not isinstance(raw, dict) or not raw.get("id") or not raw.get("title"):
        return None
    links = [
        Link(label=str(link.get("label") or link["url"]), url=link["url"])
        for link in raw.get("links") or []
        if isinstance(link, dict) and _https(link.get("url"))
    ]
    translation = raw.get("title_translation")
    return Card(
        id=str(raw["id"]),
        form_no=str(raw.get("form_no") or ""),
        title=str(raw["title"]),
        department=str(raw.get("department") or ""),
        links=links,
        title_translation=str(translation) if translation else None,
        kind=str(raw["kind"]) if raw.get("kind") else None,
    )


def _buttons(raw: Any) -> list[Button]:
    return [
        Button(title=str(b["title"]), payload=str(b.get("payload") or b["title"]))
        for b in raw or []
        if isinstance(b, dict) and b.get("title")
    ]


def fold_messages(raw_messages: list[dict[str, Any]]) -> list[BotMessage]:
    """Rasa's REST output → the contract's ``messages``: text, buttons and custom cards of
    each bot message in one item. Rasa sends a message's custom payload as a separate
    output; such a cards-only output is folded back into the message before it."""
    folded: list[BotMessage] = []
    for raw in raw_messages:
        custom = raw.get("custom") if isinstance(raw.get("custom"), dict) else {}
        text = str(raw.get("text") or custom.get("text") or "")
        buttons = _buttons(raw.get("buttons") or raw.get("quick_replies") or custom.get("buttons"))
        cards = [c for c in (_card(x) for x in custom.get("cards") or []) if c is not None]
        if not (text or buttons or cards):
            continue
        if not text and not buttons and folded and not folded[-1].cards:
            folded[-1].cards.extend(cards)
            continue
        folded.append(BotMessage(text=text, buttons=buttons, cards=cards))
    return folded


def simplify(messages: list[BotMessage]) -> list[BotMessage]:
    """The same messages with every text shown to the user in Simplified characters
    (payloads, ids and URLs untouched)."""
    out = []
    for m in messages:
        out.append(
            BotMessage(
                text=to_simplified(m.text),
                buttons=[
                    Button(title=to_simplified(b.title), payload=b.payload) for b in m.buttons
                ],
                cards=[
                    c.model_copy(
                        update={
                            "title": to_simplified(c.title),
                            "department": to_simplified(c.department),
                            "title_translation": (
                                to_simplified(c.title_translation) if c.title_translation else None
                            ),
                            "links": [
                                Link(label=to_simplified(link.label), url=link.url)
                                for link in c.links
                            ],
                        }
                    )
                    for c in m.cards
                ],
            )
        )
    return out
