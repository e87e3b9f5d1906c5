"""Per-client rate limit of the public routes (token bucket, ``RATE_LIMIT_PER_MINUTE``).

``InMemoryRateLimiter`` counts within one api process. With several workers each counts
its own share, so the effective limit is up to workers × the setting; a shared limiter
(Redis) plugs in behind the same ``RateLimiter`` protocol when the api is scaled out.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    def hit(self, key: str) -> float | None:
        """Count one request of ``key``: ``None`` when allowed, else seconds to wait."""


class InMemoryRateLimiter:
    """A token bucket per key: ``per_minute`` tokens, refilled continuously."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive (0 means: use no limiter)")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                allowed = True
            else:
                self._buckets[key] = (tokens, now)
                allowed = False
            while len(self._buckets) > self._max_keys:  # forget the longest-idle clients
                self._buckets.popitem(last=False)
        if allowed:
            return None
        return (1.0 - tokens) / self.rate


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
