"""Mixed Chinese/Latin segmentation (no Rasa imports).

Rasa's ``JiebaTokenizer`` hands the whole message to jieba, which returns spaces
and punctuation as tokens and cuts Latin words poorly next to Chinese (Rasa issues
7910 and 8723: whitespace tokens that later featurisers drop, so features and entity
spans disagree). Here the message is cut into runs first:

* runs of Chinese characters go to jieba. jieba's dictionary is Simplified, so the
  run (already Traditional after normalisation) is converted to Simplified
  character by character for segmentation only, and the cut is mapped back onto the
  Traditional text, offsets unchanged;
* runs of letters and digits (any script but Chinese, joined inside form numbers
  such as ``LD448(S)``) are one token each, so
  ``BIR60表格`` gives ``bir60`` + ``表格`` and ``我想renew passport`` gives
  ``我`` ``想`` ``renew`` ``passport``;
* spaces, punctuation and symbols are never tokens.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import NamedTuple

import jieba

from bot.components.text import convert_script, is_han

logger = logging.getLogger(__name__)

#: Words jieba should keep whole: Hong Kong government and Cantonese terms (Traditional).
USER_DICT_PATH = Path(__file__).with_name("hk_words.txt")


class Piece(NamedTuple):
    """A token: its text (from the normalised message) and where it is in the message."""

    text: str
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def _segmenter() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    seg = jieba.Tokenizer()
    seg.initialize()
    if USER_DICT_PATH.exists():
        for line in USER_DICT_PATH.read_text(encoding="utf-8").splitlines():
            word = line.split("#", 1)[0].strip()
            if word:
                seg.add_word(convert_script(word, "t2s"))
    return seg


#: A word outside Chinese runs: letters and digits of any script, kept whole across the
#: joints of form numbers, so ``ld448(s)``, ``mpf(s)-w(r)`` and ``tsf/c/18a`` are one
#: token each (entity annotations of form numbers then match token boundaries).
_WORD_RE = re.compile(r"[^\W_]+(?:[(/\-.][^\W_]+\)?)*")


def _runs(text: str) -> list[tuple[bool, int, int]]:
    """Maximal runs of Chinese / non-Chinese characters: ``(is_han, start, end)``."""
    runs: list[tuple[bool, int, int]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or is_han(text[i]) != is_han(text[start]):
            runs.append((is_han(text[start]), start, i))
            start = i
    return runs


def segment(text: str) -> list[Piece]:
    """Cut normalised text into word pieces with offsets into ``text``."""
    pieces: list[Piece] = []
    if not text:
        return pieces
    for han, start, end in _runs(text):
        run = text[start:end]
        if han:
            simplified = convert_script(run, "t2s")
            for _word, w_start, w_end in _segmenter().tokenize(simplified):
                pieces.append(Piece(run[w_start:w_end], start + w_start, start + w_end))
        else:
            for match in _WORD_RE.finditer(run):
                pieces.append(Piece(match.group(), start + match.start(), start + match.end()))
    return pieces
