"""Settings of the action server, read from the environment once (the entry point)."""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Settings:
    """Where the api is and how long to wait for it."""

    #: Base URL of the api (``FORMS_API_URL``; the launcher's ``API_URL`` is accepted too).
    api_url: str = DEFAULT_API_URL
    #: Sent as ``X-Internal-Token`` (docs/contracts.md §5); None when not configured.
    internal_token: str | None = None
    #: Seconds for one api call, connection included.
    timeout: float = 5.0
    #: Seconds to establish the connection.
    connect_timeout: float = 2.0
    #: Results per page of cards.
    page_size: int = 5
    #: Results asked for when narrowing by department or paging (the api's SEARCH_MAX_K).
    max_results: int = 20
    #: Longest query sent to search (the api's MAX_QUERY_CHARS refuses longer ones).
    max_query_chars: int = 300

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        token = env.get("INTERNAL_API_TOKEN") or None
        if token is None:
            logger.warning("INTERNAL_API_TOKEN is not set: handoffs and feedback will be refused")
        return cls(
            api_url=(env.get("FORMS_API_URL") or env.get("API_URL") or DEFAULT_API_URL).rstrip("/"),
            internal_token=token,
            timeout=float(env.get("FORMS_API_TIMEOUT", cls.timeout)),
            connect_timeout=float(env.get("FORMS_API_CONNECT_TIMEOUT", cls.connect_timeout)),
        )


@functools.cache
def get_settings() -> Settings:
    """The settings of this process (read on first use, not at import)."""
    return Settings.from_env()
