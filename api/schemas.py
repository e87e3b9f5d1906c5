"""Request and response models of the HTTP api (docs/contracts.md §4–5).

Separate from the storage models (``api.storage``) and from forms_index's own models: the
api documents and guards its contract here, whatever the library adds behind it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SENDER_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"

Lang = Literal["en", "zh"]
Rating = Literal["good", "bad"]


class ErrorResponse(BaseModel):
    """Every error answer: a clear message, never a stack trace."""

    detail: str = Field(description="What went wrong, in words a person can act on.")


# --- chat ---------------------------------------------------------------------------------


class ChatRequest(BaseModel):
    sender: str = Field(
        pattern=SENDER_PATTERN,
        description="Opaque id of the conversation (the widget keeps a random one).",
        examples=["w-3f9c2a6b1d8e4f70"],
    )
    message: str = Field(description="What the citizen typed, or a button's payload.")
    lang: Lang | None = Field(default=None, description="Language chosen in the widget.")


class Button(BaseModel):
    title: str
    payload: str


class Link(BaseModel):
    label: str
    url: str = Field(description="Always an https URL (others are dropped).")


class Card(BaseModel):
    id: str = Field(description="Stable catalogue id.")
    form_no: str = ""
    title: str
    department: str = ""
    links: list[Link] = Field(default_factory=list)
    title_translation: str | None = Field(
        default=None,
        description="Our own (unofficial) rendering of the title; show it marked as such.",
    )
    kind: str | None = None


class BotMessage(BaseModel):
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    cards: list[Card] = Field(default_factory=list)


class ChatResponse(BaseModel):
    messages: list[BotMessage]


class ChatUnavailable(BaseModel):
    """503: the assistant cannot answer now; ``messages`` carries a polite bilingual note."""

    detail: str
    messages: list[BotMessage]


# --- search -------------------------------------------------------------------------------


class SearchResult(BaseModel):
    """One result (docs/contracts.md §2); fields the library adds are passed through."""

    model_config = ConfigDict(extra="allow")

    id: str
    form_no: str
    kind: str
    title_en: str
    title_zh: str
    title_zh_unofficial: str = ""
    department_code: str
    department_en: str
    department_zh: str
    topic: str
    url: str
    score: float
    why: list[str]


class ClarifyOption(BaseModel):
    model_config = ConfigDict(extra="allow")

    key: str
    label_en: str
    label_zh: str
    ids: list[str]


class Clarify(BaseModel):
    model_config = ConfigDict(extra="allow")

    term: str
    options: list[ClarifyOption]


class SearchResponse(BaseModel):
    results: list[SearchResult]
    clarify: Clarify | None = None
    #: Nothing matched the query's words, aliases or numbers and nothing stood out densely
    #: (forms_index ``SearchResponse.low_confidence``): tell a person nothing was found.
    low_confidence: bool = False
    index_version: str


class FormEntry(BaseModel):
    """A catalogue entry as the library holds it (its extra fields are passed through)."""

    model_config = ConfigDict(extra="allow")

    id: str
    form_no: str = ""
    kind: str
    title_en: str
    title_zh: str = ""
    department_code: str
    url: str


class Department(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    name_en: str
    name_zh: str
    entries: int | None = None


class DepartmentsResponse(BaseModel):
    departments: list[Department]
    index_version: str


# --- feedback and internal ------------------------------------------------------------------


class FeedbackRequest(BaseModel):
    sender: str = Field(pattern=SENDER_PATTERN)
    rating: Rating
    query: str | None = Field(default=None, max_length=2000)
    result_ids: list[str] = Field(default_factory=list, max_length=50)


class InternalFeedbackRequest(FeedbackRequest):
    language: str | None = Field(default=None, max_length=8)


class Empty(BaseModel):
    pass


class TranscriptTurn(BaseModel):
    role: Literal["user", "bot"]
    text: str = Field(max_length=8000)
    ts: float


class HandoffRequest(BaseModel):
    sender: str = Field(pattern=SENDER_PATTERN)
    language: Literal["en", "zh-Hant", "zh-Hans"]
    reason: Literal["requested", "repeated_failure"]
    transcript: list[TranscriptTurn] = Field(default_factory=list, max_length=500)
    searches: list[str] = Field(default_factory=list, max_length=200)


class HandoffCreated(BaseModel):
    reference: str = Field(examples=["HO-20261126-7F3K2Q"])


# --- health -------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(
        description="One entry per dependency: 'ok' or what is wrong with it."
    )
    index_version: str | None = None
