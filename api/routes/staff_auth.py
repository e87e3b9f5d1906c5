"""``/api/auth``: staff login, logout and who am I (docs/staff.md)."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status

from api.auth import accounts, sessions, throttle
from api.auth.deps import StaffUser
from api.deps import DatabaseDep, SettingsDep, client_key
from api.schemas import ErrorResponse
from api.settings import Settings
from api.staff import audit
from api.staff.schemas import LoginRequest, Ok, SessionInfo

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/auth", tags=["staff: auth"])


def _keys(request: Request, settings: Settings, username: str) -> list[throttle.ThrottleKey]:
    secret = settings.session_secret.get_secret_value()
    return [
        throttle.throttle_key(secret, "user", username, settings.login_max_failures),
        throttle.throttle_key(
            secret, "client", client_key(request, settings), settings.login_client_max_failures
        ),
    ]


def _secure(request: Request, settings: Settings) -> bool:
    if settings.session_cookie_secure is not None:
        return settings.session_cookie_secure
    return request.url.scheme == "https"


@router.post(
    "/login",
    response_model=SessionInfo,
    summary="Log in (sets the staff session cookie)",
    responses={
        401: {"model": ErrorResponse, "description": "Wrong username or password."},
        429: {"model": ErrorResponse, "description": "Too many failures; see Retry-After."},
    },
)
def login(
    req: LoginRequest, request: Request, response: Response, settings: SettingsDep, db: DatabaseDep
) -> SessionInfo:
    """Sets an HttpOnly, SameSite=Strict session cookie (Secure over https) and returns the
    CSRF token to send in ``X-CSRF-Token`` with every state-changing staff call. Repeated
    failures for a username or from a client make each further attempt wait (429)."""
    window = timedelta(minutes=settings.login_failure_window_minutes)
    keys = _keys(request, settings, req.username)
    wait = throttle.required_wait(
        db, keys, window=window, max_delay=settings.login_max_delay_seconds
    )
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"Too many failed logins. Please wait {seconds} s and try again.",
            headers={"Retry-After": str(seconds)},
        )
    account = accounts.authenticate(db, req.username, req.password)
    if account is None:
        throttle.record_failure(db, keys, window=window)
        if accounts.exists(db, req.username):
            audit.record(db, accounts.normalise_username(req.username), "login_failed")
        log.warning("failed staff login")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Wrong username or password.")
    throttle.clear(db, keys[0])
    old = request.cookies.get(sessions.COOKIE_NAME)
    if old:
        sessions.end_session(db, old)
    max_age = timedelta(hours=settings.staff_session_max_hours)
    token = sessions.create_session(db, account.id, max_age=max_age)
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        max_age=int(max_age.total_seconds()),
        path=sessions.COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
    )
    audit.record(db, account.username, "login")
    return SessionInfo(
        csrf_token=sessions.csrf_token(settings.session_secret.get_secret_value(), token),
        username=account.username,
        role=account.role,  # type: ignore[arg-type]
    )


@router.get(
    "/me",
    response_model=SessionInfo,
    summary="The logged-in member of staff and the session's CSRF token",
    responses={401: {"model": ErrorResponse, "description": "Not logged in."}},
)
def me(principal: StaffUser, settings: SettingsDep) -> SessionInfo:
    return SessionInfo(
        csrf_token=sessions.csrf_token(settings.session_secret.get_secret_value(), principal.token),
        username=principal.username,
        role=principal.role,  # type: ignore[arg-type]
    )


@router.post(
    "/logout",
    response_model=Ok,
    summary="Log out (ends the session everywhere it was used)",
    responses={
        401: {"model": ErrorResponse, "description": "Not logged in."},
        403: {"model": ErrorResponse, "description": "Missing or invalid X-CSRF-Token."},
    },
)
def logout(
    principal: StaffUser,
    request: Request,
    response: Response,
    settings: SettingsDep,
    db: DatabaseDep,
) -> Ok:
    sessions.end_session(db, principal.token)
    response.delete_cookie(
        sessions.COOKIE_NAME,
        path=sessions.COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
    )
    audit.record(db, principal.username, "logout")
    return Ok()
