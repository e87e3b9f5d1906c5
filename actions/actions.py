"""Custom actions: read slots, call the api client, build messages, return events.

Texts and cards come from :mod:`actions.messages`; HTTP from :mod:`actions.api_client`
(which turns every failure into ``None``); language decisions from :mod:`actions.language`.
No model is loaded here.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import messages as m
from actions.api_client import FormsApiClient, SearchOutcome
from actions.language import (
    detect_language,
    detect_script,
    handoff_language,
    is_button_payload,
    metadata_language,
    requested_language,
)
from actions.parsing import option_index, valid_sender
from actions.settings import get_settings
from actions.transcript import build_transcript

logger = logging.getLogger(__name__)

#: Failed searches or "didn't help" in a row before the conversation goes to 1823.
FAILURES_BEFORE_HANDOFF = 2


# --- reading the tracker -----------------------------------------------------------------


def _client() -> FormsApiClient:
    return FormsApiClient(get_settings())


def _lang(tracker: Tracker) -> str:
    return m.lang_or_default(tracker.get_slot("language"))


def _text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "").strip()


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def _entity(tracker: Tracker, name: str) -> str | None:
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value is not None else None


def _user_metadata(tracker: Tracker, back: int = 0) -> dict[str, Any]:
    """Metadata of the latest user message (``back=1``: the one before)."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) <= back:
        return {}
    metadata = users[-1 - back].get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _failures(tracker: Tracker) -> int:
    return int(tracker.get_slot("failures") or 0)


def _searches(tracker: Tracker, query: str | None = None) -> list[str]:
    searches = list(tracker.get_slot("searches") or [])
    if query and not is_button_payload(query):
        searches.append(query)
    return searches[-50:]


# --- shared steps ---------------------------------------------------------------------------


async def _hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, searches: list[str]
) -> list[EventType]:
    """Create the handoff record and tell the citizen the reference (or how to call 1823)."""
    lang = _lang(tracker)
    payload = {
        "sender": tracker.sender_id,
        "language": handoff_language(lang, tracker.get_slot("script")),
        "reason": reason,
        "transcript": build_transcript(tracker.events),
        "searches": searches,
    }
    reference = await _client().create_handoff(payload)
    if reference is None:
        dispatcher.utter_message(text=m.text("handoff_failed", lang))
        return [SlotSet("offer", None)]
    key = "handoff_done" if reason == "requested" else "handoff_repeated_failure"
    dispatcher.utter_message(text=m.text(key, lang, reference=reference))
    logger.info("handoff created (%s)", reason)
    return [
        SlotSet("handoff_reference", reference),
        SlotSet("failures", 0.0),
        SlotSet("offer", None),
    ]


async def _failed(
    dispatcher: CollectingDispatcher, tracker: Tracker, text_key: str, searches: list[str]
) -> list[EventType]:
    """One more failure: hand over after two in a row, else say so and offer a person."""
    failures = _failures(tracker) + 1
    if failures >= FAILURES_BEFORE_HANDOFF:
        return await _hand_off(dispatcher, tracker, "repeated_failure", searches)
    lang = _lang(tracker)
    dispatcher.utter_message(text=m.text(text_key, lang), buttons=m.help_buttons(lang))
    return [SlotSet("failures", float(failures)), SlotSet("offer", "handoff")]


def _show_results(
    dispatcher: CollectingDispatcher,
    lang: str,
    intro: str,
    results: list[dict[str, Any]],
    *,
    more: bool,
) -> list[str]:
    cards = m.build_cards(results, lang)
    dispatcher.utter_message(
        text=intro, buttons=m.result_buttons(lang, more=more), json_message={"cards": cards}
    )
    return [c["id"] for c in cards]


def _browse_menu(dispatcher: CollectingDispatcher, lang: str, key: str = "browse_menu") -> None:
    dispatcher.utter_message(
        text=m.text(key, lang),
        buttons=m.department_buttons(m.browse_departments(), lang, "browse"),
    )


# --- actions ------------------------------------------------------------------------------


