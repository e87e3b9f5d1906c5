"""The app database: engine, sessions and migrations (Alembic, run at start-up or by set-up).

SQLite under ``var/`` by default; any SQLAlchemy URL works (PostgreSQL when scaled out).
The api uses it from worker threads only (sync SQLAlchemy), never on the event loop.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: PostgreSQL advisory lock held while migrating (any fixed number unique to this app).
MIGRATION_LOCK_KEY = 1823_0007


def make_engine(url: str, connect_timeout: int = 3) -> Engine:
    """An engine for ``url``; for SQLite, the folder is created and WAL mode turned on so
    readers and the writer of several processes do not block each other. For a server
    (PostgreSQL), pooled connections are checked before use (``pool_pre_ping``: after the
    server restarts, the next request reconnects instead of failing) and connecting gives up
    after ``connect_timeout`` seconds."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            url, pool_pre_ping=True, connect_args={"connect_timeout": connect_timeout}
        )
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's config interpolates "%": a URL-encoded password or socket path needs "%%".
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if missing) between processes of this machine."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_migration_lock(engine: Engine) -> AbstractContextManager[None]:
    """For a SQLite file, a lock file beside it: several api workers starting at once on a
    fresh file would otherwise each try to create the schema (``table already exists``)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return nullcontext()
    return _file_lock(Path(database + ".migrate-lock"))


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent; safe when several processes start at
    once: PostgreSQL through an advisory lock, a SQLite file through a lock file)."""
    cfg = alembic_config(engine)
    with _sqlite_migration_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several api workers or machines may start at once: one migrates, the others
            # wait for it here and then find nothing to do.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    log.info("app database at revision %s", revision)


class Database:
    """Engine and session factory of the app database."""

    def __init__(self, url: str, connect_timeout: int = 3) -> None:
        self.engine = make_engine(url, connect_timeout)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except Exception:
                session.rollback()
                raise

    def migrate(self) -> None:
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()
