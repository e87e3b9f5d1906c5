"""Redaction of personal data (HKID numbers, Hong Kong phone numbers, e-mail addresses).

Applied to everything logged and to everything stored for analytics (search log, feedback).
The transcript kept for a requested handoff is the one exception (staff need it to call back).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

EMAIL_MARK = "[EMAIL]"
HKID_MARK = "[HKID]"
PHONE_MARK = "[PHONE]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# One or two letters, six digits, then the check character (0-9 or A), bare or in
# (half- or full-width) brackets: A123456(7), A1234567, AB123456(9), Ａ１２３... after folding.
_HKID = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{1,2}\s?\d{6}\s?(?:[(（]\s?[0-9Aa]\s?[)）]|[0-9Aa])?(?![A-Za-z0-9])"
)
# Eight digits starting 2-9 (4+4, optionally split by a space or hyphen), optionally after
# +852 / 852 / (852). Four-digit hotlines such as 1823 are not personal data and stay.
# Not inside a longer run of Latin letters or digits ("20261126T130159Z" is a version name,
# not a phone number), but Chinese may touch it ("電話98765432").
_PHONE = re.compile(
    r"(?<![A-Za-z0-9+])(?:(?:\+|00)?\(?852\)?[\s\-]?)?[2-9]\d{3}[\s\-]?\d{4}(?![A-Za-z0-9])"
)
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def redact(text: str) -> str:
    """Return ``text`` with e-mail addresses, HKID and HK phone numbers replaced by markers."""
    if not text:
        return text
    folded = text.translate(_FULLWIDTH)
    if folded != text and (_EMAIL.search(folded) or _HKID.search(folded) or _PHONE.search(folded)):
        text = folded  # full-width digits or letters hid a number: redact the folded text
    text = _EMAIL.sub(EMAIL_MARK, text)
    text = _HKID.sub(HKID_MARK, text)
    return _PHONE.sub(PHONE_MARK, text)


def redact_url_path(path: str) -> str:
    """A request path fit for a log line: the path redacted, the query string dropped."""
    base, sep, _query = path.partition("?")
    return redact(unquote_plus(base)) + ("?…" if sep else "")


class RedactingFilter(logging.Filter):
    """Logging filter redacting every record's message (and uvicorn access-log paths).

    Installed on the handlers by the entry points (``python -m api``), so nothing that any
    library logs reaches a log file with personal data in it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and record.args:
            args = list(record.args)
            if len(args) >= 3 and isinstance(args[2], str):
                args[2] = redact_url_path(args[2])
            record.args = tuple(args)
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
