"""What the lifespan builds differently when the api is scaled out (docs/scaling.md).

All of it is chosen by settings, and each falls back to the one-process behaviour:

- ``RASA_URLS`` → a :class:`api.rasa_routing.RasaRouter` over several Rasa processes,
  else one :class:`api.rasa.RasaClient` on ``RASA_URL``;
- ``RATE_LIMIT_REDIS_URL`` → a :class:`api.ratelimit_redis.RedisRateLimiter` shared by every
  worker, else the per-process :class:`api.ratelimit.InMemoryRateLimiter`;
- ``INDEX_WATCH_SECONDS`` > 0 (with the index loaded at start-up) → an
  :class:`api.index_watch.IndexWatcher` task following the shared ``current`` pointer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from api.index import IndexManager
from api.index_watch import IndexWatcher
from api.rasa import RasaClient
from api.rasa_routing import RasaRouter
from api.ratelimit import InMemoryRateLimiter, RateLimiter
from api.ratelimit_redis import RedisRateLimiter
from api.settings import Settings

log = logging.getLogger(__name__)


def make_rasa(http: httpx.AsyncClient, settings: Settings) -> RasaClient | RasaRouter:
    token = settings.rasa_token.get_secret_value()
    clients = [
        RasaClient(http, url, token, settings.rasa_timeout) for url in settings.chat_rasa_urls
    ]
    if len(clients) == 1:
        return clients[0]
    log.info("chat turns spread over %d Rasa processes, each sender on one", len(clients))
    return RasaRouter(clients, down_seconds=settings.rasa_down_seconds)


def make_limiter(settings: Settings) -> RateLimiter | None:
    if settings.rate_limit_per_minute <= 0:
        return None
    if settings.rate_limit_redis_url:
        log.info("rate limit shared by every worker in Redis")
        return RedisRateLimiter(
            settings.rate_limit_per_minute,
            settings.rate_limit_redis_url,
            key_prefix=settings.rate_limit_redis_prefix,
            timeout=settings.rate_limit_redis_timeout,
        )
    return InMemoryRateLimiter(settings.rate_limit_per_minute)


def close_limiter(limiter: RateLimiter | None) -> None:
    if isinstance(limiter, RedisRateLimiter):
        limiter.close()


def start_index_watcher(settings: Settings, manager: IndexManager) -> asyncio.Task[None] | None:
    """The watcher task, or None when it is off (or the index is not loaded at start-up,
    as in tests that hand the app an engine)."""
    if settings.index_watch_seconds <= 0 or not settings.load_index_on_startup:
        return None
    watcher = IndexWatcher(manager, settings.index_dir, settings.index_watch_seconds)
    return asyncio.create_task(watcher.run(), name="index-watcher")


async def stop_task(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
