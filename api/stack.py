"""The whole system as processes: Rasa, the action server and the api (what ``make run`` runs).

``python -m api.stack`` starts the three in the foreground, waits until ``/readyz`` answers
200, and stops every child (its whole process group) on Ctrl-C or SIGTERM, or when one of
them dies. Rasa and the action server listen on 127.0.0.1 only; the api on ``API_HOST``
(127.0.0.1 by default). Secrets that are not set in the environment are generated for the
run and handed to the processes that need them.

The same :class:`Stack` starts the real system for the integration and browser tests, on
free ports and with a temporary ``var/`` folder.

``python -m api.stack --scaled`` (``make run-scaled``) starts the scaled-out configuration on
one machine (docs/scaling.md): two Rasa processes sharing a PostgreSQL tracker store and a
Redis lock store, the action server, and the api with several uvicorn workers on the same
port, its app database on PostgreSQL and its rate limit in Redis — the local servers unless
the environment names others (:data:`SCALED_DEFAULTS`).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import yaml

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_NAMES = ("RASA_TOKEN", "INTERNAL_API_TOKEN", "SESSION_SECRET")
SERVICE_ORDER = ("actions", "rasa", "api")
_PR_SET_PDEATHSIG = 1


#: What ``--scaled`` uses unless the environment sets it: the local PostgreSQL (app database
#: ``forms_app``, Rasa's tracker store ``forms_rasa``) and Redis (rate limit in db 0, Rasa's
#: lock store in db 1). Every name is the setting the api or ``bot/stores.py`` reads.
SCALED_DEFAULTS: dict[str, str] = {
    "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/forms_app",
    "RASA_TRACKER_DIALECT": "postgresql",
    "RASA_TRACKER_URL": "127.0.0.1",
    "RASA_TRACKER_PORT": "5432",
    "RASA_TRACKER_USER": "postgres",
    "RASA_TRACKER_DB": "forms_rasa",
    "RASA_LOCK_STORE": "redis",
    "RASA_LOCK_URL": "127.0.0.1",
    "RASA_LOCK_PORT": "6379",
    "RASA_LOCK_DB": "1",
    "RATE_LIMIT_REDIS_URL": "redis://127.0.0.1:6379/0",
}
SCALED_RASA_PROCESSES = 2
SCALED_API_WORKERS = 2


class StackError(RuntimeError):
    """A process of the stack could not start or become ready."""


def scaled_env(env: Mapping[str, str]) -> dict[str, str]:
    """:data:`SCALED_DEFAULTS`, each replaced by the value ``env`` sets."""
    return {name: env.get(name) or value for name, value in SCALED_DEFAULTS.items()}


def ensure_databases(env: Mapping[str, str], admin_db: str = "postgres") -> list[str]:
    """Create the app database (``DATABASE_URL``) and Rasa's tracker database
    (``RASA_TRACKER_*``) on their PostgreSQL servers when they do not exist yet; returns the
    names created. A deployment with managed databases creates them itself."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    wanted: list[dict[str, object]] = []
    app = make_url(env["DATABASE_URL"])
    if app.get_backend_name() == "postgresql":
        wanted.append(
            {
                "host": app.host,
                "port": app.port or 5432,
                "user": app.username,
                "password": app.password,
                "db": app.database,
            }
        )
    if env.get("RASA_TRACKER_DIALECT") == "postgresql":
        wanted.append(
            {
                "host": env.get("RASA_TRACKER_URL") or "127.0.0.1",
                "port": int(env.get("RASA_TRACKER_PORT") or 5432),
                "user": env.get("RASA_TRACKER_USER"),
                "password": env.get("RASA_TRACKER_PASSWORD"),
                "db": env.get("RASA_TRACKER_DB"),
            }
        )
    created = []
    for target in wanted:
        try:
            with psycopg.connect(
                host=target["host"],
                port=target["port"],
                user=target["user"],
                password=target["password"],
                dbname=admin_db,
                autocommit=True,
                connect_timeout=5,
            ) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (target["db"],)
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target["db"])))
                    created.append(str(target["db"]))
        except psycopg.Error as exc:
            raise StackError(
                f"PostgreSQL at {target['host']}:{target['port']}: {str(exc).strip()}"
            ) from exc
    return created


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _port_or_free(port: int, host: str = "127.0.0.1") -> int:
    """``port`` when it is free on ``host`` now, else another free port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return free_port(host)
    return port


def generate_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """The secrets of this run: those set in ``env``, random ones for the others."""
    return {name: env.get(name) or secrets.token_urlsafe(32) for name in SECRET_NAMES}


def latest_rasa_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


@dataclass
class StackConfig:
    """Where and how the processes run. ``env`` is passed to every process (with the
    secrets); ``log_dir`` None means the children write to this terminal."""

    root: Path = PROJECT_ROOT
    var_dir: Path = PROJECT_ROOT / "var"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    rasa_model: Path | None = None
    #: Ports of further Rasa processes (services ``rasa-2``, ``rasa-3``…); the api spreads
    #: chat turns over all of them (``RASA_URLS``).
    extra_rasa_ports: list[int] = field(default_factory=list)
    #: uvicorn worker processes of the api (``API_WORKERS``), sharing ``api_port``.
    api_workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    app_python: Path = PROJECT_ROOT / ".venv" / "bin" / "python"
    rasa_bin: Path = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"

    @property
    def api_url(self) -> str:
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "") else self.api_host
        return f"http://{host}:{self.api_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in (self.rasa_port, *self.extra_rasa_ports)]

    @property
    def rasa_services(self) -> list[str]:
        """Names of the Rasa services: ``rasa``, then ``rasa-2``, ``rasa-3``…"""
        return ["rasa", *(f"rasa-{i}" for i in range(2, len(self.extra_rasa_ports) + 2))]


@dataclass
class Service:
    """One process of the stack: its command line and environment."""

    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    log_file: Path | None = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM this child when the launcher dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _with_port(argv: list[str], port: int) -> list[str]:
    """``argv`` of a Rasa process with ``-p`` set to ``port``."""
    out = list(argv)
    out[out.index("-p") + 1] = str(port)
    return out


class Stack:
    """Starts, watches and stops Rasa, the action server and the api."""

    def __init__(self, config: StackConfig, services: Sequence[Service] | None = None) -> None:
        self.config = config
        base = {**os.environ, **config.env}
        self.secrets = generate_secrets(base)
        self._base_env = {**base, **self.secrets}
        built = list(services or self._build_services())
        self._services = {s.name: s for s in built}
        self._order = [s.name for s in built]

    # -- set-up ----------------------------------------------------------------------------
    def _endpoints_file(self) -> Path:
        """The project's endpoints.yml with the action server's URL of this run."""
        cfg = self.config
        source = cfg.root / "endpoints.yml"
        data = yaml.safe_load(source.read_text(encoding="utf-8")) if source.exists() else {}
        data = data or {}
        # the URL of this run; other settings (enable_selective_domain) are kept
        data["action_endpoint"] = {
            **(data.get("action_endpoint") or {}),
            "url": f"{cfg.actions_url}/webhook",
        }
        out = cfg.var_dir / "rasa" / "endpoints.yml"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return out

    def _build_services(self) -> list[Service]:
        cfg = self.config
        cfg.var_dir.mkdir(parents=True, exist_ok=True)
        model = cfg.rasa_model or latest_rasa_model(cfg.root / "models" / "rasa")
        if model is None:
            raise StackError(
                f"no trained Rasa model under {cfg.root / 'models' / 'rasa'}: run `make setup`"
            )
        pythonpath = os.pathsep.join(
            p for p in (str(cfg.root), self._base_env.get("PYTHONPATH", "")) if p
        )
        rasa_env = {
            **self._base_env,
            "PYTHONPATH": pythonpath,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TRACKER_DB": self._base_env.get(
                "RASA_TRACKER_DB", str(cfg.var_dir / "rasa" / "tracker.db")
            ),
        }
        actions_env = {
            **self._base_env,
            "PYTHONPATH": pythonpath,
            "SANIC_HOST": "127.0.0.1",  # rasa_sdk binds 0.0.0.0 unless told otherwise
            "API_URL": cfg.api_url,
            "RASA_TELEMETRY_ENABLED": "false",
        }
        api_env = {
            **self._base_env,
            "API_HOST": cfg.api_host,
            "API_PORT": str(cfg.api_port),
            "RASA_URL": cfg.rasa_url,
            "ACTIONS_URL": cfg.actions_url,
            "DATABASE_URL": self._base_env.get(
                "DATABASE_URL", f"sqlite:///{cfg.var_dir / 'app.sqlite3'}"
            ),
        }
        if cfg.extra_rasa_ports:
            api_env["RASA_URLS"] = ",".join(cfg.rasa_urls)
        if cfg.api_workers > 1:
            api_env["API_WORKERS"] = str(cfg.api_workers)
            # set-up migrates once (start_service), not every worker at the same moment
            api_env["DATABASE_MIGRATE_ON_STARTUP"] = "false"
        token = self.secrets["RASA_TOKEN"]
        rasa_argv = [
            str(cfg.rasa_bin),
            "run",
            "--enable-api",
            # one argument: a generated token may start with "-", which argparse would
            # take for an option
            f"--auth-token={token}",
            "-i",
            "127.0.0.1",
            "-p",
            str(cfg.rasa_port),
            "--model",
            str(model),
            "--endpoints",
            str(self._endpoints_file()),
            "--credentials",
            str(cfg.root / "credentials.yml"),
        ]
        return [
            Service(
                "actions",
                [
                    str(cfg.rasa_bin),
                    "run",
                    "actions",
                    "-p",
                    str(cfg.actions_port),
                    "--actions",
                    "actions",
                ],
                actions_env,
            ),
            Service("rasa", rasa_argv, rasa_env),
            *(
                Service(name, _with_port(rasa_argv, port), rasa_env)
                for name, port in zip(cfg.rasa_services[1:], cfg.extra_rasa_ports, strict=True)
            ),
            Service("api", [str(cfg.app_python), "-m", "api"], api_env),
        ]

    # -- processes ---------------------------------------------------------------------------
    def start(self) -> None:
        for name in self._order:
            self.start_service(name)

    def start_service(self, name: str) -> None:
        service = self._services[name]
        if service.proc is not None and service.proc.poll() is None:
            return
        if name == "api" and service.env.get("DATABASE_MIGRATE_ON_STARTUP") == "false":
            self.migrate()
        stdout: int | None = None
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            service.log_file = self.config.log_dir / f"{name}.log"
            handle = service.log_file.open("ab")
            stdout = handle.fileno()
        try:
            service.proc = subprocess.Popen(
                service.argv,
                cwd=self.config.root,
                env=service.env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.STDOUT if stdout is not None else None,
                start_new_session=True,  # own process group: stopped as a whole
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        finally:
            if stdout is not None:
                handle.close()
        log.info("started %s (pid %d)", name, service.proc.pid)

    def migrate(self) -> None:
        """Bring the api's database to the latest schema once, before its workers start."""
        service = self._services["api"]
        done = subprocess.run(
            [str(self.config.app_python), "-m", "api.migrate"],
            cwd=self.config.root,
            env=service.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise StackError(f"migrating the app database failed: {done.stderr.strip()[-1500:]}")
        log.info("app database migrated")

    def stop_service(self, name: str, timeout: float = 15.0) -> None:
        """SIGTERM the service's process group, SIGKILL it after ``timeout`` seconds."""
        service = self._services[name]
        proc = service.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s: killing it", name, timeout)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # whatever the group leader left behind (workers) goes too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        service.proc = None
        log.info("stopped %s", name)

    def stop(self) -> None:
        for name in reversed(self._order):
            self.stop_service(name)

    def pids(self) -> dict[str, int]:
        return {n: s.proc.pid for n, s in self._services.items() if s.proc is not None}

    def dead(self) -> list[str]:
        """Services started and then exited."""
        return [
            n for n, s in self._services.items() if s.proc is not None and s.proc.poll() is not None
        ]

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self._services[name].log_file
        if path is None or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- readiness -------------------------------------------------------------------------------
    def wait_ready(self, timeout: float = 240.0, path: str = "/readyz") -> None:
        """Wait until the api answers 200 on ``path``; StackError when a process dies or
        time runs out (with the end of its log when logs go to files)."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            dead = self.dead()
            if dead:
                tails = "\n".join(f"--- {n}:\n{self.log_tail(n)}" for n in dead)
                raise StackError(f"{', '.join(dead)} exited during start-up\n{tails}")
            try:
                with urllib.request.urlopen(self.config.api_url + path, timeout=3) as resp:
                    if resp.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                last = exc.read().decode(errors="replace")[:300]
            except (OSError, ValueError) as exc:
                last = str(exc)
            time.sleep(0.5)
        raise StackError(f"not ready after {timeout:.0f} s: {last}")

    def wait_rasa_ready(self, timeout: float = 240.0) -> None:
        """Wait until every Rasa process answers ``/status`` with a model (``/readyz`` is
        ready as soon as one of several answers)."""
        deadline = time.monotonic() + timeout
        token = self.secrets["RASA_TOKEN"]
        for url in self.config.rasa_urls:
            while True:
                dead = self.dead()
                if dead:
                    raise StackError(f"{', '.join(dead)} exited during start-up")
                try:
                    with urllib.request.urlopen(f"{url}/status?token={token}", timeout=3) as resp:
                        if resp.status == 200 and b"model_file" in resp.read():
                            break
                except (OSError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    raise StackError(f"Rasa at {url} not ready after {timeout:.0f} s")
                time.sleep(0.5)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def _signals_stop(stack: Stack) -> Iterator[None]:
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _config_from_settings(args: argparse.Namespace) -> StackConfig:
    """Ports and host from the api's settings (one home for every setting)."""
    from api.settings import Settings

    generated = generate_secrets(os.environ)
    settings = Settings(
        rasa_token=generated["RASA_TOKEN"],
        internal_api_token=generated["INTERNAL_API_TOKEN"],
        session_secret=generated["SESSION_SECRET"],
    )
    rasa = urlsplit(settings.rasa_url)
    actions = urlsplit(settings.actions_url)
    rasa_port = rasa.port or 5005
    env = dict(generated)
    processes = args.rasa_processes or (SCALED_RASA_PROCESSES if args.scaled else 1)
    workers = args.api_workers or (SCALED_API_WORKERS if args.scaled else settings.api_workers)
    if args.scaled:
        env.update(scaled_env(os.environ))
        created = ensure_databases(env)
        if created:
            log.info("created database(s) %s", ", ".join(created))
    return StackConfig(
        var_dir=args.var_dir or PROJECT_ROOT / "var",
        api_host=settings.api_host,
        api_port=args.port or settings.api_port,
        rasa_port=rasa_port,
        actions_port=actions.port or 5055,
        extra_rasa_ports=[_port_or_free(rasa_port + i) for i in range(1, processes)],
        api_workers=workers,
        env=env,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.stack", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="api port (default: API_PORT)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to become ready")
    parser.add_argument(
        "--var-dir", type=Path, default=None, help="runtime folder (default: var/ of the project)"
    )
    parser.add_argument(
        "--scaled",
        action="store_true",
        help=(
            "scaled-out configuration: PostgreSQL tracker store and app database, Redis lock "
            f"store and rate limit, {SCALED_RASA_PROCESSES} Rasa processes, "
            f"{SCALED_API_WORKERS} api workers (docs/scaling.md)"
        ),
    )
    parser.add_argument("--rasa-processes", type=int, default=None, help="Rasa processes")
    parser.add_argument(
        "--api-workers", type=int, default=None, help="api worker processes (API_WORKERS)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s stack: %(message)s")
    try:
        config = _config_from_settings(args)
        stack = Stack(config)
    except (StackError, ValueError) as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 2
    status = 0
    with _signals_stop(stack):
        try:
            stack.start()
            stack.wait_ready(args.timeout)
            stack.wait_rasa_ready(args.timeout)
            log.info("ready: %s  (Ctrl-C stops everything)", config.api_url)
            while not stack.dead():
                time.sleep(1.0)
            log.error("%s exited: stopping the others", ", ".join(stack.dead()))
            status = 1
        except KeyboardInterrupt as exc:
            log.info("stopping (%s)", exc or "Ctrl-C")
        except StackError as exc:
            log.error("%s", exc)
            status = 1
        finally:
            for sig in (
                signal.SIGINT,
                signal.SIGTERM,
            ):  # a second Ctrl-C must not cut stopping short
                signal.signal(sig, signal.SIG_IGN)
            stack.stop()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
