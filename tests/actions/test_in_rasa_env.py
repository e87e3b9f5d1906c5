"""Runs tests/actions/rasa_env (rasa_sdk, aiohttp: Python 3.10) in .venv-rasa."""

from __future__ import annotations

from tests.bot.rasa_runner import require_rasa_venv, run_rasa_env_tests, tail


def test_actions_in_rasa_environment() -> None:
    require_rasa_venv()
    result = run_rasa_env_tests("tests/actions/rasa_env")
    assert result.returncode == 0, tail(result)
