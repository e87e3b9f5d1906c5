"""The development query set (../shared/data/queries_dev.jsonl) as a set of comparable
strings, so tests can show that no training example, regression query or lexicon entry is
one of its queries. ``DEV_QUERIES`` overrides the path."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from forms_index.normalize import normalize

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = PROJECT_ROOT.parent / "shared" / "data" / "queries_dev.jsonl"


def comparable(text: str) -> str:
    """normalize() (Traditional, folded), then without spaces and punctuation."""
    return re.sub(r"[\W_]+", "", normalize(text))


def dev_queries() -> dict[str, str]:
    """Comparable form → the dev query as written; skips the test when the file is absent."""
    path = Path(os.environ.get("DEV_QUERIES", DEFAULT_PATH))
    if not path.exists():
        # the dev set lives outside the repository (../shared/data): not a missing service
        pytest.skip(f"opt-in: development query set {path} not found (set DEV_QUERIES)")
    queries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            query = json.loads(line)["query"]
            queries[comparable(query)] = query
    return queries
