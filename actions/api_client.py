"""A small client of the api (docs/contracts.md §4–5) for the actions.

Every call has a timeout. Connection errors, timeouts, error statuses and malformed
answers never reach the action as exceptions: a search or lookup returns ``None``
("the api is unavailable") so the action can answer politely. Nothing the citizen
typed is logged: only the route, the status or the kind of error.

Connections are reused: one ``aiohttp.ClientSession`` per event loop (the action server
has one), whose idle connections are kept for less time than the api keeps them
(uvicorn: 5 s), so a request never goes out on a connection the api is closing. A GET
that meets a connection closed under it is sent once more on a fresh one.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from actions.settings import Settings

logger = logging.getLogger(__name__)

INTERNAL_TOKEN_HEADER = "X-Internal-Token"
#: Seconds an idle connection to the api is kept (below uvicorn's keep-alive of 5 s).
KEEPALIVE_SECONDS = 4.0

_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)


def _session() -> aiohttp.ClientSession:
    """The session of the running event loop, made on first use."""
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=KEEPALIVE_SECONDS)
        )
        _sessions[loop] = session
    return session


@dataclass(frozen=True)
class SearchOutcome:
    """What ``GET /api/search`` answered."""

    results: list[dict[str, Any]] = field(default_factory=list)
    clarify: dict[str, Any] | None = None
    #: The results are only the nearest of a crowd: nothing relevant was found.
    low_confidence: bool = False


class FormsApiClient:
    """Calls the api over HTTP on the event loop's shared session (kept-alive connections)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._timeout = aiohttp.ClientTimeout(
            total=settings.timeout, connect=settings.connect_timeout
        )

    def _headers(self) -> dict[str, str]:
        token = self._settings.internal_token
        return {INTERNAL_TOKEN_HEADER: token} if token else {}

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> tuple[int, Any] | None:
        """``(status, json body or None)``, or None when the api could not be reached."""
        url = f"{self._settings.api_url}{path}"
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        attempts = 2 if method == "GET" else 1  # a POST is never sent twice
        for attempt in range(1, attempts + 1):
            try:
                async with _session().request(
                    method,
                    url,
                    params=query,
                    json=payload,
                    headers=self._headers(),
                    timeout=self._timeout,
                ) as response:
                    body: Any = None
                    if response.content_type == "application/json":
                        body = await response.json()
                    return response.status, body
            except aiohttp.ServerDisconnectedError as exc:
                if attempt < attempts:
                    continue  # a kept-alive connection closed under us: once more, fresh
                logger.warning("api %s %s failed: %s", method, path, type(exc).__name__)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                logger.warning("api %s %s failed: %s", method, path, type(exc).__name__)
                return None
        return None

    async def search(
        self,
        query: str,
        *,
        k: int,
        lang: str | None = None,
        department: str | None = None,
        topic: str | None = None,
        sender: str | None = None,
    ) -> SearchOutcome | None:
        """Search the catalogue; None when the api is unavailable or answered an error."""
        params = {
            "q": query,
            "k": k,
            "lang": lang,
            "department": department,
            "topic": topic,
            "sender": sender,
        }
        answer = await self._request("GET", "/api/search", params=params)
        if answer is None:
            return None
        status, body = answer
        if status != 200 or not isinstance(body, dict):
            logger.warning("api GET /api/search answered %s", status)
            return None
        results = [r for r in body.get("results") or [] if isinstance(r, dict) and r.get("id")]
        clarify = body.get("clarify") if isinstance(body.get("clarify"), dict) else None
        return SearchOutcome(
            results=results, clarify=clarify, low_confidence=body.get("low_confidence") is True
        )

    async def get_form(self, entry_id: str) -> dict[str, Any] | None:
        """One catalogue entry; None when unknown (404) or the api is unavailable."""
        answer = await self._request("GET", f"/api/forms/{quote(entry_id, safe='')}")
        if answer is None:
            return None
        status, body = answer
        if status != 200 or not isinstance(body, dict):
            if status != 404:
                logger.warning("api GET /api/forms answered %s", status)
            return None
        return body

    async def get_forms(self, entry_ids: list[str]) -> list[dict[str, Any]] | None:
        """The entries that exist, in order; None when the api is unavailable for all."""
        if not entry_ids:
            return []
        found = await asyncio.gather(*(self.get_form(i) for i in entry_ids))
        entries = [e for e in found if e is not None]
        if not entries and not await self.is_up():
            return None
        return entries

    async def is_up(self) -> bool:
        """Whether the api answers at all (``GET /healthz``)."""
        answer = await self._request("GET", "/healthz")
        return answer is not None and answer[0] == 200

    async def create_handoff(self, payload: dict[str, Any]) -> str | None:
        """``POST /api/internal/handoffs``; the case reference, or None on failure."""
        answer = await self._request("POST", "/api/internal/handoffs", payload=payload)
        if answer is None:
            return None
        status, body = answer
        if status not in (200, 201) or not isinstance(body, dict) or not body.get("reference"):
            logger.warning("api POST /api/internal/handoffs answered %s", status)
            return None
        return str(body["reference"])

    async def send_feedback(self, payload: dict[str, Any]) -> bool:
        """``POST /api/internal/feedback``; whether it was recorded."""
        answer = await self._request("POST", "/api/internal/feedback", payload=payload)
        if answer is None:
            return False
        if answer[0] not in (200, 201):
            logger.warning("api POST /api/internal/feedback answered %s", answer[0])
            return False
        return True
