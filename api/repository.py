"""Reads and writes of the app database, one small function per use (sync: call them from
plain ``def`` routes, background tasks or ``run_in_threadpool``, never on the event loop)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.db import Database
from api.redaction import redact
from api.storage import ConversationState, Feedback, Handoff, SearchLog, utcnow

log = logging.getLogger(__name__)

_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read over the phone


@dataclass(frozen=True)
class SenderState:
    script: str | None
    lang: str | None


def get_sender_state(db: Database, sender: str) -> SenderState:
    with db.session() as s:
        row = s.get(ConversationState, sender)
        return SenderState(row.script, row.lang) if row else SenderState(None, None)


def remember_sender(db: Database, sender: str, script: str, lang: str | None) -> None:
    """Store the sender's script (and language) so every api worker converts alike."""
    for _attempt in range(2):
        try:
            with db.session() as s:
                row = s.get(ConversationState, sender)
                if row is None:
                    s.add(ConversationState(sender=sender, script=script, lang=lang))
                else:
                    row.script, row.lang, row.updated_at = script, lang, utcnow()
            return
        except IntegrityError:
            continue  # another worker inserted the row first: update it


def record_search(
    db: Database,
    *,
    query: str,
    lang: str | None,
    filters: dict[str, str],
    results: list[Any],
    clarify: bool,
    index_version: str,
    source: str,
    sender: str | None = None,
    low_confidence: bool = False,
) -> None:
    """Log one search for analytics; the query is redacted first."""
    with db.session() as s:
        s.add(
            SearchLog(
                sender=sender,
                query=redact(query),
                lang=lang,
                filters=filters,
                result_ids=[r.id for r in results],
                top_score=float(results[0].score) if results else None,
                clarify=clarify,
                low_confidence=low_confidence,
                index_version=index_version,
                source=source,
            )
        )


def record_feedback(
    db: Database,
    *,
    sender: str,
    rating: str,
    query: str | None,
    result_ids: list[str],
    source: str,
    language: str | None = None,
) -> None:
    with db.session() as s:
        s.add(
            Feedback(
                sender=sender,
                rating=rating,
                query=redact(query) if query else None,
                result_ids=result_ids,
                language=language,
                source=source,
            )
        )


def new_reference(now: datetime | None = None) -> str:
    """A handoff reference citizens can read out: ``HO-YYYYMMDD-XXXXXX``."""
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"HO-{day}-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


def create_handoff(
    db: Database,
    *,
    sender: str,
    language: str,
    reason: str,
    transcript: list[dict[str, Any]],
    searches: list[str],
) -> str:
    """Store a handoff (transcript as given: staff-only) and return its reference."""
    for _attempt in range(5):
        reference = new_reference()
        try:
            with db.session() as s:
                s.add(
                    Handoff(
                        reference=reference,
                        sender=sender,
                        language=language,
                        reason=reason,
                        transcript=transcript,
                        searches=searches,
                        status="open",
                    )
                )
            return reference
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a unique handoff reference")


def list_feedback(db: Database, sender: str) -> list[Feedback]:
    with db.session() as s:
        return list(s.scalars(select(Feedback).where(Feedback.sender == sender)))


def get_handoff(db: Database, reference: str) -> Handoff | None:
    with db.session() as s:
        return s.scalars(select(Handoff).where(Handoff.reference == reference)).first()
