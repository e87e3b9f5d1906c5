"""Helpers to build the api for tests: settings on a temporary database, a stand-in for
Rasa's HTTP answers (unit tests of the proxy only; the integration and browser tests run
the real Rasa), and the real search index loaded once per session."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.settings import Settings
from api.stack import free_port

TEST_SECRETS = {
    "rasa_token": "test-rasa-token-0123456789abcdef",
    "internal_api_token": "test-internal-token-0123456789abcdef",
    "session_secret": "test-session-secret-0123456789abcdef",
}
INTERNAL_HEADERS = {"X-Internal-Token": TEST_SECRETS["internal_api_token"]}


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings of a test app: its own SQLite file, Rasa and actions on closed ports (so
    nothing answers unless a test says so), no rate limit, no index loading."""
    values: dict[str, Any] = {
        **TEST_SECRETS,
        "database_url": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "rasa_url": f"http://127.0.0.1:{free_port()}",
        "actions_url": f"http://127.0.0.1:{free_port()}",
        "rate_limit_per_minute": 0,
        "load_index_on_startup": False,
        "cors_origins": ["https://www.example.gov.hk"],
        "readiness_timeout": 1.0,
    }
    values.update(overrides)
    return Settings(**values)


Responder = Callable[[dict[str, Any]], httpx.Response]


@dataclass
class FakeRasa:
    """Answers like Rasa's REST channel and ``/status``; records the turns it got."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    status_code: int = 200
    turns: list[dict[str, Any]] = field(default_factory=list)
    responder: Responder | None = None
    #: The action server's ``/health`` answers (False: the connection is refused).
    actions_up: bool = True

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "models/rasa/test.tar.gz"})
        if request.url.path == "/health":
            if not self.actions_up:
                raise httpx.ConnectError("connection refused", request=request)
            return httpx.Response(200, json={"status": "ok"})
        body = json.loads(request.content)
        self.turns.append(body)
        if self.responder is not None:
            return self.responder(body)
        return httpx.Response(self.status_code, json=self.replies)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
