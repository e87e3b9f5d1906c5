"""Actions end to end over HTTP against a stand-in api (runs in .venv-rasa): the exact
events they return and the messages they send, CollectingDispatcher style."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as a
from actions.settings import get_settings
from tests.actions.rasa_env.stub_api import StubApi, closed_port, serving

TD557 = {
    "id": "td-td557",
    "form_no": "TD557",
    "kind": "form",
    "title_en": "Application for Renewal of Driving Licence",
    "title_zh": "續領駕駛執照申請書",
    "title_zh_unofficial": "",
    "department_code": "TD",
    "department_en": "Transport Department",
    "department_zh": "運輸署",
    "url": "https://www.td.gov.hk/",
}
TD25 = {
    **TD557,
    "id": "td-td25",
    "form_no": "TD25",
    "title_en": "Vehicle Licence Renewal",
    "title_zh": "",
    "title_zh_unofficial": "續領車輛牌照",
}
CLARIFY = {
    "term": "車牌",
    "options": [
        {
            "key": "driving-licence",
            "label_en": "Driving licence",
            "label_zh": "駕駛執照",
            "ids": ["td-td557"],
        },
        {
            "key": "vehicle-licence",
            "label_en": "Vehicle licence",
            "label_zh": "車輛牌照",
            "ids": ["td-td25"],
        },
    ],
}


def tracker(
    text: str,
    intent: str,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
    }
    user_event = {
        "event": "user",
        "text": text,
        "timestamp": 10.0,
        "metadata": metadata or {},
        "parse_data": latest,
    }
    return Tracker(
        "w-test",
        {"language": "en", "script": "latin", **(slots or {})},
        latest,
        [*(events or []), user_event],
        False,
        None,
        {},
        "action_listen",
    )


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch):
    stub = StubApi(
        search={
            "renew driving licence": {
                "results": [TD557, TD25],
                "clarify": None,
                "index_version": "t",
            },
            "續領駕駛執照": {"results": [TD557, TD25], "clarify": None, "index_version": "t"},
            "車牌": {"results": [TD557, TD25], "clarify": CLARIFY, "index_version": "t"},
        },
        forms={"td-td557": TD557, "td-td25": TD25},
    )

    def configure(url: str) -> None:
        monkeypatch.setenv("FORMS_API_URL", url)
        monkeypatch.setenv("INTERNAL_API_TOKEN", stub.token)
        get_settings.cache_clear()

    stub.configure = configure  # type: ignore[attr-defined]
    yield stub
    get_settings.cache_clear()


def run(action, stub: StubApi, t: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    async def scenario():
        async with serving(stub):
            stub.configure(stub.url)  # type: ignore[attr-defined]
            dispatcher = CollectingDispatcher()
            events = await action.run(dispatcher, t, {})
            return dispatcher.messages, events

    return asyncio.run(scenario())


def slots(events: list[Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_search_shows_cards_text_and_buttons(api: StubApi) -> None:
    messages, events = run(a.ActionSearchForms(), api, tracker("renew driving licence", "search"))
    assert len(messages) == 1
    message = messages[0]
    assert message["text"].startswith("Here are the forms")
    assert [c["id"] for c in message["custom"]["cards"]] == ["td-td557", "td-td25"]
    # fewer results than a page: no "more" or "narrow" buttons
    assert [b["payload"] for b in message["buttons"]] == ["/feedback_bad", "/handoff"]
    assert slots(events)["shown_ids"] == ["td-td557", "td-td25"]
    assert slots(events)["last_query"] == "renew driving licence"
    assert slots(events)["searches"] == ["renew driving licence"]
    assert slots(events)["offer"] is None
    assert api.searches[0]["lang"] == "en" and api.searches[0]["sender"] == "w-test"


def test_chinese_cards_use_official_title_or_mark_the_translation(api: StubApi) -> None:
    t = tracker("續領駕駛執照", "search", slots={"language": "zh", "script": "hant"})
    messages, _ = run(a.ActionSearchForms(), api, t)
    cards = messages[0]["custom"]["cards"]
    assert cards[0]["title"] == "續領駕駛執照申請書" and "title_translation" not in cards[0]
    assert cards[1]["title"] == "Vehicle Licence Renewal"
    assert cards[1]["title_translation"] == "續領車輛牌照"
    assert messages[0]["text"].startswith("以下是")


def test_ambiguity_asks_one_question_with_an_option_per_button(api: StubApi) -> None:
    t = tracker("車牌", "search", slots={"language": "zh"})
    messages, events = run(a.ActionSearchForms(), api, t)
    assert len(messages) == 1 and not messages[0]["custom"]
    assert "車牌" in messages[0]["text"]
    assert [b["title"] for b in messages[0]["buttons"]] == ["駕駛執照", "車輛牌照"]
    assert slots(events)["clarify_options"] == CLARIFY["options"]
    assert slots(events)["result_offset"] == 0.0


def test_choosing_an_option_shows_its_forms(api: StubApi) -> None:
    t = tracker(
        '/choose_option{"option_key": "vehicle-licence"}',
        "choose_option",
        slots={"language": "zh", "clarify_options": CLARIFY["options"]},
        entities=[{"entity": "option_key", "value": "vehicle-licence"}],
    )
    messages, events = run(a.ActionChooseOption(), api, t)
    assert [c["id"] for c in messages[0]["custom"]["cards"]] == ["td-td25"]
    assert "車輛牌照" in messages[0]["text"]
    assert slots(events)["shown_ids"] == ["td-td25"]


def test_choosing_by_ordinal(api: StubApi) -> None:
    t = tracker("第一個", "choose_option", slots={"clarify_options": CLARIFY["options"]})
    messages, _ = run(a.ActionChooseOption(), api, t)
    assert [c["id"] for c in messages[0]["custom"]["cards"]] == ["td-td557"]


def test_nothing_found_is_said_honestly_and_a_person_offered(api: StubApi) -> None:
    messages, events = run(a.ActionSearchForms(), api, tracker("register my pet unicorn", "search"))
    assert "couldn't find" in messages[0]["text"] and "1823" in messages[0]["text"]
    assert not messages[0]["custom"]
    assert slots(events)["offer"] == "handoff"
    assert slots(events)["failures"] == 1.0
    assert api.handoffs == []


def test_low_confidence_results_are_not_shown_as_answers(api: StubApi) -> None:
    api.search["asdfgh"] = {
        "results": [TD557, TD25],
        "clarify": None,
        "low_confidence": True,
        "index_version": "t",
    }
    messages, events = run(a.ActionSearchForms(), api, tracker("asdfgh", "search"))
    assert "couldn't find" in messages[0]["text"]
    assert not messages[0]["custom"]  # no cards
    assert slots(events)["offer"] == "handoff"
    assert slots(events)["failures"] == 1.0


def test_second_failure_in_a_row_hands_over(api: StubApi) -> None:
    history = [
        {"event": "user", "text": "unicorn licence", "timestamp": 1.0},
        {"event": "bot", "text": "Sorry, I couldn't find...", "timestamp": 2.0},
    ]
    t = tracker(
        "dragon permit",
        "search",
        slots={"failures": 1.0, "searches": ["unicorn licence"]},
        events=history,
    )
    messages, events = run(a.ActionSearchForms(), api, t)
    assert len(api.handoffs) == 1
    record = api.handoffs[0]
    assert record["reason"] == "repeated_failure"
    assert record["searches"] == ["unicorn licence", "dragon permit"]
    assert record["language"] == "en"
    assert [turn["role"] for turn in record["transcript"]] == ["user", "bot", "user"]
    assert "HO-TEST-1" in messages[0]["text"]
    assert slots(events)["handoff_reference"] == "HO-TEST-1"
    assert slots(events)["failures"] == 0.0


def test_handoff_on_request_in_chinese(api: StubApi) -> None:
    t = tracker(
        "搵真人", "handoff", slots={"language": "zh", "script": "hans", "searches": ["车牌"]}
    )
    messages, events = run(a.ActionHandoff(), api, t)
    assert api.handoffs[0]["reason"] == "requested"
    assert api.handoffs[0]["language"] == "zh-Hans"
    assert api.handoffs[0]["searches"] == ["车牌"]
    assert "HO-TEST-1" in messages[0]["text"] and "1823" in messages[0]["text"]
    assert SlotSet("handoff_reference", "HO-TEST-1") in events


def test_feedback_is_recorded_with_query_and_results(api: StubApi) -> None:
    t = tracker(
        "/feedback_bad",
        "feedback_bad",
        slots={"last_query": "車牌", "shown_ids": ["td-td557"], "language": "zh", "script": "hant"},
    )
    messages, events = run(a.ActionFeedback(), api, t)
    assert api.feedback == [
        {
            "sender": "w-test",
            "rating": "bad",
            "query": "車牌",
            "result_ids": ["td-td557"],
            "language": "zh-Hant",
        }
    ]
    assert slots(events)["offer"] == "handoff"
    assert "1823" in messages[0]["text"]


def test_good_feedback_resets_failures(api: StubApi) -> None:
    t = tracker("this helped", "feedback_good", slots={"last_query": "x", "failures": 1.0})
    messages, events = run(a.ActionFeedback(), api, t)
    assert api.feedback[0]["rating"] == "good"
    assert slots(events)["failures"] == 0.0
    assert messages[0]["text"].startswith("Thank you")


def test_a_full_page_has_all_four_buttons(api: StubApi) -> None:
    api.search["many"] = {
        "results": [{**TD557, "id": f"td-{i}"} for i in range(5)],
        "clarify": None,
        "index_version": "t",
    }
    messages, events = run(a.ActionSearchForms(), api, tracker("many", "search"))
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        "/more_results",
        "/narrow_department",
        "/feedback_bad",
        "/handoff",
    ]
    assert slots(events)["result_offset"] == 5.0


def test_more_results_pages_the_last_search(api: StubApi) -> None:
    api.search["many"] = {
        "results": [{**TD557, "id": f"td-{i}"} for i in range(8)],
        "clarify": None,
        "index_version": "t",
    }
    t = tracker("/more_results", "more_results", slots={"last_query": "many", "result_offset": 5.0})
    messages, events = run(a.ActionMoreResults(), api, t)
    assert [c["id"] for c in messages[0]["custom"]["cards"]] == ["td-5", "td-6", "td-7"]
    assert api.searches[0]["k"] == "10"
    assert slots(events)["result_offset"] == 8.0


def test_narrow_then_filter_by_department(api: StubApi) -> None:
    t = tracker(
        "/narrow_department", "narrow_department", slots={"last_query": "renew driving licence"}
    )
    messages, events = run(a.ActionNarrowDepartment(), api, t)
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/filter_department{"department": "TD"}'
    ]
    departments = slots(events)["shown_departments"]
    t = tracker(
        '/filter_department{"department": "TD"}',
        "filter_department",
        slots={"last_query": "renew driving licence", "shown_departments": departments},
        entities=[{"entity": "department", "value": "TD"}],
    )
    messages, _ = run(a.ActionSearchForms(), api, t)
    assert api.searches[-1]["department"] == "TD"
    assert api.searches[-1]["q"] == "renew driving licence"
    assert messages[0]["text"] == "Results from the Transport Department:"


def test_long_messages_are_searched_within_the_api_limit(api: StubApi) -> None:
    run(a.ActionSearchForms(), api, tracker("passport " * 100, "search"))
    assert len(api.searches[0]["q"]) == get_settings().max_query_chars


def test_browse_without_a_department_shows_the_menu(api: StubApi) -> None:
    messages, _ = run(a.ActionSearchForms(), api, tracker("/browse", "browse"))
    assert messages[0]["text"].startswith("Which department")
    assert messages[0]["buttons"][0]["payload"] == '/browse{"department": "ImmD"}'
    assert api.searches == []


def test_api_down_gets_a_polite_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORMS_API_URL", f"http://127.0.0.1:{closed_port()}")
    get_settings.cache_clear()
    try:
        dispatcher = CollectingDispatcher()
        t = tracker("生果金點申請", "search", slots={"language": "zh"})
        events = asyncio.run(a.ActionSearchForms().run(dispatcher, t, {}))
    finally:
        get_settings.cache_clear()
    assert dispatcher.messages[0]["text"].startswith("對不起，表格搜尋服務暫時未能使用")
    assert "1823" in dispatcher.messages[0]["text"]
    assert slots(events)["searches"] == ["生果金點申請"]


@pytest.mark.parametrize(
    ("text", "intent", "slots_before", "metadata", "expected"),
    [
        (
            "生果金点申请",
            "search",
            {"language": None, "script": None},
            {"lang": "en", "script": "hans"},
            ("zh", "hans"),
        ),
        (
            "how do I renew",
            "search",
            {"language": "zh", "script": "hant"},
            {"lang": "zh", "script": "latin"},
            ("en", "latin"),
        ),
        (
            "/handoff",
            "handoff",
            {"language": "zh", "script": "hans"},
            {"lang": "en", "script": "latin"},
            ("zh", "hans"),
        ),
        (
            "English please",
            "switch_language",
            {"language": "zh", "script": "hant"},
            {},
            ("en", "latin"),
        ),
        ("中文", "switch_language", {"language": "en", "script": "latin"}, {}, ("zh", "hant")),
        ("ok", "affirm", {"language": None, "script": None}, {"lang": "zh"}, ("zh", "hant")),
        (
            "BIR60",
            "form_number",
            {"language": "zh", "script": "hans"},
            {"lang": "zh", "script": "latin"},
            ("zh", "hans"),
        ),
    ],
)
def test_set_language(text, intent, slots_before, metadata, expected) -> None:
    t = tracker(text, intent, slots=slots_before, metadata=metadata)
    events = asyncio.run(a.ActionSetLanguage().run(CollectingDispatcher(), t, {}))
    assert (slots(events)["language"], slots(events)["script"]) == expected


def test_widget_language_toggle_is_followed() -> None:
    earlier = [
        {"event": "user", "text": "hello there", "metadata": {"lang": "en"}, "timestamp": 1.0}
    ]
    t = tracker("ok", "affirm", slots={"language": "en"}, events=earlier, metadata={"lang": "zh"})
    events = asyncio.run(a.ActionSetLanguage().run(CollectingDispatcher(), t, {}))
    assert slots(events)["language"] == "zh"
