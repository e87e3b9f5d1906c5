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

        One passage per language keeps each close to how citizens phrase a need in
        that language; aliases get their own passage, as they are the citizens' words.
        """
        e = self.entry
        out = [_join(e.title_en, e.description_en)]
        zh_title = e.title_zh_any
        if zh_title or e.description_zh:
            out.append(_join(zh_title, e.description_zh, sep="。"))
        if self.aliases:
            out.append(f"{e.title_en}: " + "; ".join(self.aliases))
        return out

    def lexical_fields(self) -> dict[str, str]:
        e = self.entry
        return {
            "form_no": " ".join([e.form_no, *self.form_numbers]),
            "title": " ".join([e.title_en, e.title_zh, e.title_zh_unofficial]),
            "aliases": " ; ".join(self.aliases),
            "description": " ".join([e.description_en, e.description_zh]),
            "department": " ".join([e.department_en, e.department_zh, e.department_code]),
        }


def _join(title: str, description: str, *, sep: str = ". ") -> str:
    title, description = title.strip(), description.strip()
    if title and description:
        return f"{title}{sep}{description}"
    return title or description


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
