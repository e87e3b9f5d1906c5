"""A small HTTP server on 127.0.0.1 that answers like the api's routes (docs/contracts.md
§4–5) with canned bodies, and records what it was sent. The actions and the client talk
to it over real HTTP; no Python object of theirs is replaced."""

from __future__ import annotations

import socket
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StubApi:
    """Canned answers: ``search`` (query -> body), ``forms`` (id -> entry)."""

    search: dict[str, dict[str, Any]] = field(default_factory=dict)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    token: str = "test-internal-token"
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    searches: list[dict[str, str]] = field(default_factory=list)
    search_status: int = 200
    url: str = ""

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("X-Internal-Token") == self.token

    async def _search(self, request: web.Request) -> web.Response:
        self.searches.append(dict(request.query))
        if self.search_status != 200:
            return web.json_response({"detail": "boom"}, status=self.search_status)
        body = self.search.get(request.query.get("q", ""))
        return web.json_response(body or {"results": [], "clarify": None, "index_version": "t"})

    async def _form(self, request: web.Request) -> web.Response:
        entry = self.forms.get(request.match_info["entry_id"])
        if entry is None:
            return web.json_response({"detail": "Unknown form."}, status=404)
        return web.json_response(entry)

    async def _handoff(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"detail": "Forbidden"}, status=403)
        self.handoffs.append(await request.json())
        return web.json_response({"reference": f"HO-TEST-{len(self.handoffs)}"}, status=201)

    async def _feedback(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"detail": "Forbidden"}, status=403)
        self.feedback.append(await request.json())
        return web.json_response({}, status=201)

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/search", self._search)
        app.router.add_get("/api/forms/{entry_id}", self._form)
        app.router.add_post("/api/internal/handoffs", self._handoff)
        app.router.add_post("/api/internal/feedback", self._feedback)
        app.router.add_get("/healthz", self._health)
        return app


@asynccontextmanager
async def serving(stub: StubApi):
    runner = web.AppRunner(stub.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stub.url = f"http://127.0.0.1:{port}"
    try:
        yield stub
    finally:
        await runner.cleanup()
