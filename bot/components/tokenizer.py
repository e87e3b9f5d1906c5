"""Rasa tokenizer for mixed Chinese/Latin messages (see ``segment`` for the method)."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.normalizer import NORMALIZED_TEXT
from bot.components.segment import segment
from bot.components.text import normalize_text


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class MixedTextTokenizer(Tokenizer):
    """Cuts Chinese runs with jieba and Latin/digit runs as words; drops spaces and punctuation.

    Token texts come from the normalised message (Traditional, half-width, lower case);
    token offsets point into the original text, which normalisation never lengthens
    or shortens.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def supported_languages() -> list[str] | None:
        return None

    @staticmethod
    def required_packages() -> list[str]:
        return ["jieba", "opencc"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MixedTextTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        normalized = message.get(NORMALIZED_TEXT) if attribute == TEXT else None
        if not isinstance(normalized, str) or len(normalized) != len(text):
            normalized = normalize_text(text)
        tokens = [Token(piece.text, piece.start, piece.end) for piece in segment(normalized)]
        if not tokens and text.strip():
            # Only punctuation or symbols ("???", an emoji): one token, as Rasa's
            # WhitespaceTokenizer does, so every message has features.
            tokens = [Token(normalized.strip(), text.index(text.strip()[0]))]
        return self._apply_token_pattern(tokens)
