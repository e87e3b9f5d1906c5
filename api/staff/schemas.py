"""Request and response models of the staff HTTP api (docs/staff.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas import SearchResult

# --- auth ---------------------------------------------------------------------------------


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SessionInfo(BaseModel):
    """Who is logged in, and the token to send in ``X-CSRF-Token`` with every change."""

    csrf_token: str
    username: str
    role: Literal["agent", "admin"]


class Ok(BaseModel):
    ok: bool = True


# --- agent --------------------------------------------------------------------------------


class AgentSearchResponse(BaseModel):
    results: list[SearchResult]
    index_version: str


class Topic(BaseModel):
    code: str
    name_en: str
    name_zh: str


class FacetDepartment(BaseModel):
    code: str
    name_en: str
    name_zh: str
    entries: int


class Facets(BaseModel):
    departments: list[FacetDepartment]
    topics: list[Topic]
    index_version: str


class TranscriptLine(BaseModel):
    role: str
    text: str
    ts: float | None = None


class HandoffOut(BaseModel):
    id: int
    reference: str
    created_at: str
    updated_at: str
    language: str
    reason: str
    status: Literal["open", "taken", "closed"]
    assigned_to: str | None
    transcript: list[TranscriptLine]
    searches: list[str]


class HandoffList(BaseModel):
    handoffs: list[HandoffOut]
    counts: dict[str, int] = Field(description="Cases by status.")


class HandoffUpdate(BaseModel):
    status: Literal["taken", "closed", "open"] = Field(
        description="taken: I handle it; closed: done; open: put it back in the queue."
    )


# --- admin --------------------------------------------------------------------------------


class UploadError(BaseModel):
    line: int
    field: str
    message: str


class DiffEntry(BaseModel):
    id: str
    form_no: str = ""
    title_en: str = ""
    title_zh: str = ""


class FieldChange(BaseModel):
    field: str
    old: str
    new: str


class ChangedEntry(DiffEntry):
    fields: list[FieldChange]


class Diff(BaseModel):
    added: list[DiffEntry]
    removed: list[DiffEntry]
    changed: list[ChangedEntry]


class UploadResult(BaseModel):
    upload_id: str
    valid: bool
    errors: list[UploadError]
    warnings: list[UploadError] = Field(default_factory=list)
    diff: Diff
    entries: int = 0
    base_version: str | None = None


class PublishRequest(BaseModel):
    upload_id: str = Field(min_length=1, max_length=64)


class JobCreated(BaseModel):
    job_id: str


class JobOut(BaseModel):
    job_id: str
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    stage: str
    progress: float = Field(ge=0, le=1)
    version: str | None
    quality: dict[str, Any] | None
    error: str | None
    created_by: str
    created_at: str
    finished_at: str | None
    params: dict[str, Any]


class JobList(BaseModel):
    jobs: list[JobOut]


class VersionOut(BaseModel):
    version: str
    created: str | None
    created_by: str | None
    entries: int | None
    quality: dict[str, Any] | None
    current: bool
    serving: bool


class VersionList(BaseModel):
    current: str | None
    serving: str | None
    versions: list[VersionOut]


class RollbackRequest(BaseModel):
    version: str = Field(min_length=1, max_length=64)


class RollbackResult(BaseModel):
    current: str
    previous: str | None


class AliasEdit(BaseModel):
    entry_id: str = Field(min_length=1, max_length=128)
    term: str = Field(min_length=1, max_length=80)
    action: Literal["add", "remove"] = "add"
    review_key: str | None = Field(
        default=None, max_length=64, description="The review-queue row this edit resolves."
    )


class EntryAliases(BaseModel):
    entry_id: str
    title_en: str
    title_zh: str
    catalogue: list[str] = Field(description="Aliases in the entry's own catalogue row.")
    colloquial: list[str] = Field(description="Terms of the alias map that name the entry.")


class ShownResult(BaseModel):
    id: str
    title_en: str = ""
    title_zh: str = ""
    times: int


class ReviewRow(BaseModel):
    key: str
    query: str
    count: int
    reasons: dict[str, int]
    results_shown: list[ShownResult]
    last_seen: str


class ReviewQueue(BaseModel):
    rows: list[ReviewRow]
    days: int


class ReviewDismiss(BaseModel):
    key: str = Field(min_length=1, max_length=64)


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    target: str
    details: dict[str, Any]


class AuditList(BaseModel):
    entries: list[AuditOut]
