"""The 1823 handoff queue: list newest first, take, close, reopen.

Changes are conditional updates (``WHERE status = ...``), so two agents on two api workers
cannot both take the same case: the second gets a clear conflict.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import func, select, update

from api.auth.sessions import as_utc
from api.db import Database
from api.storage import Handoff, utcnow

Status = Literal["open", "taken", "closed"]
Filter = Literal["active", "open", "taken", "closed", "all"]


class HandoffConflict(Exception):
    """The case changed meanwhile (e.g. another agent took it)."""


def as_dict(h: Handoff) -> dict[str, Any]:
    return {
        "id": h.id,
        "reference": h.reference,
        "created_at": as_utc(h.created_at).isoformat(timespec="seconds"),
        "updated_at": as_utc(h.updated_at).isoformat(timespec="seconds"),
        "language": h.language,
        "reason": h.reason,
        "status": h.status,
        "assigned_to": h.assigned_to,
        "transcript": list(h.transcript or []),
        "searches": list(h.searches or []),
    }


def list_handoffs(db: Database, *, which: Filter = "active", limit: int = 100) -> list[Handoff]:
    """Newest first."""
    q = select(Handoff).order_by(Handoff.created_at.desc(), Handoff.id.desc()).limit(limit)
    if which == "active":
        q = q.where(Handoff.status.in_(("open", "taken")))
    elif which != "all":
        q = q.where(Handoff.status == which)
    with db.session() as s:
        return list(s.scalars(q))


def counts(db: Database) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(select(Handoff.status, func.count(Handoff.id)).group_by(Handoff.status))
        out = {"open": 0, "taken": 0, "closed": 0}
        out.update({status: int(n) for status, n in rows})
        return out


def get(db: Database, handoff_id: int) -> Handoff | None:
    with db.session() as s:
        return s.get(Handoff, handoff_id)


def set_status(db: Database, handoff_id: int, status: Status, agent: str) -> Handoff | None:
    """Move a case; None when there is no such case, HandoffConflict when someone else
    holds it (taking a case another agent has taken)."""
    now = utcnow()
    q = update(Handoff).where(Handoff.id == handoff_id)
    if status == "taken":
        q = q.where(
            (Handoff.status == "open")
            | ((Handoff.status == "taken") & (Handoff.assigned_to == agent))
        ).values(status="taken", assigned_to=agent, updated_at=now)
    elif status == "closed":
        q = q.values(
            status="closed",
            assigned_to=func.coalesce(Handoff.assigned_to, agent),
            updated_at=now,
        )
    else:
        q = q.values(status="open", assigned_to=None, updated_at=now)
    with db.session() as s:
        changed = s.execute(q.execution_options(synchronize_session=False)).rowcount
    current = get(db, handoff_id)
    if current is None:
        return None
    if not changed:
        raise HandoffConflict(
            f"Case {current.reference} is already {current.status}"
            + (f" by {current.assigned_to}." if current.assigned_to else ".")
        )
    return current
