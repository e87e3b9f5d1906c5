"""The api client: answers, errors and a real closed port (runs in .venv-rasa)."""

from __future__ import annotations

import asyncio

from actions.api_client import FormsApiClient
from actions.settings import Settings
from tests.actions.rasa_env.stub_api import StubApi, closed_port, serving

RESULT = {
    "id": "swd-oaa",
    "form_no": "",
    "kind": "form",
    "title_en": "Old Age Allowance",
    "title_zh": "高齡津貼",
    "department_code": "SWD",
    "department_en": "Social Welfare Department",
    "department_zh": "社會福利署",
    "url": "https://www.swd.gov.hk/",
}


def _client(url: str, token: str | None = "test-internal-token") -> FormsApiClient:
    return FormsApiClient(Settings(api_url=url, internal_token=token, timeout=2, connect_timeout=1))


def test_api_down_is_none_not_an_exception() -> None:
    client = _client(f"http://127.0.0.1:{closed_port()}")

    async def calls() -> tuple:
        return (
            await client.search("生果金", k=5, lang="zh"),
            await client.get_form("swd-oaa"),
            await client.get_forms(["swd-oaa"]),
            await client.create_handoff({"sender": "s"}),
            await client.send_feedback({"sender": "s"}),
        )

    assert asyncio.run(calls()) == (None, None, None, None, False)


def test_search_sends_the_query_and_reads_results() -> None:
    stub = StubApi(
        search={"生果金點申請": {"results": [RESULT], "clarify": None, "index_version": "v1"}}
    )

    async def scenario():
        async with serving(stub):
            return await _client(stub.url).search(
                "生果金點申請", k=5, lang="zh", department=None, sender="w-1"
            )

    outcome = asyncio.run(scenario())
    assert outcome is not None
    assert [r["id"] for r in outcome.results] == ["swd-oaa"]
    assert outcome.clarify is None
    assert stub.searches == [{"q": "生果金點申請", "k": "5", "lang": "zh", "sender": "w-1"}]


def test_search_error_status_is_unavailable() -> None:
    stub = StubApi(search_status=500)

    async def scenario():
        async with serving(stub):
            return await _client(stub.url).search("x", k=5)

    assert asyncio.run(scenario()) is None


def test_forms_lookup_skips_unknown_ids() -> None:
    stub = StubApi(forms={"swd-oaa": RESULT})

    async def scenario():
        async with serving(stub):
            client = _client(stub.url)
            return await client.get_form("nope"), await client.get_forms(["nope", "swd-oaa"])

    missing, found = asyncio.run(scenario())
    assert missing is None
    assert [e["id"] for e in found] == ["swd-oaa"]


def test_internal_calls_carry_the_token() -> None:
    stub = StubApi()

    async def scenario():
        async with serving(stub):
            good = _client(stub.url)
            bad = _client(stub.url, token=None)
            return (
                await good.create_handoff({"sender": "w-1", "transcript": []}),
                await good.send_feedback({"sender": "w-1", "rating": "good"}),
                await bad.create_handoff({"sender": "w-1"}),
                await bad.send_feedback({"sender": "w-1"}),
            )

    assert asyncio.run(scenario()) == ("HO-TEST-1", True, None, False)
    assert stub.handoffs == [{"sender": "w-1", "transcript": []}]
