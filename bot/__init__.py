"""Rasa side of the assistant: custom NLU components and tracker/lock store wiring."""

from bot import rasa_speedups as _rasa_speedups

_rasa_speedups.install()
