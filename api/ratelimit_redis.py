"""The public-route rate limit shared by every api worker, in Redis (``RATE_LIMIT_REDIS_URL``).

The per-process :class:`api.ratelimit.InMemoryRateLimiter` lets a client make
``RATE_LIMIT_PER_MINUTE`` requests *per worker*. With Redis configured, every worker counts in
one place: the same token bucket (``RATE_LIMIT_PER_MINUTE`` at once, then one every
60/``RATE_LIMIT_PER_MINUTE`` seconds), kept as GCRA — one key per client holding its
"theoretical arrival time", updated by one Lua script so the check and the update are atomic
and the clock is Redis's own (workers' clocks do not matter). Keys expire when the client's
bucket is full again; the client address is stored only as a hash.

When Redis cannot be reached (or answers slower than ``timeout``), chat must stay available:
the limiter fails open to the per-process bucket of this worker, logs it (at most once every
``log_every`` seconds), and does not try Redis again for ``retry_seconds``. Nothing retries
inside one request, so a request never waits more than ``timeout`` for Redis.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from api.ratelimit import InMemoryRateLimiter

log = logging.getLogger(__name__)

#: KEYS[1] = bucket key; ARGV[1] = seconds per request, ARGV[2] = burst (capacity x period).
#: Returns "" when allowed, else the seconds to wait (as a string: Redis truncates numbers).
GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local period = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + period
local allow_at = new_tat - burst
if now < allow_at then
  return tostring(allow_at - now)
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000))
return ''
"""


class RedisRateLimiter:
    """Token bucket per client shared by every worker; per-process when Redis is down."""

    def __init__(
        self,
        per_minute: int,
        url: str,
        *,
        key_prefix: str = "forms:ratelimit:",
        timeout: float = 0.5,
        retry_seconds: float = 2.0,
        log_every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive (0 means: use no limiter)")
        self.period = 60.0 / per_minute
        self.burst = self.period * per_minute
        self.key_prefix = key_prefix
        self.local = InMemoryRateLimiter(per_minute, clock=clock)
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # redis-py retries 3 times by default: not here
            health_check_interval=10,
        )
        self._script = self._redis.register_script(GCRA)
        self.retry_seconds = retry_seconds
        self.log_every = log_every
        self._clock = clock
        self._skip_until = 0.0
        self._last_log = float("-inf")
        self._lock = threading.Lock()
        #: Requests counted per process because Redis was unavailable (for tests, metrics).
        self.fallbacks = 0

    def _key(self, client: str) -> str:
        return self.key_prefix + hashlib.blake2b(client.encode(), digest_size=12).hexdigest()

    def hit(self, key: str) -> float | None:
        now = self._clock()
        if now >= self._skip_until:
            try:
                answer = self._script(keys=[self._key(key)], args=[self.period, self.burst])
            except redis.RedisError as exc:
                self._unavailable(now, exc)
            else:
                text = answer.decode() if isinstance(answer, bytes) else str(answer or "")
                return float(text) if text else None
        self.fallbacks += 1
        return self.local.hit(key)

    def _unavailable(self, now: float, exc: Exception) -> None:
        with self._lock:
            self._skip_until = now + self.retry_seconds
            if now - self._last_log >= self.log_every:
                self._last_log = now
                log.warning(
                    "rate limit: Redis unavailable (%s); counting per process for now",
                    type(exc).__name__,
                )

    def close(self) -> None:
        self._redis.close()
