"""Fixtures of the scale tests (docs/scaling.md): the machine's PostgreSQL and Redis (a fresh
database and key prefix per module), throwaway servers that a test may stop, and the
scaled-out stack. Everything skips with the reason when a server is not reachable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.scaled import Backends
from tests.support.servers import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    REDIS_HOST,
    REDIS_PORT,
    ThrowawayServer,
    require_local_pg,
    require_local_redis,
    scratch_databases,
    start_throwaway_postgres,
    start_throwaway_redis,
)


@pytest.fixture(scope="module")
def local_backends() -> Iterator[Backends]:
    """The machine's PostgreSQL (two fresh databases, dropped afterwards) and Redis (Rasa's
    locks under a key prefix of this run, the rate limit in database 14)."""
    require_local_pg()
    require_local_redis()
    with scratch_databases("app", "rasa") as (app_db, tracker_db):
        yield Backends(
            pg_host=PG_HOST,
            pg_port=PG_PORT,
            pg_user=PG_USER,
            app_db=app_db,
            tracker_db=tracker_db,
            redis_host=REDIS_HOST,
            redis_port=REDIS_PORT,
            redis_rate_db=14,
        )


@pytest.fixture(scope="module")
def throwaway_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayServer]:
    server = start_throwaway_postgres(tmp_path_factory.mktemp("pg"), ("app", "rasa"))
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def throwaway_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayServer]:
    server = start_throwaway_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scaled")
