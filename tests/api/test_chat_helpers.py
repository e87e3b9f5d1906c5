"""api.chat: cleaning input and folding Rasa's REST output into the contract's messages."""

from __future__ import annotations

from api.chat import clean_message, fold_messages, looks_binary, simplify
from api.schemas import BotMessage, Button, Card, Link


def test_clean_message() -> None:
    assert clean_message("  hello\n\tworld  ") == "hello world"
    assert clean_message("a\x00b\x07c") == "abc"
    assert clean_message("\u200b\u202e") == ""
    assert clean_message("👨\u200d👩\u200d👧 family") == "👨\u200d👩\u200d👧 family"
    assert clean_message("ｅ") == "ｅ"  # width folding is the search's job, not ours


def test_looks_binary() -> None:
    assert looks_binary("\x00PNG")
    assert looks_binary("\ufffd\ufffd\ufffdab")
    assert not looks_binary("renew passport")
    assert not looks_binary("")


def test_fold_keeps_one_item_per_bot_message() -> None:
    raw = [
        {"recipient_id": "s", "text": "Hi"},
        {"recipient_id": "s", "text": "Pick one", "buttons": [{"title": "A", "payload": "/a"}]},
        {"recipient_id": "s", "custom": {"cards": [{"id": "x", "title": "X"}]}},
        {"recipient_id": "s", "image": "https://x/y.png"},  # nothing we show: dropped
    ]
    folded = fold_messages(raw)
    assert [m.text for m in folded] == ["Hi", "Pick one"]
    assert folded[1].buttons == [Button(title="A", payload="/a")]
    assert [c.id for c in folded[1].cards] == ["x"]


def test_fold_cards_first_and_custom_text() -> None:
    folded = fold_messages(
        [{"custom": {"text": "Found", "cards": [{"id": "x", "title": "X"}, {"title": "no id"}]}}]
    )
    assert folded == [BotMessage(text="Found", cards=[Card(id="x", title="X", links=[])])]


def test_fold_drops_non_https_links() -> None:
    card = {
        "id": "x",
        "title": "X",
        "links": [
            {"label": "ok", "url": "https://www.gov.hk/x"},
            {"label": "js", "url": "javascript:alert(1)"},
            {"label": "data", "url": "data:text/html,<script>"},
            {"label": "http", "url": "http://www.gov.hk/"},
            "not a dict",
        ],
    }
    folded = fold_messages([{"custom": {"cards": [card]}}])
    assert folded[0].cards[0].links == [Link(label="ok", url="https://www.gov.hk/x")]


def test_simplify_touches_text_only() -> None:
    m = BotMessage(
        text="請選擇",
        buttons=[Button(title="駕駛執照", payload='/choose{"key":"駕駛執照"}')],
        cards=[
            Card(
                id="td-1",
                title="駕駛執照",
                department="運輸署",
                links=[Link(label="網上申請", url="https://www.td.gov.hk/繁")],
            )
        ],
    )
    (s,) = simplify([m])
    assert s.text == "请选择"
    assert s.buttons[0].title == "驾驶执照"
    assert s.buttons[0].payload == '/choose{"key":"駕駛執照"}'
    assert (s.cards[0].title, s.cards[0].department) == ("驾驶执照", "运输署")
    assert s.cards[0].links[0] == Link(label="网上申请", url="https://www.td.gov.hk/繁")
