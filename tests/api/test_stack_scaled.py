"""api.stack, scaled out: several Rasa processes, api workers, and the settings that point
the stores at PostgreSQL and Redis (what ``make run-scaled`` starts). No process is started."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from api.settings import Settings
from api.stack import (
    SCALED_DEFAULTS,
    Stack,
    StackConfig,
    _config_from_settings,
    scaled_env,
)
from tests.support.app import TEST_SECRETS as SECRETS


def scaled_config(tmp_path: Path, **kwargs: object) -> StackConfig:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    values: dict[str, object] = {
        "var_dir": tmp_path / "var",
        "api_port": 8123,
        "rasa_port": 5123,
        "actions_port": 5124,
        "rasa_model": model,
        "extra_rasa_ports": [5125, 5126],
        "api_workers": 3,
        "env": {"DATABASE_URL": "postgresql+psycopg://postgres@db.example:5432/forms_app"},
    }
    values.update(kwargs)
    return StackConfig(**values)  # type: ignore[arg-type]


def test_several_rasa_processes_behind_one_api(tmp_path: Path) -> None:
    stack = Stack(scaled_config(tmp_path))
    services = stack._services
    assert list(services) == ["actions", "rasa", "rasa-2", "rasa-3", "api"]
    for name, port in (("rasa", "5123"), ("rasa-2", "5125"), ("rasa-3", "5126")):
        argv = services[name].argv
        assert argv[argv.index("-p") + 1] == port
        assert argv[argv.index("-i") + 1] == "127.0.0.1"
        assert f"--auth-token={stack.secrets['RASA_TOKEN']}" in argv
    # one endpoints.yml for all of them: the same tracker and lock stores
    endpoints = {
        a[a.index("--endpoints") + 1]
        for a in (services[n].argv for n in services)
        if "--endpoints" in a
    }
    assert len(endpoints) == 1
    api = services["api"].env
    assert api["RASA_URLS"] == "http://127.0.0.1:5123,http://127.0.0.1:5125,http://127.0.0.1:5126"
    assert api["API_WORKERS"] == "3"
    assert api["DATABASE_MIGRATE_ON_STARTUP"] == "false"  # the launcher migrates once
    settings = Settings(rasa_urls=api["RASA_URLS"], api_workers=api["API_WORKERS"], **SECRETS)
    assert settings.chat_rasa_urls == api["RASA_URLS"].split(",")
    assert settings.api_workers == 3


def test_one_process_stays_as_before(tmp_path: Path) -> None:
    stack = Stack(scaled_config(tmp_path, extra_rasa_ports=[], api_workers=1, env={}))
    assert list(stack._services) == ["actions", "rasa", "api"]
    api = stack._services["api"].env
    assert "RASA_URLS" not in api and "API_WORKERS" not in api
    assert "DATABASE_MIGRATE_ON_STARTUP" not in api


def test_scaled_defaults_are_the_local_servers_unless_set() -> None:
    env = scaled_env({})
    assert env == SCALED_DEFAULTS
    assert env["RASA_TRACKER_DIALECT"] == "postgresql" and env["RASA_LOCK_STORE"] == "redis"
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    mine = scaled_env({"DATABASE_URL": "postgresql+psycopg://u@db:5432/x", "RASA_LOCK_URL": ""})
    assert mine["DATABASE_URL"] == "postgresql+psycopg://u@db:5432/x"
    assert mine["RASA_LOCK_URL"] == SCALED_DEFAULTS["RASA_LOCK_URL"]  # empty = not set


def test_cli_scaled_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[dict[str, str]] = []
    monkeypatch.setattr("api.stack.ensure_databases", lambda env: created.append(env) or [])
    for name in SCALED_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:6005")
    args = argparse.Namespace(
        var_dir=tmp_path, port=None, scaled=True, rasa_processes=None, api_workers=None
    )
    config = _config_from_settings(args)
    assert config.rasa_port == 6005 and config.extra_rasa_ports == [6006]
    assert config.api_workers == 2
    assert config.env["RASA_LOCK_STORE"] == "redis"
    assert created and created[0]["DATABASE_URL"] == SCALED_DEFAULTS["DATABASE_URL"]

    plain = _config_from_settings(
        argparse.Namespace(
            var_dir=tmp_path, port=None, scaled=False, rasa_processes=None, api_workers=None
        )
    )
    assert plain.extra_rasa_ports == [] and plain.api_workers == 1
    assert "RASA_LOCK_STORE" not in plain.env
