"""Handoff transcripts and small parsers (actions/transcript.py, actions/parsing.py)."""

from __future__ import annotations

import pytest

from actions.parsing import option_index, valid_sender
from actions.transcript import MAX_TURNS, build_transcript


def test_transcript_of_users_and_bot() -> None:
    events = [
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
        {"event": "user", "text": "車牌", "timestamp": 2.0, "metadata": {"lang": "zh"}},
        {"event": "slot", "name": "language", "value": "zh", "timestamp": 2.1},
        {
            "event": "bot",
            "text": "以下是結果：",
            "timestamp": 3.0,
            "data": {
                "buttons": [{"title": "轉接真人", "payload": "/handoff"}],
                "custom": {"cards": [{"id": "td-td557", "form_no": "TD557"}]},
            },
        },
        {"event": "user", "text": "/handoff", "timestamp": 4.0},
    ]
    assert build_transcript(events) == [
        {"role": "user", "text": "車牌", "ts": 2.0},
        {
            "role": "bot",
            "text": "以下是結果：\n[cards: td-td557 (TD557)]\n[buttons: 轉接真人]",
            "ts": 3.0,
        },
        {"role": "user", "text": "[button] /handoff", "ts": 4.0},
    ]


def test_transcript_is_bounded() -> None:
    events = [{"event": "user", "text": f"q{i}", "timestamp": float(i)} for i in range(500)]
    turns = build_transcript(events)
    assert len(turns) == MAX_TURNS
    assert turns[-1]["text"] == "q499"


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("the first one", 0),
        ("第二個", 1),
        ("第三个", 2),
        ("option 2", 1),
        ("揀第一個", 0),
        ("none of them", None),
    ],
)
def test_option_index(text: str, index: int | None) -> None:
    assert option_index(text) == index


def test_valid_sender() -> None:
    assert valid_sender("w-3f9c2a6b") == "w-3f9c2a6b"
    assert valid_sender("bad sender!") is None
    assert valid_sender(None) is None
