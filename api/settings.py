"""Settings of the api, read from the environment (``Settings()``; names are case-insensitive).

Extends :class:`forms_index.settings.IndexSettings` so every setting has one home. Secrets
(``RASA_TOKEN``, ``INTERNAL_API_TOKEN``, ``SESSION_SECRET``) have no default: the launcher
(``python -m api.stack``) generates random ones per run when none are set, and the api
refuses to start without them or with a placeholder value.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from forms_index.settings import PROJECT_ROOT, IndexSettings

#: Values refused for any secret: obvious placeholders copied from examples.
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "password", "token", "xxx", "test"}
)
MIN_SECRET_LENGTH = 16


def _check_secret(value: SecretStr) -> SecretStr:
    raw = value.get_secret_value()
    if raw.strip().lower() in PLACEHOLDER_SECRETS or len(raw) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"must be a random value of at least {MIN_SECRET_LENGTH} characters, not a placeholder"
        )
    return value


class Settings(IndexSettings):
    """Everything the api (and the launcher) needs, with safe defaults except for secrets."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    # --- where the api listens -------------------------------------------------------------
    #: Interface of the api; 127.0.0.1 by default (put a reverse proxy in front to publish it).
    api_host: str = "127.0.0.1"
    #: Port of the api (``API_PORT``).
    api_port: int = Field(default=8000, ge=1, le=65535)

    # --- Rasa and the action server (never public) -----------------------------------------
    #: Base URL of Rasa's HTTP server (REST channel at ``/webhooks/rest/webhook``).
    rasa_url: str = "http://127.0.0.1:5005"
    #: Token of Rasa's HTTP API (``rasa run --auth-token``); used for ``/status`` in readiness.
    rasa_token: SecretStr
    #: Base URL of the action server (``/health`` is checked by ``/readyz``).
    actions_url: str = "http://127.0.0.1:5055"
    #: Seconds to connect to Rasa; a chat turn fails fast (503) when Rasa is down.
    rasa_connect_timeout: float = Field(default=2.0, gt=0)
    #: Seconds for a whole chat turn (Rasa, its actions and our search).
    rasa_timeout: float = Field(default=20.0, gt=0)
    #: Seconds for each dependency check of ``/readyz``.
    readiness_timeout: float = Field(default=2.0, gt=0)

    # --- secrets ------------------------------------------------------------------------------
    #: Shared with the action server: header ``X-Internal-Token`` on ``/api/internal/*``.
    internal_api_token: SecretStr
    #: Signs staff sessions (staff login builds on it).
    session_secret: SecretStr

    # --- storage ------------------------------------------------------------------------------
    #: App database (handoffs, feedback, search log, conversation state); any SQLAlchemy URL.
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'app.sqlite3'}"
    #: Run the Alembic migrations at start-up (turn off when set-up runs them, e.g. many workers).
    database_migrate_on_startup: bool = True
    #: Load the encoder and the current index at start-up (off only for tests of the api shell).
    load_index_on_startup: bool = True

    # --- public-route safety -------------------------------------------------------------------
    #: Requests per minute per client on ``/api/chat`` and ``/api/search``; 0 turns it off.
    rate_limit_per_minute: int = Field(default=30, ge=0)
    #: Use the first address of ``X-Forwarded-For`` as the client (only behind a trusted proxy).
    trust_forwarded_for: bool = False
    #: Longest chat message accepted, in characters (longer: 413 with a clear message).
    max_message_chars: int = Field(default=1000, ge=1)
    #: Largest request body accepted on the public routes, in bytes (larger: 413).
    max_body_bytes: int = Field(default=16_384, ge=256)
    #: Longest search query accepted, in characters.
    max_query_chars: int = Field(default=300, ge=1)
    #: Largest ``k`` of ``/api/search``.
    search_max_k: int = Field(default=20, ge=1, le=100)
    #: Origins allowed to call the api from a browser (sites embedding the widget);
    #: comma-separated or a JSON list. Empty: same-origin only.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- staff (agent console, content admin; docs/staff.md) -----------------------------------
    #: A staff session ends after this many minutes without a request...
    staff_session_idle_minutes: int = Field(default=30, ge=1)
    #: ...and at the latest this many hours after login.
    staff_session_max_hours: int = Field(default=12, ge=1)
    #: ``Secure`` flag of the session cookie: unset = when the request came over https.
    session_cookie_secure: bool | None = None
    #: Failed logins for one username (in the window) before each attempt must wait.
    login_max_failures: int = Field(default=5, ge=1)
    #: Failed logins from one client address (in the window) before each attempt must wait.
    login_client_max_failures: int = Field(default=20, ge=1)
    #: Minutes over which failed logins are counted.
    login_failure_window_minutes: int = Field(default=15, ge=1)
    #: Longest wait imposed between attempts (the wait doubles with each further failure).
    login_max_delay_seconds: int = Field(default=900, ge=1)
    #: Shortest staff password accepted by ``python -m api.users``.
    staff_password_min_length: int = Field(default=12, ge=8)
    #: Largest catalogue upload (bytes) on ``POST /api/admin/catalogue``.
    admin_max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    #: Index versions kept for rollback after a publish (the current one is never removed).
    publish_keep_versions: int = Field(default=10, ge=2)
    #: A publish job whose build process has not reported for this many seconds is failed.
    publish_stale_seconds: float = Field(default=60.0, gt=0)

    # --- scaling out (docs/scaling.md) -------------------------------------------------------
    #: Several Rasa processes (comma-separated or a JSON list of base URLs); each sender is
    #: kept on one of them, the next one taking over only while it cannot be reached.
    #: Empty: ``RASA_URL`` alone.
    rasa_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Seconds an api worker skips a Rasa process that refused a connection.
    rasa_down_seconds: float = Field(default=5.0, gt=0)
    #: uvicorn worker processes of ``python -m api`` (they share the port).
    api_workers: int = Field(default=1, ge=1, le=64)
    #: Seconds a worker may take to answer uvicorn's liveness ping before it is killed and
    #: replaced (uvicorn's 5 s kills workers that are busy loading the model on a loaded
    #: machine, over and over).
    api_worker_healthcheck_seconds: int = Field(default=60, ge=1)
    #: Seconds between two looks at the index's ``current`` pointer (every worker follows a
    #: publish made by another); 0 turns the watcher off.
    index_watch_seconds: float = Field(default=1.0, ge=0)
    #: Redis URL of the rate limit shared by every worker (e.g. ``redis://127.0.0.1:6379/0``);
    #: empty: each worker counts on its own.
    rate_limit_redis_url: str = ""
    #: Prefix of the rate limit's Redis keys (several deployments may share one Redis).
    rate_limit_redis_prefix: str = "forms:ratelimit:"
    #: Seconds the rate limit waits for Redis before counting per process instead.
    rate_limit_redis_timeout: float = Field(default=0.5, gt=0)
    #: Seconds to connect to a PostgreSQL app database (a chat turn never waits longer).
    database_connect_timeout: int = Field(default=3, ge=1)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip().rstrip("/") for part in text.split(",") if part.strip()]
        return value

    @field_validator("rasa_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                value = json.loads(text)
            else:
                value = text.split(",")
        if isinstance(value, list):
            return [str(v).strip().rstrip("/") for v in value if str(v).strip()]
        return value

    @property
    def chat_rasa_urls(self) -> list[str]:
        """The Rasa processes chat turns go to: ``RASA_URLS``, else ``RASA_URL``."""
        return self.rasa_urls or [self.rasa_url]

    @field_validator("rasa_token", "internal_api_token", "session_secret")
    @classmethod
    def _no_placeholder(cls, value: SecretStr) -> SecretStr:
        return _check_secret(value)

    @field_validator("rasa_url", "actions_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")
