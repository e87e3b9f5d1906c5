"""Custom Rasa NLU components: a text normaliser and a mixed Chinese/Latin tokenizer."""
