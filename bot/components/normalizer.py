"""Rasa graph component that normalises each message's text for the tokenizer."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.text import normalize_text

#: Message property holding the normalised text (same length as the text).
NORMALIZED_TEXT = "text_normalized"


# Registered as a tokenizer-type component so the default recipe runs it, in
# pipeline order, before the real tokenizer; it is not a ``Tokenizer`` subclass,
# so Rasa's "only one tokenizer" check is not affected.
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class HKTextNormalizer(GraphComponent):
    """Folds full-width characters and case and converts Simplified to Traditional (HK).

    The message's own ``text`` is left untouched (it is what actions, transcripts and
    entity values see); the normalised form goes into ``text_normalized``, which
    :class:`bot.components.tokenizer.MixedTextTokenizer` reads.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> HKTextNormalizer:
        return cls()

    @staticmethod
    def required_packages() -> list[str]:
        return ["opencc"]

    @staticmethod
    def _normalize(message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str):
            message.set(NORMALIZED_TEXT, normalize_text(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalize(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalize(message)
        return messages
