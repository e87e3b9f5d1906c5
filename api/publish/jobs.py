"""Publish jobs in the app database (sync; call from threads or the build process).

At most one job is queued or running at a time, across every api worker: ``active_slot``
is a unique column set to 1 while a job is active, so a second insert fails in the database.
A job whose build process stopped reporting (``heartbeat_at``) for longer than the stale
limit is failed by whoever looks next, which frees the slot.
"""

from __future__ import annotations

import secrets
import shutil
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from api.auth.sessions import as_utc
from api.db import Database
from api.storage import PublishJob, utcnow
from forms_index.artifacts import IndexStore

ACTIVE = ("queued", "running")


class JobBusy(Exception):
    """Another publish is queued or running."""

    def __init__(self, job_id: str | None) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def create_job(
    db: Database,
    *,
    kind: str,
    created_by: str,
    upload_id: str | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    """A new queued job; JobBusy when another one is active."""
    job_id = secrets.token_hex(12)
    try:
        with db.session() as s:
            s.add(
                PublishJob(
                    id=job_id,
                    kind=kind,
                    upload_id=upload_id,
                    params=params or {},
                    state="queued",
                    stage="queued",
                    progress=0.0,
                    created_by=created_by,
                    active_slot=1,
                )
            )
    except IntegrityError as exc:
        active = active_job(db)
        raise JobBusy(active.id if active else None) from exc
    return job_id


def get_job(db: Database, job_id: str) -> PublishJob | None:
    with db.session() as s:
        return s.get(PublishJob, job_id)


def active_job(db: Database) -> PublishJob | None:
    with db.session() as s:
        return s.scalars(select(PublishJob).where(PublishJob.state.in_(ACTIVE))).first()


def list_jobs(db: Database, limit: int = 20) -> list[PublishJob]:
    with db.session() as s:
        q = select(PublishJob).order_by(PublishJob.created_at.desc()).limit(limit)
        return list(s.scalars(q))


def mark_running(db: Database, job_id: str, pid: int) -> bool:
    """The build process took the job (False: it is not queued any more)."""
    now = utcnow()
    with db.session() as s:
        changed = s.execute(
            update(PublishJob)
            .where(PublishJob.id == job_id, PublishJob.state == "queued")
            .values(state="running", started_at=now, heartbeat_at=now, runner_pid=pid)
        ).rowcount
    return bool(changed)


def report(
    db: Database,
    job_id: str,
    *,
    stage: str | None = None,
    progress: float | None = None,
    version: str | None = None,
) -> None:
    """Progress of a running job (also its heartbeat)."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if stage is not None:
        values["stage"] = stage
    if progress is not None:
        values["progress"] = max(0.0, min(1.0, progress))
    if version is not None:
        values["version"] = version
    with db.session() as s:
        s.execute(
            update(PublishJob)
            .where(PublishJob.id == job_id, PublishJob.state.in_(ACTIVE))
            .values(**values)
        )


def finish(
    db: Database,
    job_id: str,
    *,
    state: str,
    error: str | None = None,
    quality: dict[str, Any] | None = None,
    version: str | None = None,
) -> bool:
    """Mark an active job done or failed and free the slot (False: it had already ended)."""
    values: dict[str, Any] = {
        "state": state,
        "stage": state,
        "finished_at": utcnow(),
        "active_slot": None,
        "error": error,
    }
    if state == "done":
        values["progress"] = 1.0
    if quality is not None:
        values["quality"] = quality
    if version is not None:
        values["version"] = version
    with db.session() as s:
        changed = s.execute(
            update(PublishJob)
            .where(PublishJob.id == job_id, PublishJob.state.in_(ACTIVE))
            .values(**values)
        ).rowcount
    return bool(changed)


def fail_stale(db: Database, stale_after: timedelta, *, now: datetime | None = None) -> list[str]:
    """Fail active jobs whose build process has not reported for ``stale_after``."""
    now = now or utcnow()
    cutoff = now - stale_after
    with db.session() as s:
        stale = [
            j.id
            for j in s.scalars(
                select(PublishJob).where(
                    PublishJob.state.in_(ACTIVE),
                    or_(
                        PublishJob.heartbeat_at < cutoff,
                        (PublishJob.heartbeat_at.is_(None)) & (PublishJob.created_at < cutoff),
                    ),
                )
            )
        ]
    return [
        job_id
        for job_id in stale
        if finish(
            db,
            job_id,
            state="failed",
            error="The build process stopped reporting; the live version is unchanged.",
        )
    ]


def discard_failed_versions(db: Database, store: IndexStore) -> list[str]:
    """Remove versions built by failed jobs (never the current one): they were refused by
    the quality gate or not finished, and must not be offered for rollback."""
    current = store.current_version()
    removed = []
    with db.session() as s:
        versions = s.scalars(
            select(PublishJob.version).where(
                PublishJob.state == "failed", PublishJob.version.is_not(None)
            )
        ).all()
    for version in versions:
        if not version or version == current:
            continue
        path = store.root / version
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(version)
    return removed


def as_dict(job: PublishJob) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "kind": job.kind,
        "state": job.state,
        "stage": job.stage,
        "progress": round(float(job.progress or 0.0), 3),
        "version": job.version,
        "quality": job.quality,
        "error": job.error,
        "created_by": job.created_by,
        "created_at": as_utc(job.created_at).isoformat(timespec="seconds"),
        "finished_at": as_utc(job.finished_at).isoformat(timespec="seconds")
        if job.finished_at
        else None,
        "params": job.params or {},
    }
