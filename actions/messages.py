"""Bilingual texts, buttons and result cards (pure functions, no Rasa imports).

Chinese is written in Traditional characters; the api converts replies to Simplified
for citizens who write Simplified. Titles follow the catalogue's rule: the official
Chinese title when known, otherwise the English one, with our own rendering only as
a separate, marked ``title_translation`` (never presented as the official title).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

Lang = str  # "en" | "zh"

TEXTS: dict[str, dict[Lang, str]] = {
    "results": {
        "en": "Here are the forms and e-services that best match your request:",
        "zh": "以下是與你的查詢最相關的表格及電子服務：",
    },
    "results_option": {
        "en": "Here are the forms for “{label}”:",
        "zh": "以下是「{label}」的表格：",
    },
    "results_department": {
        "en": "Results from the {department}:",
        "zh": "{department}的相關結果：",
    },
    "more_results": {
        "en": "Here are more results:",
        "zh": "以下是更多結果：",
    },
    "no_more_results": {
        "en": "There are no more results for that. You can rephrase, narrow by department, "
        "or talk to a person at 1823.",
        "zh": "沒有更多相關結果。你可以換個說法、按部門篩選，或轉接 1823 職員。",
    },
    "no_results": {
        "en": "Sorry, I couldn't find a form or e-service for that. You could rephrase it "
        "(a service name or form number helps), browse by department, or call 1823 "
        "(telephone 1823). Would you like me to pass your question to 1823 staff?",
        "zh": "對不起，我找不到相關的表格或電子服務。你可以換個說法（例如服務名稱或表格編號）、"
        "按部門瀏覽，或致電 1823 查詢。需要我把你的問題轉交 1823 職員跟進嗎？",
    },
    "clarify": {
        "en": "“{term}” can mean different things. Which one do you need?",
        "zh": "「{term}」可以指不同的服務，你需要的是哪一項？",
    },
    "clarify_generic": {
        "en": "Your request matches different services. Which one do you need?",
        "zh": "你的查詢與幾項不同的服務相關，你需要的是哪一項？",
    },
    "choose_again": {
        "en": "Please choose one of the options, or tell me in other words what you need.",
        "zh": "請選擇其中一項，或換個說法告訴我你需要甚麼。",
    },
    "browse_menu": {
        "en": "Which department's forms would you like to see?",
        "zh": "你想查看哪個部門的表格？",
    },
    "narrow_menu": {
        "en": "Which department should I narrow the results to?",
        "zh": "要把結果收窄至哪個部門？",
    },
    "api_down": {
        "en": "Sorry, the forms search is not available right now. Please try again in a few "
        "minutes, or call 1823 (telephone 1823) for help.",
        "zh": "對不起，表格搜尋服務暫時未能使用。請稍後再試，或致電 1823 查詢。",
    },
    "handoff_done": {
        "en": "I've passed your conversation to 1823. Your case reference is {reference}. "
        "1823 staff will review it and follow up with you; if you need help sooner, "
        "call 1823 and quote the reference.",
        "zh": "我已把你的對話轉交 1823，個案編號為 {reference}。1823 職員會審閱並跟進；"
        "如需盡快協助，請致電 1823 並提供此編號。",
    },
    "handoff_repeated_failure": {
        "en": "I'm sorry I couldn't find what you need. I've passed your conversation to "
        "1823 (case reference {reference}); 1823 staff will review it and follow up. "
        "If it's urgent, call 1823 and quote the reference.",
        "zh": "對不起，未能找到你需要的資料。我已把你的對話轉交 1823（個案編號 {reference}），"
        "1823 職員會審閱並跟進。如情況緊急，請致電 1823 並提供此編號。",
    },
    "handoff_failed": {
        "en": "Sorry, I couldn't pass your conversation to 1823 just now. Please call 1823 "
        "(telephone 1823) and an officer will help you.",
        "zh": "對不起，暫時未能把你的對話轉交 1823。請致電 1823，職員會為你提供協助。",
    },
    "feedback_good": {
        "en": "Thank you for the feedback! Anything else I can find for you?",
        "zh": "多謝你的意見！還有其他表格要找嗎？",
    },
    "feedback_bad": {
        "en": "Sorry that didn't help. You could tell me in other words what you need, "
        "browse by department, or talk to a person at 1823. Shall I pass your question "
        "to 1823 staff?",
        "zh": "對不起，未能幫上忙。你可以換個說法、按部門瀏覽，或轉接 1823 職員。"
        "需要我把你的問題轉交 1823 職員跟進嗎？",
    },
    "language_switched": {
        "en": "OK, I'll reply in English. What are you looking for?",
        "zh": "好的，我會以中文回覆。請問你想找甚麼表格或服務？",
    },
}

BUTTON_TITLES: dict[str, dict[Lang, str]] = {
    "more": {"en": "More results", "zh": "更多結果"},
    "narrow": {"en": "Narrow by department", "zh": "按部門篩選"},
    "not_helpful": {"en": "This didn't help", "zh": "沒有幫助"},
    "handoff": {"en": "Talk to a person", "zh": "轉接真人"},
    "browse": {"en": "Browse by department", "zh": "按部門瀏覽"},
}

BUTTON_PAYLOADS = {
    "more": "/more_results",
    "narrow": "/narrow_department",
    "not_helpful": "/feedback_bad",
    "handoff": "/handoff",
    "browse": "/browse",
}

LINK_LABELS: dict[str, dict[Lang, str]] = {
    "form": {"en": "Form and details", "zh": "表格及詳情"},
    "e-service": {"en": "Go to the e-service", "zh": "前往電子服務"},
}

#: Departments offered when a citizen browses without naming one (the busiest counters).
BROWSE_DEPARTMENTS: dict[str, dict[Lang, str]] = {
    "ImmD": {"en": "Immigration Department", "zh": "入境事務處"},
    "IRD": {"en": "Inland Revenue Department", "zh": "稅務局"},
    "TD": {"en": "Transport Department", "zh": "運輸署"},
    "LD": {"en": "Labour Department", "zh": "勞工處"},
    "SWD": {"en": "Social Welfare Department", "zh": "社會福利署"},
    "HD": {"en": "Housing Department", "zh": "房屋署"},
    "FEHD": {"en": "Food and Environmental Hygiene Department", "zh": "食物環境衞生署"},
    "WFSFAA": {
        "en": "Working Family and Student Financial Assistance Agency",
        "zh": "在職家庭及學生資助事務處",
    },
    "HKPF": {"en": "Hong Kong Police Force", "zh": "香港警務處"},
    "CR": {"en": "Companies Registry", "zh": "公司註冊處"},
}

#: Topic keys of the catalogue (docs/contracts.md §2 ``topic``).
TOPICS = frozenset(
    {
        "business",
        "immigration",
        "transport",
        "employment",
        "property-land",
        "education",
        "social-welfare",
        "tax",
        "legal",
        "public-safety",
        "housing",
        "health",
        "environment",
        "food-hygiene",
        "leisure-culture",
        "other",
        "communications",
        "utilities",
        "agriculture-animals",
        "elections",
    }
)


def lang_or_default(lang: Any) -> Lang:
    """``zh`` or ``en`` (anything else is English)."""
    return "zh" if lang == "zh" else "en"


def text(key: str, lang: Any, **values: Any) -> str:
    """A reply in the citizen's language, with ``{placeholders}`` filled."""
    return TEXTS[key][lang_or_default(lang)].format(**values)


