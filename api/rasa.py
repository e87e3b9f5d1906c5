"""Client of Rasa's REST channel and HTTP API (one ``httpx.AsyncClient``, reused).

Turns every transport failure into :class:`RasaUnavailable`, so the chat route answers a
polite 503 instead of hanging or leaking a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer (down, timed out, or answered with an error)."""


class RasaUnreachable(RasaUnavailable):
    """No connection could be made: the turn certainly did not reach Rasa, so it may be
    sent to another Rasa process (``api.rasa_routing``)."""


#: Marker of a turn that raised inside Rasa (``bot.channels.FailureAwareRestInput``).
TURN_FAILED = "turn_failed"


class RasaClient:
    """Sends chat turns to Rasa's REST webhook and asks Rasa whether it is ready."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, timeout: float) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        return self._base

    async def send(self, sender: str, message: str, metadata: dict[str, Any]) -> list[dict]:
        """One turn: the bot messages Rasa's REST channel returns (a list of dicts)."""
        try:
            resp = await self._http.post(
                f"{self._base}/webhooks/rest/webhook",
                json={"sender": sender, "message": message, "metadata": metadata},
                timeout=httpx.Timeout(self._timeout, connect=self._http.timeout.connect),
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise RasaUnreachable(
                f"the assistant could not be reached ({type(exc).__name__})"
            ) from exc
        except httpx.TimeoutException as exc:
            raise RasaUnavailable("the assistant took too long to answer") from exc
        except httpx.HTTPError as exc:
            raise RasaUnavailable(
                f"the assistant could not be reached ({type(exc).__name__})"
            ) from exc
        if resp.status_code != 200:
            raise RasaUnavailable(f"the assistant answered with status {resp.status_code}")
        try:
            body = resp.json()
        except ValueError as exc:
            raise RasaUnavailable("the assistant answered with something that is not JSON") from exc
        if not isinstance(body, list):
            raise RasaUnavailable("the assistant answered in an unexpected shape")
        messages = [m for m in body if isinstance(m, dict)]
        if any(
            isinstance(m.get("custom"), dict) and m["custom"].get(TURN_FAILED) for m in messages
        ):
            # Rasa answers 200 even when the turn raised (e.g. its lock store is down).
            raise RasaUnavailable("the assistant could not complete the turn")
        return messages

    async def check(self) -> str:
        """'ok' when Rasa's HTTP API answers with a loaded model, else what is wrong."""
        try:
            resp = await self._http.get(f"{self._base}/status", params={"token": self._token})
        except httpx.HTTPError as exc:
            return f"unreachable ({type(exc).__name__})"
        if resp.status_code != 200:
            return f"status {resp.status_code}"
        try:
            model = resp.json().get("model_file")
        except (ValueError, AttributeError):
            return "unexpected answer"
        return "ok" if model else "no model loaded"


async def check_actions(http: httpx.AsyncClient, actions_url: str) -> str:
    """'ok' when the action server's ``/health`` answers, else what is wrong."""
    try:
        resp = await http.get(f"{actions_url.rstrip('/')}/health")
    except httpx.HTTPError as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok" if resp.status_code == 200 else f"status {resp.status_code}"
