"""Retrieval quality: Recall@1, Recall@5 and MRR by language style and kind of query.

A query file is JSONL with ``query``, ``gold`` (ids; a hit is any of them) and
optionally ``style`` and ``kind``. Our search and a plain BM25 baseline (CJK-aware:
the same normalisation and jieba tokens over the entries' text fields, nothing else)
are measured in the same run over the same catalogue.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forms_index.catalogue import Entry
from forms_index.errors import CatalogueError
from forms_index.lexical import BM25
from forms_index.normalize import Normalizer
from forms_index.tokenize import Tokenizer

#: ``rank(query) -> ids`` best first.
Ranker = Callable[[str], list[str]]


@dataclass(frozen=True)
class Query:
    query: str
    gold: tuple[str, ...]
    style: str = "all"
    kind: str = "all"


@dataclass(frozen=True)
class Metrics:
    n: int
    recall_at_1: float
    recall_at_5: float
    mrr: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "recall@1": round(self.recall_at_1, 4),
            "recall@5": round(self.recall_at_5, 4),
            "mrr": round(self.mrr, 4),
        }


def load_queries(path: Path) -> list[Query]:
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CatalogueError(f"cannot read queries {path}: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out.append(
                Query(
                    query=str(obj["query"]),
                    gold=tuple(obj["gold"]),
                    style=str(obj.get("style", "all")),
                    kind=str(obj.get("kind", "all")),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CatalogueError(f"{path}:{n}: not a query line ({exc})") from exc
    return out


def rank_of(ranked: Sequence[str], gold: Sequence[str]) -> int | None:
    """1-based rank of the first gold id in ``ranked``."""
    for r, i in enumerate(ranked, start=1):
        if i in gold:
            return r
    return None


def metrics(ranks: Sequence[int | None]) -> Metrics:
    n = len(ranks)
    if n == 0:
        return Metrics(0, 0.0, 0.0, 0.0)
    r1 = sum(1 for r in ranks if r == 1) / n
    r5 = sum(1 for r in ranks if r is not None and r <= 5) / n
    mrr = sum(1.0 / r for r in ranks if r is not None) / n
    return Metrics(n, r1, r5, mrr)


@dataclass
class Report:
    """Metrics per system, by ``overall``, ``style:<x>`` and ``kind:<x>``."""

    systems: dict[str, dict[str, Metrics]]
    misses: dict[str, list[dict[str, object]]]

    def as_dict(self) -> dict[str, object]:
        return {
            "systems": {
                s: {g: m.as_dict() for g, m in groups.items()} for s, groups in self.systems.items()
            }
        }

    def table(self) -> str:
        names = list(self.systems)
        groups = list(next(iter(self.systems.values())))
        head = f"{'group':<20}{'n':>5}  " + "  ".join(f"{n[:14]:>14} R@1  R@5  MRR" for n in names)
        lines = [head, "-" * len(head)]
        for g in groups:
            m0 = self.systems[names[0]][g]
            cells = "  ".join(
                f"{'':>14} {m.recall_at_1:.2f} {m.recall_at_5:.2f} {m.mrr:.2f}"
                for m in (self.systems[n][g] for n in names)
            )
            lines.append(f"{g:<20}{m0.n:>5}  {cells}")
        return "\n".join(lines)


def evaluate(queries: Sequence[Query], rankers: dict[str, Ranker], *, depth: int = 10) -> Report:
    """Run every ranker over every query and aggregate."""
    systems: dict[str, dict[str, Metrics]] = {}
    misses: dict[str, list[dict[str, object]]] = {}
    for name, rank in rankers.items():
        by_group: dict[str, list[int | None]] = defaultdict(list)
        missed = []
        for q in queries:
            ranked = rank(q.query)[:depth]
            r = rank_of(ranked, q.gold)
            for g in ("overall", f"style:{q.style}", f"kind:{q.kind}"):
                by_group[g].append(r)
            if r != 1:
                missed.append(
                    {"query": q.query, "gold": list(q.gold), "rank": r, "top": ranked[:5]}
                )
        order = sorted(by_group, key=lambda g: (g != "overall", g))
        systems[name] = {g: metrics(by_group[g]) for g in order}
        misses[name] = missed
    return Report(systems, misses)


class BM25Baseline:
    """Plain BM25: same normalisation and tokens, all text fields equal, nothing else."""

    def __init__(self, entries: Sequence[Entry], tokenizer: Tokenizer, normalizer: Normalizer):
        self._ids = [e.id for e in entries]
        self._tok = tokenizer
        self._norm = normalizer
        docs = []
        for e in entries:
            text = " ".join(
                [
                    e.form_no,
                    e.title_en,
                    e.title_zh,
                    e.title_zh_unofficial,
                    e.description_en,
                    e.description_zh,
                    " ".join(e.aliases),
                    e.department_en,
                    e.department_zh,
                ]
            )
            docs.append(tokenizer.tokens(normalizer(text)))
        self._bm25 = BM25(docs)

    def rank(self, query: str, k: int = 10) -> list[str]:
        scores = self._bm25.scores(self._tok.tokens(self._norm(query)))
        order = np.argsort(-scores, kind="stable")[:k]
        return [self._ids[i] for i in order if scores[i] > 0]
