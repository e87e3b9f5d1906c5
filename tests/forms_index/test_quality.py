"""The quality gate: a version scoring below the live one is refused with its figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from forms_index.eval import Metrics, metrics, rank_of
from forms_index.quality import gate, passes, read_quality


def test_rank_and_metrics() -> None:
    assert rank_of(["a", "b", "c"], ["c", "x"]) == 3
    assert rank_of(["a"], ["x"]) is None
    m = metrics([1, 2, None, 6])
    assert (m.recall_at_1, m.recall_at_5) == (0.25, 0.5)
    assert abs(m.mrr - (1 + 0.5 + 1 / 6) / 4) < 1e-9


def test_passes_compares_recall_and_mrr() -> None:
    live = Metrics(10, 0.8, 0.9, 0.85)
    assert passes(Metrics(10, 0.8, 0.9, 0.85), live)
    assert passes(Metrics(10, 0.8, 0.9, 0.845), live)  # within tolerance
    assert not passes(Metrics(10, 0.9, 0.8, 0.9), live)  # R@5 dropped
    assert not passes(Metrics(10, 0.8, 0.9, 0.80), live)  # MRR dropped
    assert passes(Metrics(10, 0.1, 0.1, 0.1), None)  # nothing live yet


def test_gate_refuses_a_version_that_lost_entries(
    build_small: Any, encoder: Any, small_entries: list, tmp_path: Path
) -> None:
    queries = tmp_path / "regression.jsonl"
    queries.write_text(
        "\n".join(
            json.dumps(q, ensure_ascii=False)
            for q in [
                {"query": "BIR60", "gold": ["ird-bir60"]},
                {"query": "申請護照", "gold": ["immd-id841-842"]},
                {"query": "公屋申請表", "gold": ["hd-hd300e"]},
            ]
        ),
        encoding="utf-8",
    )
    store, live = build_small()
    store.set_current(live.version)
    assert gate(store, live.version, encoder, queries).passed

    poorer = [e for e in small_entries if e.id not in {"immd-id841-842", "hd-hd300e"}]
    _, candidate = build_small(poorer, store)
    verdict = gate(store, candidate.version, encoder, queries)
    assert not verdict.passed
    assert verdict.live is not None and verdict.new.recall_at_5 < verdict.live.recall_at_5
    assert "REFUSED" in verdict.summary()
    assert read_quality(store.path(candidate.version))["passed"] is False
    assert store.current_version() == live.version


def test_the_regression_set_is_not_drawn_verbatim_from_the_development_set() -> None:
    from tests.support.dev_queries import PROJECT_ROOT, comparable, dev_queries

    dev = dev_queries()
    lines = (PROJECT_ROOT / "data" / "eval" / "regression.jsonl").read_text(encoding="utf-8")
    queries = [json.loads(line)["query"] for line in lines.splitlines() if line.strip()]
    assert len(queries) >= 100
    assert not [q for q in queries if comparable(q) in dev]
