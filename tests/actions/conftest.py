"""tests/actions/rasa_env/ needs rasa_sdk and aiohttp: it runs in .venv-rasa (test_in_rasa_env)."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("rasa_sdk") else ["rasa_env"]
