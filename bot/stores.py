"""Rasa's own SQL tracker store and lock stores, configured from the environment.

Rasa 3.6 expands ``${VAR}`` in ``endpoints.yml`` (``os.path.expandvars`` through a
YAML resolver), but it has no default syntax: an unset variable is a start-up error
("Error when trying to expand the environment variables"). So that ``rasa run``
works with no environment at all (SQLite under ``var/rasa/``, in-memory locks) and
a deployment switches to PostgreSQL and Redis by environment only, ``endpoints.yml``
names these two classes and they read the variables below, falling back to the
values written in ``endpoints.yml``. Nothing here is home-made storage: the
tracker store *is* ``SQLTrackerStore`` and the lock store factory returns Rasa's
``InMemoryLockStore`` or ``RedisLockStore``.

Tracker store (``RASA_TRACKER_*``): ``DIALECT`` (``sqlite`` | ``postgresql``), ``URL``
(host, ``host:port`` or a full SQLAlchemy URL), ``DB`` (SQLite file, relative to the
project root, or database name), ``USER``, ``PASSWORD``, ``PORT``, ``LOGIN_DB``.

Lock store (``RASA_LOCK_*``): ``STORE`` (``in_memory`` | ``redis``), ``URL`` (host),
``PORT``, ``DB``, ``PASSWORD``, ``KEY_PREFIX``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: Any = None) -> Any:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def tracker_store_settings(configured: dict[str, Any]) -> dict[str, Any]:
    """Merge ``endpoints.yml`` values with ``RASA_TRACKER_*``; the environment wins."""
    dialect = _env("RASA_TRACKER_DIALECT", configured.get("dialect", "sqlite"))
    db = _env("RASA_TRACKER_DB", configured.get("db", "var/rasa/tracker.db"))
    if dialect == "sqlite":
        path = Path(db)
        if not path.is_absolute():
            path = PROJECT_ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        db = str(path)
    port = _env("RASA_TRACKER_PORT", configured.get("port"))
    return {
        "dialect": dialect,
        "host": _env("RASA_TRACKER_URL", configured.get("host")),
        "port": int(port) if port not in (None, "") else None,
        "db": db,
        "username": _env("RASA_TRACKER_USER", configured.get("username")),
        "password": _env("RASA_TRACKER_PASSWORD", configured.get("password")),
        "login_db": _env("RASA_TRACKER_LOGIN_DB", configured.get("login_db")),
    }


class EnvSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose connection comes from ``RASA_TRACKER_*`` when set."""

    def __init__(self, domain: Any = None, event_broker: Any = None, **kwargs: Any) -> None:
        settings = tracker_store_settings(kwargs)
        for key in settings:
            kwargs.pop(key, None)
        logger.info(
            "Tracker store: SQL, dialect %s, database %s",
            settings["dialect"],
            settings["db"] if settings["dialect"] == "sqlite" else "(from environment)",
        )
        super().__init__(domain=domain, event_broker=event_broker, **settings, **kwargs)


class EnvLockStore:
    """Factory for Rasa's lock stores: ``RASA_LOCK_STORE=redis`` gives ``RedisLockStore``.

    Rasa instantiates a custom lock store type as ``cls(endpoint_config=...)``;
    ``__new__`` returns one of Rasa's own classes, so nothing here locks anything.
    """

    def __new__(cls, endpoint_config: EndpointConfig | None = None) -> LockStore:  # type: ignore[misc]
        configured = dict(endpoint_config.kwargs) if endpoint_config else {}
        kind = _env("RASA_LOCK_STORE", configured.pop("store", "in_memory"))
        if kind == "in_memory":
            logger.info("Lock store: in memory")
            return InMemoryLockStore()
        if kind != "redis":
            raise ValueError(f"RASA_LOCK_STORE must be 'in_memory' or 'redis', not {kind!r}")
        host = _env("RASA_LOCK_URL", (endpoint_config.url if endpoint_config else None))
        logger.info("Lock store: Redis")
        return RedisLockStore(
            host=host or "localhost",
            port=int(_env("RASA_LOCK_PORT", configured.get("port", 6379))),
            db=int(_env("RASA_LOCK_DB", configured.get("db", 1))),
            password=_env("RASA_LOCK_PASSWORD", configured.get("password")),
            key_prefix=_env("RASA_LOCK_KEY_PREFIX", configured.get("key_prefix")),
        )
