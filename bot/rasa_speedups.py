"""One speed-up of Rasa 3.6 that keeps its behaviour: action-server answers validated by a
validator built once.

Rasa checks every answer of the action server against a fixed JSON schema
(``RemoteAction._validate_action_result``) with ``jsonschema.validate()``, which first
checks *the schema itself* against JSON Schema's meta-schema — on every call. Profiled under
``make bench`` (py-spy on the Rasa process, 20 citizens; BENCHMARKS.md), that meta-schema
check was 37 % of Rasa's CPU: each of our turns calls the action server once
(``action_set_language``, a custom slot mapping) or twice (plus the search). The schema is
a constant, so here it is checked once and the same validator is reused: the answer is
still validated against the same schema, and an invalid answer raises the same
``ValidationError`` with the same message as before.

``install()`` runs when the ``bot`` package is imported (Rasa imports it for the custom
components and stores), and does nothing where Rasa is not installed (the app's Python).
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_MARK = "_bot_cached_validator"


def install() -> bool:
    """Patch ``RemoteAction._validate_action_result``; False when Rasa is not importable."""
    try:
        from jsonschema import ValidationError
        from jsonschema.exceptions import best_match
        from jsonschema.validators import validator_for
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.constants import DOCS_BASE_URL
    except ImportError:
        return False
    if getattr(RemoteAction._validate_action_result, _MARK, False):
        return True

    original = RemoteAction._validate_action_result
    spec = RemoteAction.action_response_format_spec
    schema = spec()
    validator_cls = validator_for(schema)
    validator_cls.check_schema(schema)  # once, as jsonschema.validate() does on every call
    validator = validator_cls(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if type(self).action_response_format_spec is not spec:  # a subclass with its own
            return original(self, result)
        try:
            error = best_match(validator.iter_errors(result))
            if error is not None:
                raise error
            return True
        except ValidationError as e:  # Rasa's own message, as in the original method
            e.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    setattr(_validate_action_result, _MARK, True)
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    logger.debug("action-server answers validated with a validator built once")
    return True