class ActionSetLanguage(Action):
    """Runs on every user message (custom slot mapping): sets ``language`` and ``script``."""

    def name(self) -> str:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = _text(tracker)
        meta_lang, meta_script = metadata_language(_user_metadata(tracker))
        previous_meta_lang, _ = metadata_language(_user_metadata(tracker, back=1))
        current = tracker.get_slot("language")
        if meta_lang and previous_meta_lang and meta_lang != previous_meta_lang:
            current = meta_lang  # the citizen switched the widget's language
        if _intent(tracker) == "switch_language" and not is_button_payload(text):
            language = requested_language(text, current or meta_lang)
        else:
            language = detect_language(text, current, meta_lang)
        script = tracker.get_slot("script")
        if not is_button_payload(text):
            detected = meta_script or detect_script(text)
            # a Latin-only message ("BIR60") in a Chinese conversation keeps the script
            if detected in ("hant", "hans") or (detected == "latin" and language == "en"):
                script = detected
        if language == "zh" and script not in ("hant", "hans"):
            script = "hant"
        elif script is None:
            script = "latin"
        return [SlotSet("language", language), SlotSet("script", script)]


class ActionSearchForms(Action):
    """Search (needs, form numbers, browsing, narrowing, low-confidence messages)."""

    def name(self) -> str:
        return "action_search_forms"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = _lang(tracker)
        intent = _intent(tracker)
        text = _text(tracker)
        query = "" if is_button_payload(text) else text
        filters: dict[str, str] = {}
        intro = m.text("results", lang)

        if intent == "filter_department":
            known = [d["code"] for d in tracker.get_slot("shown_departments") or []]
            code = m.resolve_department(
                _entity(tracker, "department"), [*known, *m.BROWSE_DEPARTMENTS]
            )
            query = tracker.get_slot("last_query") or query
            if code:
                filters["department"] = code
                label = m.department_label(code, lang, tracker.get_slot("shown_departments") or [])
                intro = m.text("results_department", lang, department=label)
                query = query or label
        elif intent == "browse":
            dept_value, topic_value = _entity(tracker, "department"), _entity(tracker, "topic")
            code, topic = m.resolve_department(dept_value), m.resolve_topic(topic_value)
            if code:
                filters["department"] = code
            if topic:
                filters["topic"] = topic
            if not query and code:
                query = m.department_label(code, lang)
            if not filters and (not query or not (dept_value or topic_value)):
                _browse_menu(dispatcher, lang)
                return [SlotSet("offer", None)]

        if not query:
            dispatcher.utter_message(response="utter_what_can_i_find")
            return [SlotSet("offer", None)]

        settings = get_settings()
        query = query[: settings.max_query_chars]
        outcome = await _client().search(
            query,
            k=settings.page_size,
            lang=lang,
            sender=valid_sender(tracker.sender_id),
            **filters,
        )
        searches = _searches(tracker, query)
        if outcome is None:
            dispatcher.utter_message(text=m.text("api_down", lang))
            return [SlotSet("searches", searches), SlotSet("offer", None)]
        return await self._answer(dispatcher, tracker, outcome, query, filters, intro, searches)

    @staticmethod
    async def _answer(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        outcome: SearchOutcome,
        query: str,
        filters: dict[str, str],
        intro: str,
        searches: list[str],
    ) -> list[EventType]:
        lang = _lang(tracker)
        events: list[EventType] = [
            SlotSet("last_query", query),
            SlotSet("last_filters", filters),
            SlotSet("searches", searches),
        ]
        options = m.clarify_options(outcome.clarify)
        if len(options) >= 2:
            question, buttons = m.clarify_message(outcome.clarify or {}, lang)
            dispatcher.utter_message(text=question, buttons=buttons)
            return [
                *events,
                SlotSet("clarify_options", options),
                SlotSet("result_offset", 0.0),  # "more" after a question starts at the top
                SlotSet("offer", None),
            ]
        if not outcome.results or outcome.low_confidence:  # never show a guess as an answer
            return [*events, *await _failed(dispatcher, tracker, "no_results", searches)]
        page = get_settings().page_size
        shown = _show_results(
            dispatcher, lang, intro, outcome.results, more=len(outcome.results) >= page
        )
        return [
            *events,
            SlotSet("shown_ids", shown),
            SlotSet("shown_departments", m.departments_of(outcome.results)),
            SlotSet("result_offset", float(len(outcome.results))),
            SlotSet("clarify_options", None),
            SlotSet("offer", None),
        ]


