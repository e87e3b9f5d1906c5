"""The scaled-out system for the scale tests: ``api.stack.Stack`` (the launcher behind
``make run-scaled``) with several Rasa processes and api workers on free ports, Rasa's
tracker store and the app database on a PostgreSQL, the lock store and the rate limit on a
Redis, and an index folder of its own (a copy of the project's current version: no build).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from api.stack import PROJECT_ROOT, Stack, StackConfig, free_port, latest_rasa_model
from forms_index.artifacts import IndexStore, new_version_name
from forms_index.settings import IndexSettings

READY_TIMEOUT = float(os.environ.get("STACK_READY_TIMEOUT", "400"))


@dataclass
class Backends:
    """Where the stack keeps its state: PostgreSQL (app database, tracker database) and
    Redis (lock store database and key prefix, rate-limit URL)."""

    pg_host: str
    pg_port: int
    app_db: str
    tracker_db: str
    redis_port: int
    redis_lock_db: int = 1
    redis_rate_db: int = 0
    pg_user: str = "postgres"
    redis_host: str = "127.0.0.1"
    lock_prefix: str = field(default_factory=lambda: f"scale{uuid.uuid4().hex[:8]}")

    @property
    def app_url(self) -> str:
        return f"postgresql+psycopg://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.app_db}"

    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.app_url,
            "RASA_TRACKER_DIALECT": "postgresql",
            "RASA_TRACKER_URL": self.pg_host,
            "RASA_TRACKER_PORT": str(self.pg_port),
            "RASA_TRACKER_USER": self.pg_user,
            "RASA_TRACKER_DB": self.tracker_db,
            "RASA_LOCK_STORE": "redis",
            "RASA_LOCK_URL": self.redis_host,
            "RASA_LOCK_PORT": str(self.redis_port),
            "RASA_LOCK_DB": str(self.redis_lock_db),
            "RASA_LOCK_KEY_PREFIX": self.lock_prefix,
            "RATE_LIMIT_REDIS_URL": (
                f"redis://{self.redis_host}:{self.redis_port}/{self.redis_rate_db}"
            ),
        }


@dataclass
class ScaledStack:
    stack: Stack
    backends: Backends
    var_dir: Path
    index_dir: Path

    @property
    def config(self) -> StackConfig:
        return self.stack.config

    @property
    def url(self) -> str:
        return self.config.api_url

    @property
    def token(self) -> str:
        return self.stack.secrets["RASA_TOKEN"]

    def stop(self) -> None:
        self.stack.stop()

    # -- the api's worker processes ---------------------------------------------------------
    def api_workers(self) -> list[int]:
        """PIDs of uvicorn's worker processes (children of the api's supervisor)."""
        pid = self.stack.pids()["api"]
        try:
            children = psutil.Process(pid).children()
        except psutil.NoSuchProcess:
            return []
        return sorted(c.pid for c in children if "resource_tracker" not in " ".join(c.cmdline()))

    def api_log(self) -> str:
        path = self.config.log_dir / "api.log" if self.config.log_dir else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def add_api_worker(self) -> None:
        """uvicorn's supervisor starts one more worker on SIGTTIN."""
        os.kill(self.stack.pids()["api"], signal.SIGTTIN)

    def remove_api_worker(self) -> None:
        os.kill(self.stack.pids()["api"], signal.SIGTTOU)

    # -- Rasa --------------------------------------------------------------------------------
    def rasa_tracker(self, sender: str, url: str | None = None) -> dict[str, Any]:
        response = httpx.get(
            f"{url or self.config.rasa_url}/conversations/{sender}/tracker",
            params={"token": self.token},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def stored_events(self, sender: str) -> list[dict[str, Any]]:
        """Every event of ``sender`` in the tracker store (all sessions), in stored order."""
        import psycopg

        b = self.backends
        with psycopg.connect(
            host=b.pg_host, port=b.pg_port, user=b.pg_user, dbname=b.tracker_db
        ) as conn:
            rows = conn.execute(
                "SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,)
            ).fetchall()
        return [json.loads(data) for (data,) in rows]

    # -- index versions ----------------------------------------------------------------------
    def publish_copy(self) -> str:
        """A new complete version (a copy of the current one under a new name, built the way
        the publish job builds: scratch folder renamed into place), made current with
        ``IndexStore.set_current`` as the publish job does. Returns its name."""
        store = IndexStore(self.index_dir)
        source = store.current_path()
        version = new_version_name(uuid.uuid4().hex)
        with store.building(version) as scratch:
            for item in source.iterdir():
                if item.is_file():
                    shutil.copy2(item, scratch / item.name)
        store.set_current(version)
        return version


def require_built_project() -> None:
    if latest_rasa_model(PROJECT_ROOT / "models" / "rasa") is None:
        pytest.skip("no trained Rasa model under models/rasa: run `make setup`")
    if not (PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa").exists():
        pytest.skip(".venv-rasa is missing: run `make setup`")
    if IndexStore(IndexSettings().index_dir).current_version() is None:
        pytest.skip("no index built under var/index: run `make setup`")


def copy_current_index(var_dir: Path) -> Path:
    """An index folder holding a copy of the project's current version (no rebuild)."""
    source = IndexStore(IndexSettings().index_dir).current_path()
    index_dir = var_dir / "index"
    shutil.copytree(source, index_dir / source.name, ignore=shutil.ignore_patterns(".*"))
    (index_dir / "current").write_text(source.name + "\n", encoding="utf-8")
    return index_dir


def start_scaled_stack(
    var_dir: Path,
    backends: Backends,
    *,
    rasa_processes: int = 2,
    api_workers: int = 2,
    env: dict[str, str] | None = None,
) -> ScaledStack:
    """Start the scaled system and wait until the api and every Rasa process are ready."""
    require_built_project()
    index_dir = copy_current_index(var_dir)
    config = StackConfig(
        var_dir=var_dir,
        api_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        extra_rasa_ports=[free_port() for _ in range(rasa_processes - 1)],
        api_workers=api_workers,
        log_dir=var_dir / "logs",
        env={
            **backends.env(),
            "INDEX_DIR": str(index_dir),
            "RATE_LIMIT_PER_MINUTE": "100000",
            "INDEX_WATCH_SECONDS": "1",
            **(env or {}),
        },
    )
    stack = Stack(config)
    started = time.monotonic()
    try:
        stack.start()
        stack.wait_ready(READY_TIMEOUT)
        stack.wait_rasa_ready(READY_TIMEOUT)
    except BaseException:
        stack.stop()
        raise
    print(f"scaled stack ready in {time.monotonic() - started:.0f} s")
    return ScaledStack(stack=stack, backends=backends, var_dir=var_dir, index_dir=index_dir)
