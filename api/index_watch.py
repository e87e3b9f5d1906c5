"""Every api worker follows the shared ``current`` pointer of the index.

A publish or rollback switches ``<INDEX_DIR>/current`` (``IndexStore.set_current``, an atomic
``os.replace``) in whichever api worker — or build process — did it; that worker swaps its
own ``EngineHolder``. The other workers (uvicorn ``--workers``, other machines sharing the
index folder) learn of it here: about every ``INDEX_WATCH_SECONDS`` each reads the pointer (one
small file read, in a thread), and when it names a version other than the one served, loads
that version in a worker thread — never on the event loop — and swaps it in atomically.

- Only complete versions are ever served: ``current`` names only versions renamed into place
  after being fully written, and loading verifies every file's checksum. A version that fails
  to load (say, files not yet visible on shared storage) is logged and kept out; the worker
  keeps serving what it has and tries again after ``retry_seconds``.
- Harmless beside the publish feature's own swap: the swap happens only if, under the
  holder's lock, ``current`` still names the loaded version and the holder is not already
  serving it (``EngineHolder.swap_if``), so a slower watcher never undoes a newer swap.
- A worker that starts later loads whatever ``current`` names in its lifespan.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.concurrency import run_in_threadpool

from api.index import IndexManager
from forms_index.artifacts import IndexStore

log = logging.getLogger(__name__)


class IndexWatcher:
    """Polls the ``current`` pointer and serves the version it names."""

    def __init__(
        self,
        manager: IndexManager,
        index_dir: Path,
        interval: float = 1.0,
        *,
        retry_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.manager = manager
        self.store = IndexStore(index_dir)
        self.interval = interval
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._failed: dict[str, float] = {}  # version -> when it may be tried again

    async def run(self) -> None:
        """Poll until cancelled (the lifespan cancels it at shutdown)."""
        log.info("watching %s every %.1f s", self.store.root / "current", self.interval)
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the watcher die: the next poll tries again
                log.exception("index watcher: poll failed")

    async def poll(self) -> str | None:
        """One look at ``current``; returns the version swapped in, if any."""
        wanted = await run_in_threadpool(self.store.current_version)
        holder = self.manager.holder
        if wanted is None or wanted == holder.version:
            return None
        if self._failed.get(wanted, 0.0) > self._clock():
            return None
        try:
            swapped = await run_in_threadpool(self._serve, wanted)
        except Exception as exc:
            self._failed[wanted] = self._clock() + self.retry_seconds
            log.error(
                "index version %s named by current cannot be served (still serving %s): %s",
                wanted,
                holder.version,
                exc,
            )
            return None
        self._failed.pop(wanted, None)
        if swapped:
            log.info("index watcher: now serving %s (current moved)", wanted)
            return wanted
        return None

    def _serve(self, wanted: str) -> bool:
        """Load ``wanted`` and swap it in, in a worker thread (the pointer re-read before the
        swap may be on network storage), under the manager's ``loading`` lock: when the
        publish launcher of this process has just loaded it, nothing is loaded twice."""
        holder = self.manager.holder
        with self.manager.loading:
            if holder.version == wanted:
                return False
            engine = self._load(wanted)
            return holder.swap_if(
                engine,
                lambda: holder.version != wanted and self.store.current_version() == wanted,
            )

    def _load(self, version: str) -> Any:
        from forms_index.search import SearchEngine

        return SearchEngine.load(self.store.path(version), self.manager.encoder)
