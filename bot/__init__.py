"""Rasa side of the assistant: custom NLU components and tracker/lock store wiring."""
