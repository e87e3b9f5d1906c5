"""The custom NLU components inside Rasa (runs in .venv-rasa)."""

from __future__ import annotations

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.normalizer import NORMALIZED_TEXT, HKTextNormalizer
from bot.components.tokenizer import MixedTextTokenizer


def _components(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(graph_schema=None, model_id="test")
    normalizer = HKTextNormalizer.create({}, storage, Resource("n"), context)
    tokenizer = MixedTextTokenizer.create(
        MixedTextTokenizer.get_default_config(), storage, Resource("t"), context
    )
    return normalizer, tokenizer


def _tokens(tmp_path, text: str):
    normalizer, tokenizer = _components(tmp_path)
    message = Message({TEXT: text})
    normalizer.process([message])
    tokenizer.process([message])
    return message, message.get(TOKENS_NAMES[TEXT])


def test_text_is_kept_and_normalised_copy_added(tmp_path) -> None:
    message, _ = _tokens(tmp_path, "生果金点申请")
    assert message.get(TEXT) == "生果金点申请"
    assert message.get(NORMALIZED_TEXT) == "生果金點申請"


def test_mixed_text_tokens_and_offsets(tmp_path) -> None:
    _, tokens = _tokens(tmp_path, "我想renew passport")
    assert [t.text for t in tokens] == ["我", "想", "renew", "passport"]
    assert [(t.start, t.end) for t in tokens] == [(0, 1), (1, 2), (2, 7), (8, 16)]


def test_full_width_form_number(tmp_path) -> None:
    message, tokens = _tokens(tmp_path, "ＢＩＲ６０表格")
    assert [t.text for t in tokens] == ["bir60", "表格"]
    text = message.get(TEXT)
    assert text[tokens[0].start : tokens[0].end] == "ＢＩＲ６０"


def test_punctuation_only_message_still_has_a_token(tmp_path) -> None:
    _, tokens = _tokens(tmp_path, "？？？")
    assert len(tokens) == 1


def test_training_data_path(tmp_path) -> None:
    normalizer, tokenizer = _components(tmp_path)
    data = TrainingData([Message({TEXT: "BIR60表格", "intent": "form_number"})])
    tokenizer.process_training_data(normalizer.process_training_data(data))
    tokens = data.training_examples[0].get(TOKENS_NAMES[TEXT])
    assert [t.text for t in tokens] == ["bir60", "表格"]
