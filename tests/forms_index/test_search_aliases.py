"""An alias staff add is found by exactly its words, whatever common words it contains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forms_index.artifacts import IndexStore
from forms_index.build import build_version
from forms_index.search import SearchEngine
from forms_index.settings import IndexSettings


def test_a_new_alias_made_of_common_words_finds_its_entry(
    tmp_path: Path, real_entries: list, real_aliases: dict, lexicon_text: str, encoder: Any
) -> None:
    entries = [
        e.model_copy(
            update={"aliases": (*e.aliases, "zorblax permit", "renew licence online", "老人錢")}
        )
        if e.id == "afcd-dog-licence"
        else e
        for e in real_entries
    ]
    store = IndexStore(tmp_path / "index")
    # The project's embedding cache: only the edited entry is embedded.
    result = build_version(
        entries,
        real_aliases,
        lexicon_text=lexicon_text,
        encoder=encoder,
        store=store,
        cache_path=IndexSettings().embedding_cache_path,
    )
    engine = SearchEngine.load(store.root / result.version, encoder)
    for query in ("zorblax permit", "Renew licence online", "老人錢"):
        assert engine.search(query).results[0].id == "afcd-dog-licence", query
