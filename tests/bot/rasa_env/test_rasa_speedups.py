"""The validator of action-server answers built once (bot/rasa_speedups.py) accepts and
refuses exactly what Rasa's own ``jsonschema.validate()`` call does (runs in .venv-rasa)."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

import bot  # noqa: F401  (importing the package installs the speed-up)
from bot import rasa_speedups

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "language", "value": "zh", "timestamp": None},
            {"event": "slot", "name": "shown_ids", "value": ["a", "b"]},
        ],
        "responses": [{"text": "以下是…", "buttons": [], "custom": {"cards": []}}],
    },
]
INVALID = [
    {"events": "not a list"},
    {"events": [], "responses": "text"},
    {"events": [{"event": "slot", "name": 3}]},
    "not an object",
]


def test_installed_when_the_bot_package_is_imported() -> None:
    assert rasa_speedups.install() is True
    assert getattr(RemoteAction._validate_action_result, "_bot_cached_validator", False)


@pytest.mark.parametrize("answer", VALID)
def test_valid_answers_pass(answer: dict) -> None:
    assert RemoteAction("action_x", None)._validate_action_result(answer) is True


@pytest.mark.parametrize("answer", INVALID)
def test_invalid_answers_raise_the_same_error_as_rasa(answer: object) -> None:
    with pytest.raises(ValidationError) as expected:
        validate(answer, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError) as got:
        RemoteAction("action_x", None)._validate_action_result(answer)  # type: ignore[arg-type]
    assert got.value.message.startswith(expected.value.message)
    assert "Failed to validate Action server response from API" in got.value.message
