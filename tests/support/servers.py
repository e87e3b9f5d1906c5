"""PostgreSQL and Redis for the scale tests.

- The machine's own servers (PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379, as on
  every development machine and in CI): a test gets its own database and its own Redis
  database number / key prefix there, and never stops or reconfigures them.
- Throwaway servers started from the installed binaries (``initdb`` + ``postgres``,
  ``redis-server``) on free ports, in a temporary folder, which a test may stop and start
  again (outage tests). Each is one child process, stopped by its PID; children also get
  ``PR_SET_PDEATHSIG`` so they die with the test run.

Everything skips with a clear reason when a server or a binary is not there.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from api.stack import free_port

PG_HOST = os.environ.get("SCALE_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SCALE_PG_PORT", "5432"))
PG_ADMIN_DB = os.environ.get("SCALE_PG_DB", "test")
PG_USER = os.environ.get("SCALE_PG_USER", "postgres")
REDIS_HOST = os.environ.get("SCALE_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("SCALE_REDIS_PORT", "6379"))
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# -- the machine's servers ------------------------------------------------------------------


def pg_url(database: str, *, host: str = PG_HOST, port: int = PG_PORT, user: str = PG_USER) -> str:
    """SQLAlchemy URL of the api (psycopg 3)."""
    return f"postgresql+psycopg://{user}@{host}:{port}/{database}"


def require_local_pg() -> None:
    """Skip unless the machine's PostgreSQL answers (trust auth, as on these machines)."""
    import psycopg

    try:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_ADMIN_DB, connect_timeout=3
        ):
            pass
    except psycopg.Error as exc:
        pytest.skip(
            f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT} (user {PG_USER}, database "
            f"{PG_ADMIN_DB}): {str(exc).strip().splitlines()[0]}"
        )


def require_local_redis() -> None:
    """Skip unless the machine's Redis answers PING."""
    import redis

    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT}: {exc}")


@contextlib.contextmanager
def scratch_databases(*suffixes: str) -> Iterator[list[str]]:
    """Fresh databases on the machine's PostgreSQL (dropped afterwards)."""
    import psycopg

    base = f"scale_{uuid.uuid4().hex[:10]}"
    names = [f"{base}_{s}" for s in suffixes]
    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_ADMIN_DB, autocommit=True
    ) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield names
    finally:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_ADMIN_DB, autocommit=True
        ) as conn:
            for name in names:
                with contextlib.suppress(psycopg.Error):
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- throwaway servers ------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian layout), or one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


@dataclass
class ThrowawayServer:
    """One server process we started and may stop and start again."""

    name: str
    port: int
    argv: list[str]
    log_file: Path
    user: str | None = None
    #: A folder of its own to remove when done (the data directory of a PostgreSQL).
    scratch: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def _preexec(self) -> None:  # pragma: no cover - runs between fork and exec
        _die_with_parent()
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)

    def start(self, timeout: float = 30.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self._preexec,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_file.read_text()[-1500:]}")
            if self.ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout} s")

    def ready(self) -> bool:
        return port_open("127.0.0.1", self.port, 0.5)

    def remove(self) -> None:
        """Stop it and delete its scratch folder."""
        self.stop()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGINT (PostgreSQL: fast shutdown; Redis: shut down), SIGKILL if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_throwaway_redis(folder: Path) -> ThrowawayServer:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: cannot start a throwaway Redis")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = ThrowawayServer(
        "redis",
        port,
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(folder),
        ],
        folder / "redis.log",
    )
    server.start()
    return server


def start_throwaway_postgres(folder: Path, databases: tuple[str, ...] = ()) -> ThrowawayServer:
    """``initdb`` into ``folder`` and start ``postgres`` on a free port (as the ``postgres``
    user when we are root: PostgreSQL refuses to run as root)."""
    bindir = postgres_bin_dir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found: cannot start a throwaway PostgreSQL")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a 'postgres' user: cannot run a throwaway server")
        user = "postgres"
    folder.mkdir(parents=True, exist_ok=True)
    # The data folder must be reachable by the server's user: pytest's temporary folders
    # are private to root, so it gets a folder of its own under the system's temp dir.
    scratch = Path(tempfile.mkdtemp(prefix="scale-pg-"))
    data, sockets = scratch / "data", scratch / "sock"
    sockets.mkdir()
    if user is not None:
        entry = pwd.getpwnam(user)
        for path in (scratch, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    init = ThrowawayServer(
        "initdb",
        0,
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        folder / "initdb.log",
        user=user,
    )
    with init.log_file.open("ab") as log:
        done = subprocess.run(
            init.argv, stdout=log, stderr=subprocess.STDOUT, preexec_fn=init._preexec, check=False
        )
    if done.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.log_file.read_text()[-1500:]}")
    port = free_port()
    server = ThrowawayServer(
        "postgres",
        port,
        [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(sockets),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ],
        folder / "postgres.log",
        user=user,
        scratch=scratch,
    )
    server.start()
    import psycopg

    deadline = time.monotonic() + 30
    while True:  # the port opens a moment before connections are accepted
        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
            ) as conn:
                for name in databases:
                    conn.execute(f'CREATE DATABASE "{name}"')
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return server
