"""The whole system as processes: Rasa, the action server and the api (what ``make run`` runs).

``python -m api.stack`` starts the three in the foreground, waits until ``/readyz`` answers
200, and stops every child (its whole process group) on Ctrl-C or SIGTERM, or when one of
them dies. Rasa and the action server listen on 127.0.0.1 only; the api on ``API_HOST``
(127.0.0.1 by default). Secrets that are not set in the environment are generated for the
run and handed to the processes that need them.

The same :class:`Stack` starts the real system for the integration and browser tests, on
free ports and with a temporary ``var/`` folder.
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


class StackError(RuntimeError):
    """A process of the stack could not start or become ready."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


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


class Stack:
    """Starts, watches and stops Rasa, the action server and the api."""

    def __init__(self, config: StackConfig, services: Sequence[Service] | None = None) -> None:
        self.config = config
        base = {**os.environ, **config.env}
        self.secrets = generate_secrets(base)
        self._base_env = {**base, **self.secrets}
        self._services = {s.name: s for s in (services or self._build_services())}
        self._order = [s.name for s in (services or [])] or list(SERVICE_ORDER)

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
        token = self.secrets["RASA_TOKEN"]
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
            Service(
                "rasa",
                [
                    str(cfg.rasa_bin),
                    "run",
                    "--enable-api",
                    "--auth-token",
                    token,
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
                ],
                rasa_env,
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
    return StackConfig(
        var_dir=args.var_dir or PROJECT_ROOT / "var",
        api_host=settings.api_host,
        api_port=args.port or settings.api_port,
        rasa_port=rasa.port or 5005,
        actions_port=actions.port or 5055,
        env=generated,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.stack", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="api port (default: API_PORT)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to become ready")
    parser.add_argument(
        "--var-dir", type=Path, default=None, help="runtime folder (default: var/ of the project)"
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
