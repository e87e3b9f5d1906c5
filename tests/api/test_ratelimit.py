"""api.ratelimit: token bucket per client."""

from __future__ import annotations

import pytest

from api.ratelimit import InMemoryRateLimiter, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_rate_and_refills() -> None:
    clock = Clock()
    limiter = InMemoryRateLimiter(3, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    wait = limiter.hit("a")
    assert wait is not None and 0 < wait <= 20
    assert limiter.hit("b") is None  # another client has its own bucket
    clock.now += 20.0  # 3 per minute: one token every 20 s
    assert limiter.hit("a") is None
    assert limiter.hit("a") is not None


def test_forgets_idle_clients_beyond_max_keys() -> None:
    limiter = InMemoryRateLimiter(1, max_keys=2, clock=Clock())
    for key in ("a", "b", "c"):
        limiter.hit(key)
    assert limiter.hit("a") is None  # "a" was forgotten, starts with a full bucket


def test_zero_is_not_a_limiter() -> None:
    with pytest.raises(ValueError):
        InMemoryRateLimiter(0)


def test_retry_after_header() -> None:
    assert retry_after_header(0.2) == "1"
    assert retry_after_header(19.01) == "20"
