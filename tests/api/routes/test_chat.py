"""POST /api/chat: folding Rasa's answer, scripts, limits, polite answers, Rasa down."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import with_fake_rasa
from tests.support.app import INTERNAL_HEADERS, FakeRasa, make_settings

CARD = {
    "id": "ird-bir60",
    "form_no": "BIR60",
    "title": "個別人士報稅表",
    "department": "稅務局",
    "links": [
        {"label": "表格", "url": "https://www.ird.gov.hk/bir60.pdf"},
        {"label": "bad", "url": "javascript:alert(1)"},
        {"label": "plain", "url": "http://example.com/"},
    ],
}


def turn(client: TestClient, message: str, sender: str = "w-test", lang: str | None = "zh"):
    return client.post("/api/chat", json={"sender": sender, "message": message, "lang": lang})


def test_folds_text_buttons_and_cards(chat_client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.replies = [
        {
            "recipient_id": "w-test",
            "text": "找到以下表格：",
            "buttons": [{"title": "更多", "payload": "/more"}],
        },
        {"recipient_id": "w-test", "custom": {"cards": [CARD]}},
        {"recipient_id": "w-test", "text": "還有其他問題嗎？"},
    ]
    r = turn(chat_client, "點樣報稅")
    assert r.status_code == 200
    messages = r.json()["messages"]
    assert [m["text"] for m in messages] == ["找到以下表格：", "還有其他問題嗎？"]
    assert messages[0]["buttons"] == [{"title": "更多", "payload": "/more"}]
    card = messages[0]["cards"][0]
    assert card["id"] == "ird-bir60" and card["form_no"] == "BIR60"
    assert [link["url"] for link in card["links"]] == ["https://www.ird.gov.hk/bir60.pdf"]
    assert messages[1]["cards"] == []


def test_sends_lang_and_script_as_metadata(chat_client: TestClient, fake_rasa: FakeRasa) -> None:
    turn(chat_client, "點樣申請生果金", lang="zh")
    turn(chat_client, "how to renew passport", lang="en")
    turn(chat_client, "怎么申请护照", lang=None)
    assert [t["metadata"] for t in fake_rasa.turns] == [
        {"lang": "zh", "script": "hant"},
        {"lang": "en", "script": "latin"},
        {"lang": None, "script": "hans"},
    ]
    assert fake_rasa.turns[0]["sender"] == "w-test"


def test_simplified_in_simplified_out_and_remembered(
    chat_client: TestClient, fake_rasa: FakeRasa
) -> None:
    fake_rasa.replies = [
        {"text": "找到以下表格：", "buttons": [{"title": "與真人對話", "payload": "/human"}]},
        {"custom": {"cards": [CARD | {"title_translation": "個別人士報稅表"}]}},
    ]
    first = turn(chat_client, "怎么报税", sender="w-hans").json()["messages"][0]
    assert first["text"] == "找到以下表格："  # 以 / 下 / 表格 are common; 找到 too
    assert first["buttons"][0]["title"] == "与真人对话"
    assert first["buttons"][0]["payload"] == "/human"
    assert first["cards"][0]["title"] == "个别人士报税表"
    assert first["cards"][0]["department"] == "税务局"
    assert first["cards"][0]["title_translation"] == "个别人士报税表"
    # A button payload has no Chinese: the sender's script is remembered (in the database).
    again = turn(chat_client, "/human", sender="w-hans").json()["messages"][0]
    assert again["buttons"][0]["title"] == "与真人对话"
    # Another sender writing Traditional gets Traditional.
    other = turn(chat_client, "點樣報稅", sender="w-hant").json()["messages"][0]
    assert other["buttons"][0]["title"] == "與真人對話"
    # Switching to Traditional switches the output back.
    back = turn(chat_client, "點樣報稅", sender="w-hans").json()["messages"][0]
    assert back["buttons"][0]["title"] == "與真人對話"


def test_remembered_script_is_shared_by_workers(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    """Two app instances (two workers) on one database agree on the sender's script."""
    fake_rasa.replies = [{"text": "請選擇", "buttons": [{"title": "駕駛執照", "payload": "/a"}]}]
    settings = make_settings(tmp_path)
    one, two = create_app(settings), create_app(settings)
    with_fake_rasa(one, fake_rasa, settings)
    with_fake_rasa(two, fake_rasa, settings)
    with TestClient(one) as c1, TestClient(two) as c2:
        turn(c1, "车牌怎么办", sender="w-shared")
        reply = turn(c2, "/a", sender="w-shared").json()["messages"][0]
    assert reply["text"] == "请选择"
    assert reply["buttons"][0]["title"] == "驾驶执照"


