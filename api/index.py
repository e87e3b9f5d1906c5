"""The live search index of this api process: loaded once at start-up, swapped atomically.

``EngineHolder`` keeps a reference to the serving :class:`forms_index.search.SearchEngine`;
a request takes the reference once and uses that engine for its whole life, so swapping in
a new version (publish, rollback, or another worker moving the shared ``current`` pointer)
never shows a request half of one version and half of another. ``IndexManager`` owns the
encoder (loaded once per process, as contracts.md §3 asks) and loads versions into the holder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.settings import Settings
    from forms_index.search import SearchEngine

log = logging.getLogger(__name__)


class IndexUnavailable(RuntimeError):
    """No index is loaded (yet): search answers 503 and ``/readyz`` is not ready."""


class EngineHolder:
    """The serving engine; ``swap`` is one reference assignment under a lock."""

    def __init__(self) -> None:
        self._engine: SearchEngine | None = None
        self._lock = threading.Lock()
        self.load_error: str | None = None

    @property
    def current(self) -> SearchEngine | None:
        return self._engine

    def get(self) -> SearchEngine:
        engine = self._engine
        if engine is None:
            raise IndexUnavailable(self.load_error or "the search index is not loaded")
        return engine

    def swap(self, engine: SearchEngine) -> SearchEngine | None:
        """Serve ``engine`` from now on; returns the engine it replaces."""
        with self._lock:
            old, self._engine = self._engine, engine
            self.load_error = None
        log.info("serving index version %s", engine.version)
        return old

    def swap_if(self, engine: SearchEngine, still_wanted: Callable[[], bool]) -> bool:
        """Serve ``engine`` only if ``still_wanted()`` holds, checked under the same lock as
        every swap: a watcher that loaded a version for a while does not replace one that
        was swapped in meanwhile (publish, rollback). True when it swapped."""
        with self._lock:
            if not still_wanted():
                return False
            self._engine = engine
            self.load_error = None
        log.info("serving index version %s", engine.version)
        return True

    @property
    def version(self) -> str | None:
        engine = self._engine
        return None if engine is None else str(engine.version)


class IndexManager:
    """Loads index versions from ``settings.index_dir`` with one encoder per process."""

    def __init__(self, settings: Settings, holder: EngineHolder, encoder: Any = None) -> None:
        self._settings = settings
        self.holder = holder
        self._encoder = encoder
        self._lock = threading.Lock()
        #: Held while a version is loaded and swapped in outside start-up (the publish
        #: launcher, the index watcher): one load at a time per process, so after a
        #: publish the two do not both load the same version; the second finds it served.
        self.loading = threading.Lock()

    @property
    def encoder(self) -> Any:
        with self._lock:
            if self._encoder is None:
                from forms_index.encoder import load_encoder

                self._encoder = load_encoder(
                    self._settings.embedding_model, threads=self._settings.embedding_threads
                )
            return self._encoder

    def current_path(self) -> Path:
        from forms_index.artifacts import IndexStore

        return IndexStore(self._settings.index_dir).current_path()

    def load(self, path: Path) -> SearchEngine:
        """Load the version at ``path`` (refused when mismatched or corrupt) and serve it."""
        from forms_index.search import SearchEngine

        engine = SearchEngine.load(path, self.encoder)
        self.holder.swap(engine)
        return engine

    def load_current(self) -> SearchEngine:
        """Load and serve the version the ``current`` pointer names."""
        return self.load(self.current_path())
