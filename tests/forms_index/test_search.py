"""Hybrid search over the real index (built by `make setup`) with the real model."""

from __future__ import annotations

from typing import Any

import pytest


def ids(engine: Any, query: str, k: int = 5, **filters: str) -> list[str]:
    return [r.id for r in engine.search(query, k=k, **filters).results]


@pytest.mark.parametrize("query", ["IR56B", "ir 56b", "IR-56B", "ＩＲ５６Ｂ", "表格 ir56b 點交"])
def test_a_form_number_in_any_spelling_finds_its_form_first(real_engine: Any, query: str) -> None:
    resp = real_engine.search(query)
    assert resp.results[0].id == "ird-ir56b"
    assert "form_no" in resp.results[0].why


def test_a_shared_number_lists_every_entry_ranked_by_the_rest(real_engine: Any) -> None:
    plain = ids(real_engine, "Form 1", k=10)
    assert {"jud-sct-form1-2", "jud-lt-claim", "ld-so-form1"} <= set(plain)
    assert ids(real_engine, "small claims form 1")[0] == "jud-sct-form1-2"
    assert ids(real_engine, "labour tribunal form 1")[0] == "jud-lt-claim"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("申请公共租住房屋", "hd-hd300e"),  # Simplified query, Traditional title
        ("护照申请", "immd-id841-842"),
        ("长者生活津贴申请表", "swd-ssa-application"),
    ],
)
def test_simplified_queries_find_traditional_titles(
    real_engine: Any, query: str, expected: str
) -> None:
    assert expected in ids(real_engine, query, k=3)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("生果金點申請", "swd-ssa-application"),
        ("我想renew passport", "immd-id841-842"),
        ("how to apply 公屋", "hd-hd300e"),
        ("apply for a new HKSAR passport", "immd-id841-842"),
        ("個別人士報稅表", "ird-bir60"),
    ],
)
def test_language_styles(real_engine: Any, query: str, expected: str) -> None:
    assert expected in ids(real_engine, query, k=3)


def test_results_carry_the_contract_fields(real_engine: Any) -> None:
    r = real_engine.search("BIR60").results[0]
    assert r.id == "ird-bir60" and r.form_no == "BIR60" and r.kind == "form"
    assert r.title_en and r.title_zh and r.department_code == "IRD"
    assert r.url.startswith("https://") and r.score > 0 and r.why


def test_an_ambiguous_word_asks_which_meaning(real_engine: Any) -> None:
    resp = real_engine.search("車牌")
    assert resp.clarify is not None and resp.clarify.term == "車牌"
    keys = [o.key for o in resp.clarify.options]
    assert {"driving-licence", "vehicle-licence", "registration-mark"} <= set(keys)
    by_key = {o.key: o.ids for o in resp.clarify.options}
    assert "td-vl-renew-online" in by_key["vehicle-licence"]
    assert "td-prm" in by_key["registration-mark"]
    assert any(i in by_key["driving-licence"] for i in ("td-td557", "td-dl-renew-online"))


@pytest.mark.parametrize("query", ["車牌 學車 考試", "renew driving licence", "BIR60", "生果金"])
def test_a_clear_query_asks_nothing(real_engine: Any, query: str) -> None:
    assert real_engine.search(query).clarify is None


def test_filters(real_engine: Any) -> None:
    assert all(i.startswith("immd-") for i in ids(real_engine, "passport", department="ImmD"))
    kinds = {r.kind for r in real_engine.search("passport", kind="e-service").results}
    assert kinds == {"e-service"}
    topics = {r.topic for r in real_engine.search("licence", k=10, topic="transport").results}
    assert topics == {"transport"}


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "!!!", "？？"])
def test_empty_or_meaningless_queries_get_no_results(real_engine: Any, query: str) -> None:
    assert real_engine.search(query).results == []


@pytest.mark.parametrize("query", ["asdfgh qwerty", "xyz", "今晚食咩好", "明天会下雨吗"])
def test_nonsense_and_off_topic_queries_are_low_confidence(real_engine: Any, query: str) -> None:
    resp = real_engine.search(query)
    assert resp.results  # the ranking is still there (eval, the agent console)
    assert resp.low_confidence


@pytest.mark.parametrize(
    "query",
    [
        "IR56B",  # a form number
        "生果金",  # an alias
        "renew passport",
        "阿爸就快65歲，想申請生果金點搞？",
        "我想renew passport",
        "how do I apply for public housing",
    ],
)
def test_real_needs_are_not_low_confidence(real_engine: Any, query: str) -> None:
    assert not real_engine.search(query).low_confidence


def test_k_is_bounded(real_engine: Any) -> None:
    assert len(real_engine.search("licence", k=0).results) == 1
    assert len(real_engine.search("licence", k=10_000).results) <= 50


def test_a_very_long_or_hostile_query_is_answered(real_engine: Any) -> None:
    assert real_engine.search("passport " * 5000).results
    assert real_engine.search("<script>alert(1)</script> passport").results[0].id


def test_lookups(real_engine: Any) -> None:
    assert real_engine.get("ird-bir60").title_en.startswith("Tax Return")
    assert real_engine.get("nope") is None
    codes = {d["code"] for d in real_engine.departments()}
    assert {"IRD", "ImmD", "TD"} <= codes
