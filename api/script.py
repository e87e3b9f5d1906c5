"""Which script a message is written in (Latin, Traditional or Simplified Chinese), and
conversion of outgoing bot text to Simplified characters (OpenCC ``t2s``).

OpenCC converters are thread-safe and cheap once built; they are built once per process.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

import opencc

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


class Script(StrEnum):
    LATIN = "latin"
    HANT = "hant"
    HANS = "hans"


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _changed_chars(text: str, config: str) -> int:
    converted = _converter(config).convert(text)
    if len(converted) == len(text):
        return sum(1 for a, b in zip(text, converted, strict=True) if a != b)
    return sum(1 for ch in text if _converter(config).convert(ch) != ch)


def detect_script(text: str) -> Script | None:
    """The script of ``text``: LATIN without Chinese characters, HANT or HANS by which
    characters only one of the two standards uses, ``None`` when the Chinese characters are
    common to both (e.g. "你好"): the caller keeps what it knew of the sender."""
    han = "".join(_CJK.findall(text))
    if not han:
        return Script.LATIN
    traditional_only = _changed_chars(han, "t2s")  # characters t2s would change
    simplified_only = _changed_chars(han, "s2t")  # characters s2t would change
    if simplified_only > traditional_only:
        return Script.HANS
    if traditional_only > 0:
        return Script.HANT
    return None


def to_simplified(text: str) -> str:
    """``text`` with Traditional characters converted to Simplified (Latin text unchanged)."""
    if not text or not _CJK.search(text):
        return text
    return _converter("t2s").convert(text)
