"""The build process of a publish job: ``python -m api.publish JOB_ID``.

A separate process, so a build never blocks the api's event loop nor competes for its GIL,
and can be killed; it runs at a lower CPU priority than the api. Steps: take the job,
gather the catalogue (the upload, or the live one with an alias edit) and the live alias map
and vocabulary, build a version (the embedding cache re-embeds only changed passages), run
the quality gate against the live version, and switch ``current`` atomically. Every step is
reported in the job's row; any failure leaves the live version serving.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import Field

from api.db import Database
from api.publish import jobs
from api.staff import audit
from api.staff.catalogue import apply_alias_edit, read_alias_map, read_entries
from api.staff.uploads import entries_of, get_upload
from forms_index.artifacts import IndexStore
from forms_index.catalogue import Entry, load_aliases
from forms_index.errors import FormsIndexError
from forms_index.settings import IndexSettings

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
#: Share of the overall progress at the start of each stage.
STAGES = {"loading model": 0.02, "embedding": 0.1, "writing": 0.6, "quality gate": 0.7}
_PR_SET_PDEATHSIG = 1


class RunnerSettings(IndexSettings):
    """What the build process needs (the api hands it over in the environment)."""

    database_url: str
    publish_keep_versions: int = Field(default=10, ge=2)
    #: The api process that started the build; the build stops if that process is gone.
    publish_parent_pid: int | None = None


class JobFailed(Exception):
    """The job cannot go on; the message is shown to content staff."""

    def __init__(self, message: str, quality: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.quality = quality


def _stop_with_parent(parent: int | None) -> None:
    """SIGTERM this process when the api process that started it dies."""
    if parent is None or sys.platform != "linux":
        return
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl took effect
        raise SystemExit(3)


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(f"stopped by {signal.Signals(signum).name}")


class _Reporter:
    """Writes progress to the job row (at most twice a second) and a heartbeat every 2 s."""

    def __init__(self, db: Database, job_id: str) -> None:
        self.db, self.job_id = db, job_id
        self._last = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="publish-heartbeat", daemon=True)

    def __enter__(self) -> _Reporter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(Exception):
                jobs.report(self.db, self.job_id)

    def stage(self, name: str, version: str | None = None) -> None:
        log.info("publish %s: %s", self.job_id, name)
        jobs.report(self.db, self.job_id, stage=name, progress=STAGES.get(name), version=version)
        self._last = time.monotonic()

    def build_progress(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < 0.5:
            return
        self._last = now
        if stage == "embedding":
            progress = STAGES["embedding"] + fraction * (STAGES["writing"] - STAGES["embedding"])
        else:
            progress = STAGES["writing"] + fraction * (STAGES["quality gate"] - STAGES["writing"])
        jobs.report(self.db, self.job_id, stage=stage, progress=progress)


def _sources(
    db: Database, job: Any, store: IndexStore, settings: RunnerSettings
) -> tuple[list[Entry], dict[str, list[str]], str]:
    """Entries, alias map and vocabulary the new version is built from."""
    live = store.current_version()
    live_path = store.path(live) if live else None
    aliases = read_alias_map(live_path) if live_path else load_aliases(settings.aliases_path)
    lexicon_file = live_path / "lexicon.tsv" if live_path else settings.lexicon_path
    lexicon = lexicon_file.read_text(encoding="utf-8")
    if job.kind == "publish":
        upload = get_upload(db, job.upload_id or "")
        if upload is None or not upload.valid:
            raise JobFailed("The upload is gone or has errors; upload the catalogue again.")
        if upload.base_version != live:
            raise JobFailed(
                "The live catalogue changed since this file was checked; upload it again."
            )
        return entries_of(upload), aliases, lexicon
    if job.kind == "alias":
        if live_path is None:
            raise JobFailed("There is no live catalogue to edit.")
        p = job.params
        try:
            entries, aliases = apply_alias_edit(
                read_entries(live_path),
                aliases,
                entry_id=p["entry_id"],
                term=p["term"],
                action=p["action"],
            )
        except ValueError as exc:
            raise JobFailed(str(exc)) from exc
        return entries, aliases, lexicon
    raise JobFailed(f"unknown job kind {job.kind!r}")


def _build_and_switch(
    db: Database, job: Any, settings: RunnerSettings, reporter: _Reporter
) -> tuple[str, dict[str, Any]]:
    from forms_index.build import build_version
    from forms_index.encoder import load_encoder
    from forms_index.quality import gate

    store = IndexStore(settings.index_dir)
    store.clean_stale_builds()
    jobs.discard_failed_versions(db, store)
    entries, aliases, lexicon = _sources(db, job, store, settings)

    reporter.stage("loading model")
    encoder = load_encoder(settings.embedding_model, threads=settings.embedding_threads)
    reporter.stage("embedding")
    result = build_version(
        entries,
        aliases,
        lexicon_text=lexicon,
        encoder=encoder,
        store=store,
        cache_path=settings.embedding_cache_path,
        created_by=job.created_by,
        progress=reporter.build_progress,
        extra_meta={"job_id": job.id, "source": job.kind},
    )
    version = result.version
    reporter.stage("quality gate", version=version)
    verdict = gate(store, version, encoder, settings.regression_queries_path)
    quality = verdict.as_dict()
    if not verdict.passed:
        shutil.rmtree(store.root / version, ignore_errors=True)
        raise JobFailed(
            "Refused by the quality gate: the new version scores below the live one.\n"
            + verdict.summary(),
            quality,
        )
    reporter.stage("switching", version=version)
    store.set_current(version)
    log.info("publish %s: %s is live (%d newly embedded)", job.id, version, result.embedded)
    with contextlib.suppress(OSError):
        store.prune(keep=settings.publish_keep_versions)
    return version, quality


def run_job(job_id: str, settings: RunnerSettings) -> int:
    """Run one job to its end; 0 when the new version is live."""
    db = Database(settings.database_url)
    try:
        job = jobs.get_job(db, job_id)
        if job is None or not jobs.mark_running(db, job_id, os.getpid()):
            log.error("publish %s: no such queued job", job_id)
            return 2
        with _Reporter(db, job_id) as reporter:
            try:
                version, quality = _build_and_switch(db, job, settings, reporter)
            except JobFailed as exc:
                jobs.finish(db, job_id, state="failed", error=str(exc), quality=exc.quality)
                audit.record(db, job.created_by, "publish_failed", job_id, reason=str(exc)[:300])
                return 1
            except (FormsIndexError, OSError, ValueError) as exc:
                message = f"The build failed: {exc}"
                jobs.finish(db, job_id, state="failed", error=message)
                audit.record(db, job.created_by, "publish_failed", job_id, reason=message[:300])
                return 1
            except SystemExit as exc:
                jobs.finish(db, job_id, state="failed", error=f"The build was {exc}.")
                audit.record(db, job.created_by, "publish_failed", job_id, reason=str(exc))
                return 1
            except Exception as exc:
                log.exception("publish %s failed", job_id)
                message = f"The build failed unexpectedly ({type(exc).__name__})."
                jobs.finish(db, job_id, state="failed", error=message)
                audit.record(db, job.created_by, "publish_failed", job_id, reason=message)
                return 1
        jobs.finish(db, job_id, state="done", version=version, quality=quality)
        audit.record(db, job.created_by, "publish_done", version, job_id=job_id, kind=job.kind)
        return 0
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    from api.logging_setup import configure_logging

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m api.publish JOB_ID", file=sys.stderr)
        return 2
    configure_logging()
    settings = RunnerSettings()  # type: ignore[call-arg]
    _stop_with_parent(settings.publish_parent_pid)
    signal.signal(signal.SIGTERM, _on_sigterm)
    with contextlib.suppress(OSError):
        os.nice(10)  # the api serving citizens comes first
    return run_job(args[0], settings)


def runner_env(settings: IndexSettings, database_url: str, keep: int) -> dict[str, str]:
    """The environment of a build process for the api's ``settings`` (no secrets)."""
    env = {
        name.upper(): str(getattr(settings, name))
        for name in IndexSettings.model_fields
        if getattr(settings, name) is not None
    }
    env["DATABASE_URL"] = database_url
    env["PUBLISH_KEEP_VERSIONS"] = str(keep)
    env["PUBLISH_PARENT_PID"] = str(os.getpid())
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return env
