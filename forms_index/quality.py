"""The quality gate: a new index version must not score below the live one.

Both versions answer the regression queries (``data/eval/regression.jsonl``: our own
queries with their gold entries) in the same process; the figures are kept beside the
version in ``quality.json`` so the versions list can show them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from forms_index.artifacts import IndexStore
from forms_index.encoder import Encoder
from forms_index.errors import IndexArtifactError
from forms_index.eval import Metrics, evaluate, load_queries
from forms_index.search import SearchEngine

log = logging.getLogger(__name__)

#: MRR may wobble this much (fusion scores move a little when entries are added).
MRR_TOLERANCE = 0.01
QUALITY_FILE = "quality.json"


@dataclass(frozen=True)
class GateVerdict:
    passed: bool
    new: Metrics
    live: Metrics | None
    live_version: str | None

    def summary(self) -> str:
        def fmt(m: Metrics) -> str:
            return f"R@1 {m.recall_at_1:.3f}  R@5 {m.recall_at_5:.3f}  MRR {m.mrr:.3f}"

        lines = [f"quality gate ({self.new.n} regression queries): new  {fmt(self.new)}"]
        if self.live is not None:
            lines.append(f"{'':>39}live {fmt(self.live)} ({self.live_version})")
        lines.append("passed" if self.passed else "REFUSED: below the live version")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "new": self.new.as_dict(),
            "live": self.live.as_dict() if self.live else None,
            "live_version": self.live_version,
        }


def measure(engine: SearchEngine, queries_path: Path) -> Metrics:
    queries = load_queries(queries_path)
    report = evaluate(queries, {"v": lambda q: [r.id for r in engine.search(q, k=10).results]})
    return report.systems["v"]["overall"]


def passes(new: Metrics, live: Metrics | None) -> bool:
    if live is None:
        return True
    return new.recall_at_5 >= live.recall_at_5 and new.mrr >= live.mrr - MRR_TOLERANCE


def gate(
    store: IndexStore,
    version: str,
    encoder: Encoder,
    queries_path: Path,
    *,
    live_engine: SearchEngine | None = None,
) -> GateVerdict:
    """Measure ``version`` and the live version on the regression queries; record both."""
    new_engine = SearchEngine.load(store.path(version), encoder)
    new = measure(new_engine, queries_path)
    live_version = store.current_version()
    live: Metrics | None = None
    if live_version and live_version != version:
        try:
            if live_engine is None or live_engine.version != live_version:
                live_engine = SearchEngine.load(store.path(live_version), encoder)
            live = measure(live_engine, queries_path)
        except IndexArtifactError as exc:
            # A live version this code cannot read (older format, other model) is no
            # baseline: the new version is measured on its own.
            log.warning("live version %s not comparable: %s", live_version, exc)
            live_version = None
    verdict = GateVerdict(passes(new, live), new, live, live_version)
    write_quality(store.path(version), verdict)
    return verdict


def write_quality(folder: Path, verdict: GateVerdict) -> None:
    (folder / QUALITY_FILE).write_text(json.dumps(verdict.as_dict(), indent=1), encoding="utf-8")


def read_quality(folder: Path) -> dict[str, object] | None:
    try:
        return json.loads((folder / QUALITY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
