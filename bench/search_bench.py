"""Search benchmark of forms_index: query latency, cold and one-edit builds, peak RSS.

One command (``make bench-search``) runs every phase in its own process, so each starts
cold and reports its own peak RSS, and writes ``bench/results/search-<date>.json``:

* ``build``: cold build (empty embedding cache) of the real catalogue and of synthetic
  catalogues (``bench/synthetic.py``; 3,300 entries by default, ``--synthetic 100000``
  adds the large one), then a rebuild after editing one entry, then loading the version
  into a ``SearchEngine`` (what serving it costs);
* ``latency``: in-process single-query ``SearchEngine.search`` over >= 1,000 realistic
  queries (the dev set, the regression set and variations of them), the query-vector
  cache cleared before every query, for each embedding backend; plus the share spent
  encoding and the latency with a warm cache;
* ``eval``: ``python -m forms_index eval`` on the benchmark's own build of the real
  catalogue, for each backend (recall must not depend on the backend).

Everything is written under a temporary folder (or ``--workdir``); nothing under
``data/`` or ``var/index`` is touched. The machine is shared: the load average is
sampled during every phase and recorded with the figures.

    .venv/bin/python bench/search_bench.py                      # the default set
    .venv/bin/python bench/search_bench.py --synthetic 3300 --synthetic 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.measure import LoadSampler, percentiles  # noqa: E402

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
BENCHMARKS_MD = PROJECT_ROOT / "BENCHMARKS.md"
HEADING = "## Search (forms_index)"
BEGIN = "<!-- make bench-search: begin (written by bench/search_bench.py) -->"
END = "<!-- make bench-search: end -->"
DEV_QUERIES = PROJECT_ROOT.parent / "shared" / "data" / "queries_dev.jsonl"
REGRESSION_QUERIES = PROJECT_ROOT / "data" / "eval" / "regression.jsonl"


# ------------------------------------------------------------------------ measurement
def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import numpy
    import onnxruntime

    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "numpy": numpy.__version__,
    }


# ---------------------------------------------------------------------------- queries
def _read_queries(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["query"] for line in lines if line.strip()]


def realistic_queries(n: int, *, seed: int = 7) -> list[str]:
    """At least ``n`` distinct queries: the dev and regression sets, then variations.

    Variations a citizen would type: other script (Simplified <-> Traditional), case,
    a question word or polite prefix, a trailing "form" / 表格, punctuation, one dropped
    character (a typo), two queries run together.
    """
    from forms_index.normalize import to_simplified, to_traditional

    base = list(dict.fromkeys(_read_queries(DEV_QUERIES) + _read_queries(REGRESSION_QUERIES)))
    if not base:
        raise SystemExit(f"no queries found in {DEV_QUERIES} or {REGRESSION_QUERIES}")
    rng = random.Random(seed)

    def typo(q: str) -> str:
        if len(q) < 4:
            return q + q[-1]
        i = rng.randrange(1, len(q) - 1)
        return q[:i] + q[i + 1 :]

    variations = [
        to_simplified,
        to_traditional,
        str.lower,
        str.upper,
        lambda q: "how to " + q,
        lambda q: "請問" + q,
        lambda q: q + " form",
        lambda q: q + "表格",
        lambda q: q + "?",
        lambda q: q + "？",
        lambda q: "  " + q.replace(" ", "  ") + " ",
        typo,
        lambda q: q + " " + rng.choice(base),
    ]
    out = list(base)
    seen = set(out)
    while len(out) < n:
        q = rng.choice(variations)(rng.choice(base))
        if q.strip() and q not in seen:
            seen.add(q)
            out.append(q)
    rng.shuffle(out)
    return out


# ----------------------------------------------------------------------------- phases
def phase_build(args: argparse.Namespace) -> dict[str, Any]:
    """Cold build, one-edit rebuild and engine load for one catalogue."""
    t0 = time.perf_counter()
    from forms_index.artifacts import IndexStore
    from forms_index.build import build_version
    from forms_index.catalogue import Reference, load_aliases, load_catalogue
    from forms_index.encoder import load_encoder
    from forms_index.search import SearchEngine
    from forms_index.settings import IndexSettings

    settings = IndexSettings()
    real = load_catalogue(settings.catalogue_path, Reference.load(settings.reference_path))
    if args.size == "real":
        entries = list(real.entries)
        aliases = load_aliases(settings.aliases_path)
    else:
        from bench.synthetic import synthetic_entries

        entries = synthetic_entries(real.entries, int(args.size))
        aliases = {}
    lexicon_text = settings.lexicon_path.read_text(encoding="utf-8")
    encoder = load_encoder(
        settings.embedding_model, threads=settings.embedding_threads, backend=args.backend
    )
    load_s = time.perf_counter() - t0
    workdir = Path(args.workdir)
    cache = workdir / "cache.sqlite3"
    for f in workdir.glob("cache.sqlite3*"):
        f.unlink()
    store = IndexStore(workdir / "index")
    prefilled = _prefill_cache(cache, entries, aliases, encoder, args.embed_sample)
    progress_at = [time.perf_counter()]

    embedding_marks: list[tuple[float, float]] = []  # (time, fraction) while embedding

    def progress(stage: str, fraction: float) -> None:
        now = time.perf_counter()
        if stage == "embedding":
            embedding_marks.append((now, fraction))
        if now - progress_at[0] > 30 or fraction >= 1.0:
            progress_at[0] = now
            print(f"  [{args.size}] {stage} {fraction:6.1%}", file=sys.stderr, flush=True)

    cold = build_version(
        entries,
        aliases,
        lexicon_text=lexicon_text,
        encoder=encoder,
        store=store,
        cache_path=cache,
        created_by="bench",
        progress=progress,
    )
    store.set_current(cold.version)
    # One edit: a content editor rewords one description.
    i = len(entries) // 2
    edited = list(entries)
    edited[i] = entries[i].model_copy(
        update={"description_en": entries[i].description_en + " Updated by the benchmark."}
    )
    edit = build_version(
        edited,
        aliases,
        lexicon_text=lexicon_text,
        encoder=encoder,
        store=store,
        cache_path=cache,
        created_by="bench",
    )
    t = time.perf_counter()
    engine = SearchEngine.load(store.path(edit.version), encoder, cache_dir=workdir / "jieba")
    engine_load_s = time.perf_counter() - t
    rss_before_search = peak_rss_mb()
    t = time.perf_counter()
    engine.search("how to renew passport 續領護照", k=5)
    first_search_ms = (time.perf_counter() - t) * 1000
    projection = {}
    if prefilled:
        # Only a sample was embedded: project a truly cold build from its rate.
        rate = cold.embedded / cold.seconds  # fallback: the build's other work included
        if len(embedding_marks) >= 2:
            (t0_, f0), (t1_, f1) = embedding_marks[0], embedding_marks[-1]
            if t1_ > t0_ and f1 > f0:
                rate = cold.embedded * (f1 - f0) / (t1_ - t0_)
        projection = {
            "cache_prefilled_with_placeholders": prefilled,
            "embedded_sample": cold.embedded,
            "sample_passages_per_s": round(rate, 1),
            "projected_cold_build_s": round(cold.seconds + prefilled / rate, 0),
        }
    result = {
        "catalogue": args.size,
        "backend": encoder.backend,
        **projection,
        "entries": cold.entries,
        "vectors": cold.vectors,
        "encoder_load_s": round(load_s, 2),
        "cold_build_s": round(cold.seconds, 2),
        "cold_embedded": cold.embedded,
        "passages_per_s": round(cold.embedded / cold.seconds, 1) if cold.seconds else None,
        "one_edit_rebuild_s": round(edit.seconds, 2),
        "one_edit_embedded": edit.embedded,
        "engine_load_s": round(engine_load_s, 2),
        "first_search_ms": round(first_search_ms, 1),
        "peak_rss_mb_build": rss_before_search,
        "peak_rss_mb": peak_rss_mb(),
        "index_dir": str(store.root),
        "version": cold.version,
    }
    if prefilled:  # not a cold build: say so where readers look for one
        result["build_s_with_prefilled_cache"] = result.pop("cold_build_s")
        result["cold_build_s"] = None
    return result


def _prefill_cache(
    cache: Path, entries: Sequence[Any], aliases: dict[str, list[str]], encoder: Any, keep: int
) -> int:
    """For a catalogue too large to embed here: fill a scratch cache with placeholder vectors.

    All passages but a random sample of ``keep`` get random unit vectors (timing only: the
    cache is a scratch file of the benchmark and the index it builds is thrown away), so
    the build still does everything else at full size and embeds the sample for a rate.
    Returns how many passages were prefilled (0 when ``keep`` is 0: a real cold build).
    """
    if keep <= 0:
        return 0
    import numpy as np

    from forms_index.documents import entry_docs
    from forms_index.embedding_cache import EmbeddingCache

    passages = list(dict.fromkeys(p for d in entry_docs(entries, aliases) for p in d.passages()))
    rng = random.Random(11)
    rng.shuffle(passages)
    fill = passages[keep:]
    vecs = np.random.default_rng(11).standard_normal((len(fill), encoder.dim), dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    db = EmbeddingCache(cache, encoder.model_id, encoder.dim)
    try:
        for start in range(0, len(fill), 10_000):
            db.put_many(fill[start : start + 10_000], vecs[start : start + 10_000])
    finally:
        db.close()
    return len(fill)


def phase_latency(args: argparse.Namespace) -> dict[str, Any]:
    """Single-query latency over realistic queries, query-vector cache cold."""
    t0 = time.perf_counter()
    from forms_index.artifacts import IndexStore
    from forms_index.encoder import load_encoder
    from forms_index.search import SearchEngine
    from forms_index.settings import IndexSettings

    settings = IndexSettings()
    encoder = load_encoder(
        settings.embedding_model, threads=settings.embedding_threads, backend=args.backend
    )
    encoder_load_s = time.perf_counter() - t0
    store = IndexStore(Path(args.index_dir))
    engine = SearchEngine.load(store.current_path(), encoder, cache_dir=Path(args.workdir) / "j")
    ready_s = time.perf_counter() - t0
    queries = realistic_queries(args.queries)
    for q in queries[:30]:  # warm-up: code paths, allocator, jieba's lazy parts
        engine.search(q, k=5)

    cold: list[float] = []
    cpu: list[float] = []  # CPU time of the process (all threads): work, not waiting
    for q in queries:
        encoder.clear_cache()
        c, t = time.process_time(), time.perf_counter()
        engine.search(q, k=5)
        cold.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    encode: list[float] = []
    for q in queries:
        encoder.clear_cache()
        t = time.perf_counter()
        encoder.encode_query(q)
        encode.append((time.perf_counter() - t) * 1000)
    for q in queries:  # prime the cache with the texts the engine encodes (<= 2,048)
        engine.search(q, k=5)
    warm: list[float] = []
    for q in queries:  # every query vector is cached now
        t = time.perf_counter()
        engine.search(q, k=5)
        warm.append((time.perf_counter() - t) * 1000)
    return {
        "backend": encoder.backend,
        "threads": settings.embedding_threads,
        "index_entries": len(engine.entries),
        "queries": len(queries),
        "search_cache_cold": percentiles(cold, digits=2),
        "search_cache_cold_cpu": percentiles(cpu, digits=2),
        "encode_query_only": percentiles(encode, digits=2),
        "search_cache_warm": percentiles(warm, digits=2),
        "encoder_load_s": round(encoder_load_s, 2),
        "ready_s": round(ready_s, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def phase_eval(args: argparse.Namespace) -> dict[str, Any]:
    """What ``python -m forms_index eval`` prints, on the benchmark's build, per backend."""
    from forms_index.artifacts import IndexStore
    from forms_index.encoder import load_encoder
    from forms_index.eval import BM25Baseline, evaluate, load_queries
    from forms_index.search import SearchEngine
    from forms_index.settings import IndexSettings

    settings = IndexSettings()
    encoder = load_encoder(
        settings.embedding_model, threads=settings.embedding_threads, backend=args.backend
    )
    engine = SearchEngine.load(IndexStore(Path(args.index_dir)).current_path(), encoder)
    queries = load_queries(DEV_QUERIES)
    baseline = BM25Baseline(engine.entries, engine._tokenizer, engine.normalizer)
    report = evaluate(
        queries,
        {
            "hybrid": lambda q: [r.id for r in engine.search(q, k=10).results],
            "bm25": baseline.rank,
        },
    )
    return {
        "backend": encoder.backend,
        "queries": str(DEV_QUERIES.relative_to(PROJECT_ROOT.parent)),
        "table": report.table(),
        "report": report.as_dict(),
    }


