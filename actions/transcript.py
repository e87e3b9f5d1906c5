"""The conversation as a handoff transcript (docs/contracts.md §5), from tracker events."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

#: Most recent turns kept in a handoff record (the api accepts up to 500).
MAX_TURNS = 200
MAX_TEXT = 8000


def _bot_text(event: Mapping[str, Any]) -> str:
    text = str(event.get("text") or "")
    data = event.get("data") or {}
    custom = data.get("custom") if isinstance(data, Mapping) else None
    cards = custom.get("cards") if isinstance(custom, Mapping) else None
    if cards:
        shown = ", ".join(
            f"{c.get('id')}" + (f" ({c.get('form_no')})" if c.get("form_no") else "")
            for c in cards
            if isinstance(c, Mapping)
        )
        text = f"{text}\n[cards: {shown}]" if text else f"[cards: {shown}]"
    buttons = data.get("buttons") if isinstance(data, Mapping) else None
    if buttons:
        titles = " | ".join(str(b.get("title")) for b in buttons if isinstance(b, Mapping))
        text = f"{text}\n[buttons: {titles}]" if text else f"[buttons: {titles}]"
    return text


def build_transcript(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """User and bot turns in order: ``{"role", "text", "ts"}``. Button presses appear as
    the intent they carry (``[button] /handoff``); cards as their catalogue ids."""
    turns: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = str(event.get("text") or "")
            if text.startswith("/"):
                text = f"[button] {text}"
            role = "user"
        elif kind == "bot":
            text = _bot_text(event)
            role = "bot"
        else:
            continue
        if not text:
            continue
        ts = event.get("timestamp")
        turns.append(
            {
                "role": role,
                "text": text[:MAX_TEXT],
                "ts": float(ts) if isinstance(ts, (int, float)) else time.time(),
            }
        )
    return turns[-MAX_TURNS:]
