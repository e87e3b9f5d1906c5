"""Pure text functions shared by the bot's NLU components (no Rasa imports).

Everything here is *length-preserving*: character ``i`` of the output comes from
character ``i`` of the input. The tokenizer relies on that to report token offsets
into the original message, so entity spans and ``latest_message.text`` stay the
citizen's own words while the features see the normalised form.
"""

from __future__ import annotations

import functools
import re

import opencc

#: Full-width ASCII block (！ to ～) maps onto ASCII by a fixed offset.
_FULLWIDTH_START, _FULLWIDTH_END, _FULLWIDTH_OFFSET = 0xFF01, 0xFF5E, 0xFEE0
_IDEOGRAPHIC_SPACE = "\u3000"

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def fold_width(text: str) -> str:
    """Fold full-width ASCII letters, digits, punctuation and the ideographic space."""
    out = []
    for ch in text:
        code = ord(ch)
        if _FULLWIDTH_START <= code <= _FULLWIDTH_END:
            out.append(chr(code - _FULLWIDTH_OFFSET))
        elif ch == _IDEOGRAPHIC_SPACE:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def fold_case(text: str) -> str:
    """Lower-case character by character, keeping characters whose lower case is longer."""
    out = []
    for ch in text:
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


def convert_script(text: str, config: str) -> str:
    """Convert with OpenCC (``s2hk``, ``t2s``, ...), keeping the text's length.

    OpenCC converts phrases, which can in principle change the length; when that
    happens the text is converted character by character instead, and a character
    whose conversion is not a single character is kept as it was.
    """
    if not _HAN_RE.search(text):
        return text
    converter = _converter(config)
    converted = converter.convert(text)
    if len(converted) == len(text):
        return converted
    out = []
    for ch in text:
        conv = converter.convert(ch) if _HAN_RE.match(ch) else ch
        out.append(conv if len(conv) == 1 else ch)
    return "".join(out)


def normalize_text(text: str) -> str:
    """Normalise a citizen's message for NLU: width, Simplified→Traditional (HK), case.

    The result has exactly the length of ``text``.
    """
    return fold_case(convert_script(fold_width(text), "s2hk"))


def has_han(text: str) -> bool:
    """True when the text contains at least one Chinese character."""
    return bool(_HAN_RE.search(text))


def is_han(ch: str) -> bool:
    """True for one Chinese (Han) character."""
    return bool(_HAN_RE.match(ch))
