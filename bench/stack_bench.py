"""End-to-end benchmark of the running system (``make bench``): the real stack under load.

For each configuration — ``embedded`` (what ``make run`` starts: one Rasa, the action
server, one api process, SQLite, in-memory locks) and ``scaled`` (issue 7's
``make run-scaled``, when the launcher has that mode) — it launches ``python -m api.stack``
exactly as ``make run`` does (rate limits off, temporary ``var/`` for the databases, the
project's index), and measures:

* start-up: seconds from launching to ``/readyz`` answering 200;
* chat, closed loop: 1, 20 and 50 simulated citizens holding conversations through
  ``POST /api/chat`` (``bench/citizens.py``: ≈70 % searches in five writing styles,
  clarifications answered by button payload, more results, small talk, handoffs,
  feedback), each sending its next turn when the answer arrives; then the same load of
  greetings, which Rasa answers by a rule without running our search (bare Rasa);
* chat, paced: 20 citizens each sending one turn per second (20 turns/s offered): what a
  citizen feels at that rate (the latency target);
* the search API: 1 and 20 closed-loop clients of ``GET /api/search``;
* peak RSS and CPU of every process of the stack (psutil, sampled every 0.5 s);
* the load average before and during the run;
* with ``--profile``, a py-spy profile of each process during the 20-citizen chat load
  (top functions in ``bench/results/profile-<config>-<role>.txt``).

Then a short check that the rate limit bites when on (a second api process with
``RATE_LIMIT_PER_MINUTE=30`` against the same Rasa). Index build times come from the
newest search benchmark result (``make bench-search``, which ``make bench`` runs first).

Writes ``bench/results/stack-<date>T<hhmm>.json`` (one file per run),
``bench/results/stack-latency.png`` and the section between the ``make bench`` markers of
``BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402

from api.stack import free_port  # noqa: E402
from bench import citizens  # noqa: E402
from bench.load import run_chat, run_search  # noqa: E402
from bench.measure import LoadSampler  # noqa: E402

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
BENCHMARKS_MD = PROJECT_ROOT / "BENCHMARKS.md"
BEGIN = "<!-- make bench: begin (written by bench/stack_bench.py) -->"
END = "<!-- make bench: end -->"
APP_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
PY_SPY = PROJECT_ROOT / ".venv" / "bin" / "py-spy"

#: Targets of issue 6 (2 cores).
TARGETS = {
    "search_turn_p95_ms_at_20": 250,
    "turns_per_s": 20,
    "ratio_to_bare_rasa": 0.6,
    "search_api_p95_ms_1": 30,
    "search_api_rps_20": 100,
    "rss_mb": {"api": 1024, "rasa": 1536, "actions": 200},
    "startup_s": 60,
}


# ----------------------------------------------------------------------------- machine
def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
    }


def role_of(cmdline: Sequence[str]) -> str:
    """Which part of the stack a process is, from its command line."""
    joined = " ".join(cmdline)
    if "rasa" in joined and " run actions" in joined:
        return "actions"
    if re.search(r"/rasa run\b", joined) or "rasa run " in joined:
        return "rasa"
    if " -m api" in joined or "uvicorn" in joined or "multiprocessing" in joined:
        return "api"
    return "other"


@dataclass
class ProcStat:
    role: str
    pid: int
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0


class ProcessSampler:
    """Peak RSS of every process under the launcher, and CPU seconds per phase."""

    def __init__(self, root_pid: int, every_s: float = 0.5) -> None:
        self.root = psutil.Process(root_pid)
        self.stats: dict[int, ProcStat] = {}
        self._procs: dict[int, psutil.Process] = {}
        self._every = every_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _scan(self) -> None:
        try:
            children = self.root.children(recursive=True)
        except psutil.Error:
            return
        with self._lock:
            for p in children:
                try:
                    if p.pid not in self._procs:
                        self._procs[p.pid] = p
                        self.stats[p.pid] = ProcStat(role_of(p.cmdline()), p.pid)
                    rss = p.memory_info().rss / 2**20
                    st = self.stats[p.pid]
                    st.peak_rss_mb = max(st.peak_rss_mb, round(rss, 1))
                    t = p.cpu_times()
                    st.cpu_s = t.user + t.system
                except psutil.Error:
                    continue

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._scan()

    def start(self) -> ProcessSampler:
        self._scan()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_by_role(self) -> dict[str, float]:
        self._scan()
        with self._lock:
            out: dict[str, float] = {}
            for st in self.stats.values():
                out[st.role] = out.get(st.role, 0.0) + st.cpu_s
            return out

    def pids(self, role: str) -> list[int]:
        self._scan()
        return [st.pid for st in self.stats.values() if st.role == role]

    def memory(self) -> dict[str, Any]:
        by_role: dict[str, dict[str, Any]] = {}
        for st in sorted(self.stats.values(), key=lambda s: (s.role, s.pid)):
            r = by_role.setdefault(st.role, {"processes": 0, "peak_rss_mb": 0.0, "each": []})
            r["processes"] += 1
            r["peak_rss_mb"] = max(r["peak_rss_mb"], st.peak_rss_mb)
            r["each"].append(st.peak_rss_mb)
        for r in by_role.values():
            r["sum_of_peaks_mb"] = round(sum(r["each"]), 1)
        return by_role


@contextlib.contextmanager
def cpu_window(sampler: ProcessSampler, into: dict[str, Any]) -> Iterator[None]:
    """CPU used by each role (in cores: seconds of CPU per second) while the block runs."""
    before, t0 = sampler.cpu_by_role(), time.perf_counter()
    own0 = psutil.Process().cpu_times()
    yield
    after, elapsed = sampler.cpu_by_role(), time.perf_counter() - t0
    own1 = psutil.Process().cpu_times()
    into["cpu_cores"] = {
        role: round((after.get(role, 0.0) - before.get(role, 0.0)) / elapsed, 2)
        for role in sorted(after)
    }
    into["cpu_cores"]["load driver"] = round(
        (own1.user + own1.system - own0.user - own0.system) / elapsed, 2
    )


# ------------------------------------------------------------------------------- stack
@dataclass
class Running:
    config: str
    proc: subprocess.Popen[bytes]
    url: str
    env: dict[str, str]
    run_dir: Path
    startup_s: float
    ports: dict[str, int] = field(default_factory=dict)


#: The scaled configuration's databases: the local servers, as ``make run-scaled``, but
#: databases of the benchmark's own (dropped before each run, so every run starts empty).
SCALED_ENV = {
    "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/forms_bench_app",
    "RASA_TRACKER_DB": "forms_bench_rasa",
    "RASA_LOCK_KEY_PREFIX": "bench",
}


def drop_scaled_databases() -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True, connect_timeout=5
    ) as conn:
        for name in ("forms_bench_app", "forms_bench_rasa"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scaled_mode() -> tuple[list[str] | None, str]:
    """The launcher arguments of issue 7's scaled mode, or None and why not."""
    try:
        out = subprocess.run(
            [str(APP_PYTHON), "-m", "api.stack", "--help"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"the launcher's help could not be read ({exc})"
    if "--scaled" in out:
        return ["--scaled"], ""
    return None, (
        "the launcher (api/stack.py) has no scaled mode yet (issue 7, make run-scaled): "
        "the scaled configuration was not measured in this run"
    )


def launch(config: str, extra_args: Sequence[str], work: Path, timeout_s: float) -> Running:
    run_dir = work / config
    run_dir.mkdir(parents=True, exist_ok=True)
    ports = {"api": free_port(), "rasa": free_port(), "actions": free_port()}
    env = {
        **os.environ,
        "RATE_LIMIT_PER_MINUTE": "0",
        "RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
        "ACTIONS_URL": f"http://127.0.0.1:{ports['actions']}",
        "RASA_TRACKER_DB": str(run_dir / "rasa" / "tracker.db"),
        **(SCALED_ENV if config == "scaled" else {}),
        **{
            n: secrets.token_urlsafe(32)
            for n in ("RASA_TOKEN", "INTERNAL_API_TOKEN", "SESSION_SECRET")
        },
    }
    log = (run_dir / "launcher.log").open("wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            str(APP_PYTHON),
            "-m",
            "api.stack",
            "--port",
            str(ports["api"]),
            "--var-dir",
            str(run_dir),
            *extra_args,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    url = f"http://127.0.0.1:{ports['api']}"
    running = Running(config, proc, url, env, run_dir, 0.0, ports)
    deadline = t0 + timeout_s
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{config}: the launcher exited; see {run_dir / 'launcher.log'}")
        try:
            if httpx.get(f"{url}/readyz", timeout=3).status_code == 200:
                running.startup_s = round(time.perf_counter() - t0, 1)
                return running
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    stop(running)
    raise RuntimeError(f"{config}: not ready after {timeout_s:.0f} s")


def stop(running: Running) -> None:
    """SIGTERM the launcher (it stops its children); SIGKILL whatever is left."""
    proc = running.proc
    tree: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        tree = psutil.Process(proc.pid).children(recursive=True)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for child in tree:
        with contextlib.suppress(psutil.Error):
            child.kill()


# ------------------------------------------------------------------------------ phases
def warm_up(url: str) -> None:
    """One of each kind of turn, so first-call costs (TensorFlow graphs, caches) are paid."""
    rng = random.Random(7)
    with httpx.Client(timeout=60) as client:
        for _ in range(3):
            for steps in (citizens.conversation(rng) for _ in range(12)):
                sender = f"warm-{secrets.token_hex(8)}"
                for step in steps:
                    if step.button:
                        continue
                    client.post(
                        f"{url}/api/chat",
                        json={"sender": sender, "message": step.text, "lang": step.lang},
                    )


def profile(pids: dict[str, list[int]], seconds: int, out_dir: Path) -> list[subprocess.Popen]:
    """Start py-spy on every process (raw folded stacks), for ``seconds``."""
    procs = []
    if not PY_SPY.exists():
        return procs
    for role, role_pids in pids.items():
        for n, pid in enumerate(role_pids):
            out = out_dir / f"{role}{n or ''}.folded"
            procs.append(
                subprocess.Popen(
                    [
                        str(PY_SPY),
                        "record",
                        "-p",
                        str(pid),
                        "-d",
                        str(seconds),
                        "-r",
                        "50",
                        "--nonblocking",
                        "-f",
                        "raw",
                        "-o",
                        str(out),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    return procs


def summarise_profile(folded: Path, top: int = 25) -> str:
    """Top functions by inclusive and by self share of samples, from py-spy's raw output."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for f in set(frames):
            inclusive[f] = inclusive.get(f, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n
    if not total:
        return "no samples\n"

    def table(d: dict[str, int]) -> str:
        rows = sorted(d.items(), key=lambda kv: -kv[1])[:top]
        return "\n".join(f"{100 * v / total:5.1f}%  {k[:160]}" for k, v in rows)

    return (
        f"{total} samples\n\n-- inclusive (function and what it calls) --\n{table(inclusive)}"
        f"\n\n-- self --\n{table(own)}\n"
    )


def rate_limit_check(running: Running) -> dict[str, Any]:
    """A second api process with RATE_LIMIT_PER_MINUTE=30 against the same Rasa: 40 quick
    searches and a chat turn from one client."""
    port = free_port()
    env = {
        **running.env,
        "RATE_LIMIT_PER_MINUTE": "30",
        "API_PORT": str(port),
        "DATABASE_URL": f"sqlite:///{running.run_dir / 'ratelimit.sqlite3'}",
    }
    log = (running.run_dir / "ratelimit-api.log").open("wb")
    proc = subprocess.Popen(
        [str(APP_PYTHON), "-m", "api"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=30) as client:
            for _ in range(240):
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{url}/readyz").status_code == 200:
                        break
                time.sleep(0.5)
            statuses, retry_after = [], set()
            for i in range(40):
                r = client.get(f"{url}/api/search", params={"q": f"passport {i}"})
                statuses.append(r.status_code)
                if r.status_code == 429:
                    retry_after.add(r.headers.get("retry-after"))
            chat = client.post(
                f"{url}/api/chat", json={"sender": "bench-rl", "message": "hi", "lang": "en"}
            )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    ok = statuses.count(200)
    return {
        "limit_per_minute": 30,
        "search_requests": len(statuses),
        "answered_200": ok,
        "answered_429": statuses.count(429),
        "first_429_at_request": statuses.index(429) + 1 if 429 in statuses else None,
        "retry_after": sorted(x for x in retry_after if x),
        "chat_after_that": chat.status_code,
        "bites": statuses.count(429) > 0 and ok <= 31 and chat.status_code == 429,
    }


def bench_config(
    config: str, extra: Sequence[str], args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    print(f"[{config}] starting the stack…", file=sys.stderr, flush=True)
    load_before = [round(x, 2) for x in os.getloadavg()]
    running = launch(config, extra, work, args.ready_timeout)
    print(f"[{config}] ready in {running.startup_s} s", file=sys.stderr, flush=True)
    sampler = ProcessSampler(running.proc.pid).start()
    loads = LoadSampler().start()
    out: dict[str, Any] = {
        "config": config,
        "launcher_args": list(extra),
        "startup_s": running.startup_s,
        "load_average_before": load_before,
        "chat": [],
        "search_api": [],
    }
    try:
        warm_up(running.url)
        for users in args.users:
            for name, conv in (("mix", citizens.conversation), ("greeting", citizens.greeting)):
                print(f"[{config}] chat {name}, {users} citizens…", file=sys.stderr, flush=True)
                profiling: list[subprocess.Popen] = []
                if args.profile and users == 20 and name == "mix":
                    pdir = work / f"profile-{config}"
                    pdir.mkdir(exist_ok=True)
                    roles = {r: sampler.pids(r) for r in ("api", "rasa", "actions")}
                    profiling = profile(roles, int(args.duration), pdir)
                phase: dict[str, Any] = {}
                with cpu_window(sampler, phase):
                    res = asyncio.run(
                        run_chat(
                            running.url,
                            name=name,
                            users=users,
                            duration_s=args.duration,
                            conversation=conv,
                        )
                    )
                for p in profiling:
                    p.wait()
                out["chat"].append({**res.summary(), **phase})
        paced: dict[str, Any] = {}
        print(f"[{config}] chat mix, paced…", file=sys.stderr, flush=True)
        with cpu_window(sampler, paced):
            res = asyncio.run(
                run_chat(
                    running.url,
                    name="mix-paced",
                    users=args.paced_users,
                    duration_s=args.paced_duration,
                    conversation=citizens.conversation,
                    pace_s=args.pace,
                )
            )
        out["paced"] = {**res.summary(), **paced}
        queries = citizens.search_queries(random.Random(11), 4000)
        for clients in (1, 20):
            print(f"[{config}] search API, {clients} clients…", file=sys.stderr, flush=True)
            phase = {}
            with cpu_window(sampler, phase):
                r = asyncio.run(
                    run_search(
                        running.url,
                        clients=clients,
                        duration_s=args.search_duration,
                        queries=queries,
                    )
                )
            out["search_api"].append({**r, **phase})
        out["load_average_during"] = loads.stop()
        out["memory"] = sampler.memory()
        if config == "embedded" and not args.no_rate_limit_check:
            print(f"[{config}] rate-limit check…", file=sys.stderr, flush=True)
            out["rate_limit_check"] = rate_limit_check(running)
    finally:
        sampler.stop()
        stop(running)
        if args.profile:
            pdir = work / f"profile-{config}"
            for folded in sorted(pdir.glob("*.folded")) if pdir.exists() else []:
                target = RESULTS_DIR / f"profile-{config}-{folded.stem}.txt"
                target.write_text(
                    f"py-spy, {config}, {folded.stem}, 20 citizens closed loop, "
                    f"{args.duration:.0f} s\n{summarise_profile(folded)}",
                    encoding="utf-8",
                )
    return out


# ------------------------------------------------------------------------------ report
def newest_search_result() -> tuple[Path | None, dict[str, Any] | None]:
    files = sorted(RESULTS_DIR.glob("search-*.json"), key=lambda p: p.stat().st_mtime)
    if not files:
        return None, None
    return files[-1], json.loads(files[-1].read_text(encoding="utf-8"))


def index_figures() -> dict[str, Any]:
    path, report = newest_search_result()
    if report is None:
        return {"note": "no search benchmark result under bench/results/ (make bench-search)"}
    builds = [
        {
            k: b.get(k)
            for k in (
                "catalogue",
                "entries",
                "backend",
                "cold_build_s",
                "one_edit_rebuild_s",
                "engine_load_s",
            )
        }
        for b in report.get("builds", [])
    ]
    return {
        "source": str(path.relative_to(PROJECT_ROOT)),
        "started": report.get("started"),
        "builds": builds,
    }


def by(rows: list[dict[str, Any]], phase: str, users: int) -> dict[str, Any] | None:
    return next((r for r in rows if r["phase"] == phase and r["users"] == users), None)


def targets(cfg: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(target, wanted, measured, met) for one configuration."""
    rows: list[tuple[str, str, str, bool | None]] = []
    paced = cfg.get("paced") or {}
    search_lat = paced.get("latency_search_turns") or paced.get("latency") or {}
    p95 = search_lat.get("p95_ms")
    errors = paced.get("errors")
    rows.append(
        (
            f"chat turn with a search, p95 at {paced.get('users')} citizens "
            f"({paced.get('users', 0) / (paced.get('pace_s') or 1):.0f} turns/s offered), 0 errors",
            f"≤ {TARGETS['search_turn_p95_ms_at_20']} ms, 0",
            f"{p95} ms, {errors} errors",
            p95 is not None and p95 <= TARGETS["search_turn_p95_ms_at_20"] and errors == 0,
        )
    )
    mix20 = by(cfg["chat"], "mix", 20) or {}
    greet20 = by(cfg["chat"], "greeting", 20) or {}
    best = max((r["turns_per_s"] for r in cfg["chat"] if r["phase"] == "mix"), default=0)
    rows.append(
        (
            "chat turns/s sustained (mix, best closed-loop concurrency)",
            f"≥ {TARGETS['turns_per_s']}",
            f"{best}",
            best >= TARGETS["turns_per_s"],
        )
    )
    if mix20 and greet20 and greet20.get("turns_per_s"):
        ratio = round(mix20["turns_per_s"] / greet20["turns_per_s"], 2)
        cfg["ratio_to_bare_rasa_at_20"] = ratio
        rows.append(
            (
                "throughput ÷ bare-Rasa greeting throughput (20 citizens, closed loop)",
                f"≥ {TARGETS['ratio_to_bare_rasa']}",
                f"{ratio}",
                ratio >= TARGETS["ratio_to_bare_rasa"],
            )
        )
    for r in cfg["search_api"]:
        if r["clients"] == 1:
            v = r["latency"].get("p95_ms")
            rows.append(
                (
                    "search API p95, 1 client",
                    f"≤ {TARGETS['search_api_p95_ms_1']} ms",
                    f"{v} ms",
                    v is not None and v <= TARGETS["search_api_p95_ms_1"],
                )
            )
        if r["clients"] == 20:
            v = r["requests_per_s"]
            rows.append(
                (
                    "search API requests/s, 20 clients",
                    f"≥ {TARGETS['search_api_rps_20']}",
                    f"{v}",
                    v >= TARGETS["search_api_rps_20"],
                )
            )
    for role, limit in TARGETS["rss_mb"].items():
        m = cfg.get("memory", {}).get(role)
        if m:
            rows.append(
                (
                    f"peak RSS, {role} (largest process)",
                    f"≤ {limit} MB",
                    f"{m['peak_rss_mb']:.0f} MB",
                    m["peak_rss_mb"] <= limit,
                )
            )
    rows.append(
        (
            "start-up to /readyz 200",
            f"≤ {TARGETS['startup_s']} s",
            f"{cfg['startup_s']} s",
            cfg["startup_s"] <= TARGETS["startup_s"],
        )
    )
    return rows


def plot(report: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_lat, ax_tp) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"embedded": "-", "scaled": "--"}
    for cfg in report["configs"]:
        ls = styles.get(cfg["config"], ":")
        for phase, color in (("mix", "tab:blue"), ("greeting", "tab:gray")):
            rows = sorted((r for r in cfg["chat"] if r["phase"] == phase), key=lambda r: r["users"])
            if not rows:
                continue
            users = [r["users"] for r in rows]
            label = (
                f"{cfg['config']}, {'conversations' if phase == 'mix' else 'greetings (bare Rasa)'}"
            )
            ax_lat.plot(
                users,
                [r["latency"].get("p50_ms") for r in rows],
                ls,
                color=color,
                marker="o",
                label=f"p50, {label}",
            )
            ax_lat.plot(
                users,
                [r["latency"].get("p95_ms") for r in rows],
                ls,
                color=color,
                marker="^",
                alpha=0.6,
                label=f"p95, {label}",
            )
            ax_tp.plot(
                users, [r["turns_per_s"] for r in rows], ls, color=color, marker="o", label=label
            )
    ax_lat.set(
        xlabel="concurrent citizens (closed loop)",
        ylabel="latency per turn (ms)",
        title="Chat turn latency",
        yscale="log",
    )
    ax_tp.set(
        xlabel="concurrent citizens (closed loop)",
        ylabel="turns per second",
        title="Chat throughput",
    )
    ax_tp.set_ylim(bottom=0)
    for ax in (ax_lat, ax_tp):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(
        f"make bench, {report['started'][:16]} UTC, {report['machine']['cores']} cores", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _lat(r: dict[str, Any], key: str = "latency") -> str:
    lat = r.get(key) or {}
    return f"{lat.get('p50_ms', '–')} / {lat.get('p95_ms', '–')} / {lat.get('p99_ms', '–')}"


def markdown(report: dict[str, Any], json_name: str, png_name: str) -> str:
    m = report["machine"]
    lines = [
        BEGIN,
        "",
        f"Command: `{report['command']}` · date: {report['started']} · machine: "
        f"{m['cores']} cores, {m['cpu_model']}, {m['memory_gb']} GB · load average before "
        f"(1/5/15 min): {' / '.join(str(x) for x in report['load_average_before'])} · results: "
        f"[`bench/results/{json_name}`](bench/results/{json_name})",
        "",
    ]
    for cfg in report["configs"]:
        ld = cfg.get("load_average_during", {})
        lines += [
            f"#### {cfg['config']}"
            + (
                f" (`python -m api.stack {' '.join(cfg['launcher_args'])}`)"
                if cfg["launcher_args"]
                else " (`make run`: `python -m api.stack`)"
            ),
            "",
            f"Start-up to `/readyz` 200: **{cfg['startup_s']} s**. Load average (1 min) during "
            f"the run: min {ld.get('min')}, mean {ld.get('mean')}, max {ld.get('max')}.",
            "",
            "Chat, closed loop (each citizen sends its next turn when the answer arrives):",
            "",
            "| workload | citizens | turns/s | p50 / p95 / p99 ms | search turns p50 / p95 / p99 ms"
            " | errors | CPU (cores) api · rasa · actions · driver |",
            "| --- | ---: | ---: | --- | --- | ---: | --- |",
        ]
        for r in sorted(cfg["chat"], key=lambda r: (r["phase"] != "mix", r["users"])):
            c = r.get("cpu_cores", {})
            work = "conversations (mix)" if r["phase"] == "mix" else "greetings (bare Rasa)"
            lines.append(
                f"| {work} | {r['users']} | {r['turns_per_s']} | {_lat(r)} | "
                f"{_lat(r, 'latency_search_turns') if r['phase'] == 'mix' else '–'} | "
                f"{r['errors']} | {c.get('api', 0)} · {c.get('rasa', 0)} · {c.get('actions', 0)}"
                f" · {c.get('load driver', 0)} |"
            )
        p = cfg.get("paced")
        if p:
            c = p.get("cpu_cores", {})
            lines += [
                "",
                f"Chat, paced: {p['users']} citizens each sending a turn every {p['pace_s']} s "
                f"for {p['duration_s']:.0f} s: **{p['turns_per_s']} turns/s**, all turns p50 / p95"
                f" / p99 {_lat(p)} ms, **search turns {_lat(p, 'latency_search_turns')} ms**, "
                f"{p['errors']} errors; CPU (cores) api {c.get('api')}, rasa {c.get('rasa')}, "
                f"actions {c.get('actions')}.",
            ]
        mix = next((r for r in cfg["chat"] if r["phase"] == "mix" and r["users"] == 20), None)
        if mix:
            total = sum(mix["mix"].values()) or 1
            share = ", ".join(
                f"{k} {100 * v / total:.0f} %"
                for k, v in sorted(mix["mix"].items(), key=lambda kv: -kv[1])
            )
            lines += [
                "",
                f"Mix sent (20 citizens): {share}; search turns answered with cards or "
                "a clarifying question: "
                f"{100 * mix.get('search_turns_with_results_or_question', 0):.0f} %.",
            ]
        lines += [
            "",
            "| search API | requests/s | p50 / p95 / p99 ms | errors |",
            "| --- | ---: | --- | ---: |",
        ]
        for r in cfg["search_api"]:
            lines.append(
                f"| {r['clients']} client{'s' if r['clients'] > 1 else ''} | "
                f"{r['requests_per_s']} | {_lat(r)} | {r['errors']} |"
            )
        mem = cfg.get("memory", {})
        lines += [
            "",
            "Peak RSS during the load: "
            + "; ".join(
                f"{role} {v['peak_rss_mb']:.0f} MB"
                + (
                    f" (largest of {v['processes']}; {v['sum_of_peaks_mb']:.0f} MB together)"
                    if v["processes"] > 1
                    else ""
                )
                for role, v in sorted(mem.items())
                if role != "other"
            )
            + ".",
        ]
        rl = cfg.get("rate_limit_check")
        if rl:
            lines += [
                "",
                f"Rate limit on (`RATE_LIMIT_PER_MINUTE=30`, a second api process): of "
                f"{rl['search_requests']} quick searches from one client {rl['answered_200']} "
                f"were answered and {rl['answered_429']} got 429 (first at request "
                f"{rl['first_429_at_request']}, `Retry-After` {', '.join(rl['retry_after'])} s); "
                f"a chat turn right after: {rl['chat_after_that']}. "
                + ("The limit bites." if rl["bites"] else "**It did not bite as expected.**"),
            ]
        lines += ["", "| target | wanted | measured | met |", "| --- | --- | --- | --- |"]
        for name, want, got, met in targets(cfg):
            lines.append(f"| {name} | {want} | {got} | {'yes' if met else '**no**'} |")
        lines.append("")
    for note in report.get("notes", []):
        lines += [f"**Note:** {note}", ""]
    idx = report.get("index", {})
    if idx.get("builds"):
        lines += [f"Index (from [`{idx['source']}`]({idx['source']}), {idx['started']}):", ""]
        lines += [
            "| catalogue | entries | cold build s | one-edit rebuild s | engine load s |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for b in idx["builds"]:
            lines.append(
                f"| {b['catalogue']} | {b['entries']} | {b['cold_build_s']} | "
                f"{b['one_edit_rebuild_s']} | {b['engine_load_s']} |"
            )
        lines.append("")
    elif idx.get("note"):
        lines += [f"Index: {idx['note']}.", ""]
    lines += [
        f"![p50/p95 latency and throughput against concurrent citizens](bench/results/{png_name})",
        "",
        END,
    ]
    return "\n".join(lines)


def write_markdown(section: str) -> None:
    """Replace the section between the markers (or append it under its own heading),
    leaving the rest of BENCHMARKS.md as it is."""
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = (
            text.rstrip("\n")
            + "\n\n## The whole system under load (`make bench`)\n\n"
            + section
            + "\n"
        )
    BENCHMARKS_MD.write_text(text, encoding="utf-8")


# -------------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--configs", default="embedded,scaled", help="embedded and/or scaled")
    p.add_argument("--users", default="1,20,50", help="closed-loop concurrencies")
    p.add_argument("--duration", type=float, default=20.0, help="seconds per closed-loop phase")
    p.add_argument("--paced-users", type=int, default=20)
    p.add_argument("--pace", type=float, default=1.0, help="seconds between a citizen's turns")
    p.add_argument("--paced-duration", type=float, default=30.0)
    p.add_argument("--search-duration", type=float, default=15.0)
    p.add_argument("--ready-timeout", type=float, default=300.0)
    p.add_argument("--profile", action="store_true", help="py-spy every process at 20 citizens")
    p.add_argument("--no-rate-limit-check", action="store_true")
    p.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    p.add_argument("--out", type=Path, default=None, help="result JSON (default bench/results/)")
    args = p.parse_args(argv)
    args.users = [int(u) for u in args.users.split(",") if u]

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "benchmark": "the whole stack under load",
        "command": "make bench"
        if os.environ.get("MAKELEVEL")
        else " ".join(["python", "bench/stack_bench.py", *(argv or sys.argv[1:])]),
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "settings": {k: v for k, v in vars(args).items() if k not in ("out",)},
        "configs": [],
        "notes": [],
    }
    work = Path(tempfile.mkdtemp(prefix="stack-bench-"))
    try:
        for config in [c for c in args.configs.split(",") if c]:
            extra: list[str] = []
            if config == "scaled":
                found, why = scaled_mode()
                if found is None:
                    report["notes"].append(why)
                    print(f"[scaled] skipped: {why}", file=sys.stderr)
                    continue
                extra = found
                try:
                    drop_scaled_databases()
                except Exception as exc:  # reported, not fatal
                    report["notes"].append(f"scaled: PostgreSQL not reachable ({exc})")
                    continue
            report["configs"].append(bench_config(config, extra, args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["index"] = index_figures()
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    for cfg in report["configs"]:
        cfg["targets"] = [
            {"target": n, "wanted": w, "measured": g, "met": m} for n, w, g, m in targets(cfg)
        ]
    stamp = report["started"][:16].replace("-", "").replace(":", "")  # 20261126T1521
    out = args.out or RESULTS_DIR / f"stack-{stamp}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    png = RESULTS_DIR / "stack-latency.png"
    plot(report, png)
    if not args.no_markdown:
        write_markdown(markdown(report, out.name, png.name))
    print(f"results written to {out}, {png}", file=sys.stderr)
    for cfg in report["configs"]:
        for t in cfg["targets"]:
            print(
                f"[{cfg['config']}] {t['target']}: {t['measured']} (want {t['wanted']}) "
                f"{'ok' if t['met'] else 'MISSED'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
