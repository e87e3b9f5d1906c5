"""Redis and PostgreSQL stop and come back while the system runs (throwaway servers of the
installed binaries on free ports — never the machine's own).

The stack keeps Rasa's tracker store and the app database on the throwaway PostgreSQL and
Rasa's lock store and the api's rate limit on the throwaway Redis (one Rasa process, two api
workers: what fails and recovers is per process). While a server is down every chat turn is
answered within a bounded time by the polite 503 the widget handles (never a 500, never a
hang, never an answer made up from an empty conversation); when it is back, turns succeed
again without restarting anything, and the conversation goes on from what was stored.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.scaled import Backends, ScaledStack, start_scaled_stack
from tests.support.servers import ThrowawayServer

pytestmark = pytest.mark.scale

#: A request during an outage that is not answered within this many seconds fails the test
#: with a client timeout: the property is "no hanging request", not a speed.
BOUND = 5.0
#: The system is back at most this long after the server is (seconds).
RECOVERY = 30.0
GREETING = "Hello! I can help you find Hong Kong government forms"


@pytest.fixture(scope="module")
def stack(
    module_dir: Path, throwaway_postgres: ThrowawayServer, throwaway_redis: ThrowawayServer
) -> Iterator[ScaledStack]:
    backends = Backends(
        pg_host="127.0.0.1",
        pg_port=throwaway_postgres.port,
        app_db="app",
        tracker_db="rasa",
        redis_port=throwaway_redis.port,
    )
    started = start_scaled_stack(
        module_dir,
        backends,
        rasa_processes=1,
        api_workers=2,
        env={"RATE_LIMIT_PER_MINUTE": "600", "RASA_LOCK_SOCKET_TIMEOUT": "2"},
    )
    try:
        yield started
    finally:
        started.stop()


def turn(
    stack: ScaledStack, sender: str, marker: str, timeout: float = 60
) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = httpx.post(
        f"{stack.url}/api/chat",
        json={"sender": sender, "message": f'/greet{{"option_key": "{marker}"}}', "lang": "en"},
        timeout=timeout,
    )
    return response, time.perf_counter() - started


def assert_polite_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert "temporarily unavailable" in body["detail"]
    assert "1823" in body["messages"][0]["text"]  # what the widget shows


def recover(stack: ScaledStack, sender: str) -> float:
    """Seconds until a turn succeeds again (none of our processes restarted)."""
    started = time.monotonic()
    while True:
        response, _ = turn(stack, sender, "back")
        if response.status_code == 200:
            assert response.json()["messages"][0]["text"].startswith(GREETING)
            return time.monotonic() - started
        assert response.status_code == 503, response.text
        assert time.monotonic() - started < RECOVERY, "no recovery"
        time.sleep(0.5)


def user_markers(stack: ScaledStack, sender: str) -> list[str]:
    return [
        e["text"].split('"option_key": "')[1].rstrip('"}')
        for e in stack.stored_events(sender)
        if e["event"] == "user"
    ]


def test_redis_stops_and_comes_back(
    stack: ScaledStack, throwaway_redis: ThrowawayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = f"redis-{uuid.uuid4().hex[:12]}"
    pids = dict(stack.stack.pids())
    ok, _ = turn(stack, sender, "before")
    assert ok.status_code == 200

    throwaway_redis.stop()
    slowest = 0.0
    for i in range(6):  # lock store down: Rasa's LockError, marked, the api's 503
        response, seconds = turn(stack, sender, f"during-{i}", timeout=BOUND)
        assert_polite_unavailable(response)
        slowest = max(slowest, seconds)
    # the rate limit fails open (per worker) instead of failing the request
    search = httpx.get(f"{stack.url}/api/search", params={"q": "passport"}, timeout=60)
    assert search.status_code == 200
    assert "rate limit: Redis unavailable" in stack.api_log()

    throwaway_redis.start()
    took = recover(stack, sender)
    assert stack.stack.pids() == pids and not stack.stack.dead()
    assert user_markers(stack, sender) == ["before", "back"]  # nothing half-stored
    with capsys.disabled():
        print(
            f"\n[scale] Redis down: polite 503 in at most {slowest * 1000:.0f} ms; "
            f"turns succeed {took:.1f} s after it is back"
        )


def test_postgresql_stops_and_comes_back(
    stack: ScaledStack, throwaway_postgres: ThrowawayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = f"pg-{uuid.uuid4().hex[:12]}"
    pids = dict(stack.stack.pids())
    ok, _ = turn(stack, sender, "before")
    assert ok.status_code == 200
    feedback = {"sender": sender, "rating": "good", "query": "passport", "result_ids": []}

    throwaway_postgres.stop()
    slowest = 0.0
    for i in range(6):  # tracker store down: FailSafe would answer from an empty tracker
        response, seconds = turn(stack, sender, f"during-{i}", timeout=BOUND)
        assert_polite_unavailable(response)
        slowest = max(slowest, seconds)
    stored = httpx.post(f"{stack.url}/api/feedback", json=feedback, timeout=BOUND)
    assert stored.status_code == 503

    throwaway_postgres.start()
    took = recover(stack, sender)
    assert httpx.post(f"{stack.url}/api/feedback", json=feedback, timeout=60).status_code == 201
    assert stack.stack.pids() == pids and not stack.stack.dead()
    # the turns answered during the outage were not written; the conversation goes on
    assert user_markers(stack, sender) == ["before", "back"]
    slots = stack.rasa_tracker(sender)["slots"]
    assert slots["option_key"] == "back"
    with capsys.disabled():
        print(
            f"\n[scale] PostgreSQL down: polite 503 in at most {slowest * 1000:.0f} ms; "
            f"turns succeed {took:.1f} s after it is back"
        )
