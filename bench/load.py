"""An asyncio + httpx load driver: simulated citizens talking to ``POST /api/chat`` and
clients of ``GET /api/search``. Light on CPU (one event loop, one connection pool), so
on 2 cores most of the machine is left to the system under test.

Two ways of loading:

* **closed loop** (``pace=None``): each of ``users`` citizens sends its next turn as soon
  as the previous answer arrives — the most the system can do at that concurrency;
* **paced**: each citizen sends one turn every ``pace`` seconds (earlier turns that ran
  late are not made up), so ``users / pace`` turns per second are offered and the latency
  shows what a citizen feels at that rate.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.citizens import Step
from bench.measure import percentiles


@dataclass
class Turn:
    kind: str
    started: float
    ms: float
    status: int  # 0: no HTTP answer (timeout, connection error)
    answered: bool  # 200 with at least one message
    useful: bool | None = None  # a search turn: cards or a clarifying question shown


@dataclass
class PhaseResult:
    name: str
    users: int
    duration_s: float
    pace_s: float | None
    turns: list[Turn] = field(default_factory=list)
    skipped_buttons: int = 0
    conversations: int = 0

    def summary(self) -> dict[str, Any]:
        done = [t for t in self.turns if t.started <= self.duration_s]
        ok = [t for t in done if t.status == 200]
        errors = Counter(str(t.status) for t in done if t.status != 200)
        out: dict[str, Any] = {
            "phase": self.name,
            "users": self.users,
            "pace_s": self.pace_s,
            "duration_s": self.duration_s,
            "turns": len(done),
            "conversations": self.conversations,
            "turns_per_s": round(len(ok) / self.duration_s, 2),
            "errors": sum(errors.values()),
            "errors_by_status": dict(errors),
            "empty_answers": sum(1 for t in ok if not t.answered),
            "latency": percentiles([t.ms for t in ok]),
            "mix": dict(Counter(t.kind for t in done)),
            "skipped_buttons": self.skipped_buttons,
        }
        searches = [t for t in ok if t.kind in SEARCH_KINDS]
        if searches and len(searches) != len(ok):
            out["latency_search_turns"] = percentiles([t.ms for t in searches])
        useful = [t.useful for t in searches if t.useful is not None]
        if useful:
            out["search_turns_with_results_or_question"] = round(sum(useful) / len(useful), 3)
        if done:
            out["search_share"] = round(
                sum(1 for t in done if t.kind in SEARCH_KINDS) / len(done), 3
            )
        return out


#: Turns that run a search (typed, a form number, a clarification answered, more results).
SEARCH_KINDS = frozenset({"search", "clarify_answer", "more_results"})


def _button(reply: list[dict[str, Any]] | None, prefix: str) -> str | None:
    for message in reply or []:
        for b in message.get("buttons") or []:
            if str(b.get("payload", "")).startswith(prefix):
                return str(b["payload"])
    return None


def _useful(reply: list[dict[str, Any]]) -> bool:
    return any(m.get("cards") for m in reply) or _button(reply, "/choose_option") is not None


async def _chat(
    client: httpx.AsyncClient, url: str, sender: str, text: str, lang: str | None, t0: float
) -> tuple[int, list[dict[str, Any]] | None, float, float]:
    start = time.perf_counter()
    try:
        resp = await client.post(
            f"{url}/api/chat", json={"sender": sender, "message": text, "lang": lang}
        )
        status = resp.status_code
        body = resp.json().get("messages") if status == 200 else None
    except (httpx.HTTPError, ValueError):
        status, body = 0, None
    end = time.perf_counter()
    return status, body, start - t0, (end - start) * 1000


async def run_chat(
    url: str,
    *,
    name: str,
    users: int,
    duration_s: float,
    conversation: Callable[[random.Random], list[Step]],
    pace_s: float | None = None,
    seed: int = 1823,
    timeout_s: float = 30.0,
) -> PhaseResult:
    """``users`` citizens holding conversations for ``duration_s`` seconds."""
    result = PhaseResult(name, users, duration_s, pace_s)
    limits = httpx.Limits(max_connections=users + 5, max_keepalive_connections=users + 5)
    async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
        t0 = time.perf_counter()
        deadline = t0 + duration_s

        async def citizen(i: int) -> None:
            rng = random.Random(seed * 1000 + i)
            # spread the start (and, when paced, the phase of each citizen's schedule)
            next_at = t0 + (rng.uniform(0, pace_s) if pace_s else i * 0.01)
            while True:
                steps = conversation(rng)
                sender = f"bench-{uuid.uuid4().hex[:20]}"
                reply: list[dict[str, Any]] | None = None
                result.conversations += 1
                for step in steps:
                    now = time.perf_counter()
                    if next_at > now:
                        await asyncio.sleep(next_at - now)
                    if time.perf_counter() >= deadline:
                        return
                    text = step.text
                    if step.button:
                        payload = _button(reply, step.button)
                        if payload is None:
                            result.skipped_buttons += 1
                            continue
                        text = payload
                    status, body, started, ms = await _chat(
                        client, url, sender, text, step.lang, t0
                    )
                    reply = body
                    result.turns.append(
                        Turn(
                            step.kind,
                            started,
                            ms,
                            status,
                            bool(body),
                            _useful(body) if body is not None and step.kind == "search" else None,
                        )
                    )
                    if pace_s:
                        next_at = max(next_at + pace_s, time.perf_counter() - pace_s)

        await asyncio.gather(*(citizen(i) for i in range(users)))
    return result


async def run_search(
    url: str,
    *,
    clients: int,
    duration_s: float,
    queries: Sequence[str],
    timeout_s: float = 30.0,
) -> dict[str, Any]:
    """``clients`` closed-loop clients of ``GET /api/search?q=…&k=5``."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients + 5, max_keepalive_connections=clients + 5)
    async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
        t0 = time.perf_counter()
        deadline = t0 + duration_s

        async def one(i: int) -> None:
            n = i
            while time.perf_counter() < deadline:
                q = queries[n % len(queries)]
                n += clients
                start = time.perf_counter()
                try:
                    resp = await client.get(f"{url}/api/search", params={"q": q, "k": 5})
                    status = resp.status_code
                except httpx.HTTPError:
                    status = 0
                ms = (time.perf_counter() - start) * 1000
                if status == 200:
                    latencies.append(ms)
                else:
                    errors[str(status)] += 1

        await asyncio.gather(*(one(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    sent = len(latencies) + sum(errors.values())
    return {
        "clients": clients,
        "duration_s": round(elapsed, 1),
        "requests": len(latencies) + sum(errors.values()),
        "distinct_queries": len(set(queries[:sent])) if sent else 0,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "errors": sum(errors.values()),
        "errors_by_status": dict(errors),
        "latency": percentiles(latencies),
    }
