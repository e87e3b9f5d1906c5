"""App database: the Alembic migrations create what the storage models describe."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from api import repository
from api.db import Database
from api.stack import PROJECT_ROOT
from api.storage import Base


def test_migrations_match_models_and_are_idempotent(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sub' / 'app.sqlite3'}")
    db.migrate()
    db.migrate()
    assert set(inspect(db.engine).get_table_names()) >= {
        "handoffs",
        "feedback",
        "search_log",
        "conversation_state",
        "alembic_version",
    }
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sender_state_roundtrip(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.sqlite3'}")
    db.migrate()
    assert repository.get_sender_state(db, "w-1") == repository.SenderState(None, None)
    repository.remember_sender(db, "w-1", "hans", "zh")
    repository.remember_sender(db, "w-1", "hant", None)
    assert repository.get_sender_state(db, "w-1") == repository.SenderState("hant", None)


def test_handoff_references_are_unique(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.sqlite3'}")
    db.migrate()
    refs = {
        repository.create_handoff(
            db, sender="w", language="en", reason="requested", transcript=[], searches=[]
        )
        for _ in range(20)
    }
    assert len(refs) == 20


def test_migrate_entry_point(tmp_path: Path) -> None:
    from api.migrate import main

    url = f"sqlite:///{tmp_path / 'm' / 'app.sqlite3'}"
    assert main(["--url", url]) == 0
    assert "handoffs" in inspect(Database(url).engine).get_table_names()


def test_migrations_accept_a_url_with_a_percent_sign(tmp_path: Path) -> None:
    """Alembic interpolates "%" in its config; a URL-encoded path or password must survive."""
    db = Database(f"sqlite:///{tmp_path / '50%off' / 'app.sqlite3'}")
    db.migrate()
    assert "handoffs" in inspect(db.engine).get_table_names()


def test_workers_starting_at_once_migrate_a_fresh_sqlite_file_once(tmp_path: Path) -> None:
    """Several api workers (``API_WORKERS``) migrate at start-up at the same moment: without
    the lock file, all but one failed on ``table alembic_version already exists``."""
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    start_at = time.time() + 4  # every process imported and waiting, then all at once
    code = (
        "import sys, time\n"
        "from api.db import Database\n"
        f"time.sleep(max(0.0, {start_at} - time.time()))\n"
        "Database(sys.argv[1]).migrate()\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=120)[0].decode()[-500:] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, outputs
    assert "handoffs" in inspect(Database(url).engine).get_table_names()
