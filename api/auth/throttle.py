"""Slowing down repeated failed logins, per username and per client address.

Failures are rows in the app database (keyed by an HMAC of the username or address, so
neither is stored), hence every api worker counts the same ones. Up to ``limit`` failures
in the window cost nothing; after that each attempt must wait 1, 2, 4, ... seconds (capped)
after the latest failure, and an attempt made too early is refused without checking the
password, so guessing gets no faster by trying harder.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from api.auth.sessions import as_utc
from api.db import Database
from api.storage import LoginFailure, utcnow


@dataclass(frozen=True)
class ThrottleKey:
    key: str
    limit: int


def throttle_key(secret: str, kind: str, value: str, limit: int) -> ThrottleKey:
    """``kind`` is "user" or "client"; the value is hashed with the session secret."""
    digest = hmac.new(
        secret.encode(), f"login:{kind}:{value.strip().casefold()}".encode(), hashlib.sha256
    ).hexdigest()
    return ThrottleKey(digest, limit)


def required_wait(
    db: Database,
    keys: Sequence[ThrottleKey],
    *,
    window: timedelta,
    max_delay: float,
    now: datetime | None = None,
) -> float:
    """Seconds the caller must still wait before trying again (0: go ahead)."""
    now = now or utcnow()
    wait = 0.0
    with db.session() as s:
        for k in keys:
            count, last = s.execute(
                select(func.count(LoginFailure.id), func.max(LoginFailure.created_at)).where(
                    LoginFailure.key == k.key, LoginFailure.created_at >= now - window
                )
            ).one()
            if count < k.limit or last is None:
                continue
            delay = min(2.0 ** (count - k.limit), max_delay)
            wait = max(wait, delay - (now - as_utc(last)).total_seconds())
    return max(wait, 0.0)


def record_failure(
    db: Database, keys: Sequence[ThrottleKey], *, window: timedelta, now: datetime | None = None
) -> None:
    now = now or utcnow()
    with db.session() as s:
        s.execute(delete(LoginFailure).where(LoginFailure.created_at < now - window))
        for k in keys:
            s.add(LoginFailure(key=k.key, created_at=now))


def clear(db: Database, key: ThrottleKey) -> None:
    with db.session() as s:
        s.execute(delete(LoginFailure).where(LoginFailure.key == key.key))
