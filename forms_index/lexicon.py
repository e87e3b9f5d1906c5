"""Citizen vocabulary: Cantonese and mainland words mapped to the catalogue's formal ones.

Read from a tab-separated file (``data/lexicon/colloquial.tsv``, copied into each index
version). Two kinds of lines:

* ``expand`` — the query keeps the term and gains the formal words (lexical and dense);
  ``A+B`` fires only when every part is present (``車+賣``: a vehicle being sold);
* ``rewrite`` — Cantonese grammar words replaced by written Chinese, for the dense
  encoder only (the multilingual model reads written Chinese far better);
* ``sense`` — the meanings of an ambiguous term (車牌: driving licence, vehicle
  licence, registration mark), so the search can ask which one is meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from forms_index.errors import CatalogueError
from forms_index.normalize import has_han, normalize


@dataclass(frozen=True)
class Sense:
    """One meaning of an ambiguous term, and the title words of its entries."""

    key: str
    label_zh: str
    label_en: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class _Rule:
    term: str
    value: str
    pattern: re.Pattern[str]
    #: Further terms that must all be present too ("車+賣": a car being sold).
    also: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str) -> bool:
        return self.pattern.search(text) is not None and all(p.search(text) for p in self.also)


class Lexicon:
    """Query expansion and rewriting from the vocabulary file."""

    def __init__(self, text: str = "") -> None:
        self._expand: list[_Rule] = []
        self._rewrite: list[_Rule] = []
        self._senses: dict[str, tuple[re.Pattern[str], str, list[Sense]]] = {}
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 3 or parts[0] not in ("expand", "rewrite", "sense"):
                raise CatalogueError(
                    f"lexicon line {n}: expected 'expand|rewrite|sense<TAB>term<TAB>words'"
                )
            if parts[0] == "sense":
                self._senses[normalize(parts[1])] = (
                    _pattern(normalize(parts[1])),
                    parts[1].strip(),
                    [_sense(n, column) for column in parts[2:]],
                )
                continue
            terms = [normalize(t) for t in parts[1].split("+")]
            value = normalize(parts[2])
            if not all(terms) or not value:
                raise CatalogueError(f"lexicon line {n}: empty term or replacement")
            if parts[0] == "rewrite" and len(terms) > 1:
                raise CatalogueError(f"lexicon line {n}: a rewrite takes a single term")
            term = terms[0]
            rule = _Rule(term, value, _pattern(term), tuple(_pattern(t) for t in terms[1:]))
            (self._expand if parts[0] == "expand" else self._rewrite).append(rule)
        # Longest terms first, so 點申請 wins over 點 and 過咗身 over 過身.
        self._expand.sort(key=lambda r: -len(r.term))
        self._rewrite.sort(key=lambda r: -len(r.term))
        self._rewrite_re = (
            re.compile("|".join(r.pattern.pattern for r in self._rewrite))
            if self._rewrite
            else None
        )
        self._rewrite_map = {r.term: r.value for r in self._rewrite}

    def __len__(self) -> int:
        return len(self._expand) + len(self._rewrite)

    def expansions(self, q: str) -> list[str]:
        """Formal words for the citizen terms found in a normalised query."""
        out: list[str] = []
        covered = q
        for rule in self._expand:
            if rule.matches(covered if not rule.also else q):
                if rule.value not in out:
                    out.append(rule.value)
                if not rule.also:
                    # A longer term consumes its text: 過咗身 does not also fire 過身.
                    covered = rule.pattern.sub(" ", covered)
        return out

    def expand(self, q: str) -> str:
        """The normalised query with the formal words appended."""
        extra = list(dict.fromkeys(self.expansions(q)))
        return f"{q} {' '.join(extra)}" if extra else q

    def senses(self, q: str) -> list[tuple[str, str, list[Sense]]]:
        """Ambiguous terms in a normalised query, longest first: (term, as written, meanings)."""
        found = [(t, d, senses) for t, (p, d, senses) in self._senses.items() if p.search(q)]
        return sorted(found, key=lambda f: -len(f[0]))

    def rewrite(self, q: str) -> str:
        """Cantonese grammar words replaced by written Chinese (for the dense encoder)."""
        if self._rewrite_re is None:
            return q
        return self._rewrite_re.sub(lambda m: self._rewrite_map[m.group(0)], q)


def _sense(line: int, column: str) -> Sense:
    words = [w.strip() for w in column.split("|")]
    if len(words) < 2 or not all(words):
        raise CatalogueError(f"lexicon line {line}: a meaning is '中文|English|more words'")
    keywords = tuple(dict.fromkeys(normalize(w) for w in [words[0], *words[2:]]))
    return Sense(
        key=normalize(words[2] if len(words) > 2 else words[1]).replace(" ", "-"),
        label_zh=words[0],
        label_en=words[1],
        keywords=keywords,
    )


def _pattern(term: str) -> re.Pattern[str]:
    if has_han(term):
        return re.compile(re.escape(term))
    return re.compile(r"(?<![a-z0-9])" + re.escape(term) + r"(?![a-z0-9])")
