"""Hypothesis strategies for the relay's fuzz test (tests/test_relay_fuzz.py), written from the
webhook contract (docs/webhooks.md), not from the relay's code: an own HMAC signer and own event
bodies. Forgeries of them are in `testkit.webhook_forgeries`.

- `odd_events(business_ids, wave_businesses)`: authentic events with odd but valid content: ids
  and types from the whole allowed alphabet and length range (also Wave's entity types with ids
  Wave does not have), unicode (astral, combining, right-to-left, lone surrogates escaped) in
  nested data, unusual JSON formatting, key orders, `createdAt` forms and sizes.
- `sign`/`header`: the contract's `x-wave-signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=.:"
TYPE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-."
ENTITIES = ("invoice", "payment", "customer", "product", "estimate")
TOLERANCE = 300
MAX_BODY = 1024 * 1024
MAX_NESTING = 32


def sign(
    secret: str, timestamp: int | str, body: bytes, digest: Callable[[], Any] = hashlib.sha256
) -> str:
    """The contract's v1: lowercase hex HMAC-SHA256, keyed with the secret, of b"<t>." + body."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, digest).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def ids(min_size: int = 1, max_size: int = 200) -> st.SearchStrategy[str]:
    return st.text(ID_ALPHABET, min_size=min_size, max_size=max_size)


def loads_nothing_else(event_type: str) -> bool:
    """Types whose runs read nothing from Wave: only `webhook_events` records them."""
    return event_type.partition(".")[0] not in ENTITIES and event_type != "transaction.created"


odd_types = st.text(TYPE_ALPHABET, min_size=1, max_size=100).filter(loads_nothing_else)
entity_types = st.builds(
    "{}.{}".format,
    st.sampled_from(ENTITIES),
    st.sampled_from(["created", "updated", "deleted", "paid", "sent", "archived", "approved"])
    | st.text(TYPE_ALPHABET, min_size=1, max_size=60),
)
"""Wave's event types, and types Wave may add for the same entities (`invoice.Voided-2`)."""
any_text = st.text(
    st.characters(codec="utf-8") | st.characters(categories=["Cs"]), max_size=40
)  # lone surrogates too (only their JSON escape is UTF-8)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | any_text
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=24,
)


CREATED_AT = [
    None,
    "2026-11-28T12:00:00.000Z",
    "2026-11-28T12:00:00Z",
    "2026-11-28T12:00:00+05:45",
    "2026-11-28T12:00:00-00:00",
    "2026-11-28T12:00:00.123456789Z",
    "20261128T120000Z",
    "2026-W48-5",
    "2026-11-28T12",
    "2026-11-28",
    "9999-12-31T23:59:59.999999Z",
    "0001-01-01T00:00:00Z",
    "1677-09-21T00:12:43Z",
    "2262-04-11T23:47:17Z",
    "2026-11-28T12:00:00+23:59",
    "2026-02-29",
    "2026-11-28T24:00:00Z",
    "nope",
    "",
]
"""`createdAt`: Wave's form, other ISO 8601 forms Python reads, edges of the calendar and of
int64 nanoseconds, and strings that are no timestamp (kept in the body, NULL in the column)."""


def to_json(document: object, style: int) -> bytes:
    """One of several valid ways to write JSON: compact, spaced, indented, ASCII-escaped."""
    separators = [(",", ":"), (", ", ": "), (" , ", " : ")][style % 3]
    indent = 2 if style % 4 == 3 else None
    try:
        return json.dumps(
            document, separators=separators, indent=indent, ensure_ascii=style % 2 == 0
        ).encode()
    except UnicodeEncodeError:  # a lone surrogate: only its escape is UTF-8
        return json.dumps(
            document, separators=separators, indent=indent, ensure_ascii=True
        ).encode()


def nested(depth: int) -> object:
    """`depth` levels of nesting: objects and arrays in turn."""
    value: object = "bottom"
    for level in range(depth):
        value = {"l": value} if level % 2 else [value]
    return value


@st.composite
def odd_events(
    draw: st.DrawFn, business_ids: list[str], wave_businesses: list[str], pad: int = 4096
) -> bytes:
    """An authentic event body with odd but valid content (see the module docstring).

    Types that name none of the tap's entities go with any of `business_ids`; types of Wave's
    entities (whose runs ask Wave for the entity) with one of `wave_businesses`, the businesses
    the token can see, and an entity id Wave may not have (the run then skips it)."""
    event_id = draw(ids() | st.builds("{}:{}".format, ids(max_size=160), st.uuids()))
    event: dict[str, object]
    if draw(st.booleans()):
        event = {
            "id": event_id,
            "type": draw(odd_types),
            "businessId": draw(st.sampled_from(business_ids)),
        }
    else:
        event = {
            "id": event_id,
            "type": draw(entity_types),
            "businessId": draw(st.sampled_from(wave_businesses)),
        }
    data: dict[str, object] = {"id": draw(ids()), "object": draw(json_values)}
    if draw(st.booleans()):
        data["deep"] = nested(draw(st.integers(1, MAX_NESTING - 2)))  # event, data: 2 levels
    if draw(st.booleans()):
        data["text"] = draw(st.text(st.characters(codec="utf-8"), max_size=pad))
    event["data"] = data
    created = draw(st.sampled_from(CREATED_AT))
    if created:
        event["createdAt"] = created
    extra = draw(st.dictionaries(any_text, json_values, max_size=3))
    event.update({k: v for k, v in extra.items() if k not in event})
    keys = draw(st.permutations(list(event)))
    return to_json({key: event[key] for key in keys}, draw(st.integers(0, 11)))
