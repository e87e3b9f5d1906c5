"""Staff accounts: create, list, disable, authenticate (sync; call from threads)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.auth.passwords import burn_time, hash_password, needs_rehash, verify_password
from api.db import Database
from api.storage import StaffSession, StaffUser, utcnow

Role = Literal["agent", "admin"]
ROLES: tuple[str, ...] = ("agent", "admin")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountError(ValueError):
    """A request about an account that cannot be done (message fit to show)."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


def _account(user: StaffUser) -> Account:
    return Account(
        user.id, user.username, user.role, user.disabled, user.created_at, user.last_login_at
    )


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_password(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise AccountError(f"the password must have at least {min_length} characters")
    if password != password.strip():
        raise AccountError("the password must not start or end with spaces")


def add_user(db: Database, username: str, role: str, password: str, *, min_length: int) -> Account:
    """Create an account; refuses a bad name, an unknown role, a short password, a duplicate."""
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise AccountError(
            "the username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    check_password(password, min_length)
    with db.session() as s:
        if s.scalars(select(StaffUser).where(StaffUser.username == name)).first():
            raise AccountError(f"an account named {name!r} already exists")
        user = StaffUser(
            username=name, role=role, password_hash=hash_password(password), disabled=False
        )
        s.add(user)
        s.flush()
        return _account(user)


def set_password(db: Database, username: str, password: str, *, min_length: int) -> None:
    check_password(password, min_length)
    with db.session() as s:
        user = _get(s, username)
        user.password_hash = hash_password(password)
        s.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def list_users(db: Database) -> list[Account]:
    with db.session() as s:
        return [_account(u) for u in s.scalars(select(StaffUser).order_by(StaffUser.username))]


def set_disabled(db: Database, username: str, disabled: bool) -> Account:
    """Disable (ending every session of the account at once) or enable an account."""
    with db.session() as s:
        user = _get(s, username)
        user.disabled = disabled
        if disabled:
            s.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        return _account(user)


def authenticate(db: Database, username: str, password: str) -> Account | None:
    """The account when the password is right and the account enabled, else None (after
    the same amount of work, whichever way it fails)."""
    name = normalise_username(username)
    with db.session() as s:
        user = s.scalars(select(StaffUser).where(StaffUser.username == name)).first()
        if user is None:
            burn_time(password)
            return None
        if not verify_password(user.password_hash, password) or user.disabled:
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        return _account(user)


def exists(db: Database, username: str) -> bool:
    name = normalise_username(username)
    with db.session() as s:
        return s.scalars(select(StaffUser.id).where(StaffUser.username == name)).first() is not None


def _get(s: Session, username: str) -> StaffUser:
    name = normalise_username(username)
    user = s.scalars(select(StaffUser).where(StaffUser.username == name)).first()
    if user is None:
        raise AccountError(f"no account named {name!r}")
    return user
