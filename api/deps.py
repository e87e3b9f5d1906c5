"""Dependencies of the routes, as ``Annotated`` aliases (tests override them by function)."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Annotated

import httpx
from fastapi import Depends, HTTPException, Request, status

from api.db import Database
from api.index import EngineHolder, IndexUnavailable
from api.rasa import RasaClient
from api.ratelimit import RateLimiter, retry_after_header
from api.settings import Settings

if TYPE_CHECKING:
    from forms_index.search import SearchEngine

INTERNAL_TOKEN_HEADER = "X-Internal-Token"


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_holder(request: Request) -> EngineHolder:
    return request.app.state.holder


def get_engine(holder: Annotated[EngineHolder, Depends(get_holder)]) -> SearchEngine:
    """The engine serving now, taken once for the whole request (503 when none is loaded)."""
    try:
        return holder.get()
    except IndexUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="Search is temporarily unavailable (the index is not loaded). Retry later.",
        ) from exc


def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
HolderDep = Annotated[EngineHolder, Depends(get_holder)]
EngineDep = Annotated["SearchEngine", Depends(get_engine)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
HttpDep = Annotated[httpx.AsyncClient, Depends(get_http)]


def has_internal_token(request: Request, settings: Settings) -> bool:
    """True when the request carries the valid internal token (constant-time compare)."""
    given = request.headers.get(INTERNAL_TOKEN_HEADER)
    if not given:
        return False
    expected = settings.internal_api_token.get_secret_value()
    return hmac.compare_digest(given.encode(), expected.encode())


def require_internal_token(request: Request, settings: SettingsDep) -> None:
    """Guard of ``/api/internal/*``: the action server's shared token, else 401."""
    if not has_internal_token(request, settings):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"Missing or invalid {INTERNAL_TOKEN_HEADER} header.",
        )


def client_key(request: Request, settings: Settings) -> str:
    """Who the client is for the rate limit: its address (or, behind a trusted proxy,
    the first address of ``X-Forwarded-For``)."""
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return request.client.host if request.client else "unknown"


def rate_limit(request: Request, settings: SettingsDep) -> None:
    """Per-client limit of the public routes: 429 with ``Retry-After`` when exceeded.
    Calls with the valid internal token (the action server) are exempt."""
    limiter: RateLimiter | None = request.app.state.limiter
    if limiter is None or has_internal_token(request, settings):
        return
    wait = limiter.hit(client_key(request, settings))
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="Too many requests. Please wait a moment and try again.",
            headers={"Retry-After": retry_after_header(wait)},
        )
