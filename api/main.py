"""The api's app factory and lifespan.

``create_app(settings)`` builds the FastAPI app; its lifespan opens the app database (running
the migrations unless set-up does), loads the encoder and the current index once (contracts
§3) into an ``EngineHolder`` that can be swapped atomically, and opens one
``httpx.AsyncClient`` reused for every call to Rasa and the action server.
``uvicorn --factory api.main:create_app`` reads the settings from the environment.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
import httpx
from fastapi import FastAPI, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.db import Database
from api.index import EngineHolder, IndexManager
from api.middleware import (
    BASE_HEADERS,
    NON_PAGE_CSP,
    BodySizeLimitMiddleware,
    SecurityHeadersMiddleware,
)
from api.routes import (
    chat,
    feedback,
    health,
    internal,
    pages,
    search,
    staff_admin,
    staff_agent,
    staff_auth,
    staff_pages,
)
from api.scaling import close_limiter, make_limiter, make_rasa, start_index_watcher, stop_task
from api.settings import Settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Body limit of the internal routes (handoff transcripts are longer than a chat message).
INTERNAL_MAX_BODY_BYTES = 1_048_576

DESCRIPTION = """
Citizens' web of the Hong Kong government forms assistant: the chat proxy to Rasa, the
forms search, feedback, and the internal routes the action server calls.
See `docs/contracts.md` (sections 2, 4–6) and `docs/api.md`.

Errors are always JSON: `{"detail": "<a clear message>"}`. Public routes are rate-limited
per client (429 with `Retry-After`); calls with a valid `X-Internal-Token` are exempt.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    db = Database(settings.database_url, settings.database_connect_timeout)
    if settings.database_migrate_on_startup:
        await run_in_threadpool(db.migrate)
    holder = EngineHolder()
    manager = IndexManager(settings, holder, encoder=app.state.encoder)
    if app.state.engine is not None:
        holder.swap(app.state.engine)
    elif settings.load_index_on_startup:
        try:
            await run_in_threadpool(manager.load_current)
        except Exception as exc:  # the api still serves chat; /readyz says why it is not ready
            holder.load_error = f"index not loaded: {exc}"
            log.error("could not load the search index: %s", exc)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.readiness_timeout, connect=settings.rasa_connect_timeout),
        # Idle connections are dropped before Rasa's Sanic (keep-alive 5 s) drops them, so a
        # turn never goes out on a connection that is being closed.
        limits=httpx.Limits(
            max_connections=200, max_keepalive_connections=50, keepalive_expiry=4.0
        ),
    )
    app.state.db = db
    app.state.holder = holder
    app.state.index_manager = manager
    app.state.http = http
    # One Rasa process or several (RASA_URLS), per-process or Redis rate limit, and the
    # watcher of the shared index pointer: api/scaling.py, docs/scaling.md.
    app.state.rasa = make_rasa(http, settings)
    app.state.limiter = make_limiter(settings)
    watcher = start_index_watcher(settings, manager)
    log.info("api ready to serve (index %s)", holder.version or "not loaded")
    try:
        yield
    finally:
        await stop_task(watcher)
        close_limiter(app.state.limiter)
        await http.aclose()
        db.close()


def _summary(errors: list[dict[str, Any]]) -> str:
    if any(e.get("type") == "json_invalid" for e in errors):
        return "The request body is not valid JSON."
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "Invalid request – " + "; ".join(parts)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()
    ]  # no "input" echoed back or logged: it may hold personal data
    return JSONResponse(
        {"detail": _summary(errors), "errors": jsonable_encoder(errors)},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("database error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse(
        {"detail": "Our database is temporarily unavailable. Please try again shortly."},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "unexpected error on %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        exc_info=exc,
    )
    # Starlette answers this from its outermost middleware, past ours: add the headers here.
    return JSONResponse(
        {"detail": "Something went wrong on our side. Please try again later."},
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        headers={
            **BASE_HEADERS,
            "content-security-policy": NON_PAGE_CSP,
            "cache-control": "no-store",
        },
    )


def _body_limit(settings: Settings):  # type: ignore[no-untyped-def]
    def limit_for(path: str) -> int | None:
        if path.startswith("/api/internal/"):
            return INTERNAL_MAX_BODY_BYTES
        if path == "/api/admin/catalogue":
            return settings.admin_max_upload_bytes  # catalogue uploads (multipart)
        return settings.max_body_bytes

    return limit_for


def create_app(
    settings: Settings | None = None, *, encoder: Any = None, engine: Any = None
) -> FastAPI:
    """The api. ``settings`` default to the environment. A caller that has already loaded
    the embedding model or an index version (the tests) passes ``encoder`` or ``engine``
    to share it instead of loading it again."""
    settings = settings or Settings()
    app = FastAPI(
        title="HK forms assistant",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.encoder = encoder
    app.state.engine = engine

    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)

    for module in (chat, search, feedback, internal, health, pages):
        app.include_router(module.router)
    for module in (staff_auth, staff_agent, staff_admin, staff_pages):  # docs/staff.md
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(
        pages.DOCS_STATIC_URL,
        StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"),
        name="docs-static",
    )

    # Outermost last: CORS answers preflights first; every answer gets security headers.
    app.add_middleware(BodySizeLimitMiddleware, limit_for=_body_limit(settings))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app
