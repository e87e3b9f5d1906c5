"""api.index_watch: every worker follows the shared ``current`` pointer, never serves an
incomplete or corrupt version, and never undoes a newer swap made by publish or rollback."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from api.index import EngineHolder, IndexManager
from api.index_watch import IndexWatcher
from forms_index.artifacts import IndexStore, new_version_name
from forms_index.search import SearchEngine
from forms_index.settings import IndexSettings


def _copy_version(store: IndexStore, source: Path) -> str:
    version = new_version_name(uuid.uuid4().hex)
    with store.building(version) as scratch:
        for item in source.iterdir():
            if item.is_file():
                shutil.copy2(item, scratch / item.name)
    return version


@pytest.fixture
def store(tmp_path: Path) -> IndexStore:
    project = IndexStore(IndexSettings().index_dir)
    if project.current_version() is None:
        pytest.skip("no index built under var/index: run `make setup`")
    store = IndexStore(tmp_path / "index")
    first = _copy_version(store, project.current_path())
    store.set_current(first)
    return store


@pytest.fixture
def manager(store: IndexStore, encoder: Any) -> IndexManager:
    manager = IndexManager(IndexSettings(index_dir=store.root), EngineHolder(), encoder=encoder)
    manager.load_current()
    return manager


def watcher_for(manager: IndexManager, store: IndexStore, **kwargs: Any) -> IndexWatcher:
    return IndexWatcher(manager, store.root, interval=0.05, **kwargs)


def test_follows_current_and_does_nothing_when_unchanged(
    manager: IndexManager, store: IndexStore
) -> None:
    watcher = watcher_for(manager, store)
    before = manager.holder.version
    assert asyncio.run(watcher.poll()) is None
    assert manager.holder.version == before

    new = _copy_version(store, store.current_path())
    store.set_current(new)
    assert asyncio.run(watcher.poll()) == new
    assert manager.holder.version == new
    assert manager.holder.get().version == new


def test_a_corrupt_version_is_never_served_nor_retried_at_once(
    manager: IndexManager, store: IndexStore, caplog: pytest.LogCaptureFixture
) -> None:
    serving = manager.holder.version
    bad = _copy_version(store, store.current_path())
    faiss_file = store.path(bad) / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:1000])  # half-written
    store.set_current(bad)  # the pointer checks meta.json only
    calls = []
    watcher = watcher_for(manager, store, retry_seconds=3600)
    original = watcher._load
    watcher._load = lambda version: calls.append(version) or original(version)  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="api.index_watch"):
        assert asyncio.run(watcher.poll()) is None
        assert asyncio.run(watcher.poll()) is None
    assert manager.holder.version == serving
    assert calls == [bad]  # refused once, not reloaded every second
    assert "cannot be served" in caplog.text and "checksum" in caplog.text

    good = _copy_version(store, store.path(serving))
    store.set_current(good)
    assert asyncio.run(watcher.poll()) == good


def test_a_newer_swap_made_meanwhile_is_not_undone(
    manager: IndexManager, store: IndexStore, encoder: Any
) -> None:
    """A rollback happens while the watcher is loading the version it saw: the rollback's
    ``set_current`` + ``swap`` win; the watcher's older load is dropped."""
    old = manager.holder.version
    assert old is not None
    new = _copy_version(store, store.current_path())
    store.set_current(new)
    watcher = watcher_for(manager, store)
    original = watcher._load

    def load_then_rollback(version: str) -> SearchEngine:
        engine = original(version)
        store.set_current(old)  # the admin's rollback, in another thread
        manager.holder.swap(SearchEngine.load(store.path(old), encoder))
        return engine

    watcher._load = load_then_rollback  # type: ignore[method-assign]
    assert asyncio.run(watcher.poll()) is None
    assert manager.holder.version == old


def test_already_swapped_by_publish_is_left_alone(manager: IndexManager, store: IndexStore) -> None:
    new = _copy_version(store, store.current_path())
    store.set_current(new)
    manager.load_current()  # the publish feature swapped this worker itself
    engine = manager.holder.current
    assert asyncio.run(watcher_for(manager, store).poll()) is None
    assert manager.holder.current is engine


def test_a_version_the_publish_launcher_is_loading_is_not_loaded_again(
    manager: IndexManager, store: IndexStore
) -> None:
    """After a publish, the publishing worker's launcher and its index watcher both see the
    new ``current``; they share the manager's ``loading`` lock, so the watcher waits for the
    launcher's load and then finds the version served instead of loading it a second time."""
    new = _copy_version(store, store.current_path())
    store.set_current(new)
    watcher = watcher_for(manager, store)
    calls: list[str] = []
    original = watcher._load
    watcher._load = lambda version: calls.append(version) or original(version)  # type: ignore[method-assign]
    result: list[str | None] = []
    with manager.loading:  # the launcher is loading the new version
        polling = threading.Thread(target=lambda: result.append(asyncio.run(watcher.poll())))
        polling.start()
        polling.join(timeout=1.0)
        assert polling.is_alive()  # the watcher saw the new version and waits for the lock
        manager.holder.swap(SearchEngine.load(store.path(new), manager.encoder))
    polling.join(timeout=60)
    assert result == [None] and calls == []
    assert manager.holder.version == new


def test_run_loop_picks_up_a_switch_within_seconds(
    manager: IndexManager, store: IndexStore
) -> None:
    new = _copy_version(store, store.current_path())

    async def scenario() -> float:
        task = asyncio.create_task(watcher_for(manager, store).run())
        loop = asyncio.get_running_loop()
        store.set_current(new)
        started = loop.time()
        try:
            while manager.holder.version != new:
                assert loop.time() - started < 30, "watcher did not switch"
                await asyncio.sleep(0.02)
            return loop.time() - started
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    assert asyncio.run(scenario()) < 30
