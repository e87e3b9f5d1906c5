"""Bilingual texts, buttons and cards (actions/messages.py)."""

from __future__ import annotations

import json

from actions import messages as m

RESULT_OFFICIAL = {
    "id": "ird-bir60",
    "form_no": "BIR60",
    "kind": "form",
    "title_en": "Tax Return – Individuals",
    "title_zh": "個別人士報稅表",
    "title_zh_unofficial": "",
    "department_code": "IRD",
    "department_en": "Inland Revenue Department",
    "department_zh": "稅務局",
    "url": "https://www.gov.hk/en/residents/taxes/etax/services/filing_of_tax_return_bir60.htm",
    "score": 0.93,
}
RESULT_UNOFFICIAL = {
    **RESULT_OFFICIAL,
    "id": "ird-bir60-efiling",
    "form_no": "",
    "kind": "e-service",
    "title_en": "Filing of Tax Return – Individuals (BIR60) through eTAX",
    "title_zh": "",
    "title_zh_unofficial": "經「稅務易」網上遞交個別人士報稅表",
}


def test_english_card() -> None:
    card = m.build_card(RESULT_OFFICIAL, "en")
    assert card == {
        "id": "ird-bir60",
        "form_no": "BIR60",
        "title": "Tax Return – Individuals",
        "department": "Inland Revenue Department",
        "links": [{"label": "Form and details", "url": RESULT_OFFICIAL["url"]}],
        "kind": "form",
    }


def test_chinese_card_shows_the_official_title() -> None:
    card = m.build_card(RESULT_OFFICIAL, "zh")
    assert card["title"] == "個別人士報稅表"
    assert card["department"] == "稅務局"
    assert "title_translation" not in card
    assert card["links"][0]["label"] == "表格及詳情"


def test_chinese_card_never_presents_our_rendering_as_the_title() -> None:
    card = m.build_card(RESULT_UNOFFICIAL, "zh")
    assert card["title"] == RESULT_UNOFFICIAL["title_en"]
    assert card["title_translation"] == "經「稅務易」網上遞交個別人士報稅表"
    assert card["links"][0]["label"] == "前往電子服務"


def test_english_card_has_no_translation() -> None:
    assert "title_translation" not in m.build_card(RESULT_UNOFFICIAL, "en")


def test_only_https_links() -> None:
    card = m.build_card({**RESULT_OFFICIAL, "url": "http://example.invalid/x"}, "en")
    assert card["links"] == []


def test_cards_skip_entries_without_id() -> None:
    assert [c["id"] for c in m.build_cards([RESULT_OFFICIAL, {"title_en": "x"}], "en")] == [
        "ird-bir60"
    ]


def test_department_falls_back_to_english() -> None:
    entry = {**RESULT_OFFICIAL, "department_zh": ""}
    assert m.build_card(entry, "zh")["department"] == "Inland Revenue Department"


def test_result_buttons_in_both_languages() -> None:
    assert m.result_buttons("en") == [
        {"title": "More results", "payload": "/more_results"},
        {"title": "Narrow by department", "payload": "/narrow_department"},
        {"title": "This didn't help", "payload": "/feedback_bad"},
        {"title": "Talk to a person", "payload": "/handoff"},
    ]
    assert [b["title"] for b in m.result_buttons("zh", more=False)] == ["沒有幫助", "轉接真人"]


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
        {"key": "broken", "label_en": "No ids", "ids": []},
    ],
}


def test_clarify_question_and_buttons() -> None:
    question, buttons = m.clarify_message(CLARIFY, "zh")
    assert question == "「車牌」可以指不同的服務，你需要的是哪一項？"
    assert [b["title"] for b in buttons] == ["駕駛執照", "車輛牌照"]
    payload = buttons[0]["payload"]
    assert payload.startswith("/choose_option")
    assert json.loads(payload[len("/choose_option") :]) == {"option_key": "driving-licence"}


def test_clarify_in_english() -> None:
    question, buttons = m.clarify_message(CLARIFY, "en")
    assert "車牌" in question and question.startswith("“車牌”")
    assert [b["title"] for b in buttons] == ["Driving licence", "Vehicle licence"]


def test_departments_of_results_and_their_buttons() -> None:
    other = {
        **RESULT_OFFICIAL,
        "id": "td-td557",
        "department_code": "TD",
        "department_en": "Transport Department",
        "department_zh": "運輸署",
    }
    departments = m.departments_of([RESULT_OFFICIAL, RESULT_UNOFFICIAL, other])
    assert [d["code"] for d in departments] == ["IRD", "TD"]
    buttons = m.department_buttons(departments, "zh", "filter_department")
    assert buttons[1] == {"title": "運輸署", "payload": '/filter_department{"department": "TD"}'}


def test_resolve_department_and_topic() -> None:
    assert m.resolve_department("TD") == "TD"
    assert m.resolve_department("td") == "TD"
    assert m.resolve_department("運輸署") == "TD"
    assert m.resolve_department("Transport Department") == "TD"
    assert m.resolve_department("BD", known=["BD"]) == "BD"
    assert m.resolve_department("屋宇署") is None
    assert m.resolve_department(None) is None
    assert m.resolve_topic("social welfare") == "social-welfare"
    assert m.resolve_topic("tax") == "tax"
    assert m.resolve_topic("weather") is None


def test_texts_exist_in_both_languages() -> None:
    for key, versions in m.TEXTS.items():
        assert set(versions) == {"en", "zh"}, key
        assert all(v.strip() for v in versions.values()), key


def test_no_results_offers_1823() -> None:
    assert "1823" in m.text("no_results", "en")
    assert "1823" in m.text("no_results", "zh")


def test_handoff_text_has_the_reference() -> None:
    assert "HO-1" in m.text("handoff_done", "zh", reference="HO-1")
