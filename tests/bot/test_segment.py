"""The mixed Chinese/Latin tokenizer's segmentation (bot/components/segment.py)."""

from __future__ import annotations

import pytest

from bot.components.segment import segment
from bot.components.text import normalize_text


def words(raw: str) -> list[str]:
    return [p.text for p in segment(normalize_text(raw))]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("我想renew passport", ["我", "想", "renew", "passport"]),
        ("BIR60表格", ["bir60", "表格"]),
        ("ＢＩＲ６０　表格", ["bir60", "表格"]),
        ("生果金點申請", ["生果金", "點", "申請"]),
        ("生果金点申请", ["生果金", "點", "申請"]),  # Simplified in, same tokens
        ("I want the LD448(S) form", ["i", "want", "the", "ld448(s)", "form"]),
        ("MPF(S)-W(R) form", ["mpf(s)-w(r)", "form"]),
        ("TSF/C/18A張form喺邊", ["tsf/c/18a", "張", "form", "喺", "邊"]),
    ],
)
def test_segment_words(raw: str, expected: list[str]) -> None:
    assert words(raw) == expected


def test_no_whitespace_or_punctuation_tokens() -> None:
    """Rasa issues 7910 / 8723: jieba alone returns spaces and punctuation as tokens."""
    pieces = segment(normalize_text("我想 renew  passport，唔該！ 點樣做?"))
    assert pieces
    for piece in pieces:
        assert piece.text.strip() == piece.text != ""
        assert any(ch.isalnum() for ch in piece.text)


@pytest.mark.parametrize("raw", ["我想renew passport", "ＢＩＲ６０　表格", "車牌 TD557 點續？", ""])
def test_offsets_point_into_the_original_text(raw: str) -> None:
    normalized = normalize_text(raw)
    for piece in segment(normalized):
        assert normalized[piece.start : piece.end] == piece.text
        # the same span of the citizen's own text is the token before normalisation
        assert normalize_text(raw[piece.start : piece.end]) == piece.text


def test_hong_kong_words_stay_whole() -> None:
    assert "生果金" in words("我想申請生果金")
    # s2hk writes 搵 as 揾 (the Hong Kong standard form): one token either way
    assert words("搵真人") == [normalize_text("搵真人")]
