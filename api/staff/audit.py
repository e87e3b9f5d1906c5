"""The audit log: who changed what, when. Details name catalogue ids, versions, handoff
references and usernames of staff; never citizen data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from api.auth.sessions import as_utc
from api.db import Database
from api.storage import AuditEntry


def record(db: Database, actor: str, action: str, target: str = "", **details: Any) -> None:
    with db.session() as s:
        s.add(AuditEntry(actor=actor, action=action, target=target[:128], details=details))


def entries(
    db: Database, *, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Newest first; ``before_id`` pages back."""
    with db.session() as s:
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(AuditEntry.id < before_id)
        return [
            {
                "id": e.id,
                "at": _iso(e.at),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "details": e.details,
            }
            for e in s.scalars(q)
        ]


def _iso(value: datetime) -> str:
    return as_utc(value).isoformat(timespec="seconds")
