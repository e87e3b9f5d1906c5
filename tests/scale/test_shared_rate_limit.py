"""The public rate limit counted once for every api worker, in Redis (RATE_LIMIT_REDIS_URL),
and failing open — to each worker's own count, logged — when Redis is down.

Limiters are exercised directly (two instances = two workers) on the machine's Redis, and
end to end on ``python -m api`` with two uvicorn workers (no Rasa or index needed: the
requests are empty chat messages, answered by the api itself after the rate limit)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from api.ratelimit_redis import RedisRateLimiter
from api.stack import PROJECT_ROOT, free_port, generate_secrets
from tests.support.servers import (
    REDIS_HOST,
    REDIS_PORT,
    ThrowawayServer,
    require_local_redis,
)

pytestmark = pytest.mark.scale

LOCAL_REDIS = f"redis://{REDIS_HOST}:{REDIS_PORT}/14"


@pytest.fixture
def prefix() -> Iterator[str]:
    require_local_redis()
    name = f"test:ratelimit:{uuid.uuid4().hex[:8]}:"
    yield name
    client = redis.Redis.from_url(LOCAL_REDIS)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)


def test_two_workers_share_one_budget(prefix: str) -> None:
    first = RedisRateLimiter(10, LOCAL_REDIS, key_prefix=prefix)
    second = RedisRateLimiter(10, LOCAL_REDIS, key_prefix=prefix)
    answers = [(first if i % 2 else second).hit("203.0.113.7") for i in range(14)]
    assert answers[:10] == [None] * 10
    assert all(a is not None and 0 < a <= 6.5 for a in answers[10:])  # one every 6 s
    assert second.hit("198.51.100.1") is None  # another client has its own budget
    assert first.fallbacks == second.fallbacks == 0
    keys = list(redis.Redis.from_url(LOCAL_REDIS).scan_iter(f"{prefix}*"))
    assert keys and all(b"203.0.113.7" not in k for k in keys)  # addresses hashed
    first.close()
    second.close()


def test_fails_open_while_redis_is_down_and_shares_again_after(
    throwaway_redis: ThrowawayServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"redis://127.0.0.1:{throwaway_redis.port}/0"
    limiter = RedisRateLimiter(3, url, retry_seconds=0.5, timeout=0.5)
    assert [limiter.hit("c") for _ in range(3)] == [None] * 3
    assert limiter.hit("c") is not None

    throwaway_redis.stop()
    with caplog.at_level(logging.WARNING, logger="api.ratelimit_redis"):
        answers = [limiter.hit("d") for _ in range(5)]
    assert answers[:3] == [None] * 3  # this worker's own bucket: 3 per minute
    assert limiter.fallbacks == 5
    assert caplog.text.count("Redis unavailable") == 1  # logged, not once per request

    throwaway_redis.start()
    time.sleep(0.6)
    assert limiter.hit("e") is None
    assert limiter.fallbacks == 5  # counted in Redis again
    assert redis.Redis.from_url(url).keys("forms:ratelimit:*")
    limiter.close()


# -- end to end: python -m api with two workers --------------------------------------------------


def start_api(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = tmp_path / f"api-{port}.log"
    full = {
        **os.environ,
        **generate_secrets({}),
        "API_PORT": str(port),
        "API_WORKERS": "2",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "LOAD_INDEX_ON_STARTUP": "false",
        "RATE_LIMIT_PER_MINUTE": "20",
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api"],
            cwd=PROJECT_ROOT,
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                time.sleep(2)  # let the second worker finish starting too
                return proc, url, log
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, log.read_text()[-2000:]
        time.sleep(0.3)
    raise AssertionError(f"api not up: {log.read_text()[-2000:]}")


def stop_api(proc: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def burst(url: str, n: int) -> tuple[int, int]:
    """``n`` empty chat messages, each on a new connection (so both workers take some):
    how many were allowed and how many refused with 429."""
    allowed = refused = 0
    for _ in range(n):
        with httpx.Client(timeout=10) as client:
            status = client.post(
                f"{url}/api/chat", json={"sender": "w-rate", "message": " "}
            ).status_code
        allowed += status == 200
        refused += status == 429
    return allowed, refused


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "per-process"])
def test_workers_count_together_only_with_redis(
    tmp_path: Path, prefix: str, shared: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"RATE_LIMIT_REDIS_URL": LOCAL_REDIS, "RATE_LIMIT_REDIS_PREFIX": prefix} if shared else {}
    proc, url, log = start_api(tmp_path, env)
    try:
        started = time.monotonic()
        allowed, refused = burst(url, 40)
        refill = (time.monotonic() - started) * 20 / 60
    finally:
        stop_api(proc)
    # which worker answered what, from the access log ("[pid] uvicorn.access: … 200")
    per_worker: dict[str, Counter[str]] = {}
    for line in log.read_text().splitlines():
        found = re.search(r"\[(\d+)\] uvicorn\.access: .*\"POST /api/chat HTTP/1\.1\" (\d+)", line)
        if found:
            per_worker.setdefault(found.group(1), Counter())[found.group(2)] += 1
    assert len(per_worker) == 2, f"both workers should have answered: {per_worker}"
    with capsys.disabled():
        print(
            f"\n[scale] 2 workers, 20/min, {'Redis' if shared else 'per process'}: "
            f"{allowed} of 40 allowed ({ {w: dict(c) for w, c in per_worker.items()} })"
        )
    assert allowed + refused == 40
    if shared:  # one budget for the client, whichever worker answers
        assert 20 <= allowed <= 20 + int(refill) + 1
    else:  # each worker its own budget: the limit multiplies by the workers
        received = [sum(c.values()) for c in per_worker.values()]
        assert allowed >= sum(min(n, 20) for n in received) > 20
