"""Staff sessions in the app database, so every api worker knows every session.

The browser holds a random token in an HttpOnly cookie; the database holds only its
SHA-256. A session ends after ``STAFF_SESSION_IDLE_MINUTES`` without a request, at the
latest ``STAFF_SESSION_MAX_HOURS`` after login, at logout, or when its account is disabled.
The CSRF token is an HMAC of the session token under ``SESSION_SECRET``: nothing to store,
and useless without the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from api.db import Database
from api.storage import StaffSession, StaffUser, utcnow

COOKIE_NAME = "hkf_staff"
COOKIE_PATH = "/api"
#: ``last_seen_at`` is written at most this often (fewer writes; idle timeout to the minute).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class StaffPrincipal:
    """The member of staff behind a request."""

    user_id: int
    username: str
    role: str
    session_id: str
    token: str


def as_utc(value: datetime) -> datetime:
    """Datetimes read back from SQLite are naive (stored as UTC): make them aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret: str, token: str) -> str:
    """The CSRF token of a session (sent back in ``X-CSRF-Token``)."""
    return hmac.new(secret.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret: str, token: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(secret, token), given or "")


def create_session(db: Database, user_id: int, *, max_age: timedelta) -> str:
    """A new session for the user; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        s.add(
            StaffSession(
                id=token_id(token),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + max_age,
            )
        )
    return token


def resolve_session(
    db: Database, token: str, *, idle: timedelta, now: datetime | None = None
) -> StaffPrincipal | None:
    """The principal of a live session, or None (expired, idle, unknown, account disabled)."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    sid = token_id(token)
    with db.session() as s:
        row = s.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.id == sid)
        ).first()
        if row is None:
            return None
        session, user = row
        last_seen = as_utc(session.last_seen_at)
        if user.disabled or as_utc(session.expires_at) <= now or now - last_seen > idle:
            s.delete(session)
            return None
        if now - last_seen >= TOUCH_EVERY:
            session.last_seen_at = now
        return StaffPrincipal(user.id, user.username, user.role, sid, token)


def end_session(db: Database, token: str) -> None:
    with db.session() as s:
        s.execute(delete(StaffSession).where(StaffSession.id == token_id(token)))
