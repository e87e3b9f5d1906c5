"""Versioned index artefacts: what a build writes, what a load refuses, how `current` moves."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from forms_index.artifacts import IndexStore, read_meta
from forms_index.errors import IndexArtifactError
from forms_index.search import SearchEngine


def test_a_build_writes_a_complete_version_and_does_not_switch(build_small: Any) -> None:
    store, result = build_small()
    assert store.current_version() is None
    folder = store.root / result.version
    meta = read_meta(folder)
    assert meta["counts"]["entries"] == 20 and len(meta["rows"]) == result.vectors
    assert meta["model_id"] and meta["dim"] == 384 and meta["catalogue_hash"]
    assert (
        meta["normalization"]["opencc"] == "s2hk" and "ir" in meta["normalization"]["form_prefixes"]
    )
    assert {p.name for p in folder.iterdir()} >= {
        "index.faiss",
        "meta.json",
        "catalogue.jsonl",
        "aliases.json",
        "lexicon.tsv",
    }
    assert not any(p.suffix == ".pkl" for p in folder.iterdir())
    assert not list(store.root.glob(".building-*"))


def test_rebuilding_after_one_edit_embeds_one_entry(build_small: Any, small_entries: list) -> None:
    store, first = build_small()
    assert first.embedded == first.vectors
    edited = [
        e.model_copy(update={"title_en": "Tax Return – Individuals (edited)"})
        if e.id == "ird-bir60"
        else e
        for e in small_entries
    ]
    _, second = build_small(edited, store)
    assert second.embedded == 1
    _, third = build_small(edited, store)
    assert third.embedded == 0


def test_set_current_and_load(build_small: Any, encoder: Any) -> None:
    store, result = build_small()
    store.set_current(result.version)
    engine = SearchEngine.load(store.current_path(), encoder)
    assert engine.version == result.version
    assert engine.search("BIR60").results[0].id == "ird-bir60"


def _copy_version(store: IndexStore, version: str, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "copy" / version
    shutil.copytree(store.root / version, target)
    return target


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "meta.json").write_text("{broken"), "meta.json is corrupt"),
        (lambda f: (f / "meta.json").unlink(), "has no meta.json"),
        (lambda f: (f / "index.faiss").write_bytes(b"\x00" * 64), "index.faiss is corrupt"),
        (lambda f: (f / "catalogue.jsonl").unlink(), "missing catalogue.jsonl"),
        (lambda f: _edit_meta(f, format_version=999), "format 999"),
        (lambda f: _edit_meta(f, model_id="some-other-model@0"), "built with model"),
        (lambda f: _edit_meta(f, dim=768), "dimension 768"),
    ],
)
def test_a_damaged_or_mismatched_version_is_refused_clearly(
    build_small: Any, encoder: Any, tmp_path: Path, damage: Any, message: str
) -> None:
    store, result = build_small()
    folder = _copy_version(store, result.version, tmp_path)
    damage(folder)
    with pytest.raises(IndexArtifactError, match=message):
        SearchEngine.load(folder, encoder)


def _edit_meta(folder: Path, **changes: Any) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    meta.update(changes)
    (folder / "meta.json").write_text(json.dumps(meta))


def test_a_failed_build_leaves_nothing_and_keeps_current(
    build_small: Any, small_entries: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, good = build_small()
    store.set_current(good.version)

    import faiss

    def explode(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", explode)
    with pytest.raises(OSError, match="disk full"):
        build_small(small_entries[:5], store)
    assert store.current_version() == good.version
    assert [v.version for v in store.versions()] == [good.version]
    assert not list(store.root.glob(".building-*"))


def test_a_reader_never_sees_a_half_written_version(build_small: Any, small_entries: list) -> None:
    """While versions are built and switched, every read of `current` names a complete one."""
    store, first = build_small()
    store.set_current(first.version)
    seen: list[str] = []
    problems: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                path = store.current_path()
                meta = read_meta(path)
                if not (path / "index.faiss").exists() or meta["version"] != path.name:
                    problems.append(f"incomplete {path.name}")
                seen.append(path.name)
            except Exception as exc:  # any failure is the finding
                problems.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for n in range(4):
            edited = [
                e.model_copy(update={"title_en": f"{e.title_en} v{n}"}) if i == 0 else e
                for i, e in enumerate(small_entries)
            ]
            _, result = build_small(edited, store)
            store.set_current(result.version)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert problems == []
    assert len(set(seen)) >= 2


def test_rollback_and_versions(build_small: Any, small_entries: list) -> None:
    store, a = build_small()
    store.set_current(a.version)
    _, b = build_small(small_entries[:10], store)
    store.set_current(b.version)
    assert [v.version for v in store.versions()] == [b.version, a.version]
    store.set_current(a.version)
    assert [v.current for v in store.versions()] == [False, True]
    with pytest.raises(IndexArtifactError):
        store.set_current("not-a-version")
    with pytest.raises(IndexArtifactError):
        store.set_current("20200101T000000000Z-deadbeef")
