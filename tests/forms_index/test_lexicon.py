"""The citizen vocabulary: expansions, rewrites, combined terms and ambiguous words."""

from __future__ import annotations

import pytest

from forms_index.errors import CatalogueError
from forms_index.lexicon import Lexicon
from forms_index.normalize import normalize
from forms_index.settings import IndexSettings

TEXT = "\n".join(
    [
        "# comment",
        "expand\t菲傭\t外籍家庭傭工",
        "expand\t過咗身\t去世",
        "expand\t過身\t死亡",
        "expand\t車+賣\t車輛轉讓",
        "expand\tmum\tmother",
        "rewrite\t咩\t甚麼",
        "rewrite\t點樣\t怎樣",
        "sense\t車牌\t駕駛執照|Driving licence|driving licence"
        "\t車輛牌照|Vehicle licence|vehicle licence",
    ]
)


def test_expansions_keep_the_term_and_add_the_formal_words() -> None:
    lx = Lexicon(TEXT)
    assert lx.expand("想請個菲傭") == "想請個菲傭 外籍家庭傭工"


def test_a_longer_term_wins_over_the_shorter_one_inside_it() -> None:
    assert Lexicon(TEXT).expansions("屋企人過咗身") == ["去世"]


def test_combined_terms_need_every_part() -> None:
    lx = Lexicon(TEXT)
    assert "車輛轉讓" in lx.expansions("架車賣咗俾人")
    assert "車輛轉讓" not in lx.expansions("架車壞咗")


def test_latin_terms_match_whole_words_only() -> None:
    lx = Lexicon(TEXT)
    assert lx.expansions("my mum is 70") == ["mother"]
    assert lx.expansions("maximum") == []


def test_rewrites_turn_cantonese_grammar_into_written_chinese() -> None:
    assert Lexicon(TEXT).rewrite("點樣申請 要咩表") == "怎樣申請 要甚麼表"


def test_ambiguous_words_carry_their_meanings() -> None:
    [(_term, shown, senses)] = Lexicon(TEXT).senses(normalize("车牌点申请"))
    assert shown == "車牌"
    assert [s.label_en for s in senses] == ["Driving licence", "Vehicle licence"]


@pytest.mark.parametrize("line", ["oops\tx\ty", "expand\t\ty", "rewrite\ta+b\tc", "sense\tx\tonly"])
def test_malformed_lines_are_refused(line: str) -> None:
    with pytest.raises(CatalogueError, match="lexicon line 1"):
        Lexicon(line)


def test_the_shipped_vocabulary_loads() -> None:
    lx = Lexicon(IndexSettings().lexicon_path.read_text(encoding="utf-8"))
    assert len(lx) > 200
