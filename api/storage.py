"""Storage models of the app database (SQLAlchemy 2). The schema itself is created and
changed only by the Alembic migrations in ``api/migrations`` — keep the two in step
(``tests/api/test_db.py`` checks that they agree)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
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
