"""Import a newer copy of the catalogue (catalogue.jsonl, aliases.json, SOURCES.md).

The source is trusted (the project's sourced data), so departments and topics it
introduces are added to the reference file, and reported; any other bad row refuses
the whole import, leaving the current files untouched.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from forms_index.catalogue import Reference, check_aliases, load_aliases, parse_catalogue
from forms_index.errors import CatalogueError


def import_catalogue(
    source: Path, *, catalogue_path: Path, aliases_path: Path, reference_path: Path
) -> list[str]:
    """Validate and copy the source folder's files into place; return a report."""
    src_cat, src_aliases = source / "catalogue.jsonl", source / "aliases.json"
    if not src_cat.exists():
        raise CatalogueError(f"{source} has no catalogue.jsonl")
    data = src_cat.read_bytes()
    reference = Reference.load(reference_path)
    added = _new_reference_items(data, reference)
    result = parse_catalogue(data, reference)
    if not result.valid:
        listing = "; ".join(str(e) for e in result.errors[:20])
        raise CatalogueError(f"{src_cat} has {len(result.errors)} error(s): {listing}")
    aliases = load_aliases(src_aliases) if src_aliases.exists() else {}
    problems = check_aliases(aliases, {e.id for e in result.entries})
    old_ids = _ids(catalogue_path)
    new_ids = {e.id for e in result.entries}

    _atomic_write(
        reference_path,
        json.dumps(
            {"_comment": _reference_comment(reference_path), **reference.to_json()},
            ensure_ascii=False,
            indent=1,
        ).encode()
        + b"\n",
    )
    _atomic_write(catalogue_path, data)
    if src_aliases.exists():
        _atomic_write(aliases_path, src_aliases.read_bytes())
    if (source / "SOURCES.md").exists():
        shutil.copyfile(source / "SOURCES.md", catalogue_path.parent / "SOURCES.md")

    report = [
        f"{len(result.entries)} entries ({len(new_ids - old_ids)} new, "
        f"{len(old_ids - new_ids)} removed), {len(aliases)} alias terms",
        *added,
    ]
    if old_ids - new_ids:
        report.append("removed ids: " + ", ".join(sorted(old_ids - new_ids)[:20]))
    report += [f"warning: {p}" for p in problems]
    return report


def _new_reference_items(data: bytes, reference: Reference) -> list[str]:
    """Add departments and topics the source introduces (mutates ``reference``)."""
    added = []
    for line in data.decode("utf-8-sig", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict):
            continue
        code = str(row.get("department_code") or "").strip()
        if code and code not in reference.departments:
            reference.departments[code] = {
                "en": str(row.get("department_en") or ""),
                "zh": str(row.get("department_zh") or ""),
            }
            added.append(f"new department {code}: {reference.departments[code]['en']}")
        topic = str(row.get("topic") or "").strip()
        if topic and topic not in reference.topics:
            reference.topics[topic] = {"en": topic.replace("-", " ").capitalize(), "zh": topic}
            added.append(f"new topic {topic} (give it a Chinese label in reference.json)")
    return added


def _reference_comment(path: Path) -> str:
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("_comment", ""))
    except (OSError, ValueError):
        return ""


def _ids(path: Path) -> set[str]:
    out = set()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.add(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
