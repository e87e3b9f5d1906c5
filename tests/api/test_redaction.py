"""api.redaction: HKID numbers, HK phone numbers and e-mail addresses never reach logs."""

from __future__ import annotations

import logging

import pytest

from api.redaction import RedactingFilter, redact, redact_url_path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my HKID is A123456(7)", "my HKID is [HKID]"),
        ("AB1234567", "[HKID]"),
        ("ab123456(9) please", "[HKID] please"),
        ("Z 123456 (A)", "[HKID]"),
        ("身份證 A123456（3） 點續", "身份證 [HKID] 點續"),
        ("call 9123 4567", "call [PHONE]"),
        ("call 91234567 now", "call [PHONE] now"),
        ("+852 9123 4567", "[PHONE]"),
        ("+85291234567", "[PHONE]"),
        ("(852) 2123-4567", "[PHONE]"),
        ("電話６１２３４５６７", "電話[PHONE]"),
        ("mail john.doe@example.com.hk", "mail [EMAIL]"),
        ("A.B+tag@gov.hk, thanks", "[EMAIL], thanks"),
    ],
)
def test_redacts(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "BIR60",
        "IR56B",
        "TD557",
        "call 1823",
        "form ID(E)936",
        "生果金點申請",
        "year 2024",
        "12345678901",
        "renew passport",
        "index version 20261126T130159235Z-3836f521",
        "",
    ],
)
def test_leaves_ordinary_text(text: str) -> None:
    assert redact(text) == text


def test_url_path_drops_the_query() -> None:
    assert redact_url_path("/api/search?q=A123456%287%29") == "/api/search?…"
    assert redact_url_path("/api/forms/ird-bir60") == "/api/forms/ird-bir60"


def test_logging_filter_redacts_messages_and_access_paths(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.redaction")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("user said %s", "call me on 9123 4567 or a@b.hk")
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", "/api/search?q=A123456(7)", "1.1", 200
        )
    text = caplog.text
    assert "9123" not in text and "a@b.hk" not in text and "A123456" not in text
    assert "[PHONE]" in text and "[EMAIL]" in text
    assert "/api/search?…" in text
