"""Build an index version from a catalogue: embed (through the cache), write, never switch.

Switching ``current`` is the caller's decision (after the quality gate), so a build
can never change what is served.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from forms_index.artifacts import IndexStore, new_version_name, write_meta
from forms_index.catalogue import Entry, catalogue_hash, dump_jsonl
from forms_index.documents import entry_docs
from forms_index.embedding_cache import EmbeddingCache
from forms_index.encoder import Encoder
from forms_index.lexicon import Lexicon
from forms_index.normalize import BUILTIN_FORM_PREFIXES, form_prefixes_of

log = logging.getLogger(__name__)

#: ``progress(stage, fraction)``: stage is "embedding" or "writing"; fraction in 0..1.
Progress = Callable[[str, float], None]
#: Identifies how passages are made (documents.EntryDoc.passages); part of the meta.
PASSAGE_SCHEME = "joint-titles-descriptions-aliases/v2"


@dataclass(frozen=True)
class BuildResult:
    version: str
    path: Path
    entries: int
    vectors: int
    embedded: int  # passages that were not in the cache
    seconds: float


def build_version(
    entries: Sequence[Entry],
    aliases: dict[str, list[str]],
    *,
    lexicon_text: str,
    encoder: Encoder,
    store: IndexStore,
    cache_path: Path,
    created_by: str = "cli",
    progress: Progress | None = None,
    extra_meta: dict[str, object] | None = None,
) -> BuildResult:
    """Write a complete new version under ``store`` and return it (``current`` unchanged)."""
    started = time.perf_counter()
    ids = {e.id for e in entries}
    aliases = {t: [i for i in v if i in ids] for t, v in aliases.items()}
    aliases = {t: v for t, v in aliases.items() if v}
    docs = entry_docs(entries, aliases)

    passages: list[str] = []
    rows: list[str] = []
    for d in docs:
        for p in d.passages():
            passages.append(p)
            rows.append(d.entry.id)

    vectors, embedded = _embed(passages, encoder, cache_path, progress)

    Lexicon(lexicon_text)  # refuse a malformed vocabulary file before writing anything
    content_hash = catalogue_hash(entries, aliases, lexicon_text)
    version = new_version_name(content_hash)
    form_numbers = [k for d in docs for k in d.form_numbers]
    with store.building(version) as folder:
        if progress:
            progress("writing", 0.0)
        index = faiss.IndexFlatIP(encoder.dim)
        if len(vectors):
            index.add(vectors)
        faiss.write_index(index, str(folder / "index.faiss"))
        (folder / "catalogue.jsonl").write_text(dump_jsonl(entries), encoding="utf-8")
        (folder / "lexicon.tsv").write_text(lexicon_text, encoding="utf-8")
        (folder / "aliases.json").write_text(
            json.dumps(aliases, ensure_ascii=False, indent=0), encoding="utf-8"
        )
        meta: dict[str, object] = {
            "version": version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "created_by": created_by,
            "model_id": encoder.model_id,
            # Informational: both backends give the same vectors under the same model id.
            "embedding_backend": getattr(encoder, "backend", "torch"),
            "dim": encoder.dim,
            "rows": rows,
            "passage_scheme": PASSAGE_SCHEME,
            "normalization": {
                "unicode": "NFKC",
                "opencc": "s2hk",
                "casefold": True,
                "form_prefixes": sorted(form_prefixes_of(form_numbers) | BUILTIN_FORM_PREFIXES),
            },
            "catalogue_hash": content_hash,
            "counts": {"entries": len(entries), "vectors": len(rows), "aliases": len(aliases)},
            "build_seconds": round(time.perf_counter() - started, 3),
            **(extra_meta or {}),
        }
        write_meta(folder, meta)
    if progress:
        progress("writing", 1.0)
    seconds = time.perf_counter() - started
    log.info(
        "built index version %s (%d entries, %d vectors) in %.1fs",
        version,
        len(entries),
        len(rows),
        seconds,
    )
    return BuildResult(version, store.root / version, len(entries), len(rows), embedded, seconds)


def _embed(
    passages: list[str], encoder: Encoder, cache_path: Path, progress: Progress | None
) -> tuple[np.ndarray, int]:
    """Vectors of the passages, in order, and how many had to be encoded."""
    cache = EmbeddingCache(cache_path, encoder.model_id, encoder.dim)
    try:
        found = cache.get_many(passages)
        missing = list(dict.fromkeys(p for p in passages if p not in found))
        if missing:
            new = encoder.encode_passages(
                missing,
                progress=(lambda done, total: progress("embedding", done / total))
                if progress
                else None,
            )
            cache.put_many(missing, new)
            found.update(zip(missing, new, strict=True))
        elif progress:
            progress("embedding", 1.0)
    finally:
        cache.close()
    if not passages:
        return np.zeros((0, encoder.dim), dtype=np.float32), 0
    return np.stack([found[p] for p in passages]).astype(np.float32), len(missing)