class ActionMoreResults(Action):
    """The next page of the last search."""

    def name(self) -> str:
        return "action_more_results"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = _lang(tracker)
        query = tracker.get_slot("last_query")
        if not query:
            dispatcher.utter_message(response="utter_what_can_i_find")
            return []
        settings = get_settings()
        offset = int(tracker.get_slot("result_offset") or settings.page_size)
        k = min(offset + settings.page_size, settings.max_results)
        filters = dict(tracker.get_slot("last_filters") or {})
        outcome = None
        if k > offset:
            outcome = await _client().search(
                query, k=k, lang=lang, sender=valid_sender(tracker.sender_id), **filters
            )
            if outcome is None:
                dispatcher.utter_message(text=m.text("api_down", lang))
                return []
        page = outcome.results[offset:k] if outcome else []
        if not page:
            dispatcher.utter_message(
                text=m.text("no_more_results", lang),
                buttons=[m.button("narrow", lang), m.button("handoff", lang)],
            )
            return []
        more = len(outcome.results) >= k and k < settings.max_results if outcome else False
        shown = _show_results(dispatcher, lang, m.text("more_results", lang), page, more=more)
        return [
            SlotSet("shown_ids", shown),
            SlotSet("result_offset", float(offset + len(page))),
        ]


class ActionNarrowDepartment(Action):
    """Buttons for the departments among the last search's results."""

    def name(self) -> str:
        return "action_narrow_department"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = _lang(tracker)
        query = tracker.get_slot("last_query")
        if not query:
            _browse_menu(dispatcher, lang)
            return []
        filters = {
            k: v for k, v in (tracker.get_slot("last_filters") or {}).items() if k != "department"
        }
        outcome = await _client().search(
            query,
            k=get_settings().max_results,
            lang=lang,
            sender=valid_sender(tracker.sender_id),
            **filters,
        )
        if outcome is None:
            dispatcher.utter_message(text=m.text("api_down", lang))
            return []
        departments = m.departments_of(outcome.results)
        if not departments:
            _browse_menu(dispatcher, lang)
            return []
        dispatcher.utter_message(
            text=m.text("narrow_menu", lang),
            buttons=m.department_buttons(departments, lang, "filter_department"),
        )
        return [SlotSet("shown_departments", departments)]


class ActionChooseOption(Action):
    """The forms of the option chosen after a clarifying question."""

    def name(self) -> str:
        return "action_choose_option"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = _lang(tracker)
        options = m.clarify_options({"options": tracker.get_slot("clarify_options") or []})
        option = self._chosen(options, _entity(tracker, "option_key"), _text(tracker))
        if option is None:
            if options:
                buttons = m.clarify_message({"options": options}, lang)[1]
                dispatcher.utter_message(text=m.text("choose_again", lang), buttons=buttons)
            else:
                dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        ids = [str(i) for i in option["ids"]][: get_settings().page_size]
        entries = await _client().get_forms(ids)
        if entries is None:
            dispatcher.utter_message(text=m.text("api_down", lang))
            return []
        if not entries:
            return await _failed(dispatcher, tracker, "no_results", _searches(tracker))
        intro = m.text("results_option", lang, label=m.option_label(option, lang))
        shown = _show_results(dispatcher, lang, intro, entries, more=False)
        return [
            SlotSet("shown_ids", shown),
            SlotSet("shown_departments", m.departments_of(entries)),
            SlotSet("offer", None),
        ]

    @staticmethod
    def _chosen(options: list[dict[str, Any]], key: str | None, text: str) -> dict[str, Any] | None:
        if key:
            return next((o for o in options if str(o["key"]) == key), None)
        index = option_index(text)
        if index is not None and 0 <= index < len(options):
            return options[index]
        return None


class ActionHandoff(Action):
    """The citizen asked for a person (or said yes when one was offered)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await _hand_off(dispatcher, tracker, "requested", _searches(tracker))


class ActionFeedback(Action):
    """Feedback on the last answer, recorded with the query and the results shown."""

    def name(self) -> str:
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = _lang(tracker)
        rating = "good" if _intent(tracker) == "feedback_good" else "bad"
        payload = {
            "sender": tracker.sender_id,
            "rating": rating,
            "query": tracker.get_slot("last_query"),
            "result_ids": list(tracker.get_slot("shown_ids") or []),
            "language": handoff_language(lang, tracker.get_slot("script")),
        }
        if not await _client().send_feedback(payload):
            logger.warning("feedback (%s) was not recorded", rating)
        if rating == "good":
            dispatcher.utter_message(text=m.text("feedback_good", lang))
            return [SlotSet("failures", 0.0), SlotSet("offer", None)]
        return await _failed(dispatcher, tracker, "feedback_bad", _searches(tracker))


class ActionSwitchLanguage(Action):
    """Confirms the language that ``action_set_language`` switched to."""

    def name(self) -> str:
        return "action_switch_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=m.text("language_switched", _lang(tracker)))
        return []