def button(key: str, lang: Any) -> dict[str, str]:
    """One of the standard buttons (more results, narrow, didn't help, person, browse)."""
    return {"title": BUTTON_TITLES[key][lang_or_default(lang)], "payload": BUTTON_PAYLOADS[key]}


def intent_payload(intent: str, entities: Mapping[str, str] | None = None) -> str:
    """A Rasa intent payload such as ``/choose_option{"option_key": "driving-licence"}``."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(dict(entities), ensure_ascii=False)}"


def result_buttons(lang: Any, *, more: bool = True) -> list[dict[str, str]]:
    """The buttons under results: more, narrow by department, didn't help, a person."""
    keys = ["more", "narrow", "not_helpful", "handoff"] if more else ["not_helpful", "handoff"]
    return [button(k, lang) for k in keys]


def help_buttons(lang: Any) -> list[dict[str, str]]:
    """Buttons when nothing helped: browse, a person."""
    return [button("browse", lang), button("handoff", lang)]


def card_title(entry: Mapping[str, Any], lang: Any) -> tuple[str, str | None]:
    """``(title, title_translation)``: Chinese shows the official Chinese title when known,
    else the English title with our own rendering as a separate translation."""
    title_en = str(entry.get("title_en") or "")
    if lang_or_default(lang) == "zh":
        official = str(entry.get("title_zh") or "")
        if official:
            return official, None
        unofficial = str(entry.get("title_zh_unofficial") or "")
        return title_en, (unofficial or None)
    return title_en, None


