"""Rasa's REST channel, telling its caller when a turn failed.

Rasa's ``RestInput`` catches every exception of a turn, logs it and answers **200** with
whatever the bot had said so far — usually ``[]``. That is what a citizen would get when
the lock store (Redis) is down: ``issue_ticket`` raises ``LockError`` before anything runs,
and the widget shows nothing at all. When the tracker store (PostgreSQL) is down, Rasa's
``FailSafeTrackerStore`` swallows the error and the turn is answered from an empty
conversation (``bot.stores`` notes that on the turn). This subclass changes one thing: when
the turn raised or its tracker could not be read or written, it appends one machine-readable
message to the collected output, ``{"recipient_id": <sender>, "custom": {"turn_failed":
true}}``, so the api answers its polite 503 (with ``Retry-After``; the widget sends the same
message again) instead of an empty 200 or an answer out of context.

Everything else — the URL (``/webhooks/rest/webhook``, since the name stays ``rest``), the
request and answer shapes, Rasa's own logging of the failure — is Rasa's. A client that does
not know the marker ignores it: it carries no text, buttons or cards (contracts §6).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput

from bot.stores import start_turn

logger = logging.getLogger(__name__)

#: Key of the custom payload that marks a failed turn (read by ``api.rasa.RasaClient``).
TURN_FAILED = "turn_failed"


class FailureAwareRestInput(RestInput):
    """``RestInput`` that adds a ``turn_failed`` marker to the answer of a failed turn."""

    @classmethod
    def name(cls) -> str:
        return "rest"  # same URL as Rasa's REST channel: /webhooks/rest/webhook

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Any:
        return super().blueprint(self.marking(on_new_message))

    @staticmethod
    def marking(
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> Callable[[UserMessage], Awaitable[Any]]:
        """``on_new_message`` that marks the collected output of a failed turn."""

        async def marking(message: UserMessage) -> Any:
            state = start_turn()  # per request (a context variable of this task)
            try:
                result = await on_new_message(message)
            except Exception:
                _mark_failed(message)
                raise  # RestInput logs it and answers 200 with the collected messages
            if state.failed:
                logger.warning("turn answered without its stored conversation: marked failed")
                _mark_failed(message)
            return result

        return marking


def _mark_failed(message: UserMessage) -> None:
    output = message.output_channel
    # (not the streaming variant, whose ``messages`` is a queue)
    if isinstance(output, CollectingOutputChannel) and isinstance(output.messages, list):
        output.messages.append({"recipient_id": message.sender_id, "custom": {TURN_FAILED: True}})
