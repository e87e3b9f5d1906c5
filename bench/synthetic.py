"""Synthetic catalogue entries for benchmarks: clearly marked, never shipped as data.

Each synthetic entry is made from real entries of the catalogue (title of one, both
descriptions spliced from two others, aliases sampled from a few more), so its texts have
the lengths and the English / Chinese mix of the real catalogue and embed at the same cost;
a serial number keeps every passage distinct, so the embedding cache cannot short-cut a
cold build. Marking, so that nobody mistakes them for real forms:

* ``id`` is ``synthetic-<n>``; ``form_no`` (when present) is ``SYN<n>``;
* ``title_en`` starts ``[SYNTHETIC <n>]`` and ``title_zh`` starts ``【合成 <n>】``;
* ``url`` is under ``https://synthetic.invalid/`` (a reserved, unresolvable domain);
* ``source`` says ``synthetic benchmark entry``; ``confidence`` is ``synthetic``; ``note``
  names the real entries it was made from.

Only the titles carry the marking into the embedded passage (the serial number there keeps
passages distinct), so passages are about as long as real ones: measured, 100 tokens on
average against 87 for the real catalogue (the markings), so synthetic builds are slightly
pessimistic.

Write them only under ``var/`` or a temporary folder (never ``data/``)::

    python bench/synthetic.py 3300 --out var/bench/synthetic-3300.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from forms_index.catalogue import Entry  # noqa: E402

ID_PREFIX = "synthetic-"
URL_ROOT = "https://synthetic.invalid/entry/"
#: Folders synthetic files may be written under (relative to the project root).
ALLOWED_ROOTS = ("var",)


def _halves(text: str) -> tuple[str, str]:
    """A text cut near its middle at a word or clause boundary."""
    if not text:
        return "", ""
    mid = len(text) // 2
    for sep in (" ", "，", "、", "及", "；"):
        cut = text.find(sep, mid)
        if 0 < cut < len(text) - 1:
            return text[:cut], text[cut:]
    return text[:mid], text[mid:]


def synthetic_entries(real: Sequence[Entry], n: int, *, seed: int = 20261126) -> list[Entry]:
    """``n`` synthetic entries made from the real ones (deterministic for a seed)."""
    if not real:
        raise ValueError("synthetic entries are made from real ones: none given")
    rng = random.Random(seed)
    out = []
    for i in range(n):
        base, left, right = rng.choice(real), rng.choice(real), rng.choice(real)
        donors = [rng.choice(real) for _ in range(3)]
        aliases = [a for d in donors for a in d.aliases[:2]][: rng.randint(0, 6)]
        en = _halves(left.description_en)[0] + _halves(right.description_en)[1]
        zh = _halves(left.description_zh)[0] + _halves(right.description_zh)[1]
        title_zh = base.title_zh or base.title_zh_unofficial
        row = {
            "id": f"{ID_PREFIX}{i:06d}",
            "form_no": f"SYN{i}" if base.form_no else "",
            "kind": base.kind,
            "title_en": f"[SYNTHETIC {i}] {base.title_en}",
            "title_zh": f"【合成 {i}】{title_zh}" if title_zh else "",
            "department_code": base.department_code,
            "department_en": base.department_en,
            "department_zh": base.department_zh,
            "topic": base.topic,
            "description_en": en.strip(),
            "description_zh": zh.strip(),
            "url": f"{URL_ROOT}{i}",
            "aliases": aliases,
            "source": "synthetic benchmark entry (bench/synthetic.py); not a government form",
            "confidence": "synthetic",
            "note": f"synthetic: title of {base.id}, descriptions of {left.id} and {right.id}",
        }
        out.append(Entry.model_validate(row))
    return out


def is_synthetic(entry: Entry) -> bool:
    return entry.id.startswith(ID_PREFIX)


def check_destination(path: Path) -> Path:
    """Refuse to write synthetic entries anywhere but ``var/`` or outside the project."""
    path = path.resolve()
    try:
        rel = path.relative_to(PROJECT_ROOT)
    except ValueError:
        return path  # a temporary folder outside the project
    if not rel.parts or rel.parts[0] not in ALLOWED_ROOTS:
        raise ValueError(f"synthetic entries go under var/ or a temporary folder, not {rel}")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("n", type=int, help="how many entries")
    p.add_argument("--out", type=Path, required=True, help="JSONL file under var/ or /tmp")
    p.add_argument("--seed", type=int, default=20261126)
    args = p.parse_args(argv)
    from forms_index.catalogue import Reference, load_catalogue
    from forms_index.settings import IndexSettings

    settings = IndexSettings()
    real = load_catalogue(settings.catalogue_path, Reference.load(settings.reference_path))
    out = check_destination(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = synthetic_entries(real.entries, args.n, seed=args.seed)
    with out.open("w", encoding="utf-8") as f:
        for e in rows:
            f.write(json.dumps(e.model_dump(exclude_defaults=True), ensure_ascii=False) + "\n")
    print(f"{len(rows)} synthetic entries written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
