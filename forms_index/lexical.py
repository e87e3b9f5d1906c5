"""BM25 over token lists, as one sparse matrix product per query.

Documents are bags of tokens (fields weighted by repeating their tokens); the matrix of
BM25 term weights is computed once, so a query costs one sparse column gather.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse


class BM25:
    """Okapi BM25 (k1, b) over pre-tokenised documents."""

    def __init__(self, docs: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        avg = float(lengths.mean()) if len(docs) and lengths.mean() > 0 else 1.0
        df: Counter[str] = Counter()
        counts = [Counter(d) for d in docs]
        for c in counts:
            df.update(c.keys())
        n = len(docs)
        self.idf: dict[str, float] = {
            t: math.log(1.0 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()
        }
        for i, c in enumerate(counts):
            norm = k1 * (1.0 - b + b * lengths[i] / avg)
            for term, tf in c.items():
                j = self.vocab.setdefault(term, len(self.vocab))
                rows.append(i)
                cols.append(j)
                vals.append(self.idf[term] * tf * (k1 + 1.0) / (tf + norm))
        self._matrix = sparse.csc_matrix(
            (np.array(vals, dtype=np.float32), (rows, cols)), shape=(n, max(len(self.vocab), 1))
        )
        self.size = n

    def scores(self, query: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens (repeats count once)."""
        cols = [self.vocab[t] for t in dict.fromkeys(query) if t in self.vocab]
        if not cols:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._matrix[:, cols].sum(axis=1)).ravel()

    def max_score(self, query: Sequence[str]) -> float:
        """An upper bound used to scale scores to about 0..1 (sum of the query's idf)."""
        return float(sum(self.idf.get(t, 0.0) for t in dict.fromkeys(query))) or 1.0


class Coverage:
    """How much of a query's weight (idf) a document's field contains, 0..1.

    Used on titles: a query whose words are all in an entry's title names that entry,
    whatever the length of its description.
    """

    def __init__(self, docs: Sequence[Sequence[str]], idf: dict[str, float]) -> None:
        self.vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for i, d in enumerate(docs):
            for term in set(d):
                rows.append(i)
                cols.append(self.vocab.setdefault(term, len(self.vocab)))
        self._matrix = sparse.csc_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(docs), max(len(self.vocab), 1)),
        )
        self._idf = idf
        self._default_idf = max(idf.values(), default=1.0)
        self.size = len(docs)

    def scores(self, query: Sequence[str]) -> np.ndarray:
        terms = list(dict.fromkeys(query))
        weights = {t: self._idf.get(t, self._default_idf) for t in terms}
        total = sum(weights.values())
        cols = [self.vocab[t] for t in terms if t in self.vocab]
        if not cols or total <= 0:
            return np.zeros(self.size, dtype=np.float32)
        w = np.array([weights[t] for t in terms if t in self.vocab], dtype=np.float32)
        return np.asarray(self._matrix[:, cols] @ w).ravel() / total
