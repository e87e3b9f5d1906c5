"""Starting build processes from the api, and serving their result.

``PublishLauncher.start(job_id)`` spawns ``python -m api.publish JOB_ID`` from a dedicated
watcher thread (the build process is told to stop if the api process dies) and waits for it
there: when it ends, a job it left unfinished (killed, crashed) is failed with the reason
and its half-built version removed; when the new version is live, this api process loads it
and swaps it into the ``EngineHolder`` while requests keep being answered by the old one.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from api.db import Database
from api.index import IndexManager
from api.publish import jobs
from api.publish.runner import runner_env
from api.settings import Settings
from api.staff import audit
from forms_index.artifacts import IndexStore

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Secrets never handed to the build process.
_SECRET_NAMES = frozenset({"RASA_TOKEN", "INTERNAL_API_TOKEN", "SESSION_SECRET"})


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


class PublishLauncher:
    """One per api process (``launcher_for(app)``)."""

    def __init__(self, settings: Settings, db: Database, manager: IndexManager) -> None:
        self.settings = settings
        self.db = db
        self.manager = manager
        self.store = IndexStore(settings.index_dir)
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    # -- starting -----------------------------------------------------------------------
    def start(self, job_id: str) -> None:
        """Start the build of a queued job in the background (returns at once)."""
        started = threading.Event()
        thread = threading.Thread(
            target=self._run, args=(job_id, started), name=f"publish-{job_id[:8]}", daemon=True
        )
        thread.start()
        started.wait(timeout=10)

    def pid(self, job_id: str) -> int | None:
        with self._lock:
            proc = self._procs.get(job_id)
            return proc.pid if proc is not None else None

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SECRET_NAMES}
        env.update(
            runner_env(
                self.settings, self.settings.database_url, self.settings.publish_keep_versions
            )
        )
        return env

    def _run(self, job_id: str, started: threading.Event) -> None:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "api.publish", job_id],
                cwd=PROJECT_ROOT,
                env=self._env(),
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            started.set()
            log.error("publish %s: could not start the build process: %s", job_id, exc)
            jobs.finish(self.db, job_id, state="failed", error=f"Could not start the build: {exc}")
            return
        with self._lock:
            self._procs[job_id] = proc
        started.set()
        log.info("publish %s: build process %d started", job_id, proc.pid)
        try:
            returncode = proc.wait()
            self._after(job_id, returncode)
        except Exception:
            log.exception("publish %s: watching the build failed", job_id)
        finally:
            with self._lock:
                self._procs.pop(job_id, None)

    # -- after the build --------------------------------------------------------------------
    def _after(self, job_id: str, returncode: int) -> None:
        job = jobs.get_job(self.db, job_id)
        if job is None:
            return
        if job.state in jobs.ACTIVE:
            live = self.store.current_version()
            if job.version and job.version == live:  # switched, then stopped before saying so
                jobs.finish(self.db, job_id, state="done")
            else:
                reason = describe_exit(returncode)
                log.warning("publish %s: the build process ended (%s)", job_id, reason)
                jobs.finish(
                    self.db,
                    job_id,
                    state="failed",
                    error=f"The build process stopped ({reason}); the live version is unchanged.",
                )
                audit.record(self.db, job.created_by, "publish_failed", job_id, reason=reason)
                self.store.clean_stale_builds()
                jobs.discard_failed_versions(self.db, self.store)
        self.serve_current()

    def serve_current(self, *, wait: bool = False) -> str | None:
        """Load the version ``current`` names if this process serves another one (one load
        at a time, shared with the index watcher; a caller arriving meanwhile waits for it
        only when ``wait``)."""
        live = self.store.current_version()
        if live is None or live == self.manager.holder.version:
            return live
        if not self.manager.loading.acquire(blocking=wait):
            return live
        try:
            live = self.store.current_version() or live
            holder = self.manager.holder
            if live != holder.version:
                from forms_index.search import SearchEngine

                engine = SearchEngine.load(self.store.path(live), self.manager.encoder)
                # Swap only if nothing newer (a rollback, the index watcher) came meanwhile.
                holder.swap_if(
                    engine,
                    lambda: (
                        self.store.current_version() == engine.version
                        and holder.version != engine.version
                    ),
                )
        except Exception:
            log.exception("could not load index version %s", live)
        finally:
            self.manager.loading.release()
        return live

    # -- housekeeping -----------------------------------------------------------------------
    def fail_stale(self) -> None:
        """Fail jobs whose build process stopped reporting (e.g. its api worker died)."""
        failed = jobs.fail_stale(self.db, timedelta(seconds=self.settings.publish_stale_seconds))
        if failed:
            self.store.clean_stale_builds()
            jobs.discard_failed_versions(self.db, self.store)


_CREATE_LOCK = threading.Lock()


def launcher_for(app: FastAPI) -> PublishLauncher:
    """The launcher of this api process (made on first use)."""
    with _CREATE_LOCK:
        launcher = getattr(app.state, "publish_launcher", None)
        if launcher is None:
            launcher = PublishLauncher(app.state.settings, app.state.db, app.state.index_manager)
            app.state.publish_launcher = launcher
        return launcher
