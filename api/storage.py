"""Storage models of the app database (SQLAlchemy 2). The schema itself is created and
changed only by the Alembic migrations in ``api/migrations`` — keep the two in step
(``tests/api/test_db.py`` checks that they agree)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Handoff(Base):
    """A conversation handed over to a person (1823). The transcript is NOT redacted:
    staff need it to follow up; only staff routes may read it."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    sender: Mapped[str] = mapped_column(String(128), index=True)
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    searches: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: The 1823 agent who took the case (staff username; migration 0002).
    assigned_to: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Feedback(Base):
    """Thumbs up or down on an answer (from the widget or the bot); ``query`` is redacted."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(128), index=True)
    rating: Mapped[str] = mapped_column(String(8))
    query: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_ids: Mapped[list[str]] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class SearchLog(Base):
    """One search answered (analytics, review queue); ``query`` is redacted."""

    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    query: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(8), nullable=True)
    filters: Mapped[dict[str, str]] = mapped_column(JSON)
    result_ids: Mapped[list[str]] = mapped_column(JSON)
    top_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    clarify: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Results were shown only as the nearest of a crowd (counts as "no result" in review).
    low_confidence: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    index_version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class ConversationState(Base):
    """What the api remembers of a sender between turns (shared by every api worker)."""

    __tablename__ = "conversation_state"

    sender: Mapped[str] = mapped_column(String(128), primary_key=True)
    script: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str | None] = mapped_column(String(8), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- staff side (docs/staff.md; migration 0002) ------------------------------------------------


class StaffUser(Base):
    """A member of staff: an 1823 agent or a content admin (``python -m api.users``)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    #: argon2id hash (PHC string); never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StaffSession(Base):
    """A logged-in browser. ``id`` is the SHA-256 of the cookie's token (the token itself is
    never stored), so a copy of the database does not let anyone in."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginFailure(Base):
    """One failed login. ``key`` is a keyed hash of the username or the client address, so
    every api worker counts the same failures without the table holding either."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class AuditEntry(Base):
    """Who changed what, when (staff actions; no citizen data in ``details``)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(128), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class CatalogueUpload(Base):
    """A catalogue file checked by content staff; ``content`` is the valid entries as JSONL
    (what a publish builds from). The live index is never touched by an upload."""

    __tablename__ = "catalogue_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    filename: Mapped[str] = mapped_column(String(255))
    fmt: Mapped[str] = mapped_column(String(8))
    valid: Mapped[bool] = mapped_column(Boolean)
    entries: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    diff: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The live version the diff was made against (a publish refuses if it moved on).
    base_version: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PublishJob(Base):
    """A background build of a new index version (publish or alias edit), run by a
    separate process; its state lives here so any api worker can report it."""

    __tablename__ = "publish_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    upload_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str] = mapped_column(String(32), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    runner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: 1 while queued or running, NULL after: a unique column, so the database itself
    #: guarantees one build at a time across every api worker.
    active_slot: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)


class ReviewResolution(Base):
    """A review-queue row dealt with (alias added or dismissed); it reappears only if the
    query fails again afterwards."""

    __tablename__ = "review_resolutions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    resolved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_by: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
