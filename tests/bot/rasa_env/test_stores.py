"""Tracker and lock stores configured from the environment (runs in .venv-rasa)."""

from __future__ import annotations

import pytest
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.stores import PROJECT_ROOT, EnvLockStore, EnvSQLTrackerStore, tracker_store_settings

ENV_NAMES = [
    "RASA_TRACKER_DIALECT",
    "RASA_TRACKER_URL",
    "RASA_TRACKER_DB",
    "RASA_TRACKER_USER",
    "RASA_TRACKER_PASSWORD",
    "RASA_TRACKER_PORT",
    "RASA_TRACKER_LOGIN_DB",
    "RASA_LOCK_STORE",
    "RASA_LOCK_URL",
    "RASA_LOCK_PORT",
    "RASA_LOCK_DB",
    "RASA_LOCK_PASSWORD",
    "RASA_LOCK_KEY_PREFIX",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_from_endpoints_yml_are_sqlite_under_var() -> None:
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "tracker_store")
    settings = tracker_store_settings({"host": config.url, **config.kwargs})
    assert settings["dialect"] == "sqlite"
    assert settings["db"] == str(PROJECT_ROOT / "var" / "rasa" / "tracker.db")


def test_environment_switches_to_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_TRACKER_DIALECT", "postgresql")
    monkeypatch.setenv("RASA_TRACKER_URL", "db.internal:6543")
    monkeypatch.setenv("RASA_TRACKER_DB", "rasa")
    monkeypatch.setenv("RASA_TRACKER_USER", "bot")
    monkeypatch.setenv("RASA_TRACKER_PASSWORD", "secret")
    settings = tracker_store_settings({"dialect": "sqlite", "db": "var/rasa/tracker.db"})
    assert settings == {
        "dialect": "postgresql",
        "host": "db.internal:6543",
        "port": None,
        "db": "rasa",
        "username": "bot",
        "password": "secret",
        "login_db": None,
    }
    url = SQLTrackerStore.get_db_url(**{k: v for k, v in settings.items()})
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql",
        "db.internal",
        6543,
        "rasa",
    )


def test_sqlite_tracker_store_keeps_slots_across_instances(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What survives a Rasa restart: a new store on the same file reads the same tracker."""
    import asyncio

    monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "tracker.db"))
    domain = Domain.from_yaml(
        "version: '3.1'\nslots:\n  language:\n    type: text\n    mappings:\n    - type: custom\n"
    )

    async def scenario() -> object:
        first = EnvSQLTrackerStore(domain=domain, dialect="sqlite", db="ignored.db")
        tracker = DialogueStateTracker.from_events(
            "w-abc", [UserUttered("你好"), SlotSet("language", "zh")], slots=domain.slots
        )
        await first.save(tracker)
        second = EnvSQLTrackerStore(domain=domain, dialect="sqlite", db="ignored.db")
        return await second.retrieve("w-abc")

    restored = asyncio.run(scenario())
    assert restored is not None
    assert restored.get_slot("language") == "zh"
    assert (tmp_path / "tracker.db").exists()


def test_lock_store_in_memory_by_default() -> None:
    store = EnvLockStore(EndpointConfig(type="bot.stores.EnvLockStore", store="in_memory"))
    assert isinstance(store, InMemoryLockStore)


def test_lock_store_redis_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_LOCK_STORE", "redis")
    monkeypatch.setenv("RASA_LOCK_URL", "127.0.0.1")
    monkeypatch.setenv("RASA_LOCK_DB", "3")
    store = EnvLockStore(EndpointConfig(type="bot.stores.EnvLockStore", store="in_memory"))
    assert isinstance(store, RedisLockStore)
    kwargs = store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["db"]) == ("127.0.0.1", 3)


def test_lock_store_rejects_unknown_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_LOCK_STORE", "zookeeper")
    with pytest.raises(ValueError, match="RASA_LOCK_STORE"):
        EnvLockStore(None)


def test_rasa_expands_variables_in_endpoints_but_has_no_defaults(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the stores read the environment themselves (docs/bot.md)."""
    from rasa.shared.exceptions import RasaException

    path = tmp_path / "endpoints.yml"
    path.write_text("tracker_store:\n  type: SQL\n  db: ${BOT_TEST_DB}\n", encoding="utf-8")
    monkeypatch.setenv("BOT_TEST_DB", "from-env.db")
    assert read_endpoint_config(str(path), "tracker_store").kwargs["db"] == "from-env.db"
    monkeypatch.delenv("BOT_TEST_DB")
    with pytest.raises(RasaException, match="environment variables"):
        read_endpoint_config(str(path), "tracker_store")
    path.write_text("tracker_store:\n  db: ${BOT_TEST_DB:-default.db}\n", encoding="utf-8")
    with pytest.raises(RasaException):
        read_endpoint_config(str(path), "tracker_store")
