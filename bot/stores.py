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
``PORT``, ``DB``, ``PASSWORD``, ``KEY_PREFIX``, ``SOCKET_TIMEOUT`` (seconds, Rasa's 10 by
default).

On a server (PostgreSQL) the tracker store's connections are checked before use
(``pool_pre_ping``: after the server restarts the next turn reconnects instead of failing)
and connecting gives up after ``RASA_TRACKER_CONNECT_TIMEOUT`` seconds (5).

A turn whose tracker cannot be read or written fails visibly. Rasa wraps every tracker
store in ``FailSafeTrackerStore``, which on an error answers the turn from an *empty*
conversation (slots lost) and keeps it in memory — and if the server comes back between
the failed read and the save, ``SQLTrackerStore.save`` appends part of that made-up
conversation to the real one (it stores the events beyond the count already stored). Here
the store notes the failure on the current turn (:func:`turn_state`, set by
``bot.channels.FailureAwareRestInput`` for each request), never writes a tracker made up
after a failed read, and the channel answers with a ``turn_failed`` marker, so the api
answers its polite 503 and the widget sends the message again once the database is back.
"""

from __future__ import annotations

import contextvars
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class TurnState:
    """What went wrong with the stores during one REST request (one turn)."""

    tracker_read_failed: bool = False
    tracker_write_failed: bool = False

    @property
    def failed(self) -> bool:
        return self.tracker_read_failed or self.tracker_write_failed


#: The turn being handled in this asyncio task (set by the REST channel per request).
_TURN: contextvars.ContextVar[TurnState | None] = contextvars.ContextVar("turn", default=None)


def start_turn() -> TurnState:
    """A fresh state for the request handled by the current task."""
    state = TurnState()
    _TURN.set(state)
    return state


def turn_state() -> TurnState | None:
    return _TURN.get()


class TrackerNotWritten(RuntimeError):
    """A tracker made up after a failed read is never written over the stored one."""


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


def _sqlite_fast_engine(url: Any) -> Any:
    """An engine on the same SQLite file in WAL mode with ``synchronous=NORMAL``, as the app
    database (api/db.py), whose connections stay open in a pool. Rasa's own engine opens a
    connection per session (SQLAlchemy 1.4's ``NullPool`` for SQLite files) and, with the
    default rollback journal, every turn's commit waits for the disk: under ``make bench``
    those fsyncs were 11 % of Rasa's time (BENCHMARKS.md), four per turn. Here a commit does
    not wait for the disk and checkpoints happen as SQLite schedules them. A crash of Rasa
    loses nothing; a power cut may lose the last turns, never the file."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import QueuePool

    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=2,
        max_overflow=8,
        connect_args={"check_same_thread": False},
    )

    def pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    event.listen(engine, "connect", pragmas)
    return engine


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
        if settings["dialect"] == "sqlite":
            from sqlalchemy.orm import sessionmaker

            rasas_own, self.engine = self.engine, _sqlite_fast_engine(self.engine.url)
            self.sessionmaker = sessionmaker(bind=self.engine)
            rasas_own.dispose()
        if self.engine.dialect.name == "postgresql":
            self._harden_engine()

    def _harden_engine(self) -> None:
        """Rasa's engine, plus ``pool_pre_ping`` and a connect timeout (Rasa sets neither)."""
        import sqlalchemy as sa
        from rasa.core.tracker_store import create_engine_kwargs

        url = self.engine.url
        kwargs: dict[str, Any] = create_engine_kwargs(url)  # pool size, schema: Rasa's env
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("connect_timeout", int(_env("RASA_TRACKER_CONNECT_TIMEOUT", 5)))
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> Any:
        try:
            return await super().retrieve(sender_id)
        except Exception:
            self._note(read=True)
            raise

    async def retrieve_full_tracker(self, conversation_id: str) -> Any:
        try:
            return await super().retrieve_full_tracker(conversation_id)
        except Exception:
            self._note(read=True)
            raise

    async def save(self, tracker: Any) -> None:
        state = turn_state()
        if state is not None and state.tracker_read_failed:
            raise TrackerNotWritten(
                f"the tracker of this turn could not be read; not writing {tracker.sender_id}"
            )
        try:
            await super().save(tracker)
        except Exception:
            self._note(read=False)
            raise

    @staticmethod
    def _note(*, read: bool) -> None:
        state = turn_state()
        if state is None:
            return
        if read:
            state.tracker_read_failed = True
        else:
            state.tracker_write_failed = True


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
            socket_timeout=float(
                _env("RASA_LOCK_SOCKET_TIMEOUT", configured.get("socket_timeout", 10))
            ),
        )
