"""What of each catalogue entry is searched: passages for the encoder, fields for BM25.

Kept apart from the search so that building and searching agree by construction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from forms_index.catalogue import Entry
from forms_index.normalize import canonical_form_numbers

#: How many times each field's tokens count in BM25 (a simple BM25F).
FIELD_WEIGHTS: dict[str, int] = {
    "form_no": 3,
    "title": 3,
    "aliases": 3,
    "description": 1,
    "department": 1,
}


@dataclass(frozen=True)
class EntryDoc:
    """The searchable texts of one entry."""

    entry: Entry
    aliases: tuple[str, ...]
    form_numbers: tuple[str, ...]

    def passages(self) -> list[str]:
        """Passages embedded for dense retrieval; an entry scores its best passage.

        One joint passage per entry: both titles, both descriptions and the citizens'
        aliases. Measured against one passage per language plus an alias passage, and
        against adding title-only or per-alias passages, it ranked best under
        cross-validation (``docs/search.md``) and embeds a third as many texts.
        """
        e = self.entry
        parts = [
            f"{e.title_en}.",
            f"{e.title_zh_any}。" if e.title_zh_any else "",
            e.description_en,
            e.description_zh,
            "; ".join(self.aliases),
        ]
        return [" ".join(p for p in parts if p)]

    def lexical_fields(self) -> dict[str, str]:
        e = self.entry
        return {
            "form_no": " ".join([e.form_no, *self.form_numbers]),
            "title": " ".join([e.title_en, e.title_zh, e.title_zh_unofficial]),
            "aliases": " ; ".join(self.aliases),
            "description": " ".join([e.description_en, e.description_zh]),
            "department": " ".join([e.department_en, e.department_zh, e.department_code]),
        }


def entry_docs(entries: Sequence[Entry], aliases: dict[str, list[str]]) -> list[EntryDoc]:
    """Entries with their own aliases merged with the aliases file's terms for them."""
    extra: dict[str, list[str]] = defaultdict(list)
    for term, ids in aliases.items():
        for i in ids:
            extra[i].append(term)
    docs = []
    for e in entries:
        merged = tuple(dict.fromkeys([*e.aliases, *extra.get(e.id, [])]))
        docs.append(EntryDoc(e, merged, tuple(canonical_form_numbers(e.form_no))))
    return docs


def alias_map(docs: Sequence[EntryDoc]) -> dict[str, list[str]]:
    """Every alias term to the ids of the entries it names (ambiguous terms keep all)."""
    out: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        for a in d.aliases:
            if d.entry.id not in out[a]:
                out[a].append(d.entry.id)
    return dict(out)
