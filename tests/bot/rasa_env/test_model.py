"""The trained model understands the registers (runs in .venv-rasa; needs `make train`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parents[3] / "models" / "rasa" / "bot.tar.gz"


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.skip("no trained model: run `make train`")
    from rasa.core.agent import Agent

    return Agent.load(str(MODEL))


@pytest.mark.parametrize(
    ("text", "intents"),
    [
        ("我想renew passport", {"search", "nlu_fallback"}),
        ("生果金點申請", {"search", "nlu_fallback"}),
        ("生果金点申请", {"search", "nlu_fallback"}),
        ("how do I apply for public housing", {"search", "nlu_fallback"}),
        ("搵真人", {"handoff"}),
        ("talk to a person", {"handoff"}),
        ("轉接客服", {"handoff"}),
        ("English", {"switch_language"}),
        ("中文", {"switch_language"}),
        ("唔該晒", {"thanks"}),
        ("你係咪機械人", {"bot_challenge"}),
    ],
)
def test_intents(agent, text: str, intents: set[str]) -> None:
    parsed = asyncio.run(agent.parse_message(text))
    assert parsed["intent"]["name"] in intents
    assert parsed["text"] == text  # the citizen's own words, not the normalised form


def test_form_number_entity_on_mixed_text(agent) -> None:
    parsed = asyncio.run(agent.parse_message("BIR60表格"))
    assert parsed["intent"]["name"] == "form_number"
    values = [e["value"] for e in parsed["entities"] if e["entity"] == "form_number"]
    assert values == ["BIR60"]
