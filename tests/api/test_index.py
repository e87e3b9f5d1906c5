"""api.index: the serving engine is swapped atomically; requests keep the one they took."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from api.index import EngineHolder, IndexUnavailable


@dataclass
class Version:
    version: str


def test_empty_holder_raises() -> None:
    holder = EngineHolder()
    with pytest.raises(IndexUnavailable):
        holder.get()
    holder.load_error = "index not loaded: corrupt"
    with pytest.raises(IndexUnavailable, match="corrupt"):
        holder.get()
    assert holder.version is None


def test_swap_returns_the_old_engine() -> None:
    holder = EngineHolder()
    a, b = Version("a"), Version("b")
    assert holder.swap(a) is None  # type: ignore[arg-type]
    taken = holder.get()
    assert holder.swap(b) is a  # type: ignore[arg-type]
    assert taken is a  # a request that took "a" keeps using it
    assert holder.version == "b"


def test_readers_always_see_a_whole_engine() -> None:
    holder = EngineHolder()
    holder.swap(Version("0"))  # type: ignore[arg-type]
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(holder.get().version)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for i in range(1, 200):
        holder.swap(Version(str(i)))  # type: ignore[arg-type]
    stop.set()
    for t in readers:
        t.join()
    assert seen <= {str(i) for i in range(200)}
