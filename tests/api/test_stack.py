"""api.stack: how the processes are configured, and that stopping leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml

from api.stack import (
    PROJECT_ROOT,
    Service,
    Stack,
    StackConfig,
    free_port,
    generate_secrets,
    latest_rasa_model,
)


def test_secrets_kept_or_generated() -> None:
    given = generate_secrets({"RASA_TOKEN": "given-token-0123456789abcdef"})
    assert given["RASA_TOKEN"] == "given-token-0123456789abcdef"
    assert len(given["INTERNAL_API_TOKEN"]) >= 32
    again = generate_secrets({})
    assert again["INTERNAL_API_TOKEN"] != given["INTERNAL_API_TOKEN"]


def test_processes_bound_to_localhost_and_share_secrets(tmp_path: Path) -> None:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    config = StackConfig(
        var_dir=tmp_path / "var", api_port=8123, rasa_port=5123, actions_port=5124, rasa_model=model
    )
    stack = Stack(config)
    services = {s.name: s for s in stack._services.values()}
    rasa, actions, api = services["rasa"], services["actions"], services["api"]
    argv = rasa.argv
    assert argv[argv.index("-i") + 1] == "127.0.0.1"
    assert argv[argv.index("-p") + 1] == "5123"
    assert "--enable-api" in argv
    assert f"--auth-token={stack.secrets['RASA_TOKEN']}" in argv
    assert rasa.env["PYTHONPATH"].split(os.pathsep)[0] == str(PROJECT_ROOT)
    assert actions.env["SANIC_HOST"] == "127.0.0.1"
    assert actions.argv[actions.argv.index("-p") + 1] == "5124"
    assert actions.env["API_URL"] == "http://127.0.0.1:8123"
    assert actions.env["INTERNAL_API_TOKEN"] == api.env["INTERNAL_API_TOKEN"]
    assert api.env["RASA_TOKEN"] == stack.secrets["RASA_TOKEN"]
    assert api.env["RASA_URL"] == "http://127.0.0.1:5123"
    assert api.env["ACTIONS_URL"] == "http://127.0.0.1:5124"
    assert api.env["DATABASE_URL"] == f"sqlite:///{tmp_path / 'var' / 'app.sqlite3'}"
    endpoints = yaml.safe_load(Path(argv[argv.index("--endpoints") + 1]).read_text())
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5124/webhook"


def test_missing_rasa_model_is_a_clear_error(tmp_path: Path) -> None:
    assert latest_rasa_model(tmp_path) is None
    from api.stack import StackError

    with pytest.raises(StackError, match="make setup"):
        Stack(StackConfig(root=tmp_path, var_dir=tmp_path / "var"))


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    """A service's children (workers) go with it: no orphans."""
    sleeper = Service("sleeper", ["sh", "-c", "sleep 300 & sleep 300 & wait"], dict(os.environ))
    stack = Stack(StackConfig(var_dir=tmp_path, log_dir=tmp_path / "logs"), services=[sleeper])
    stack.start()
    leader = psutil.Process(stack.pids()["sleeper"])
    deadline = time.monotonic() + 5
    while len(leader.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    family = [leader, *leader.children(recursive=True)]
    assert len(family) == 3
    stack.stop()
    _gone, alive = psutil.wait_procs(family, timeout=5)
    assert alive == []


@pytest.mark.integration
def test_launcher_starts_everything_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    """`python -m api.stack` (what `make run` runs): ready, then SIGTERM leaves nothing."""
    if latest_rasa_model(PROJECT_ROOT / "models" / "rasa") is None:
        pytest.skip("no trained Rasa model under models/rasa: run `make setup`")
    port = free_port()
    env = {
        **os.environ,
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "ACTIONS_URL": f"http://127.0.0.1:{free_port()}",
    }
    for name in ("RASA_TOKEN", "INTERNAL_API_TOKEN", "SESSION_SECRET"):
        env.pop(name, None)  # the launcher generates them
    launcher = subprocess.Popen(
        [sys.executable, "-m", "api.stack", "--port", str(port), "--var-dir", str(tmp_path)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    family: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 300
        ready = False
        while time.monotonic() < deadline and launcher.poll() is None and not ready:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as r:
                    ready = r.status == 200
            except OSError:
                time.sleep(1)
        assert ready, "the stack did not become ready"
        family = psutil.Process(launcher.pid).children(recursive=True)
        assert len(family) >= 3
        listening = {
            c.laddr.ip
            for p in family
            for c in p.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        }
        assert listening <= {"127.0.0.1"}  # nothing public
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(60) == 0
        _gone, alive = psutil.wait_procs(family, timeout=10)
        assert alive == []
    finally:
        if launcher.poll() is None:
            launcher.kill()
        for p in family:
            if p.is_running():
                p.kill()
