"""Hybrid search over one index version: form number, alias, dense and lexical signals.

Signals, each scaled to about 0..1 for the query at hand:

* **form number** — a canonical number in the query (``IR56B``) equal to one of the
  entry's numbers. A bare number can be shared ("Form 1"): every entry with it matches
  and the other signals order them.
* **alias** — a colloquial term of the catalogue (``生果金``, ``BR``) found in the query;
  the longer the part of the query it explains, the stronger.
* **dense** — cosine between the ``query:`` vector and the entry's best ``passage:``
  vector (multilingual e5), standardised against the whole catalogue for the query.
* **lexical** — BM25 over jieba words (Traditional, catalogue-grown dictionary) and
  Latin words and numbers, with field weights; and BM25 over Chinese character
  bigrams, which survives typos (``申清``) and unknown words.

They are fused by a weighted sum (weights in :class:`SearchConfig`, chosen by the
evaluation in ``eval``), then a clarifying question is proposed when the query is an
ambiguous term whose meanings are distinct services with close scores.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel

from forms_index.artifacts import read_meta, verify_files
from forms_index.catalogue import Entry
from forms_index.documents import FIELD_WEIGHTS, EntryDoc, entry_docs
from forms_index.encoder import Encoder
from forms_index.errors import IndexArtifactError
from forms_index.lexical import BM25, Coverage
from forms_index.lexicon import Lexicon
from forms_index.normalize import Normalizer, has_han, to_traditional
from forms_index.tokenize import ZH_STOPWORDS, Tokenizer

log = logging.getLogger(__name__)

MAX_K = 50
MAX_QUERY_CHARS = 500
#: An alias covering this share of the query's characters counts as the whole query.
ALIAS_EXACT_COVERAGE = 0.8
#: The dense signal is the standardised cosine divided by this (4 sd above the mean = 1.0).
DENSE_Z_SCALE = 4.0
#: A clarifying question considers this many top results.
CLARIFY_DEPTH = 15
#: ...and only when the ambiguous term is at least this share of the query's content.
CLARIFY_COVERAGE = 0.6
#: Words that say nothing about which service is meant.
GENERIC_WORDS = frozenset(
    "申請 申請表 表格 表 網上 續期 辦理 apply application form online renew how".split()
)


class SearchResult(BaseModel):
    """One entry in a ranked answer (contract: docs/contracts.md §2)."""

    id: str
    form_no: str
    kind: str
    title_en: str
    title_zh: str
    title_zh_unofficial: str
    department_code: str
    department_en: str
    department_zh: str
    topic: str
    url: str
    score: float
    why: list[str]


class ClarifyOption(BaseModel):
    key: str
    label_en: str
    label_zh: str
    ids: list[str]


class Clarify(BaseModel):
    """The query names several distinct services; ask which one is meant."""

    term: str
    options: list[ClarifyOption]


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]
    clarify: Clarify | None = None
    #: Nothing in the catalogue matched the query's words, aliases or form numbers, and
    #: dense retrieval found nothing that stands out: the results are only the nearest of a
    #: crowd ("asdfgh", "今晚食咩好"). Callers that answer people say nothing was found
    #: rather than show them; the ranking itself is unchanged.
    low_confidence: bool = False


@dataclass(frozen=True)
class SearchConfig:
    """Fusion weights and thresholds (measured by ``python -m forms_index eval``)."""

    w_number: float = 1.0
    w_alias: float = 0.2
    w_dense: float = 0.5
    w_lexical: float = 0.7
    w_bigram: float = 0.0
    w_title: float = 0.3
    #: Bonus when an alias is the whole query: staff add aliases so that exactly those
    #: words find the entry, whatever common words ("permit", "form") they contain.
    w_alias_exact: float = 0.5
    #: An alias found in the query scores this much even when it explains little of it.
    alias_floor: float = 0.5
    #: Candidates taken from each ranked signal before fusion.
    candidates: int = 60
    #: Options of a clarifying question must score within this fraction of the best.
    clarify_margin: float = 0.35
    #: ``low_confidence`` when no form number or alias matched, the best lexical score is
    #: below ``weak_lexical`` and the best dense score is below ``weak_dense_z`` standard
    #: deviations above the catalogue's mean. Measured on the dev and regression queries
    #: (every one of the 259 has lexical, alias or number evidence, or dense z >= 4.08)
    #: against 40 off-topic and nonsense queries written for the purpose (18 of them fall
    #: under both thresholds); docs/search.md.
    weak_lexical: float = 0.1
    weak_dense_z: float = 3.8
    #: Text given to the encoder: "raw" query, or the "rewrite" of Cantonese grammar
    #: words with the vocabulary's formal expansions appended.
    dense_text: str = "rewrite"
    #: Whether the lexicon's expansions feed the lexical signals.
    expand_lexical: bool = True


@dataclass
class Signals:
    """Every signal of one query, each an array over the entries (or sparse hits)."""

    number: dict[int, float] = field(default_factory=dict)
    alias: dict[int, float] = field(default_factory=dict)
    #: Entries one of whose aliases is (nearly) the whole query.
    alias_exact: set[int] = field(default_factory=set)
    alias_terms: dict[str, list[int]] = field(default_factory=dict)
    dense: np.ndarray | None = None
    lexical: np.ndarray | None = None
    bigram: np.ndarray | None = None
    title: np.ndarray | None = None


class SearchEngine:
    """A loaded index version, ready to answer queries (thread-safe for reads)."""

    def __init__(
        self,
        *,
        version: str,
        meta: dict[str, object],
        entries: list[Entry],
        aliases: dict[str, list[str]],
        index: faiss.Index,
        encoder: Encoder,
        tokenizer: Tokenizer,
        lexicon: Lexicon,
        config: SearchConfig | None = None,
    ) -> None:
        self.version = version
        self.meta = meta
        self.entries = entries
        self.config = config or SearchConfig()
        self._encoder = encoder
        self._index = index
        self._by_id = {e.id: i for i, e in enumerate(entries)}
        rows = meta["rows"]
        assert isinstance(rows, list)
        self._row_entry = np.array([self._by_id[r] for r in rows], dtype=np.int64)
        norm = meta["normalization"]
        assert isinstance(norm, dict)
        self.normalizer = Normalizer(norm.get("form_prefixes", ()))
        self._tokenizer = tokenizer
        self.lexicon = lexicon
        docs = entry_docs(entries, aliases)
        self._docs = docs
        self._numbers: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(docs):
            for key in d.form_numbers:
                self._numbers[key].append(i)
        self._aliases = self._alias_index(docs)
        self._bm25 = BM25([self._lexical_tokens(d) for d in docs])
        self._bigrams = BM25([self._bigram_tokens(d) for d in docs])
        self._titles = Coverage([self._title_tokens(d) for d in docs], self._bm25.idf)

    # -- loading ---------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: Path,
        encoder: Encoder,
        *,
        cache_dir: Path | None = None,
        config: SearchConfig | None = None,
        verify: bool = True,
    ) -> SearchEngine:
        """Load a version folder; refuse it if it is corrupt or made for another model."""
        meta = read_meta(path)
        if verify:
            verify_files(path, meta)
        if meta["model_id"] != encoder.model_id:
            raise IndexArtifactError(
                f"index version {path.name} was built with model {meta['model_id']!r} but the "
                f"loaded model is {encoder.model_id!r}: rebuild the index "
                "(`python -m forms_index build`) or configure the same model"
            )
        if meta["dim"] != encoder.dim:
            raise IndexArtifactError(
                f"index version {path.name} has dimension {meta['dim']}, model has {encoder.dim}"
            )
        try:
            index = faiss.read_index(str(path / "index.faiss"))
        except RuntimeError as exc:
            raise IndexArtifactError(f"index version {path.name}: unreadable index.faiss") from exc
        rows = meta["rows"]
        if not isinstance(rows, list) or index.ntotal != len(rows) or index.d != encoder.dim:
            listed = len(rows) if isinstance(rows, list) else "?"
            raise IndexArtifactError(
                f"index version {path.name}: index.faiss has {index.ntotal} vectors of "
                f"dimension {index.d}, meta.json lists {listed}"
            )
        entries = [
            Entry.model_validate_json(line)
            for line in (path / "catalogue.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        known = {e.id for e in entries}
        missing = sorted(set(rows) - known)
        if missing:
            raise IndexArtifactError(
                f"index version {path.name}: rows name unknown entries {missing[:3]}"
            )
        aliases = json.loads((path / "aliases.json").read_text(encoding="utf-8"))
        tokenizer = Tokenizer(
            cache_dir or path.parent / ".cache",
            extra_words=_dictionary_words(entries, aliases),
        )
        return cls(
            version=path.name,
            meta=meta,
            entries=entries,
            aliases=aliases,
            index=index,
            encoder=encoder,
            tokenizer=tokenizer,
            lexicon=Lexicon((path / "lexicon.tsv").read_text(encoding="utf-8")),
            config=config,
        )

    # -- lookups ---------------------------------------------------------------------
    def get(self, entry_id: str) -> Entry | None:
        i = self._by_id.get(entry_id)
        return None if i is None else self.entries[i]

    def departments(self) -> list[dict[str, object]]:
        """Departments present in this version, with their entry counts."""
        seen: dict[str, dict[str, object]] = {}
        for e in self.entries:
            d = seen.setdefault(
                e.department_code,
                {
                    "code": e.department_code,
                    "en": e.department_en,
                    "zh": e.department_zh,
                    "count": 0,
                },
            )
            d["count"] = int(d["count"]) + 1  # type: ignore[call-overload]
        return sorted(seen.values(), key=lambda d: str(d["en"]))

    # -- search ----------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        *,
        department: str | None = None,
        topic: str | None = None,
        kind: str | None = None,
    ) -> SearchResponse:
        """Rank entries for ``query``; empty or blank queries get no results."""
        k = max(1, min(int(k), MAX_K))
        text = query[:MAX_QUERY_CHARS]
        q = self.normalizer(text)
        if not q or not re.search(r"\w", q):
            return SearchResponse(query=query, results=[])
        started = time.perf_counter()
        sig = self.signals(text, q)
        scores, why = self.fuse(sig)
        allowed = self._filter(department, topic, kind)
        order = [i for i in np.argsort(-scores, kind="stable") if scores[i] > 0 and allowed[i]]
        results = [self._result(i, float(scores[i]), why[i]) for i in order[:k]]
        clarify = self._clarify(q, sig, scores, allowed) if results else None
        log.debug("search %.1f ms", (time.perf_counter() - started) * 1000)
        return SearchResponse(
            query=query,
            results=results,
            clarify=clarify,
            low_confidence=bool(results) and clarify is None and self._weak(q, sig),
        )

    def _weak(self, q: str, sig: Signals) -> bool:
        """No content word, vocabulary term, alias or number of the query matched, and
        nothing stands out densely. Generic words ("apply", "申請", "form") are not evidence:
        "apply for qwzx" matches every application form a little."""
        if sig.number or sig.alias or sig.dense is None:
            return False
        # cheapest first: most queries stop at the dense test
        if float(sig.dense.max()) * DENSE_Z_SCALE >= self.config.weak_dense_z:
            return False
        if self.lexicon.expansions(q):
            return False
        tokens = [t for t in self._tokenizer.tokens(q) if t not in GENERIC_WORDS]
        return not tokens or float(self._lexical(tokens).max()) < self.config.weak_lexical

    def _lexical(self, tokens: list[str]) -> np.ndarray:
        """Per-entry BM25 of ``tokens``, as a share of its maximum for them (capped at 1)."""
        return np.minimum(self._bm25.scores(tokens) / self._bm25.max_score(tokens) / 3.0, 1.0)

    def _filter(self, department: str | None, topic: str | None, kind: str | None) -> np.ndarray:
        allowed = np.ones(len(self.entries), dtype=bool)
        if department or topic or kind:
            for i, e in enumerate(self.entries):
                if (
                    (department and e.department_code.casefold() != department.casefold())
                    or (topic and e.topic != topic)
                    or (kind and e.kind != kind)
                ):
                    allowed[i] = False
        return allowed

    def signals(self, raw: str, q: str) -> Signals:
        """Compute every signal for a query (``q`` is ``raw`` normalised)."""
        sig = self._exact_signals(q)
        expansions = self.lexicon.expansions(q)
        sig.dense = self._dense(self._dense_query(raw, q, expansions))
        lexical_q = (
            f"{q} {' '.join(expansions)}" if self.config.expand_lexical and expansions else q
        )
        sig.lexical = self._lexical(self._tokenizer.tokens(lexical_q))
        bigrams = self._query_bigrams(q)
        sig.bigram = (
            np.minimum(self._bigrams.scores(bigrams) / self._bigrams.max_score(bigrams), 1.0)
            if bigrams
            else np.zeros(len(self.entries), dtype=np.float32)
        )
        sig.title = self._titles.scores(self._tokenizer.tokens(q))
        return sig

    def fuse(self, sig: Signals) -> tuple[np.ndarray, list[list[str]]]:
        """Weighted sum of the signals; ``why`` names those that put an entry forward."""
        cfg = self.config
        n = len(self.entries)
        why: list[list[str]] = [[] for _ in range(n)]
        total = np.zeros(n, dtype=np.float32)
        for i, s in sig.number.items():
            total[i] += cfg.w_number * s
            why[i].append("form_no")
        for i, s in sig.alias.items():
            total[i] += cfg.w_alias * s + (cfg.w_alias_exact if i in sig.alias_exact else 0.0)
            why[i].append("alias")
        for name, weight, values in (
            ("dense", cfg.w_dense, sig.dense),
            ("lexical", cfg.w_lexical, sig.lexical),
            ("bigram", cfg.w_bigram, sig.bigram),
        ):
            assert values is not None
            top = np.argpartition(-values, min(cfg.candidates, n - 1))[: cfg.candidates]
            top = top[values[top] > 0]
            total[top] += weight * values[top]
            if name != "bigram":
                for i in top:
                    why[i].append(name)
        assert sig.title is not None
        total += cfg.w_title * sig.title * (total > 0)
        return total, why

    def _dense_query(self, raw: str, q: str, expansions: list[str]) -> str:
        if self.config.dense_text == "raw":
            return to_traditional(raw) if has_han(raw) else raw
        text = self.lexicon.rewrite(q)
        return f"{text} {' '.join(expansions)}" if expansions else text

    def _dense(self, text: str) -> np.ndarray:
        """Per-entry dense score: best passage cosine, standardised over the catalogue."""
        qv = self._encoder.encode_query(text).reshape(1, -1)
        sims, rows = self._index.search(qv, self._index.ntotal)
        best = np.full(len(self.entries), -1.0, dtype=np.float32)
        np.maximum.at(best, self._row_entry[rows[0]], sims[0])
        mean, std = float(best.mean()), float(best.std()) or 1.0
        z = (best - mean) / std
        # ~4 standard deviations above the mean is as sure as dense retrieval gets.
        return np.clip(z / DENSE_Z_SCALE, 0.0, 1.5)

    def _query_bigrams(self, q: str) -> list[str]:
        """Character bigrams of the query's content words (fillers removed)."""
        words = self._tokenizer.tokens(q, stopwords=False)
        content = "".join(" " if w in ZH_STOPWORDS or not has_han(w) else w for w in words)
        return Tokenizer.han_bigrams(content)

    def _title_tokens(self, doc: EntryDoc) -> list[str]:
        e = doc.entry
        text = " ".join([e.title_en, e.title_zh, e.title_zh_unofficial, *doc.form_numbers])
        return self._tokenizer.tokens(self.normalizer(text))

    def _bigram_tokens(self, doc: EntryDoc) -> list[str]:
        text = self.normalizer(" ".join(doc.lexical_fields().values()))
        return Tokenizer.han_bigrams(text)

    def _exact_signals(self, q: str) -> Signals:
        sig = Signals()
        for key in _number_candidates(q):
            for i in self._numbers.get(key, ()):
                sig.number[i] = 1.0
        content = _content_length(q)
        for term, (pattern, targets) in self._aliases.items():
            # the substring test first: the same answer, ~20x cheaper than the regex
            # for the 2,000 aliases a query does not contain
            if term in q and pattern.search(q):
                coverage = min(1.0, len(term) / max(content, 1))
                strength = self.config.alias_floor + (1 - self.config.alias_floor) * coverage
                sig.alias_terms[term] = targets
                for i in targets:
                    sig.alias[i] = max(sig.alias.get(i, 0.0), strength)
                    if coverage >= ALIAS_EXACT_COVERAGE:
                        sig.alias_exact.add(i)
        return sig

    def _alias_index(
        self, docs: Sequence[EntryDoc]
    ) -> dict[str, tuple[re.Pattern[str], list[int]]]:
        by_term: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(docs):
            for a in d.aliases:
                term = self.normalizer(a)
                # Two-letter Latin aliases count only as acronyms ("BR", "HA").
                if len(term) < 2 or (not has_han(term) and len(term) < 3 and not a.isupper()):
                    continue
                if i not in by_term[term]:
                    by_term[term].append(i)
        out = {}
        for term, targets in by_term.items():
            if has_han(term):
                pattern = re.compile(re.escape(term))
            else:
                pattern = re.compile(r"(?<![a-zA-Z0-9])" + re.escape(term) + r"(?![a-zA-Z0-9])")
            out[term] = (pattern, targets)
        return out

    def _lexical_tokens(self, doc: EntryDoc) -> list[str]:
        out: list[str] = []
        for name, text in doc.lexical_fields().items():
            out.extend(self._tokenizer.tokens(self.normalizer(text)) * FIELD_WEIGHTS[name])
        return out

    def _clarify(
        self, q: str, sig: Signals, scores: np.ndarray, allowed: np.ndarray
    ) -> Clarify | None:
        """Ask when the query is mostly an ambiguous term whose meanings score alike.

        Meanings come from the vocabulary's ``sense`` lines (車牌: driving licence,
        vehicle licence, registration mark). An alias naming several entries is not
        enough: those are mostly documents of one service (a form, its guide, its
        e-service), which the results already list. A form number is never ambiguous.
        """
        if sig.number:
            return None
        content = self._content(q)
        ranked = [i for i in np.argsort(-scores, kind="stable")[:CLARIFY_DEPTH] if allowed[i]]
        if not ranked or scores[ranked[0]] <= 0:
            return None
        floor = float(scores[ranked[0]]) * (1 - self.config.clarify_margin)
        for term, display, senses in self.lexicon.senses(q):
            if len(term) / max(len(content), 1) < CLARIFY_COVERAGE:
                continue
            options = []
            for sense in senses:
                ids = [
                    i for i in ranked if scores[i] >= floor and self._has_keyword(i, sense.keywords)
                ]
                if ids:
                    options.append(
                        ClarifyOption(
                            key=sense.key,
                            label_en=sense.label_en,
                            label_zh=sense.label_zh,
                            ids=[self.entries[i].id for i in ids],
                        )
                    )
            if len(options) >= 2:
                return Clarify(term=display, options=options)
        return None

    def _content(self, q: str) -> str:
        """The query without filler words and generic ones ("apply", "表格")."""
        return "".join(t for t in self._tokenizer.tokens(q) if t not in GENERIC_WORDS)

    def _has_keyword(self, i: int, keywords: Sequence[str]) -> bool:
        e = self.entries[i]
        title = self.normalizer(f"{e.title_en} {e.title_zh_any}")
        return any(k in title for k in keywords)

    def _result(self, i: int, score: float, why: list[str]) -> SearchResult:
        e = self.entries[i]
        return SearchResult(
            id=e.id,
            form_no=e.form_no,
            kind=e.kind,
            title_en=e.title_en,
            title_zh=e.title_zh,
            title_zh_unofficial=e.title_zh_unofficial,
            department_code=e.department_code,
            department_en=e.department_en,
            department_zh=e.department_zh,
            topic=e.topic,
            url=e.url,
            score=round(score, 4),
            why=why,
        )


_NUMBERISH = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]*\d[A-Za-z0-9]*(?![A-Za-z0-9])")


def _number_candidates(q: str) -> set[str]:
    """Canonical number keys a normalised query may contain."""
    out = {m.upper() for m in _NUMBERISH.findall(q) if not m.isdigit()}
    return out


def _content_length(q: str) -> int:
    return len(re.sub(r"\s+", "", q))


def _dictionary_words(entries: Sequence[Entry], aliases: dict[str, list[str]]) -> list[str]:
    """Chinese words to add to jieba's dictionary: aliases and short titles."""
    words = set(aliases)
    for e in entries:
        words.update(e.aliases)
        for t in (e.title_zh, e.title_zh_unofficial, e.department_zh):
            if t and len(t) <= 8:
                words.add(t)
    return sorted(to_traditional(w).casefold() for w in words if has_han(w))
