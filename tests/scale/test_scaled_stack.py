"""The scaled-out system on the machine's PostgreSQL and Redis (one stack for the module,
started by the launcher behind ``make run-scaled``): two Rasa processes sharing the
PostgreSQL tracker store and the Redis lock store, the action server, and the api with two
uvicorn workers on one port.

- 1,000 turns of one sender alternating between the two Rasa processes, with concurrent
  bursts, leave the tracker's events in order with no lost or duplicated bot reply.
- Publishing on one worker (a real admin publish: upload, build process, quality gate,
  switch) makes every worker serve the new version and its new title; a worker started
  later loads it; a half-written version is never served.
- Killing the Rasa process that holds a conversation: its turns move to the other process and
  the conversation's slots are still there (last: it leaves one Rasa process dead).

The turns are button payloads Rasa answers by a rule (``/greet``), each carrying a unique
marker in an entity (slot ``option_key``): the point is the tracker, not the search.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import signal
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.rasa_routing import rendezvous_order
from forms_index.artifacts import IndexStore
from tests.support.scaled import Backends, ScaledStack, start_scaled_stack
from tests.support.staff import add_account, http_login, wait_job

pytestmark = pytest.mark.scale

GREETING_EN = "Hello! I can help you find Hong Kong government forms"
GREETING_ZH = "你好！我可以協助你尋找香港政府表格"
MARKER = re.compile(r'"option_key": "(s\d+t\d+)"')
#: Rasa replays every event of the current session on each turn, so one endless session
#: gets slower turn after turn (measured: 0.24 s/turn over the first 100 turns, 2.5 s/turn
#: by turn 900). A new session every this many turns keeps each turn's cost flat; the check
#: covers every event of every session.
SESSION_TURNS = 25
MEASURE = os.environ.get("SCALE_MEASURE") == "1"


@pytest.fixture(scope="module")
def scaled(module_dir: Path, local_backends: Backends) -> Iterator[ScaledStack]:
    stack = start_scaled_stack(module_dir, local_backends, rasa_processes=2, api_workers=2)
    try:
        yield stack
    finally:
        stack.stop()


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def preferred_order(scaled: ScaledStack, sender: str) -> list[str]:
    """The Rasa URLs in the order the api tries them for ``sender``."""
    urls = scaled.config.rasa_urls
    return [urls[i] for i in rendezvous_order(sender, urls)]


# -- 1,000 turns ----------------------------------------------------------------------------


@dataclass
class Turn:
    marker: str
    step: int
    via: str  # "api" or a Rasa URL
    seconds: float = 0.0
    texts: list[str] = field(default_factory=list)
    status: int = 0


def payload(marker: str) -> str:
    return f'/greet{{"option_key": "{marker}"}}'


async def send_turn(
    client: httpx.AsyncClient, scaled: ScaledStack, sender: str, turn: Turn
) -> Turn:
    started = time.perf_counter()
    if turn.via == "api":
        resp = await client.post(
            f"{scaled.url}/api/chat",
            json={"sender": sender, "message": payload(turn.marker), "lang": "en"},
        )
        texts = [m["text"] for m in resp.json().get("messages", [])]
    else:
        resp = await client.post(
            f"{turn.via}/webhooks/rest/webhook",
            json={"sender": sender, "message": payload(turn.marker)},
        )
        texts = [m.get("text", "") for m in resp.json()]
    turn.seconds = time.perf_counter() - started
    turn.status, turn.texts = resp.status_code, texts
    return turn


def plan(other: str, total: int, *, split_bursts: bool) -> list[list[Turn]]:
    """Steps of turns: each step goes to the other process than the one before (through the
    api for the sender's own process, straight to the other one); every 13th step is a
    burst of three concurrent turns. A burst goes to one process, as the api's routing
    does — or, ``split_bursts``, across both (the race of Rasa's RedisLockStore)."""
    steps: list[list[Turn]] = []
    count, step = 0, 0
    while count < total:
        size = 3 if step % 13 == 12 else 1
        size = min(size, total - count)
        targets = ["api", other]
        turns = []
        for i in range(size):
            where = targets[(step + i) % 2] if split_bursts else targets[step % 2]
            turns.append(Turn(marker=f"s{step}t{i}", step=step, via=where))
        steps.append(turns)
        count += size
        step += 1
    return steps


def run_conversation(scaled: ScaledStack, sender: str, steps: list[list[Turn]]) -> float:
    other = preferred_order(scaled, sender)[1]

    async def main() -> float:
        limits = httpx.Limits(max_keepalive_connections=8, keepalive_expiry=4.0)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            started = time.perf_counter()
            done = 0
            for turns in steps:
                if done and done % SESSION_TURNS < len(turns):
                    await client.post(
                        f"{other}/webhooks/rest/webhook",
                        json={"sender": sender, "message": "/session_start"},
                    )
                await asyncio.gather(*(send_turn(client, scaled, sender, t) for t in turns))
                done += len(turns)
            return time.perf_counter() - started

    return asyncio.run(main())


def check_tracker(
    scaled: ScaledStack, sender: str, steps: list[list[Turn]]
) -> dict[str, list[str]]:
    """What is wrong with the stored conversation: lost or duplicated user turns, user turns
    not followed by exactly one bot reply, turns stored out of step order."""
    events = scaled.stored_events(sender)
    users: list[str] = []
    replies: list[list[str]] = []
    for event in events:
        if event["event"] == "user":
            found = MARKER.search(event.get("text") or "")
            if found:
                users.append(found.group(1))
                replies.append([])
            else:
                users.append("")  # /session_start: not one of ours
                replies.append([])
        elif event["event"] == "bot" and replies:
            replies[-1].append(event.get("text") or "")
    sent = [t.marker for turns in steps for t in turns]
    stored = Counter(m for m in users if m)
    step_of = {t.marker: t.step for turns in steps for t in turns}
    ordered = [step_of[m] for m in users if m in step_of]
    return {
        "lost": [m for m in sent if stored[m] == 0],
        "duplicated": [m for m, n in stored.items() if n > 1],
        "not_one_reply": [m for m, r in zip(users, replies, strict=True) if m and len(r) != 1],
        "wrong_reply": [
            m
            for m, r in zip(users, replies, strict=True)
            if m and len(r) == 1 and not r[0].startswith(GREETING_EN)
        ],
        "out_of_order": [str(b) for a, b in itertools.pairwise(ordered) if b < a],
    }


def summary(turns: list[Turn], elapsed: float) -> str:
    singles = sorted(t.seconds for t in turns if t.marker.endswith("t0"))
    everything = sorted(t.seconds for t in turns)
    p95 = everything[int(len(everything) * 0.95) - 1]
    return (
        f"{len(turns)} turns in {elapsed:.0f} s ({len(turns) / elapsed:.1f} turns/s), "
        f"median {statistics.median(singles) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {everything[-1] * 1000:.0f} ms"
    )


@pytest.mark.parametrize(
    "split_bursts",
    [
        False,
        pytest.param(
            True,
            marks=[
                pytest.mark.skipif(
                    not MEASURE,
                    reason="opt-in: measures Rasa's RedisLockStore race (SCALE_MEASURE=1; "
                    "figures in docs/scaling.md)",
                ),
                pytest.mark.xfail(
                    reason="RedisLockStore is not atomic across processes (Rasa 9213, 11256): "
                    "the api keeps each sender on one process instead",
                    strict=False,
                ),
            ],
        ),
    ],
    ids=["bursts-on-one-process", "bursts-split-across-processes"],
)
def test_thousand_turns_alternating_between_two_rasa_processes(
    scaled: ScaledStack, split_bursts: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = new_sender("thousand")
    other = preferred_order(scaled, sender)[1]
    steps = plan(other, 1000, split_bursts=split_bursts)
    elapsed = run_conversation(scaled, sender, steps)
    turns = [t for s in steps for t in s]
    with capsys.disabled():
        print(f"\n[scale] {'split' if split_bursts else 'one process'}: {summary(turns, elapsed)}")

    assert {t.via for t in turns} == {"api", other}  # both processes took turns
    bad_answers = [
        t.marker
        for t in turns
        if t.status != 200 or len(t.texts) != 1 or not t.texts[0].startswith(GREETING_EN)
    ]
    problems = check_tracker(scaled, sender, steps)
    with capsys.disabled():
        print(f"[scale] { ({k: len(v) for k, v in problems.items()}) }")
    assert not bad_answers, bad_answers[:20]
    assert problems == {k: [] for k in problems}, {k: v[:20] for k, v in problems.items()}
    # the conversation's slot is the last turn's
    last = steps[-1][-1] if len(steps[-1]) == 1 else None
    if last is not None:
        slots = scaled.rasa_tracker(sender, other)["slots"]
        assert slots["option_key"] == last.marker


# -- index versions across workers --------------------------------------------------------------


def logged_serving(scaled: ScaledStack, version: str) -> set[int]:
    """PIDs of workers that logged serving ``version``. (The log redacts the version's first
    eight digits as a phone number, so the rest of the name is matched.)"""
    tail = re.escape(version[8:])
    found = re.findall(rf"\[(\d+)\] api\.index: serving index version \S*{tail}", scaled.api_log())
    return {int(pid) for pid in found}


def served_versions(scaled: ScaledStack, n: int = 20) -> Counter[str]:
    """``index_version`` of ``/readyz`` on ``n`` new connections (spread over the workers)."""
    seen: Counter[str] = Counter()
    for _ in range(n):
        with httpx.Client(timeout=30) as client:
            seen[client.get(f"{scaled.url}/readyz").json()["index_version"]] += 1
    return seen


def wait_for(condition: Any, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.2)
    return time.monotonic() - started


def publish_edited_title(scaled: ScaledStack) -> tuple[str, str]:
    """An admin downloads the live catalogue, changes one English title, uploads and
    publishes it through the api (whichever worker answers); the published version and the
    new title."""
    name = f"scale-admin-{uuid.uuid4().hex[:6]}"
    add_account(scaled.backends.app_url, name, "admin")
    client, csrf = http_login(scaled.url, name)
    try:
        lines = client.get("/api/admin/catalogue").text.splitlines()
        row = json.loads(lines[0])
        title = f"{row['title_en']} (edited {uuid.uuid4().hex[:6]})"
        lines[0] = json.dumps({**row, "title_en": title}, ensure_ascii=False)
        upload = client.post(
            "/api/admin/catalogue",
            headers={"X-CSRF-Token": csrf},
            files={"file": ("catalogue.jsonl", ("\n".join(lines) + "\n").encode())},
        ).json()
        assert upload["valid"] and len(upload["diff"]["changed"]) == 1, upload
        started = client.post(
            "/api/admin/publish",
            headers={"X-CSRF-Token": csrf},
            json={"upload_id": upload["upload_id"]},
        )
        assert started.status_code == 202, started.text
        job = wait_job(client, started.json()["job_id"])
    finally:
        client.close()
    assert job["state"] == "done", job
    return str(job["version"]), title


def test_publish_on_one_worker_is_served_by_every_worker(
    scaled: ScaledStack, capsys: pytest.CaptureFixture[str]
) -> None:
    workers = scaled.api_workers()
    assert len(workers) == 2, workers
    new, title = publish_edited_title(scaled)
    took = wait_for(
        lambda: set(workers) <= logged_serving(scaled, new), 60, f"every worker serves {new}"
    )
    assert served_versions(scaled) == Counter({new: 20})
    for _ in range(10):  # new connections, spread over the workers
        with httpx.Client(timeout=30) as client:
            found = client.get(f"{scaled.url}/api/search", params={"q": title, "k": 1}).json()
        assert found["index_version"] == new and found["results"][0]["title_en"] == title

    # a worker that starts later loads the version current names
    scaled.add_api_worker()
    wait_for(lambda: len(scaled.api_workers()) == 3, 60, "a third worker")
    (late,) = set(scaled.api_workers()) - set(workers)
    wait_for(lambda: late in logged_serving(scaled, new), 120, "the new worker serves it")
    scaled.remove_api_worker()
    wait_for(lambda: len(scaled.api_workers()) == 2, 60, "back to two workers")

    # a version whose files are not whole is never served, whatever current says
    store = IndexStore(scaled.index_dir)
    bad = scaled.publish_copy()
    with capsys.disabled():
        print(f"\n[scale] every worker served the new version {took:.1f} s after the switch")
    faiss_file = store.path(bad) / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:4096])
    wait_for(
        lambda: (
            scaled.api_log().count(f"{bad[8:]} named by current cannot be served")
            >= len(scaled.api_workers())
        ),
        60,
        "every worker refuses the broken version",
    )
    assert served_versions(scaled) == Counter({new: 20})
    assert not logged_serving(scaled, bad)
    store.set_current(new)  # rolled back


# -- a Rasa process dies ----------------------------------------------------------------------


def chat(scaled: ScaledStack, sender: str, message: str, lang: str | None) -> httpx.Response:
    return httpx.post(
        f"{scaled.url}/api/chat",
        json={"sender": sender, "message": message, "lang": lang},
        timeout=60,
    )


def test_conversation_survives_killing_its_rasa_process(
    scaled: ScaledStack, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = new_sender("kill")
    home, other = preferred_order(scaled, sender)
    first = chat(scaled, sender, payload("kept-across-the-kill"), "zh")
    assert first.status_code == 200 and first.json()["messages"][0]["text"].startswith(GREETING_ZH)

    name = scaled.config.rasa_services[scaled.config.rasa_urls.index(home)]
    pid = scaled.stack.pids()[name]
    os.killpg(pid, signal.SIGKILL)
    scaled.stack.stop_service(name)  # reaps it
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{home}/", timeout=5)

    started = time.perf_counter()
    moved = chat(scaled, sender, "/greet", None)  # a button payload: keeps the language
    took = time.perf_counter() - started
    assert moved.status_code == 200, moved.text
    # answered in Chinese: the language slot came from the shared tracker store
    assert moved.json()["messages"][0]["text"].startswith(GREETING_ZH)
    slots = scaled.rasa_tracker(sender, other)["slots"]
    assert slots["option_key"] == "kept-across-the-kill"
    assert slots["language"] == "zh"

    for i in range(5):  # the conversation goes on, on the other process
        reply = chat(scaled, sender, payload(f"after-{i}"), None)
        assert reply.status_code == 200
    assert scaled.rasa_tracker(sender, other)["slots"]["option_key"] == "after-4"
    users = [e["text"] for e in scaled.stored_events(sender) if e["event"] == "user"]
    assert users == [
        payload("kept-across-the-kill"),
        "/greet",
        *(payload(f"after-{i}") for i in range(5)),
    ]
    # a new conversation whose own process is the dead one starts on the other as well
    for _ in range(50):
        newcomer = new_sender("kill")
        if preferred_order(scaled, newcomer)[0] == home:
            break
    assert chat(scaled, newcomer, "/greet", "en").status_code == 200
    with capsys.disabled():
        print(f"\n[scale] first turn after the kill answered by the other process in {took:.2f} s")
