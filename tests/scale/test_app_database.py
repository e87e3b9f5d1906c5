"""The app database on PostgreSQL (the machine's server, a fresh database): Alembic's
migrations apply there, several api processes starting at once migrate it exactly once (an
advisory lock), and a restart of the server costs no failed request (pooled connections are
pinged before use)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from api.db import Database
from api.stack import PROJECT_ROOT
from tests.support.servers import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    ThrowawayServer,
    pg_url,
    require_local_pg,
    scratch_databases,
)

pytestmark = pytest.mark.scale


@pytest.fixture
def app_url() -> Iterator[str]:
    require_local_pg()
    with scratch_databases("app") as (name,):
        yield pg_url(name, host=PG_HOST, port=PG_PORT, user=PG_USER)


def test_processes_starting_together_migrate_once(app_url: str) -> None:
    migrations = [
        subprocess.Popen(
            [sys.executable, "-m", "api.migrate", "--url", app_url],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [(m.wait(120), m.stdout.read().decode() if m.stdout else "") for m in migrations]
    assert all(code == 0 for code, _ in outputs), outputs
    db = Database(app_url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert {"handoffs", "feedback", "search_log", "conversation_state"} <= tables
        with db.engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert len(versions) == 1
    finally:
        db.close()


def test_a_restarted_server_costs_no_failed_request(throwaway_postgres: ThrowawayServer) -> None:
    url = pg_url("app", host="127.0.0.1", port=throwaway_postgres.port, user="postgres")
    db = Database(url, connect_timeout=2)
    try:
        db.migrate()
        with db.session() as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
        throwaway_postgres.stop()
        with pytest.raises(OperationalError), db.session() as session:  # down: fails fast
            session.execute(text("SELECT 1"))
        throwaway_postgres.start()
        with psycopg.connect(
            host="127.0.0.1", port=throwaway_postgres.port, user="postgres", dbname="app"
        ):
            pass
        with db.session() as session:  # the stale pooled connection is replaced
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        db.close()
