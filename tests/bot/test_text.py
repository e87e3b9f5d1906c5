"""The NLU normaliser's text functions (bot/components/text.py)."""

from __future__ import annotations

import random

import pytest

from bot.components.text import convert_script, fold_case, fold_width, has_han, normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＢＩＲ６０", "bir60"),  # full-width letters and digits
        ("ＢＩＲ６０　表格", "bir60 表格"),  # ideographic space
        ("生果金点申请", "生果金點申請"),  # Simplified -> Traditional (HK)
        ("我想申请护照", "我想申請護照"),
        ("我想Renew PASSPORT", "我想renew passport"),
        ("IR56B係咩嚟？", "ir56b係咩嚟?"),  # full-width question mark folds too
        ("唔該，點樣續車牌", "唔該,點樣續車牌"),  # Cantonese characters kept
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_traditional_text_stays_traditional() -> None:
    assert normalize_text("申請特區護照") == "申請特區護照"


def test_fold_width_only_touches_full_width_ascii() -> None:
    assert fold_width("Ａｂ１！～　中文「」") == "Ab1!~ 中文「」"


def test_fold_case_keeps_length_for_expanding_characters() -> None:
    # "İ".lower() is two characters: it is kept as it is, so offsets stay valid.
    assert fold_case("İstanbul ABC") == "İstanbul abc"


def test_convert_script_without_chinese_is_identity() -> None:
    assert convert_script("renew passport 123", "s2hk") == "renew passport 123"


def test_has_han() -> None:
    assert has_han("我想renew")
    assert not has_han("renew passport")


def test_normalize_text_is_length_preserving() -> None:
    """Offsets of tokens point into the original text: normalisation never changes length."""
    rng = random.Random(1823)
    alphabet = "我想申请护照身份证車牌生果金點樣唔該ＡＢＣａｂｃ１２３　 ,.!?İßﬁ-/()" + "ａｂ"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert len(normalize_text(text)) == len(text)
