"""Reply language and script decisions (actions/language.py)."""

from __future__ import annotations

import pytest

from actions.language import (
    detect_language,
    detect_script,
    handoff_language,
    metadata_language,
    requested_language,
)


@pytest.mark.parametrize(
    ("text", "current", "default", "expected"),
    [
        ("我想renew passport", "en", "en", "zh"),  # any Chinese character: Chinese
        ("生果金点申请", None, "en", "zh"),
        ("how do I renew my passport", "zh", "zh", "en"),  # two English words: English
        ("BIR60", "zh", None, "zh"),  # one Latin word keeps the language
        ("ok", "zh", "zh", "zh"),
        ("ok", None, "zh", "zh"),  # the widget's language until one is shown
        ("ok", None, None, "en"),
        ("1823", "zh", None, "zh"),
        ('/choose_option{"option_key": "driving-licence"}', "zh", "en", "zh"),  # buttons keep it
        ("/handoff", None, "zh", "zh"),
    ],
)
def test_detect_language(
    text: str, current: str | None, default: str | None, expected: str
) -> None:
    assert detect_language(text, current, default) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我要報稅", "hant"),
        ("生果金点申请", "hans"),
        ("你好", None),  # the same in both scripts
        ("renew passport", "latin"),
        ("1823", None),
    ],
)
def test_detect_script(text: str, expected: str | None) -> None:
    assert detect_script(text) == expected


@pytest.mark.parametrize(
    ("text", "current", "expected"),
    [
        ("English please", "zh", "en"),
        ("中文", "en", "zh"),
        ("轉英文", "zh", "en"),
        ("change from English to Chinese", "en", "zh"),
        ("switch language", "zh", "en"),  # no language named: the other one
        ("轉語言", "en", "zh"),
        ("简体中文", "en", "zh"),
    ],
)
def test_requested_language(text: str, current: str, expected: str) -> None:
    assert requested_language(text, current) == expected


def test_handoff_language() -> None:
    assert handoff_language("en", "latin") == "en"
    assert handoff_language("zh", "hant") == "zh-Hant"
    assert handoff_language("zh", "hans") == "zh-Hans"
    assert handoff_language("zh", None) == "zh-Hant"
    assert handoff_language(None, None) == "en"


def test_metadata_language_ignores_unknown_values() -> None:
    assert metadata_language({"lang": "zh", "script": "hans"}) == ("zh", "hans")
    assert metadata_language({"lang": "fr", "script": "cyrl"}) == (None, None)
    assert metadata_language(None) == (None, None)
