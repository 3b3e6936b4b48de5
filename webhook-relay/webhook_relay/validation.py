"""What an authentic body must be to be stored as an event; each refusal has a reason code.

Checked after the signature, before anything is stored, so that no authentic but unusable event
can reach the store and stall the runs (a 140 kB ``businessId`` no environment can carry, a lone
surrogate SQLite cannot encode, a newline that would forge a log line):

- the body is UTF-8 JSON (RFC 8259: no ``NaN``/``Infinity``), an object, nested at most
  ``MAX_NESTING`` deep;
- ``id``, ``type`` and ``businessId`` are non-empty strings (``missing_<field>``) of printable
  ASCII from a small alphabet and of bounded length (``invalid_<field>``);
- ``data.id`` and ``createdAt`` are optional: kept in their columns when they are well formed,
  else left NULL there (the raw body keeps them either way).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from webhook_relay.store import IncomingEvent, PendingEvent

MAX_NESTING = 32
"""Wave's events nest about 5 deep; 200,000-deep arrays are refused, not recursed into."""

_WAVE_ID = re.compile(r"[A-Za-z0-9_\-+/=.:]{1,200}")
"""Wave ids are base64 (``QnVzaW5lc3M6...``) or ``evt_...``: letters, digits and ``_-+/=.:``."""
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_\-.]{1,100}")
_TIMESTAMP = re.compile(r"[0-9A-Za-z:.+\-]{1,64}")

FIELD_RULES = {"id": _WAVE_ID, "type": _EVENT_TYPE, "businessId": _WAVE_ID}
"""The fields every event must have, and what each may hold."""


class NotAnEvent(Exception):
    """An authentic body that is not a usable event; the message is the reason code."""


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _nesting_depth(document: object) -> int:
    """Depth of nested objects and arrays, walked without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[object]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_body(body: bytes) -> dict[str, object]:
    """The body as a JSON object, or ``NotAnEvent``."""
    try:
        text = body.decode("utf-8")
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:  # deeper than the interpreter's recursion limit
        raise NotAnEvent("nesting_too_deep") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAnEvent("not_json") from exc
    if not isinstance(document, dict):
        raise NotAnEvent("not_an_object")
    if _nesting_depth(document) > MAX_NESTING:
        raise NotAnEvent("nesting_too_deep")
    return document


def field_problem(name: str, value: object) -> str | None:
    """The reason code for a required field's value, or None when it is fine."""
    if not isinstance(value, str) or not value:
        return f"missing_{name}"
    if not FIELD_RULES[name].fullmatch(value):
        return f"invalid_{name}"
    return None


def _required(document: dict[str, object], name: str) -> str:
    """A required field's value, or ``NotAnEvent`` with its reason code."""
    value = document.get(name)
    problem = field_problem(name, value)
    if problem is not None:
        raise NotAnEvent(problem)
    return str(value)  # field_problem found a string


def _optional(value: object, pattern: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def event_from_body(body: bytes) -> IncomingEvent:
    """Read an authentic body as an event, or raise ``NotAnEvent`` with a reason code."""
    document = parse_body(body)
    event_id = _required(document, "id")  # checked in FIELD_RULES' order
    event_type = _required(document, "type")
    business_id = _required(document, "businessId")
    data = document.get("data")
    return IncomingEvent(
        id=event_id,
        business_id=business_id,
        type=event_type,
        entity_id=_optional(data.get("id") if isinstance(data, dict) else None, _WAVE_ID),
        created_at=_optional(document.get("createdAt"), _TIMESTAMP),
        body=body.decode("utf-8"),
    )


def stored_event_problem(event: PendingEvent) -> str | None:
    """Why a stored event cannot be run (one stored before these checks), or None."""
    for name, value in (("id", event.id), ("businessId", event.business_id), ("type", event.type)):
        problem = field_problem(name, value)
        if problem:
            return f"{problem} ({len(value)} characters): stored before the relay checked events"
    return None
