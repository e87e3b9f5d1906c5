"""Fixtures for the forms_index tests: a small real index built with the real model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from forms_index.artifacts import IndexStore
from forms_index.build import BuildResult, build_version
from forms_index.catalogue import Entry, Reference, load_aliases, load_catalogue
from forms_index.settings import IndexSettings

#: A slice of the real catalogue: enough for signals to mean something, quick to embed.
SMALL_IDS = [
    "ird-bir60",
    "ird-bir60-efiling",
    "ird-ir56b",
    "ird-ir56e",
    "immd-id841-842",
    "immd-passport-online",
    "td-td557",
    "td-td555",
    "td-dl-renew-online",
    "td-vl-renew-online",
    "td-prm",
    "td-vrm-auction",
    "swd-ssa-application",
    "swd-swd675",
    "hd-hd300e",
    "hd-prh-eservice",
    "jud-sct-form1-2",
    "jud-lt-claim",
    "afcd-dog-licence",
    "lcsd-smartplay",
]


@pytest.fixture(scope="session")
def real_entries() -> list[Entry]:
    s = IndexSettings()
    return load_catalogue(s.catalogue_path, Reference.load(s.reference_path)).entries


@pytest.fixture(scope="session")
def small_entries(real_entries: list[Entry]) -> list[Entry]:
    by_id = {e.id: e for e in real_entries}
    return [by_id[i] for i in SMALL_IDS]


@pytest.fixture(scope="session")
def real_aliases() -> dict[str, list[str]]:
    return load_aliases(IndexSettings().aliases_path)


@pytest.fixture(scope="session")
def lexicon_text() -> str:
    return IndexSettings().lexicon_path.read_text(encoding="utf-8")


@pytest.fixture()
def build_small(
    tmp_path: Path, encoder: Any, small_entries: list[Entry], real_aliases: dict, lexicon_text: str
):
    """``build_small(entries=None, store=None) -> (store, BuildResult)`` in a temporary root."""
    cache = tmp_path / "cache.sqlite3"

    def build(
        entries: list[Entry] | None = None, store: IndexStore | None = None
    ) -> tuple[IndexStore, BuildResult]:
        store = store or IndexStore(tmp_path / "index")
        result = build_version(
            entries if entries is not None else small_entries,
            real_aliases,
            lexicon_text=lexicon_text,
            encoder=encoder,
            store=store,
            cache_path=cache,
        )
        return store, result

    return build
