"""api.rasa_routing: each sender stays on one Rasa process, moves to the next of its own
order only when its process cannot be reached, and comes back when it is; a turn that may
have reached Rasa is never sent twice. Also: a failed turn marked by Rasa is a 503."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.rasa import RasaClient, RasaUnavailable, RasaUnreachable
from api.rasa_routing import RasaRouter, rendezvous_order
from tests.support.app import make_settings

URLS = ["http://rasa-a.test", "http://rasa-b.test", "http://rasa-c.test"]
GREETING = [{"recipient_id": "s", "text": "Hello!"}]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Processes:
    """Rasa processes behind a mock transport: which host got which turn, which are down."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.timeouts: set[str] = set()
        self.calls: list[str] = []
        self.answer: list[dict] = GREETING

    def handler(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.calls.append(host)
        if host in self.down:
            raise httpx.ConnectError("Connection refused", request=request)
        if host in self.timeouts:
            raise httpx.ReadTimeout("timed out", request=request)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "m.tar.gz"})
        json.loads(request.content)
        return httpx.Response(200, json=self.answer)

    def router(self, clock: Clock, urls: list[str] = URLS) -> RasaRouter:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        clients = [RasaClient(http, url, "token-0123456789abcdef", 5.0) for url in urls]
        return RasaRouter(clients, down_seconds=5.0, clock=clock)


def host(url: str) -> str:
    return httpx.URL(url).host


def send(router: RasaRouter, sender: str) -> list[dict]:
    return asyncio.run(router.send(sender, "/greet", {}))


def test_order_is_stable_even_and_minimal_on_removal() -> None:
    senders = [f"w-{i:032x}" for i in range(3000)]
    first = Counter(URLS[rendezvous_order(s, URLS)[0]] for s in senders)
    assert all(800 < n < 1200 for n in first.values()), first  # about a third each
    assert rendezvous_order("w-1", URLS) == rendezvous_order("w-1", list(URLS))
    # without rasa-c, only the senders that preferred rasa-c move
    two = URLS[:2]
    for s in senders:
        before = URLS[rendezvous_order(s, URLS)[0]]
        after = two[rendezvous_order(s, two)[0]]
        if before != URLS[2]:
            assert after == before


def test_every_turn_of_a_sender_goes_to_its_process() -> None:
    processes, clock = Processes(), Clock()
    router = processes.router(clock)
    for sender in ("w-alice", "w-bob", "w-carol"):
        processes.calls.clear()
        for _ in range(5):
            assert send(router, sender) == GREETING
        assert set(processes.calls) == {host(router.preferred(sender))}


def test_moves_only_when_unreachable_then_comes_back() -> None:
    processes, clock = Processes(), Clock()
    router = processes.router(clock)
    sender = "w-0123456789abcdef"
    own = host(router.preferred(sender))
    order = [host(URLS[i]) for i in rendezvous_order(sender, URLS)]
    processes.down.add(own)

    assert send(router, sender) == GREETING
    assert processes.calls == [own, order[1]]  # tried its own, then the next of its order

    processes.calls.clear()
    assert send(router, sender) == GREETING
    assert processes.calls == [order[1]]  # its own is skipped while marked down

    processes.down.clear()
    clock.now += 5.1  # the mark expires: the sender goes home
    processes.calls.clear()
    assert send(router, sender) == GREETING
    assert processes.calls == [own]


def test_every_process_down_is_a_polite_unavailable() -> None:
    processes, clock = Processes(), Clock()
    router = processes.router(clock)
    processes.down.update(host(u) for u in URLS)
    with pytest.raises(RasaUnreachable):
        send(router, "w-x")
    processes.calls.clear()
    with pytest.raises(RasaUnreachable):  # all marked down: still tried, none skipped
        send(router, "w-x")
    assert len(processes.calls) == 3


def test_a_turn_that_may_have_reached_rasa_is_not_sent_again() -> None:
    processes, clock = Processes(), Clock()
    router = processes.router(clock)
    own = host(router.preferred("w-slow"))
    processes.timeouts.add(own)
    with pytest.raises(RasaUnavailable) as caught:
        send(router, "w-slow")
    assert not isinstance(caught.value, RasaUnreachable)
    assert processes.calls == [own]


def test_ready_while_one_process_answers() -> None:
    processes, clock = Processes(), Clock()
    router = processes.router(clock, URLS[:2])
    assert asyncio.run(router.check()) == "ok"
    processes.down.add(host(URLS[0]))
    assert asyncio.run(router.check()) == "ok"
    assert asyncio.run(router.check_each())[URLS[0]].startswith("unreachable")
    processes.down.add(host(URLS[1]))
    state = asyncio.run(router.check())
    assert state != "ok" and URLS[0] in state and URLS[1] in state


def test_a_turn_marked_failed_by_rasa_is_unavailable() -> None:
    """bot.channels.FailureAwareRestInput appends this marker when the turn raised or its
    tracker could not be read or written (Rasa itself answers 200)."""
    processes, clock = Processes(), Clock()
    router = processes.router(clock, URLS[:1])
    processes.answer = [{"recipient_id": "s", "custom": {"turn_failed": True}}]
    with pytest.raises(RasaUnavailable, match="could not complete the turn"):
        send(router, "w-x")


def test_the_app_routes_over_rasa_urls(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, rasa_urls="http://127.0.0.1:9,http://127.0.0.1:10")
    with TestClient(create_app(settings)) as client:
        rasa = client.app.state.rasa  # type: ignore[attr-defined]
        assert isinstance(rasa, RasaRouter)
        assert rasa.urls == ["http://127.0.0.1:9", "http://127.0.0.1:10"]
        answer = client.post("/api/chat", json={"sender": "w-1", "message": "hello"})
        assert answer.status_code == 503  # neither is listening: the polite 503
        body = answer.json()
        assert answer.headers["retry-after"] == "5"
        assert "1823" in body["messages"][0]["text"]
    with TestClient(create_app(make_settings(tmp_path))) as client:
        assert isinstance(client.app.state.rasa, RasaClient)  # type: ignore[attr-defined]
