"""A turn whose stores fail is marked failed, never half-stored (runs in .venv-rasa).

``bot.channels.FailureAwareRestInput`` marks the answer of a turn that raised (the lock store
is down: ``LockError``) or whose tracker could not be read or written (Rasa's
``FailSafeTrackerStore`` swallows those and answers from an empty conversation); the api
turns the marker into its polite 503. ``bot.stores.EnvSQLTrackerStore`` never writes a tracker
made up after a failed read, and on PostgreSQL checks pooled connections before use.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.channels import TURN_FAILED, FailureAwareRestInput
from bot.stores import EnvLockStore, EnvSQLTrackerStore, TrackerNotWritten, start_turn, turn_state

DOMAIN = Domain.from_yaml(
    "version: '3.1'\nslots:\n  language:\n    type: text\n    mappings:\n    - type: custom\n"
)
MARKER = {"custom": {TURN_FAILED: True}}


def turn(handler, sender: str = "w-1") -> list[dict]:  # type: ignore[no-untyped-def]
    collector = CollectingOutputChannel()

    async def go() -> None:
        # RestInput logs the exception and answers 200 with what was collected
        with contextlib.suppress(RuntimeError):
            await FailureAwareRestInput.marking(handler)(UserMessage("/greet", collector, sender))

    asyncio.run(go())
    return collector.messages


def test_keeps_the_rest_channel_url() -> None:
    assert FailureAwareRestInput.name() == "rest"


def test_a_good_turn_is_not_marked() -> None:
    async def ok(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Hello!")

    assert turn(ok) == [{"recipient_id": "w-1", "text": "Hello!"}]


def test_a_turn_that_raised_is_marked() -> None:
    async def lock_store_down(message: UserMessage) -> None:
        raise RuntimeError("Error while acquiring lock")

    messages = turn(lock_store_down)
    assert messages == [{"recipient_id": "w-1", **MARKER}]


def test_a_turn_answered_without_its_tracker_is_marked() -> None:
    async def failsafe_answer(message: UserMessage) -> None:
        state = turn_state()
        assert state is not None
        state.tracker_read_failed = True  # what EnvSQLTrackerStore notes, FailSafe swallows
        await message.output_channel.send_text_message(message.sender_id, "Hello!")

    messages = turn(failsafe_answer)
    assert messages[-1] == {"recipient_id": "w-1", **MARKER}


def test_each_request_has_its_own_turn_state() -> None:
    collectors = {s: CollectingOutputChannel() for s in ("w-bad", "w-good")}

    async def handler(message: UserMessage) -> None:
        await asyncio.sleep(0.01)
        if message.sender_id == "w-bad":
            turn_state().tracker_read_failed = True  # type: ignore[union-attr]
        await asyncio.sleep(0.01)
        await message.output_channel.send_text_message(message.sender_id, "Hello!")

    async def both() -> None:
        marking = FailureAwareRestInput.marking(handler)
        await asyncio.gather(*(marking(UserMessage("/greet", c, s)) for s, c in collectors.items()))

    asyncio.run(both())
    assert collectors["w-bad"].messages[-1]["custom"] == {TURN_FAILED: True}
    assert all("custom" not in m for m in collectors["w-good"].messages)


def test_a_tracker_made_up_after_a_failed_read_is_never_written(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database comes back between the failed read and the save: the empty tracker
    FailSafe made up must not be appended to the stored conversation."""
    monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "tracker.db"))
    store = EnvSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db="ignored.db")
    stored = DialogueStateTracker.from_events(
        "w-abc", [UserUttered("你好"), SlotSet("language", "zh")], slots=DOMAIN.slots
    )
    asyncio.run(store.save(stored))
    count = len(stored.events)

    async def scenario() -> DialogueStateTracker | None:
        state = start_turn()
        failsafe = FailSafeTrackerStore(store)
        real_retrieve = SQLTrackerStore.retrieve

        async def down(self, sender_id):  # type: ignore[no-untyped-def]
            raise ConnectionError("database down")

        SQLTrackerStore.retrieve = down  # type: ignore[method-assign]
        try:
            tracker = await failsafe.get_or_create_tracker("w-abc")  # an empty one
        finally:
            SQLTrackerStore.retrieve = real_retrieve  # type: ignore[method-assign]
        assert state.tracker_read_failed
        tracker.update(UserUttered("/greet"))
        await failsafe.save(tracker)  # the database is back: still not written
        with pytest.raises(TrackerNotWritten):
            await store.save(tracker)
        return await store.retrieve("w-abc")

    restored = asyncio.run(scenario())
    assert restored is not None and len(restored.events) == count
    assert restored.get_slot("language") == "zh"


def test_outside_a_rest_turn_nothing_changes(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "tracker.db"))
    store = EnvSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db="ignored.db")
    tracker = DialogueStateTracker.from_events("w-x", [UserUttered("hi")], slots=DOMAIN.slots)
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("w-x")) is not None


def test_lock_store_socket_timeout_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_LOCK_STORE", "redis")
    monkeypatch.setenv("RASA_LOCK_SOCKET_TIMEOUT", "1.5")
    store = EnvLockStore(EndpointConfig(type="bot.stores.EnvLockStore", store="in_memory"))
    assert store.red.connection_pool.connection_kwargs["socket_timeout"] == 1.5


def test_postgresql_tracker_store_pings_pooled_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On PostgreSQL (the local server, skipped when it is not running)."""
    import psycopg2

    host, port = (
        os.environ.get("SCALE_PG_HOST", "127.0.0.1"),
        os.environ.get("SCALE_PG_PORT", "5432"),
    )
    try:
        psycopg2.connect(
            host=host, port=port, user="postgres", dbname="postgres", connect_timeout=3
        ).close()
    except psycopg2.Error as exc:
        pytest.skip(f"PostgreSQL not reachable at {host}:{port}: {exc}")
    name = f"scale_bot_{uuid.uuid4().hex[:10]}"
    for key, value in {
        "RASA_TRACKER_DIALECT": "postgresql",
        "RASA_TRACKER_URL": host,
        "RASA_TRACKER_PORT": port,
        "RASA_TRACKER_USER": "postgres",
        "RASA_TRACKER_DB": name,
        "RASA_TRACKER_LOGIN_DB": "postgres",  # Rasa creates the database
        "RASA_TRACKER_CONNECT_TIMEOUT": "4",
    }.items():
        monkeypatch.setenv(key, value)
    store = EnvSQLTrackerStore(domain=DOMAIN)
    try:
        assert store.engine.pool._pre_ping is True
        raw = store.engine.raw_connection()
        try:
            assert "connect_timeout=4" in raw.connection.dsn
        finally:
            raw.close()
        tracker = DialogueStateTracker.from_events("w-pg", [UserUttered("hi")], slots=DOMAIN.slots)
        asyncio.run(store.save(tracker))
        assert asyncio.run(store.retrieve("w-pg")) is not None
    finally:
        store.engine.dispose()
        admin = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
        admin.autocommit = True
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
