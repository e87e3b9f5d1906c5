"""Reading small things out of what the citizen typed (pure functions)."""

from __future__ import annotations

import re

_ORDINALS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (0, ("first", "1st", "one", "第一", "頭一", "头一")),
    (1, ("second", "2nd", "two", "第二")),
    (2, ("third", "3rd", "three", "第三")),
    (3, ("fourth", "4th", "four", "第四")),
    (4, ("fifth", "5th", "five", "第五")),
)
_DIGIT_RE = re.compile(r"(?<![\d])([1-9])(?![\d])")

SENDER_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


def option_index(text: str) -> int | None:
    """Zero-based position named in "the second one", "第二個", "option 2"; else None."""
    lowered = text.lower()
    for index, words in _ORDINALS:
        for word in words:
            found = (
                re.search(rf"(?<![a-z]){word}(?![a-z])", lowered)
                if word.isascii()
                else word in lowered
            )
            if found:
                return index
    match = _DIGIT_RE.search(lowered)
    return int(match.group(1)) - 1 if match else None


def valid_sender(sender: str | None) -> str | None:
    """The conversation id when it has the api's sender form, else None."""
    return sender if sender and SENDER_RE.match(sender) else None
