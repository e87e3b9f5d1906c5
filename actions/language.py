"""Deciding the reply language and the writing script from what the citizen typed."""

from __future__ import annotations

import re
from collections.abc import Mapping

import opencc

LANGUAGES = ("en", "zh")
SCRIPTS = ("latin", "hant", "hans")

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_TO_SIMPLIFIED = opencc.OpenCC("t2s")
_TO_TRADITIONAL = opencc.OpenCC("s2t")

#: Words that name a language when the citizen asks to switch (lower case).
_EN_WORDS = ("english", "英文", "英語", "英语")
_ZH_WORDS = (
    "chinese",
    "cantonese",
    "中文",
    "廣東話",
    "广东话",
    "粵語",
    "粤语",
    "繁體",
    "繁体",
    "簡體",
    "简体",
    "國語",
    "国语",
    "普通話",
    "普通话",
    "華語",
)


def is_button_payload(text: str) -> bool:
    """Rasa's intent payloads (``/intent{...}``), sent by buttons."""
    return text.startswith("/")


def detect_script(text: str) -> str | None:
    """``hant`` when the text has Traditional-only characters, ``hans`` when it has
    Simplified-only ones, ``latin`` for Latin words and no Chinese; None when it cannot
    tell (characters common to both scripts, digits, symbols). The api's metadata is
    preferred; this is the fallback."""
    if _HAN_RE.search(text):
        if _TO_SIMPLIFIED.convert(text) != text:
            return "hant"
        if _TO_TRADITIONAL.convert(text) != text:
            return "hans"
        return None
    if _LATIN_WORD_RE.search(text):
        return "latin"
    return None


def detect_language(text: str, current: str | None, default: str | None) -> str:
    """The reply language after this message.

    Any Chinese character makes it Chinese: Hong Kong people mix English words into
    Cantonese ("我想renew passport"), not the other way round. Two or more Latin words
    and no Chinese make it English. A single Latin word ("ok", "BIR60", "passport"),
    digits, symbols and button payloads keep the current language; the widget's
    language (``default``) applies until the citizen has shown one.
    """
    base = current or default or "en"
    if is_button_payload(text):
        return base
    if _HAN_RE.search(text):
        return "zh"
    if len(_LATIN_WORD_RE.findall(text)) >= 2:
        return "en"
    return base


def requested_language(text: str, current: str | None) -> str:
    """The language asked for by a "switch language" message: the language named last
    ("change from English to Chinese" → zh), or the other one when none is named."""
    lowered = text.lower()
    best, best_pos = None, -1
    for lang, words in (("en", _EN_WORDS), ("zh", _ZH_WORDS)):
        for word in words:
            pos = lowered.rfind(word)
            if pos > best_pos:
                best, best_pos = lang, pos
    if best is not None:
        return best
    return "en" if current == "zh" else "zh"


def metadata_language(metadata: Mapping[str, object] | None) -> tuple[str | None, str | None]:
    """``(lang, script)`` that the api passed with the message, when valid."""
    metadata = metadata or {}
    lang = metadata.get("lang")
    script = metadata.get("script")
    return (
        lang if lang in LANGUAGES else None,
        script if script in SCRIPTS else None,
    )


def handoff_language(language: str | None, script: str | None) -> str:
    """The ``language`` field of a handoff record: en, zh-Hant or zh-Hans."""
    if language == "zh":
        return "zh-Hans" if script == "hans" else "zh-Hant"
    return "en"
