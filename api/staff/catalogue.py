"""The live catalogue (the current index version's ``catalogue.jsonl`` and ``aliases.json``),
uploads checked against it, and alias edits.

``data/forms/`` is only the seed of the first version: once content staff publish, the live
catalogue is whatever the current version was built from.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from forms_index.artifacts import IndexStore
from forms_index.catalogue import COLUMNS, Entry, LoadResult, Reference, parse_catalogue

Format = Literal["jsonl", "csv"]
#: Fields compared for the diff, in the order they are reported.
DIFF_FIELDS: tuple[str, ...] = tuple(c for c in COLUMNS if c != "id")
MAX_DIFF_VALUE = 300
MAX_ALIAS_CHARS = 80


class AliasEditError(ValueError):
    """An alias edit that cannot be applied (message fit to show)."""


def read_entries(version_path: Path) -> list[Entry]:
    """The entries a version was built from (its ``catalogue.jsonl``)."""
    text = (version_path / "catalogue.jsonl").read_text(encoding="utf-8")
    return [Entry.model_validate_json(line) for line in text.splitlines() if line.strip()]


def read_alias_map(version_path: Path) -> dict[str, list[str]]:
    data = json.loads((version_path / "aliases.json").read_text(encoding="utf-8"))
    return {str(k): [str(i) for i in v] for k, v in data.items()}


@lru_cache(maxsize=8)
def _cached_alias_map(version_path: Path) -> dict[str, list[str]]:
    return read_alias_map(version_path)


def alias_map_of(store: IndexStore, version: str) -> dict[str, list[str]]:
    """The alias map of a version (versions never change once written: cached)."""
    return _cached_alias_map(store.path(version))


def detect_format(filename: str, data: bytes) -> Format:
    """CSV or JSONL, by the file's extension, else by its first character."""
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "jsonl" if head == b"{" else "csv"


def check_upload(data: bytes, fmt: Format, reference: Reference) -> LoadResult:
    """Every problem of an uploaded file, by line and field (an empty file is an error)."""
    result = parse_catalogue(data, reference, fmt=fmt)
    if result.valid and not result.entries:
        from forms_index.catalogue import RowError

        result.errors.append(RowError(1, "(file)", "the file has no catalogue entries"))
    return result


def _value(entry: Entry, name: str) -> str:
    value = getattr(entry, name, "")
    if isinstance(value, tuple | list):
        return " | ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _short(text: str) -> str:
    return text if len(text) <= MAX_DIFF_VALUE else text[: MAX_DIFF_VALUE - 1] + "…"


def _summary(entry: Entry) -> dict[str, str]:
    return {
        "id": entry.id,
        "form_no": entry.form_no,
        "title_en": entry.title_en,
        "title_zh": entry.title_zh or entry.title_zh_unofficial,
    }


def diff(live: Sequence[Entry], new: Sequence[Entry]) -> dict[str, list[dict[str, object]]]:
    """Entries added, removed and changed (with each changed field's old and new value)."""
    old_by_id = {e.id: e for e in live}
    new_by_id = {e.id: e for e in new}
    added = [_summary(e) for e in new if e.id not in old_by_id]
    removed = [_summary(e) for e in live if e.id not in new_by_id]
    changed: list[dict[str, object]] = []
    for e in new:
        before = old_by_id.get(e.id)
        if before is None or before.to_row() == e.to_row():
            continue
        names = [*DIFF_FIELDS, *sorted(set(e.to_row()) - set(DIFF_FIELDS) - {"id"})]
        fields = [
            {"field": n, "old": _short(_value(before, n)), "new": _short(_value(e, n))}
            for n in names
            if _value(before, n) != _value(e, n)
        ]
        if fields:
            changed.append({**_summary(e), "fields": fields})
    return {"added": added, "removed": removed, "changed": changed}


def clean_term(term: str) -> str:
    """An alias as stored: NFKC, single spaces, no control characters; refused if empty."""
    text = unicodedata.normalize("NFKC", term)
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise AliasEditError("the alias is empty")
    if len(text) > MAX_ALIAS_CHARS:
        raise AliasEditError(f"an alias has at most {MAX_ALIAS_CHARS} characters")
    return text


@dataclass(frozen=True)
class EntryAliasInfo:
    catalogue: list[str]
    colloquial: list[str]


def aliases_of(entry: Entry, alias_map: dict[str, list[str]]) -> EntryAliasInfo:
    """The entry's own aliases, and the alias map's other terms for it."""
    own = {a.casefold() for a in entry.aliases}
    return EntryAliasInfo(
        catalogue=list(entry.aliases),
        colloquial=[
            t for t, ids in alias_map.items() if entry.id in ids and t.casefold() not in own
        ],
    )


def apply_alias_edit(
    entries: Sequence[Entry],
    alias_map: dict[str, list[str]],
    *,
    entry_id: str,
    term: str,
    action: Literal["add", "remove"],
) -> tuple[list[Entry], dict[str, list[str]]]:
    """The catalogue and alias map after adding or removing one alias of one entry.

    An added alias goes into the alias map (so a later upload of the catalogue keeps it);
    a removed one leaves both the alias map and the entry's own ``aliases``.
    """
    term = clean_term(term)
    entry = next((e for e in entries if e.id == entry_id), None)
    if entry is None:
        raise AliasEditError(f"no entry with id {entry_id!r} in the live catalogue")
    new_map = {t: list(ids) for t, ids in alias_map.items()}
    key = term.casefold()
    info = aliases_of(entry, alias_map)
    present = {a.casefold() for a in (*info.catalogue, *info.colloquial)}
    if action == "add":
        if key in present:
            raise AliasEditError(f"{term!r} is already an alias of {entry_id}")
        existing = next((t for t in new_map if t.casefold() == key), term)
        new_map.setdefault(existing, []).append(entry_id)
        return list(entries), new_map
    if key not in present:
        raise AliasEditError(f"{term!r} is not an alias of {entry_id}")
    for t in list(new_map):
        if t.casefold() == key:
            new_map[t] = [i for i in new_map[t] if i != entry_id]
            if not new_map[t]:
                del new_map[t]
    new_entries = [
        e.model_copy(update={"aliases": tuple(a for a in e.aliases if a.casefold() != key)})
        if e.id == entry_id
        else e
        for e in entries
    ]
    return new_entries, new_map


@lru_cache(maxsize=4)
def _reference(path: Path, mtime: float) -> Reference:
    return Reference.load(path)


def load_reference(path: Path) -> Reference:
    """Known departments and topics (re-read when the file changes)."""
    return _reference(path, path.stat().st_mtime)
