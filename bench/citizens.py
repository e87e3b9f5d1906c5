"""What the simulated citizens of ``bench/stack_bench.py`` type, and the conversations they hold.

The texts are written for the benchmark (not taken from any evaluation set) in the five
ways Hong Kong people write: English, written Traditional Chinese, Simplified Chinese,
colloquial Cantonese and mixed Cantonese-English. A conversation is a list of steps: a
typed message, or a button of the previous reply pressed by its payload (the way the
widget answers a clarifying question or asks for more results).

The mix is weighted so that about 70 % of the turns are searches (typed searches, form
numbers, the answer to a clarifying question and "more results"); the rest is small talk,
handoffs to a person and feedback. ``bench/stack_bench.py`` reports the mix it actually sent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Searches a citizen types, by writing style.
SEARCHES: dict[str, list[str]] = {
    "en": [
        "how do I renew my passport",
        "my mum turns 65 next month, what allowance can she get",
        "form to tell the tax office my new address",
        "lost my hkid card what should I do",
        "apply for public rental housing",
        "how to register a new business",
        "get a copy of my birth certificate",
        "change the owner of my car after selling it",
        "permit to hold a street party",
        "apply for a fishing licence",
        "my domestic helper contract renewal",
        "report a noisy neighbour renovating at night",
        "student travel subsidy application",
        "where do I apply for a marriage appointment",
        "claim compensation after an accident at work",
    ],
    "hant": [
        "申請續領香港身份證",
        "更改通訊地址通知稅務局",
        "遺失駕駛執照如何補領",
        "申請公共屋邨租住",
        "長者生活津貼申請表格",
        "登記成為選民",
        "申請商業登記證",
        "僱主聘用外籍家庭傭工的表格",
        "申請學生資助",
        "出生證明書副本申請",
        "汽車轉讓登記表格",
        "申請臨時小販牌照",
    ],
    "hans": [
        "怎么续领香港护照",
        "申请长者生活津贴要什么文件",
        "香港公司注册需要填什么表",
        "丢了身份证怎么补办",
        "申请公屋的条件",
        "内地驾照换香港驾照",
        "怎么申请工作签证",
        "交通违例罚款怎么交",
        "学生资助怎么申请",
        "结婚登记在哪里预约",
    ],
    "yue": [
        "阿媽就嚟65歲 想申請生果金",
        "身份證唔見咗點算",
        "想申請公屋 要填咩表",
        "架車賣咗 點樣過戶",
        "我想搵份工 政府有冇職位",
        "屋企有人過身要點登記",
        "想幫菲傭續約 要咩表格",
        "搬咗屋 點樣改地址",
        "考車牌要點報名",
        "個仔讀大學 想申請資助",
        "俾人炒咗 仲未出糧 點算",
        "隻狗要點領牌",
    ],
    "mixed": [
        "我想renew passport",
        "點樣apply公屋",
        "想book個appointment換身份證",
        "MPF點樣攞返啲錢",
        "部車要renew牌 點做",
        "公司要交profits tax return",
        "我想register做voter",
        "BR點樣renew",
        "申請student loan要咩文件",
        "想check下我個tax",
    ],
}

#: Form numbers typed as they are printed or half-remembered.
FORM_NUMBERS = ["BIR60", "ID 841", "ir56b", "TD 557", "IR56E", "BIR 51"]

#: Words with several meanings: the search asks which one, with a button per meaning.
AMBIGUOUS: list[tuple[str, str]] = [
    ("車牌", "zh"),
    ("报税", "zh"),
    ("簽證", "zh"),
    ("禁區紙", "zh"),
    ("強積金", "zh"),
    ("出世紙", "zh"),
    ("MPF", "en"),
]

SMALL_TALK: dict[str, list[str]] = {
    "greet": ["hi", "hello there", "你好", "哈囉"],
    "thanks": ["thank you", "thanks a lot", "唔該晒", "多謝"],
    "goodbye": ["bye", "goodbye", "拜拜", "再見"],
    "bot": ["are you a bot?", "你係咪機械人"],
}
HANDOFF: list[tuple[str, str]] = [
    ("I want to talk to a person", "en"),
    ("talk to a real person please", "en"),
    ("我想搵真人", "zh"),
    ("轉接客服", "zh"),
]

#: The greeting turn Rasa answers by a rule (``utter_greet``), for the bare-Rasa baseline.
GREETINGS: list[tuple[str, str]] = [("hi", "en"), ("hello", "en"), ("你好", "zh"), ("hi", "zh")]


@dataclass(frozen=True)
class Step:
    """A typed ``text`` or, when ``button`` is set, the first button of the last reply
    whose payload starts with it (skipped when there is none)."""

    kind: str  # search | clarify_answer | more_results | smalltalk | handoff | feedback
    text: str = ""
    lang: str | None = None
    button: str | None = None


def _lang(style: str) -> str:
    return "en" if style == "en" else "zh"


def _search(rng: random.Random) -> Step:
    style = rng.choice(list(SEARCHES))
    return Step("search", rng.choice(SEARCHES[style]), _lang(style))


def _small(rng: random.Random, what: str, lang: str | None) -> Step:
    texts = SMALL_TALK[what]
    if lang is not None:  # keep the conversation's language
        texts = [t for t in texts if (t.isascii()) == (lang == "en")] or texts
    return Step("smalltalk", rng.choice(texts), lang)


def conversation(rng: random.Random) -> list[Step]:
    """One citizen's conversation, drawn from the weighted kinds below."""
    r = rng.random()
    if r < 0.30:  # one question, sometimes a thank-you
        s = _search(rng)
        return [s, _small(rng, "thanks", s.lang)] if rng.random() < 0.3 else [s]
    if r < 0.45:  # greeting, then two searches
        first = _search(rng)
        return [_small(rng, "greet", first.lang), first, _search(rng)]
    if r < 0.60:  # an ambiguous word, answered by the button of one meaning
        word, lang = rng.choice(AMBIGUOUS)
        return [
            Step("search", word, lang),
            Step("clarify_answer", lang=lang, button="/choose_option"),
        ]
    if r < 0.70:  # a search, then more results
        s = _search(rng)
        return [s, Step("more_results", lang=s.lang, button="/more_results")]
    if r < 0.78:  # a form number
        return [Step("search", rng.choice(FORM_NUMBERS), rng.choice(["en", "zh"]))]
    if r < 0.86:  # a search that did not help, then a person
        s = _search(rng)
        text, lang = rng.choice([h for h in HANDOFF if h[1] == s.lang])
        return [s, Step("handoff", text, lang)]
    if r < 0.92:  # a search and feedback by the thumbs-down button
        s = _search(rng)
        return [s, Step("feedback", lang=s.lang, button="/feedback_bad")]
    # small talk only
    lang = rng.choice(["en", "zh"])
    return [
        _small(rng, "greet", lang),
        _small(rng, rng.choice(["bot", "thanks"]), lang),
        _small(rng, "goodbye", lang),
    ]


def greeting(rng: random.Random) -> list[Step]:
    """A one-turn conversation that Rasa answers by the greet rule."""
    text, lang = rng.choice(GREETINGS)
    return [Step("greet", text, lang)]


#: Ways of asking, added around a need for the search API load (so the query-vector cache
#: is not hit every time, as it would be with a short fixed list).
_FRAMES = {
    "en": ["{}", "how to {}", "{} form", "where can I {}", "I need to {}", "{} please"],
    "zh": ["{}", "請問{}", "我想{}", "{}點做", "{}的表格", "{}要咩文件"],
}


def search_queries(rng: random.Random, n: int) -> list[str]:
    """``n`` search queries: the needs above in several framings, shuffled."""
    pool = [
        frame.format(q)
        for style, texts in SEARCHES.items()
        for q in texts
        for frame in _FRAMES[_lang(style)]
    ] + FORM_NUMBERS
    return [rng.choice(pool) for _ in range(n)]
