"""Measurement helpers shared by the benchmarks: latency percentiles and the machine's
load average sampled while a phase runs."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np


def percentiles(ms: Sequence[float], digits: int = 1) -> dict[str, float | int]:
    """p50 / p95 / p99, mean and max of latencies in milliseconds (``{"n": 0}`` when none)."""
    if not ms:
        return {"n": 0}
    a = np.asarray(ms, dtype=float)
    return {
        "n": len(a),
        "p50_ms": round(float(np.percentile(a, 50)), digits),
        "p95_ms": round(float(np.percentile(a, 95)), digits),
        "p99_ms": round(float(np.percentile(a, 99)), digits),
        "mean_ms": round(float(a.mean()), digits),
        "max_ms": round(float(a.max()), digits),
    }


class LoadSampler:
    """The 1-minute load average, sampled every ``every_s`` seconds between ``start`` and
    ``stop`` (or as a context manager); ``at_edges`` also samples at both ends, so a
    phase shorter than ``every_s`` still has figures of its own."""

    def __init__(self, every_s: float = 2.0, *, at_edges: bool = False) -> None:
        self.samples: list[float] = []
        self._every = every_s
        self._at_edges = at_edges
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.samples.append(os.getloadavg()[0])

    def start(self) -> LoadSampler:
        if self._at_edges:
            self.samples.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        if self._at_edges:
            self.samples.append(os.getloadavg()[0])
        return self.summary()

    def summary(self) -> dict[str, float]:
        s = self.samples or [os.getloadavg()[0]]
        return {"min": round(min(s), 2), "mean": round(sum(s) / len(s), 2), "max": round(max(s), 2)}

    def __enter__(self) -> LoadSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