PHASES = {"build": phase_build, "latency": phase_latency, "eval": phase_eval}


# ------------------------------------------------------------------------ orchestrator
def run_phase(phase: str, extra: list[str]) -> dict[str, Any]:
    """Run one phase in a fresh process; its result, load average and wall time."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--result", str(out)]
    print(f"» {phase} {' '.join(extra)}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with LoadSampler(5.0, at_edges=True) as load:
        subprocess.run([*cmd, *extra], cwd=PROJECT_ROOT, check=True)
    result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    result["process_wall_s"] = round(time.perf_counter() - started, 1)
    result["load_average"] = load.summary()
    return result


def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.workdir or tempfile.mkdtemp(prefix="forms-bench-"))
    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "benchmark": "forms_index search",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "builds": [],
        "latency": [],
        "eval": [],
    }
    backends = args.backends.split(",")
    try:
        sizes = ["real", *[str(n) for n in args.synthetic if n > 0]]
        real_index = None
        for size in sizes:
            folder = work / f"build-{size}"
            folder.mkdir(parents=True, exist_ok=True)
            sample = args.embed_sample if size != "real" and int(size) > args.cold_limit else 0
            res = run_phase(
                "build",
                [
                    *("--size", size, "--workdir", str(folder), "--backend", backends[0]),
                    *("--embed-sample", str(sample)),
                ],
            )
            report["builds"].append(res)
            if size == "real":
                real_index = res["index_dir"]
        assert real_index is not None
        for n, backend in enumerate(backends):
            queries = args.queries if n == 0 else args.baseline_queries
            report["latency"].append(
                run_phase(
                    "latency",
                    [
                        "--index-dir",
                        real_index,
                        "--backend",
                        backend,
                        "--queries",
                        str(queries),
                        "--workdir",
                        str(work),
                    ],
                )
            )
        if not args.no_eval:
            for backend in backends:
                report["eval"].append(
                    run_phase("eval", ["--index-dir", real_index, "--backend", backend])
                )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


def summary(report: dict[str, Any]) -> str:
    lines = [f"machine: {report['machine']['cores']} cores, {report['machine']['cpu_model']}"]
    for b in report["builds"]:
        if "projected_cold_build_s" in b:
            lines.append(
                f"build {b['catalogue']:>7}: embedded a sample of {b['embedded_sample']} at "
                f"{b['sample_passages_per_s']} passages/s; projected cold build "
                f"{b['projected_cold_build_s']} s (the rest of the build measured at full size)"
            )
        cold = b["cold_build_s"] if b["cold_build_s"] is not None else "(projected above)"
        lines.append(
            f"build {b['catalogue']:>7} ({b['backend']}): {b['entries']} entries, cold "
            f"{cold} s ({b['passages_per_s']} passages/s), one edit "
            f"{b['one_edit_rebuild_s']} s, engine load {b['engine_load_s']} s, peak RSS "
            f"{b['peak_rss_mb']} MB, load avg {b['load_average']['mean']}"
        )
    for lat in report["latency"]:
        c, e = lat["search_cache_cold"], lat["encode_query_only"]
        lines.append(
            f"search ({lat['backend']}, cache cold, {c['n']} queries): p50 {c['p50_ms']} ms, "
            f"p95 {c['p95_ms']} ms (encoding p50 {e['p50_ms']} / p95 {e['p95_ms']}); warm "
            f"p95 {lat['search_cache_warm']['p95_ms']} ms; peak RSS {lat['peak_rss_mb']} MB; "
            f"load avg {lat['load_average']['mean']}"
        )
    for ev in report["eval"]:
        lines.append(f"eval ({ev['backend']}):\n{ev['table']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- markdown
def _earlier_builds(report: dict[str, Any], out: Path) -> list[tuple[str, dict[str, Any]]]:
    """Builds of catalogue sizes this run did not measure, from the newest earlier results."""
    have = {b["catalogue"] for b in report["builds"]}
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for f in sorted(RESULTS_DIR.glob("search-*.json"), key=lambda p: p.name, reverse=True):
        if f.resolve() == out.resolve():
            continue
        try:
            earlier = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for b in earlier.get("builds", []):
            if b["catalogue"] not in have and b["catalogue"] not in found:
                found[b["catalogue"]] = (f.name, {**b, "_started": earlier.get("started")})
    return sorted(found.values(), key=lambda x: int(x[1]["entries"]))


def markdown(report: dict[str, Any], out: Path) -> str:
    m = report["machine"]
    rel = (
        out.resolve().relative_to(PROJECT_ROOT)
        if out.resolve().is_relative_to(PROJECT_ROOT)
        else out
    )
    lines = [
        BEGIN,
        "",
        f"Run of {report['started'][:16].replace('T', ' ')} UTC: `{report['command']}` "
        f"(results: [`{rel}`]({rel})).",
        f"Machine: {m['cores']} cores, {m['cpu_model']}, {m['memory_gb']} GB, Python "
        f"{m['python']}, onnxruntime {m['onnxruntime']}. Shared with colleagues' Rasa and "
        f"browser tests: load average {report['load_average_at_start'][0]} at the start, "
        f"{report['load_average_at_end'][0]} at the end; per phase below.",
        "",
        "**Single-query search, in-process** (`SearchEngine.search`, k=5, real catalogue; "
        "query-vector cache cleared before every query):",
        "",
        "| backend | queries | p50 | p95 | p99 | CPU time p50 / p95 | encoding only p50 / p95 "
        "| cache warm p95 | peak RSS | load avg (mean, max) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lat in report["latency"]:
        c, e, w = lat["search_cache_cold"], lat["encode_query_only"], lat["search_cache_warm"]
        la = lat["load_average"]
        u = lat.get("search_cache_cold_cpu")
        cpu = f"{u['p50_ms']} / {u['p95_ms']} ms" if u else "n/a"
        lines.append(
            f"| {lat['backend']} | {c['n']} | {c['p50_ms']} ms | **{c['p95_ms']} ms** | "
            f"{c['p99_ms']} ms | {cpu} | {e['p50_ms']} / {e['p95_ms']} ms | {w['p95_ms']} ms | "
            f"{lat['peak_rss_mb']:.0f} MB | {la['mean']}, {la['max']} |"
        )
    lines += [
        "",
        "**Index builds** (`build_version`; cold = empty embedding cache, encoder already "
        "loaded; one edit = one description changed, same cache; engine load = "
        "`SearchEngine.load` of the result with a fresh jieba dictionary cache):",
        "",
        "| catalogue | entries | backend | cold build | passages/s | one-edit rebuild | "
        "engine load | peak RSS | load avg (mean, max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [("", b) for b in report["builds"]] + list(_earlier_builds(report, out))
    for source, b in rows:
        la = b["load_average"]
        name = "real" if b["catalogue"] == "real" else f"synthetic {int(b['catalogue']):,}"
        if source:
            name += f" (run of {str(b.get('_started'))[:10]}, `{source}`)"
        if b.get("cold_build_s") is None and "projected_cold_build_s" in b:
            cold = (
                f"~{b['projected_cold_build_s']:.0f} s projected (sample of "
                f"{b['embedded_sample']:,} embedded; rest measured at full size in "
                f"{b['build_s_with_prefilled_cache']} s)"
            )
            rate = b["sample_passages_per_s"]
        else:
            cold = f"**{b['cold_build_s']} s**"
            rate = b["passages_per_s"]
        lines.append(
            f"| {name} | {b['entries']:,} | {b['backend']} | {cold} | {rate} | "
            f"**{b['one_edit_rebuild_s']} s** ({b['one_edit_embedded']} embedded) | "
            f"{b['engine_load_s']} s | {b['peak_rss_mb']:.0f} MB | {la['mean']}, {la['max']} |"
        )
    for ev in report["eval"]:
        lines += [
            "",
            f"**Retrieval quality** with the {ev['backend']} backend "
            f"(`python -m forms_index eval --queries ../{ev['queries']}` on this build):",
            "",
            "```",
            ev["table"].rstrip("\n"),
            "```",
        ]
    lines += ["", END]
    return "\n".join(lines)


def write_markdown(section: str) -> None:
    """Replace the generated block (or add it under its heading); keep everything else."""
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = f"{text.rstrip()}\n\n{HEADING}\n\n{section}\n"
    BENCHMARKS_MD.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--synthetic", type=int, action="append", default=None,
                   help="synthetic catalogue size (repeatable; default 3300; 0: none)")  # fmt: skip
    p.add_argument("--queries", type=int, default=1200, help="latency queries (>= 1000)")
    p.add_argument("--backends", default="onnx,torch", help="embedding backends to compare")
    p.add_argument("--baseline-queries", type=int, default=300,
                   help="latency queries for the backends after the first")  # fmt: skip
    p.add_argument("--cold-limit", type=int, default=20_000,
                   help="synthetic sizes above this embed only a sample (see --embed-sample) "
                   "and project the cold build time from its rate")  # fmt: skip
    p.add_argument("--embed-sample", type=int, default=2000,
                   help="passages embedded for real in a projected build")  # fmt: skip
    p.add_argument("--no-eval", action="store_true", help="skip the recall evaluation")
    p.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--out", type=Path, default=None, help="result JSON (default bench/results/)")
    p.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    p.add_argument("--markdown-from", type=Path, default=None,
                   help="only rewrite BENCHMARKS.md's block from this result file")  # fmt: skip
    # one phase, in a child process
    p.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--size", default="real", help=argparse.SUPPRESS)
    p.add_argument("--backend", default="onnx", help=argparse.SUPPRESS)
    p.add_argument("--index-dir", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.phase:
        result = PHASES[args.phase](args)
        args.result.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return 0
    if args.markdown_from:
        write_markdown(
            markdown(json.loads(args.markdown_from.read_text("utf-8")), args.markdown_from)
        )
        return 0
    if args.synthetic is None:
        args.synthetic = [3300]
    report = orchestrate(args)
    stamp = report["started"][:16].replace(":", "").replace("-", "")
    out = args.out or RESULTS_DIR / f"search-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if not args.no_markdown:
        write_markdown(markdown(report, out))
    print(summary(report))
    print(f"results written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
