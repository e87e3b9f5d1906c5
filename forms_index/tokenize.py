"""Tokens for lexical search over normalised (Traditional Chinese, case-folded) text.

Chinese runs are segmented by jieba with its dictionary converted to Traditional
Chinese (Hong Kong) by OpenCC — jieba's own dictionary is Simplified, and segments
Traditional text into single characters — and grown with the catalogue's titles and
aliases. Latin runs become words (lightly stemmed) and canonical form numbers, which
``normalize()`` has already upper-cased (``IR56B``). Mixed text such as
``我想renew護照`` is split at every script change before segmenting.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import jieba

from forms_index.normalize import to_traditional

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

# Chinese runs; canonical form numbers (the only upper-case text after normalize());
# Latin words and numbers.
_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Z0-9]*[A-Z][A-Z0-9]*|[a-z0-9]+(?:'[a-z]+)?")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

#: English function words and query filler that say nothing about which form is meant.
EN_STOPWORDS: frozenset[str] = frozenset(
    """
    a an and are as at be been by can could do does did for from how i i'm im if in into is
    it its me my of on or our so that the their them there they this to us was we what when
    where which who will with would you your want wants need needs get got should shall must
    please any some about just like hk hong kong
    """.split()
)
#: Chinese function words, Cantonese particles and query filler.
ZH_STOPWORDS: frozenset[str] = frozenset(
    """
    的 了 我 你 佢 我哋 我們 你們 他們 要 想 點 點樣 點解 咩 乜 乜嘢 嘅 喺 係 是 有 冇 沒有 唔 不
    怎麼 怎樣 如何 甚麼 什麼 嗎 呢 啊 呀 吖 啦 喇 囉 咗 緊 過 嚟 去 得 可以 可唔可以 能 能否
    請問 請 唔該 一個 個 張 份 間 啲 些 都 也 就 同 和 與 及 或 在 於 對 向 把 被 將 會 需要 使唔使
    應該 邊 邊度 邊個 哪 哪裡 哪個 幾 多 咁 嘢 東西 一下 下 吓 即 而 但 又 仲 還 再 先 已經 已 剛剛
    啱啱 現在 而家 香港 本港
    """.split()
)


def _stem(word: str) -> str:
    """A light English stemmer: plural and common verb endings only."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "sses", "zes")):
                continue
            return word[: len(word) - len(suffix)] + repl
    return word


class Tokenizer:
    """Segments normalised text into lexical tokens."""

    def __init__(self, cache_dir: Path, extra_words: Iterable[str] = ()) -> None:
        self._jieba = jieba.Tokenizer(str(_traditional_dictionary(cache_dir)))
        self._jieba.tmp_dir = str(cache_dir)
        self._jieba.initialize()
        for word in extra_words:
            if _HAN.search(word) and 2 <= len(word) <= 12:
                self._jieba.add_word(word, freq=50_000)

    def tokens(self, text: str, *, stopwords: bool = True) -> list[str]:
        """Tokens of already-normalised text (see :func:`forms_index.normalize.normalize`)."""
        out: list[str] = []
        for run in _RUNS.findall(text):
            if _HAN.match(run):
                for tok in self._jieba.cut_for_search(run, HMM=True):
                    if not stopwords or tok not in ZH_STOPWORDS:
                        out.append(tok)
            elif not run.islower() and not run.isdigit():
                out.append(run)  # a canonical form number such as IR56B
            else:
                if stopwords and run in EN_STOPWORDS:
                    continue
                out.append(_stem(run))
        return out

    @staticmethod
    def han_bigrams(text: str) -> list[str]:
        """Overlapping pairs of Chinese characters (and single characters of 1-char runs)."""
        out: list[str] = []
        for run in re.findall(r"[\u3400-\u9fff\uf900-\ufaff]+", text):
            if len(run) == 1:
                out.append(run)
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
        return out


def _traditional_dictionary(cache_dir: Path) -> Path:
    """jieba's dictionary converted to Traditional Chinese (HK), built once and cached."""
    source = Path(jieba.__file__).parent / "dict.txt"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    target = cache_dir / f"jieba-dict-hk-{digest}.txt"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    freq: Counter[str] = Counter()
    text = to_traditional(source.read_text(encoding="utf-8"))
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) >= 2 and parts[1].isdigit():
            freq[parts[0]] += int(parts[1])
    # a name of this process's own: several workers may build it at the same moment
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("".join(f"{w} {f}\n" for w, f in freq.items()), encoding="utf-8")
    tmp.replace(target)
    log.info("built the Traditional Chinese jieba dictionary at %s", target)
    return target
