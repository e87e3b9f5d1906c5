"""tests/bot/rasa_env/ imports Rasa: it runs in .venv-rasa (driven by test_rasa_project.py)."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("rasa") else ["rasa_env"]