def test_message_too_long_is_413(chat_client: TestClient, fake_rasa: FakeRasa) -> None:
    r = turn(chat_client, "x" * 1001)
    assert r.status_code == 413
    assert "too long" in r.json()["detail"]
    assert fake_rasa.turns == []


def test_body_too_large_is_413(chat_client: TestClient) -> None:
    r = chat_client.post(
        "/api/chat",
        content=b"{" + b" " * 20_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]


def test_malformed_json_is_422(chat_client: TestClient) -> None:
    r = chat_client.post(
        "/api/chat",
        content=b'{"sender": "w-1", "message": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["detail"] == "The request body is not valid JSON."


def test_missing_and_bad_fields_are_422(chat_client: TestClient) -> None:
    assert chat_client.post("/api/chat", json={"message": "hi"}).status_code == 422
    bad_sender = chat_client.post("/api/chat", json={"sender": "<script>", "message": "hi"})
    assert bad_sender.status_code == 422
    assert "sender" in bad_sender.json()["detail"]
    bad_lang = chat_client.post("/api/chat", json={"sender": "w-1", "message": "hi", "lang": "fr"})
    assert bad_lang.status_code == 422
    assert chat_client.post("/api/chat", json=["not", "an", "object"]).status_code == 422


def test_empty_binary_and_control_input_answered_politely(
    chat_client: TestClient, fake_rasa: FakeRasa
) -> None:
    for message in (
        "",
        "   ",
        "\x00\x01\x02\x03",
        "\ufffd\ufffd\ufffd",
        "\u200b\u200b",
        "\x1b[31m\x07",
    ):
        r = turn(chat_client, message, lang="en")
        assert r.status_code == 200, message
        text = r.json()["messages"][0]["text"]
        assert "didn't catch" in text
    assert fake_rasa.turns == []
    zh = turn(chat_client, "", lang="zh").json()["messages"][0]["text"]
    assert "請輸入" in zh


def test_control_characters_are_stripped(chat_client: TestClient, fake_rasa: FakeRasa) -> None:
    turn(chat_client, "please renew\u200b my pass\x07port\n\tnow")
    assert fake_rasa.turns[-1]["message"] == "please renew my passport now"


def test_rasa_unreachable_is_polite_503(bare_client: TestClient) -> None:
    r = turn(bare_client, "hello")
    assert r.status_code == 503
    body = r.json()
    assert "unavailable" in body["detail"]
    assert "1823" in body["messages"][0]["text"] and "請稍後再試" in body["messages"][0]["text"]
    assert "Traceback" not in r.text
    assert r.headers["Retry-After"]


def test_rasa_error_or_garbage_is_503(chat_client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.status_code = 500
    assert turn(chat_client, "hello").status_code == 503
    fake_rasa.status_code = 200
    fake_rasa.responder = lambda _body: httpx.Response(200, content=b"<html>oops</html>")
    assert turn(chat_client, "hello").status_code == 503


def test_rasa_timeout_is_503_not_a_hang(tmp_path: Path) -> None:
    def slow(_body: object) -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    settings = make_settings(tmp_path)
    fake = FakeRasa(responder=slow)
    app = create_app(settings)
    with_fake_rasa(app, fake, settings)
    with TestClient(app) as c:
        r = turn(c, "hello")
    assert r.status_code == 503
    assert "too long" in r.json()["detail"]


def test_rate_limited_with_retry_after(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    settings = make_settings(tmp_path, rate_limit_per_minute=3)
    app = create_app(settings)
    with_fake_rasa(app, fake_rasa, settings)
    with TestClient(app) as c:
        codes = [turn(c, "hello").status_code for _ in range(3)]
        limited = turn(c, "hello")
        # the action server's calls carry the internal token and are exempt
        exempt = c.post(
            "/api/chat",
            json={"sender": "w-test", "message": "hello"},
            headers=INTERNAL_HEADERS,
        )
    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "Too many requests" in limited.json()["detail"]
    assert exempt.status_code == 200


def test_chat_goes_on_when_the_database_is_down(
    chat_client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    fake_rasa.replies = [{"text": "你好"}]
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as conn:
        conn.execute("DROP TABLE conversation_state")
    r = turn(chat_client, "你好")
    assert r.status_code == 200
    assert r.json()["messages"][0]["text"] == "你好"
