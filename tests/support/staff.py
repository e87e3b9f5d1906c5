"""Helpers of the staff tests: a small real index (a subset of the catalogue, built once
per session with the real encoder, its vectors copied from the project's embedding cache so
nothing is embedded twice), accounts, login, and waiting for publish jobs."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from api.auth import accounts
from api.db import Database
from forms_index.artifacts import IndexStore
from forms_index.build import build_version
from forms_index.catalogue import Entry, load_aliases
from forms_index.documents import entry_docs
from forms_index.embedding_cache import EmbeddingCache
from forms_index.settings import IndexSettings

#: Departments of the small test catalogue (76 entries, 20 regression queries).
SMALL_DEPARTMENTS = ("IRD", "SWD")
PASSWORD = "correct horse battery staple"
JOB_TIMEOUT = 600.0


@dataclass(frozen=True)
class SmallIndex:
    """A built index (``index_dir``, ``current`` set) and what it was built from."""

    index_dir: Path
    cache_path: Path
    regression_path: Path
    entries: list[Entry]
    version: str


def small_catalogue(settings: IndexSettings) -> list[Entry]:
    lines = settings.catalogue_path.read_text(encoding="utf-8").splitlines()
    entries = [Entry.model_validate_json(line) for line in lines if line.strip()]
    return [e for e in entries if e.department_code in SMALL_DEPARTMENTS]


def build_small_index(out: Path, encoder: Any) -> SmallIndex:
    """The small index under ``out``: a copy of the needed cached vectors, the regression
    queries about its entries, one version made current."""
    settings = IndexSettings()
    entries = small_catalogue(settings)
    ids = {e.id for e in entries}
    aliases = load_aliases(settings.aliases_path)
    cache_path = out / "cache" / "embeddings.sqlite3"
    passages = [p for d in entry_docs(entries, aliases) for p in d.passages()]
    if settings.embedding_cache_path.exists():
        source = EmbeddingCache(settings.embedding_cache_path, encoder.model_id, encoder.dim)
        found = source.get_many(passages)
        source.close()
        if found:
            target = EmbeddingCache(cache_path, encoder.model_id, encoder.dim)
            texts = list(found)
            target.put_many(texts, __import__("numpy").stack([found[t] for t in texts]))
            target.close()
    regression = out / "regression.jsonl"
    with regression.open("w", encoding="utf-8") as f:
        for line in settings.regression_queries_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                gold = [g for g in q["gold"] if g in ids]
                if gold:
                    f.write(json.dumps({**q, "gold": gold}, ensure_ascii=False) + "\n")
    store = IndexStore(out / "index")
    result = build_version(
        entries,
        aliases,
        lexicon_text=settings.lexicon_path.read_text(encoding="utf-8"),
        encoder=encoder,
        store=store,
        cache_path=cache_path,
        created_by="test-seed",
    )
    store.set_current(result.version)
    return SmallIndex(store.root, cache_path, regression, entries, result.version)


def copy_small_index(small: SmallIndex, dest: Path) -> tuple[Path, Path]:
    """A private copy of the index folder and the cache (tests change them)."""
    index_dir = dest / "index"
    shutil.copytree(small.index_dir, index_dir)
    cache = dest / "cache" / "embeddings.sqlite3"
    cache.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(small.cache_path, cache)
    return index_dir, cache


def add_account(database_url: str, name: str, role: str, password: str = PASSWORD) -> None:
    add_accounts(database_url, [(name, role)], password)


def add_accounts(database_url: str, users: list[tuple[str, str]], password: str = PASSWORD) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        for name, role in users:
            accounts.add_user(db, name, role, password, min_length=12)
    finally:
        db.close()


def login(client: Any, name: str, password: str = PASSWORD) -> str:
    """Log ``client`` in (its cookie jar keeps the session); returns the CSRF token."""
    r = client.post("/api/auth/login", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def wait_job(client: Any, job_id: str, timeout: float = JOB_TIMEOUT) -> dict[str, Any]:
    """Poll ``GET /api/admin/jobs/{id}`` until the job is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/api/admin/jobs/{job_id}")
        assert r.status_code == 200, r.text
        job = r.json()
        assert 0.0 <= job["progress"] <= 1.0
        if job["state"] in ("done", "failed"):
            return dict(job)
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not finished after {timeout:.0f} s")


def jsonl(entries: list[Entry] | list[dict[str, Any]]) -> bytes:
    rows = [e.to_row() if isinstance(e, Entry) else e for e in entries]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def http_login(base_url: str, name: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
    """A logged-in httpx client against a running api (the live stack)."""
    client = httpx.Client(base_url=base_url, timeout=60)
    return client, login(client, name, password)
