"""Chat turns spread over several Rasa processes (``RASA_URLS``), each sender kept on one.

Rasa's ``RedisLockStore`` does not make two Rasa processes wait for each other reliably:
issuing a ticket is a read-modify-write of one Redis key, not atomic across processes
(Rasa issues 9213 and 11256; the atomic ``ConcurrentRedisLockStore`` of #11256 was reverted
in #11428). Measured here (docs/scaling.md): concurrent turns of one sender sent to two
processes lost 32 of 200 user turns from the tracker. So the api routes each sender
consistently to one Rasa process — rendezvous (highest-random-weight) hashing of the sender
over the endpoints, the same answer in every api worker without any shared state — and
moves a sender to the next endpoint of its own order only when its process cannot be
reached. Conversations continue there from the shared tracker store (PostgreSQL).

Only a failure to *connect* moves a turn to another process: then the turn certainly never
reached Rasa. A turn that timed out or broke mid-answer may have been processed, so it is
not sent again (the chat route answers 503 and the widget retries). An endpoint that
refused a connection is skipped for ``down_seconds`` (per api worker), then tried again, so
senders return to their own process when it is back.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from api.rasa import RasaClient, RasaUnavailable, RasaUnreachable

log = logging.getLogger(__name__)


def rendezvous_order(sender: str, endpoints: Sequence[str]) -> list[int]:
    """Indexes of ``endpoints`` in ``sender``'s order of preference: stable for a sender,
    spread evenly over senders, and removing one endpoint moves only the senders it had."""

    def weight(endpoint: str) -> bytes:
        return hashlib.blake2b(f"{endpoint}\n{sender}".encode(), digest_size=8).digest()

    return sorted(range(len(endpoints)), key=lambda i: weight(endpoints[i]), reverse=True)


class RasaRouter:
    """Same interface as :class:`RasaClient` (``send``, ``check``) over several processes."""

    def __init__(
        self,
        clients: Sequence[RasaClient],
        *,
        down_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not clients:
            raise ValueError("at least one Rasa endpoint is needed")
        self.clients = list(clients)
        self.urls = [c.base_url for c in self.clients]
        self.down_seconds = down_seconds
        self._clock = clock
        self._down_until = [0.0] * len(self.clients)

    def preferred(self, sender: str) -> str:
        """The URL of the process that handles ``sender`` while it is up."""
        return self.urls[rendezvous_order(sender, self.urls)[0]]

    def _candidates(self, sender: str) -> list[int]:
        order = rendezvous_order(sender, self.urls)
        now = self._clock()
        up = [i for i in order if self._down_until[i] <= now]
        return up or order  # every process marked down: try them all the same

    async def send(self, sender: str, message: str, metadata: dict[str, Any]) -> list[dict]:
        """One turn on the sender's process, or on the next one of its order when that
        one cannot be reached. Raises :class:`RasaUnavailable` like ``RasaClient.send``."""
        last: RasaUnavailable | None = None
        for i in self._candidates(sender):
            try:
                answer = await self.clients[i].send(sender, message, metadata)
            except RasaUnreachable as exc:
                self._down_until[i] = self._clock() + self.down_seconds
                log.warning("Rasa at %s cannot be reached: trying the next process", self.urls[i])
                last = exc
                continue
            self._down_until[i] = 0.0
            return answer
        assert last is not None
        raise last

    async def check(self) -> str:
        """'ok' when at least one process answers with a model (the api can serve chat);
        otherwise what each one said."""
        states = await self.check_each()
        if any(s == "ok" for s in states.values()):
            return "ok"
        return "; ".join(f"{url}: {s}" for url, s in states.items())

    async def check_each(self) -> dict[str, str]:
        """What each process says (for operators and the launcher)."""
        states = await asyncio.gather(*(c.check() for c in self.clients))
        return dict(zip(self.urls, states, strict=True))