def department_name(entry: Mapping[str, Any], lang: Any) -> str:
    """The entry's department in the citizen's language (English when no Chinese name)."""
    if lang_or_default(lang) == "zh" and entry.get("department_zh"):
        return str(entry["department_zh"])
    return str(entry.get("department_en") or entry.get("department_code") or "")


def build_card(entry: Mapping[str, Any], lang: Any) -> dict[str, Any]:
    """A result card (docs/contracts.md §4 ``cards``) from a search result or an entry."""
    title, translation = card_title(entry, lang)
    kind = str(entry.get("kind") or "form")
    url = str(entry.get("url") or "")
    links = []
    if url.lower().startswith("https://"):
        labels = LINK_LABELS.get(kind, LINK_LABELS["form"])
        links.append({"label": labels[lang_or_default(lang)], "url": url})
    card: dict[str, Any] = {
        "id": str(entry.get("id") or ""),
        "form_no": str(entry.get("form_no") or ""),
        "title": title,
        "department": department_name(entry, lang),
        "links": links,
        "kind": kind,
    }
    if translation:
        card["title_translation"] = translation
    return card


def build_cards(entries: Iterable[Mapping[str, Any]], lang: Any) -> list[dict[str, Any]]:
    """Cards for entries that have an id (never an invented one)."""
    return [build_card(e, lang) for e in entries if e.get("id")]


def clarify_message(clarify: Mapping[str, Any], lang: Any) -> tuple[str, list[dict[str, str]]]:
    """The clarifying question and one button per option."""
    term = str(clarify.get("term") or "")
    question = text("clarify", lang, term=term) if term else text("clarify_generic", lang)
    buttons = [
        {
            "title": option_label(option, lang),
            "payload": intent_payload("choose_option", {"option_key": str(option["key"])}),
        }
        for option in clarify_options(clarify)
    ]
    return question, buttons


def clarify_options(clarify: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The usable options of a clarify block (a key and at least one id each)."""
    options = (clarify or {}).get("options") or []
    return [
        o
        for o in options
        if isinstance(o, dict) and o.get("key") and isinstance(o.get("ids"), list) and o["ids"]
    ]


def option_label(option: Mapping[str, Any], lang: Any) -> str:
    """An option's label in the citizen's language."""
    if lang_or_default(lang) == "zh" and option.get("label_zh"):
        return str(option["label_zh"])
    return str(option.get("label_en") or option.get("label_zh") or option.get("key"))


def departments_of(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Distinct departments of results, in order: ``{"code", "en", "zh"}``."""
    seen: dict[str, dict[str, str]] = {}
    for e in entries:
        code = str(e.get("department_code") or "")
        if code and code not in seen:
            seen[code] = {
                "code": code,
                "en": str(e.get("department_en") or code),
                "zh": str(e.get("department_zh") or e.get("department_en") or code),
            }
    return list(seen.values())


def department_buttons(
    departments: Iterable[Mapping[str, str]], lang: Any, intent: str
) -> list[dict[str, str]]:
    """One button per department, with ``intent`` carrying the department code."""
    key = lang_or_default(lang)
    return [
        {
            "title": d.get(key) or d["code"],
            "payload": intent_payload(intent, {"department": d["code"]}),
        }
        for d in departments
    ]


def browse_departments() -> list[dict[str, str]]:
    """The browse menu's departments as ``{"code", "en", "zh"}``."""
    return [{"code": code, **names} for code, names in BROWSE_DEPARTMENTS.items()]


def resolve_department(value: Any, known: Iterable[str] = BROWSE_DEPARTMENTS) -> str | None:
    """A department code from an entity value (codes after NLU synonyms), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    wanted = value.strip().lower()
    for code in known:
        if code.lower() == wanted:
            return code
    for code, names in BROWSE_DEPARTMENTS.items():
        if wanted in (names["en"].lower(), names["zh"]):
            return code
    return None


def resolve_topic(value: Any) -> str | None:
    """A catalogue topic key from an entity value, else None."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower().replace(" ", "-")
    return key if key in TOPICS else None


def department_label(code: str, lang: Any, departments: Iterable[Mapping[str, str]] = ()) -> str:
    """A department's name in the citizen's language, from known lists, else its code."""
    key = lang_or_default(lang)
    for d in departments:
        if d.get("code") == code:
            return d.get(key) or code
    names = BROWSE_DEPARTMENTS.get(code)
    return names[key] if names else code
