"""``/api/admin``: the content-staff admin's api (role admin; docs/staff.md).

Uploads are checked and diffed against the live catalogue and stored, never applied;
a publish (or an alias edit) is a job built by a separate process (``api.publish``) and
switched in only after the quality gate; rollback points ``current`` at an older version.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import (
    APIRouter,
    Depends,
    File,
    HTTPException,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi.responses import FileResponse

from api.auth.deps import AdminUser, require_admin
from api.deps import DatabaseDep, EngineDep, HolderDep, SettingsDep
from api.publish import jobs
from api.publish.launcher import PublishLauncher, launcher_for
from api.schemas import ErrorResponse
from api.staff import audit, review
from api.staff.catalogue import (
    AliasEditError,
    alias_map_of,
    aliases_of,
    apply_alias_edit,
    check_upload,
    detect_format,
    diff,
    load_reference,
    read_entries,
)
from api.staff.schemas import (
    AliasEdit,
    AuditList,
    EntryAliases,
    JobCreated,
    JobList,
    JobOut,
    Ok,
    PublishRequest,
    ReviewDismiss,
    ReviewQueue,
    RollbackRequest,
    RollbackResult,
    UploadResult,
    VersionList,
    VersionOut,
)
from api.staff.uploads import get_upload, save_upload
from forms_index.artifacts import IndexStore
from forms_index.catalogue import with_reference_names
from forms_index.errors import FormsIndexError, IndexArtifactError
from forms_index.quality import read_quality

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/admin",
    tags=["staff: content admin"],
    dependencies=[Depends(require_admin)],
    responses={
        401: {"model": ErrorResponse, "description": "Not logged in."},
        403: {"model": ErrorResponse, "description": "Not an admin, or no CSRF token."},
    },
)

_BUSY = {409: {"model": ErrorResponse, "description": "Another publish is running."}}


def get_launcher(request: Request) -> PublishLauncher:
    return launcher_for(request.app)


LauncherDep = Annotated[PublishLauncher, Depends(get_launcher)]


def _store(settings: SettingsDep) -> IndexStore:
    return IndexStore(settings.index_dir)


StoreDep = Annotated[IndexStore, Depends(_store)]


def _live_path(store: IndexStore):  # type: ignore[no-untyped-def]
    try:
        return store.current_path()
    except IndexArtifactError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"There is no live catalogue: {exc}"
        ) from exc


def _busy(exc: jobs.JobBusy) -> HTTPException:
    which = f" (job {exc.job_id})" if exc.job_id else ""
    return HTTPException(
        status.HTTP_409_CONFLICT,
        detail=f"Another publish is in progress{which}; wait until it has finished.",
    )


# --- catalogue ----------------------------------------------------------------------------


@router.get(
    "/catalogue",
    summary="Download the live catalogue (JSONL)",
    response_class=FileResponse,
    responses={503: {"model": ErrorResponse, "description": "No live index."}},
)
def download_catalogue(store: StoreDep) -> FileResponse:
    """The catalogue the current index version was built from; aliases of the alias map
    are kept separately (``GET /api/admin/aliases``) and carried over by every publish."""
    path = _live_path(store)
    return FileResponse(
        path / "catalogue.jsonl",
        media_type="application/x-ndjson; charset=utf-8",
        filename=f"catalogue-{path.name}.jsonl",
    )


@router.post(
    "/catalogue",
    response_model=UploadResult,
    summary="Check an uploaded catalogue (JSONL or CSV) against the live one",
    responses={
        413: {"model": ErrorResponse, "description": "File larger than the limit."},
        503: {"model": ErrorResponse, "description": "No live index."},
    },
)
def upload_catalogue(
    principal: AdminUser,
    settings: SettingsDep,
    db: DatabaseDep,
    store: StoreDep,
    file: Annotated[UploadFile, File(description="catalogue.jsonl or catalogue.csv")],
) -> UploadResult:
    """Every bad row is reported by line and field; a valid file gets the differences with
    the live catalogue (added, removed, changed fields). Nothing is published: keep the
    ``upload_id`` for ``POST /api/admin/publish``."""
    limit = settings.admin_max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"The file is larger than {limit // 1024} KiB.",
        )
    live_path = _live_path(store)
    reference = load_reference(settings.reference_path)
    fmt = detect_format(file.filename or "", data)
    result = check_upload(data, fmt, reference)
    entries = [with_reference_names(e, reference) for e in result.entries]
    changes = (
        diff(read_entries(live_path), entries)
        if result.valid
        else {"added": [], "removed": [], "changed": []}
    )
    upload = save_upload(
        db,
        created_by=principal.username,
        filename=file.filename or "upload",
        fmt=fmt,
        entries=entries,
        errors=result.errors,
        warnings=result.warnings,
        diff=changes,
        base_version=live_path.name,
    )
    audit.record(
        db,
        principal.username,
        "catalogue_upload",
        upload.id,
        valid=upload.valid,
        errors=len(result.errors),
        added=len(changes["added"]),
        removed=len(changes["removed"]),
        changed=len(changes["changed"]),
    )
    return UploadResult(
        upload_id=upload.id,
        valid=upload.valid,
        errors=upload.errors,  # type: ignore[arg-type]
        warnings=upload.warnings,  # type: ignore[arg-type]
        diff=changes,  # type: ignore[arg-type]
        entries=len(entries),
        base_version=live_path.name,
    )


# --- publish and jobs ------------------------------------------------------------------------


@router.post(
    "/publish",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobCreated,
    summary="Publish a checked upload (build, quality gate, switch) in the background",
    responses={
        404: {"model": ErrorResponse, "description": "No such upload."},
        422: {"model": ErrorResponse, "description": "The upload has errors."},
        **_BUSY,
    },
)
def publish(
    req: PublishRequest,
    principal: AdminUser,
    db: DatabaseDep,
    store: StoreDep,
    launcher: LauncherDep,
) -> JobCreated:
    upload = get_upload(db, req.upload_id)
    if upload is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No such upload; upload it again.")
    if not upload.valid:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"The upload has {len(upload.errors)} error(s); fix them and upload again.",
        )
    if upload.base_version != store.current_version():
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="The live catalogue changed since this file was checked; upload it again "
            "to see the new differences.",
        )
    launcher.fail_stale()
    try:
        job_id = jobs.create_job(
            db, kind="publish", created_by=principal.username, upload_id=upload.id
        )
    except jobs.JobBusy as exc:
        raise _busy(exc) from exc
    audit.record(db, principal.username, "publish_requested", job_id, upload_id=upload.id)
    launcher.start(job_id)
    return JobCreated(job_id=job_id)


@router.get("/jobs", response_model=JobList, summary="Recent publish jobs, newest first")
def list_jobs(
    db: DatabaseDep,
    launcher: LauncherDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JobList:
    launcher.fail_stale()
    return JobList(jobs=[JobOut.model_validate(jobs.as_dict(j)) for j in jobs.list_jobs(db, limit)])


@router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    summary="State and progress of a publish job",
    responses={404: {"model": ErrorResponse, "description": "No such job."}},
)
def get_job(job_id: str, db: DatabaseDep, launcher: LauncherDep) -> JobOut:
    """``state``: queued, running, done or failed; ``progress`` 0..1; ``quality``: the gate's
    figures for the new and the live version; ``error``: why it failed."""
    launcher.fail_stale()
    job = jobs.get_job(db, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No job with id {job_id!r}.")
    if job.state == "done":  # "done" from this worker means it serves the new version
        launcher.serve_current(wait=True)
    return JobOut.model_validate(jobs.as_dict(job))


# --- versions and rollback -----------------------------------------------------------------


@router.get("/versions", response_model=VersionList, summary="Index versions, newest first")
def versions(store: StoreDep, holder: HolderDep) -> VersionList:
    out = []
    for v in store.versions():
        counts = v.meta.get("counts") or {}
        out.append(
            VersionOut(
                version=v.version,
                created=v.meta.get("created"),
                created_by=v.meta.get("created_by"),
                entries=counts.get("entries") if isinstance(counts, dict) else None,
                quality=read_quality(v.path),
                current=v.current,
                serving=v.version == holder.version,
            )
        )
    return VersionList(current=store.current_version(), serving=holder.version, versions=out)


@router.post(
    "/rollback",
    response_model=RollbackResult,
    summary="Make an earlier version live again",
    responses={
        404: {"model": ErrorResponse, "description": "No such version."},
        409: {"model": ErrorResponse, "description": "The version cannot be served."},
    },
)
def rollback(
    req: RollbackRequest,
    principal: AdminUser,
    request: Request,
    db: DatabaseDep,
    store: StoreDep,
    holder: HolderDep,
) -> RollbackResult:
    """Loads and checks the version first, then switches ``current`` atomically and serves
    it; on any problem the live version stays."""
    from forms_index.search import SearchEngine

    try:
        path = store.path(req.version)
    except IndexArtifactError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    quality = read_quality(path)
    if quality is not None and quality.get("passed") is False:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="That version was refused by the quality gate."
        )
    previous = store.current_version()
    try:
        engine = SearchEngine.load(path, request.app.state.index_manager.encoder)
    except FormsIndexError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"That version cannot be served: {exc}"
        ) from exc
    store.set_current(req.version)
    holder.swap(engine)
    audit.record(db, principal.username, "rollback", req.version, previous=previous)
    return RollbackResult(current=req.version, previous=previous)


# --- aliases ---------------------------------------------------------------------------------


@router.get(
    "/aliases",
    response_model=EntryAliases,
    summary="The aliases of one entry in the live catalogue",
    responses={404: {"model": ErrorResponse, "description": "No such entry."}},
)
def entry_aliases(
    engine: EngineDep,
    store: StoreDep,
    entry_id: Annotated[str, Query(min_length=1, max_length=128)],
) -> EntryAliases:
    entry = engine.get(entry_id)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No entry with id {entry_id!r}.")
    info = aliases_of(entry, alias_map_of(store, str(engine.version)))
    return EntryAliases(
        entry_id=entry.id,
        title_en=entry.title_en,
        title_zh=entry.title_zh or entry.title_zh_unofficial,
        catalogue=info.catalogue,
        colloquial=info.colloquial,
    )


@router.post(
    "/aliases",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobCreated,
    summary="Add or remove an alias of an entry (publishes a new version)",
    responses={
        404: {"model": ErrorResponse, "description": "No such entry."},
        422: {"model": ErrorResponse, "description": "Empty alias, already there, or absent."},
        **_BUSY,
    },
)
def edit_alias(
    req: AliasEdit,
    principal: AdminUser,
    db: DatabaseDep,
    store: StoreDep,
    launcher: LauncherDep,
) -> JobCreated:
    """Checked against the live catalogue now, applied by the build process to the live
    catalogue of then, through the same build, quality gate and switch as a publish."""
    live_path = _live_path(store)
    entries = read_entries(live_path)
    if not any(e.id == req.entry_id for e in entries):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No entry with id {req.entry_id!r}.")
    try:
        apply_alias_edit(
            entries,
            alias_map_of(store, live_path.name),
            entry_id=req.entry_id,
            term=req.term,
            action=req.action,
        )
    except AliasEditError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    launcher.fail_stale()
    params = {"entry_id": req.entry_id, "term": req.term, "action": req.action}
    try:
        job_id = jobs.create_job(db, kind="alias", created_by=principal.username, params=params)
    except jobs.JobBusy as exc:
        raise _busy(exc) from exc
    audit.record(
        db, principal.username, f"alias_{req.action}", req.entry_id, term=req.term, job_id=job_id
    )
    if req.review_key:
        review.resolve(db, req.review_key, by=principal.username, action=f"alias_{req.action}")
    launcher.start(job_id)
    return JobCreated(job_id=job_id)


# --- review queue and audit log --------------------------------------------------------------


@router.get("/review", response_model=ReviewQueue, summary="Failed queries, grouped and counted")
def review_queue(
    db: DatabaseDep,
    engine: EngineDep,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReviewQueue:
    """No result, "didn't help", handed over: redacted queries with the results shown."""

    def titles(entry_id: str) -> tuple[str, str] | None:
        e = engine.get(entry_id)
        return None if e is None else (e.title_en, e.title_zh or e.title_zh_unofficial)

    rows = review.review_queue(db, titles, days=days, limit=limit)
    return ReviewQueue.model_validate({"rows": rows, "days": days})


@router.post("/review/dismiss", response_model=Ok, summary="Take a row off the review queue")
def dismiss(req: ReviewDismiss, principal: AdminUser, db: DatabaseDep) -> Ok:
    review.resolve(db, req.key, by=principal.username, action="dismissed")
    audit.record(db, principal.username, "review_dismiss", req.key)
    return Ok()


@router.get("/audit", response_model=AuditList, summary="Who changed what, when (newest first)")
def audit_log(
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, description="Page back: ids below this.")] = None,
) -> AuditList:
    return AuditList.model_validate({"entries": audit.entries(db, limit=limit, before_id=before)})
