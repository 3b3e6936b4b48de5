"""Forged webhooks for the relay's fuzz test (tests/test_relay_fuzz.py), from the webhook
contract (docs/webhooks.md), with the signer and event pieces of `testkit.webhook_fuzz`.

`forgeries(secret)`: a valid body, then one way of getting it wrong: signed with another secret,
changed after signing (a bit, a byte, a field, its formatting), the signature moved to another
timestamp or body, built the wrong way (no dot, other hash, truncated), a garbled header, a
timestamp outside the tolerance, another method; or signed right over a body that is not a usable
event (bad or missing id/type/businessId, not JSON, too deep, NaN, ...). `Forgery.request(now)`
builds the request; `expected` is the status the contract gives it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from testkit.webhook_fuzz import (
    ID_ALPHABET,
    MAX_NESTING,
    TOLERANCE,
    header,
    ids,
    nested,
    odd_types,
    sign,
    to_json,
)


@dataclass(frozen=True)
class Forgery:
    """A request that must not be stored; `expected` is the contract's status for it."""

    kind: str
    body: bytes
    detail: str | bytes | int | None = None
    """What the kind needs: the other secret, the changed body, the seconds moved, the other
    body, the way the signature was built wrong or the header garbled."""
    method: str = "POST"

    @property
    def expected(self) -> int:
        return {"wrong_method": 405, "unusable": 400}.get(self.kind, 401)

    def request(self, secret: str, now: int) -> tuple[str, dict[str, bytes], bytes]:
        """(method, headers, body) for the request, signed (or not) at `now`."""
        body, detail, headers = self.body, self.detail, {"content-type": b"application/json"}
        value: str | None = header(secret, now, body)
        match self.kind, detail:
            case "wrong_secret", str() as other_secret:
                value = header(other_secret, now, body)
            case "changed_after_signing", bytes() as changed_body:
                body = changed_body
            case "moved_timestamp", int() as seconds:
                value = f"t={now + seconds},v1={sign(secret, now, body)}"
            case "another_bodys_signature", bytes() as other_body:
                value = header(secret, now, other_body)
            case "built_wrong", str() as how:
                value = f"t={now},v1={built_wrong(how, secret, now, body)}"
            case "garbled_header", str() as how:
                value = garbled(how, secret, now, body)
            case "outside_tolerance", int() as seconds:
                value = header(secret, now + seconds, body)
        if value is not None:
            headers["x-wave-signature"] = value.encode()
        return self.method, headers, body


def built_wrong(how: str, secret: str, t: int, body: bytes) -> str:
    """A v1 made some way the contract does not say."""
    key, dot = secret.encode(), f"{t}.".encode()
    ways: dict[str, Callable[[], str]] = {
        "no_dot": lambda: hmac.new(key, str(t).encode() + body, hashlib.sha256).hexdigest(),
        "body_only": lambda: hmac.new(key, body, hashlib.sha256).hexdigest(),
        "t_after": lambda: hmac.new(key, body + b"." + str(t).encode(), hashlib.sha256).hexdigest(),
        "sha1": lambda: sign(secret, t, body, hashlib.sha1),
        "sha512": lambda: sign(secret, t, body, hashlib.sha512),
        "md5": lambda: sign(secret, t, body, hashlib.md5),
        "plain_sha256": lambda: hashlib.sha256(key + dot + body).hexdigest(),
        "key_and_message_swapped": lambda: hmac.new(dot + body, key, hashlib.sha256).hexdigest(),
        "base64": lambda: base64.b64encode(
            hmac.new(key, dot + body, hashlib.sha256).digest()
        ).decode(),
        "truncated": lambda: sign(secret, t, body)[:63],
        "one_more_digit": lambda: sign(secret, t, body) + "0",
        "first_half": lambda: sign(secret, t, body)[:32],
        "not_hex": lambda: sign(secret, t, body)[:-1] + "g",
        "empty": lambda: "",
    }
    return ways[how]()


def garbled(how: str, secret: str, t: int, body: bytes) -> str | None:
    """An x-wave-signature header that is missing or malformed (a valid v1 may be in it)."""
    v1 = sign(secret, t, body)
    ways = {
        "missing": None,
        "empty": "",
        "commas": ",, ,",
        "only_t": f"t={t}",
        "only_v1": f"v1={v1}",
        "semicolons": f"t={t};v1={v1}",
        "other_scheme": f"t={t},v0={v1}",
        "v2_scheme": f"t={t},v2={v1}",
        "two_t": f"t={t},t={t},v1={v1}",
        "t_not_a_number": f"t={t}.0,v1={v1}",
        "negative_t": f"t=-{t},v1={v1}",
        "t_in_hex": f"t={t:x},v1={v1}",
        "no_equals": f"t{t},v1{v1}",
        "nine_v1": f"t={t}," + ",".join([f"v1={'0' * 64}"] * 8 + [f"v1={v1}"]),
        "over_4096": f"t={t},v1={v1}," + ",".join(f"x{n}=y" for n in range(1100)),
        "unicode_digits": f"t={t}\u0663,v1={v1}",
    }
    return ways[how]


def unusable_documents(valid: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Authentic bodies that are not usable events (400 with a reason code)."""
    required = st.sampled_from(["id", "type", "businessId"])
    bad_values = (
        st.none()
        | st.integers()
        | st.booleans()
        | st.just("")
        | st.lists(st.text(ID_ALPHABET, max_size=3), max_size=2)
        | st.text(min_size=1).filter(lambda s: not set(s) <= set(ID_ALPHABET))
        | st.text(ID_ALPHABET, min_size=201, max_size=400)
    )

    def replaced(field_and_value: tuple[str, object]) -> bytes:
        field, value = field_and_value
        return json.dumps({**valid, field: value}).encode()

    def removed(field: str) -> bytes:
        return json.dumps({k: v for k, v in valid.items() if k != field}).encode()

    def surrogate(field: str) -> bytes:
        return json.dumps({**valid, field: "x"}).encode().replace(b'"x"', b'"a\\udc80b"')

    def constant(name: str) -> bytes:
        return (
            json.dumps({**valid, "data": {"amount": 1.5}}).encode().replace(b"1.5", name.encode())
        )

    deep = st.integers(MAX_NESTING + 1, 400).map(
        lambda depth: json.dumps({**valid, "data": nested(depth - 1)}).encode()
    )
    return st.one_of(
        st.tuples(required, bad_values).map(replaced),
        required.map(removed),
        required.map(surrogate),
        deep,
        st.sampled_from(["NaN", "Infinity", "-Infinity"]).map(constant),
        st.binary(max_size=64),  # not JSON, or not an object, or missing its fields
        st.sampled_from([b"[]", b'"event"', b"42", b"null", b"\xef\xbb\xbf{}", b"{\xff}"]),
        st.just(json.dumps(valid).encode()[:-1]),  # cut short
    )


@st.composite
def forgeries(draw: st.DrawFn, secret: str) -> Forgery:
    """A valid event and one way of getting it wrong (see the module docstring)."""
    valid = {
        "id": draw(ids(max_size=40)),
        "type": draw(odd_types),
        "businessId": draw(ids(max_size=40)),
        "data": {"id": draw(ids(max_size=40))},
    }
    body = to_json(valid, draw(st.integers(0, 11)))
    kind = draw(
        st.sampled_from(
            [
                "wrong_secret",
                "changed_after_signing",
                "moved_timestamp",
                "another_bodys_signature",
                "built_wrong",
                "garbled_header",
                "outside_tolerance",
                "wrong_method",
                "unusable",
            ]
        )
    )
    if kind == "wrong_secret":
        near = [secret + " ", secret[:-1], secret.upper(), " " + secret, secret + "\n", ""]
        other = draw(st.sampled_from(near) | st.text(max_size=64))
        return Forgery(kind, body, other if other != secret else secret + "x")
    if kind == "changed_after_signing":
        return Forgery(kind, body, draw(changed(body, valid)))
    if kind == "moved_timestamp":
        return Forgery(kind, body, draw(st.integers(-(10**6), 10**6).filter(bool)))
    if kind == "another_bodys_signature":
        other_body = draw(st.binary(max_size=200).filter(lambda b: b != body))
        return Forgery(kind, body, other_body)
    if kind == "built_wrong":
        return Forgery(
            kind,
            body,
            draw(
                st.sampled_from(
                    [
                        "no_dot",
                        "body_only",
                        "t_after",
                        "sha1",
                        "sha512",
                        "md5",
                        "plain_sha256",
                        "key_and_message_swapped",
                        "base64",
                        "truncated",
                        "one_more_digit",
                        "first_half",
                        "not_hex",
                        "empty",
                    ]
                )
            ),
        )
    if kind == "garbled_header":
        return Forgery(
            kind,
            body,
            draw(
                st.sampled_from(
                    [
                        "missing",
                        "empty",
                        "commas",
                        "only_t",
                        "only_v1",
                        "semicolons",
                        "other_scheme",
                        "v2_scheme",
                        "two_t",
                        "t_not_a_number",
                        "negative_t",
                        "t_in_hex",
                        "no_equals",
                        "nine_v1",
                        "over_4096",
                        "unicode_digits",
                    ]
                )
            ),
        )
    if kind == "outside_tolerance":
        seconds = draw(st.integers(TOLERANCE + 30, 10**9) | st.just(10**400))
        return Forgery(kind, body, seconds if draw(st.booleans()) else -min(seconds, 10**9))
    if kind == "wrong_method":
        return Forgery(kind, body, method=draw(st.sampled_from(["GET", "PUT", "PATCH", "DELETE"])))
    return Forgery(kind, draw(unusable_documents(valid)))


@st.composite
def changed(draw: st.DrawFn, body: bytes, valid: dict[str, Any]) -> bytes:
    """`body` changed in one way after it was signed (always different bytes)."""
    how = draw(st.sampled_from(["flip", "insert", "delete", "cut", "append", "reformat", "field"]))
    at = draw(st.integers(0, len(body) - 1))
    if how == "flip":
        bit = 1 << draw(st.integers(0, 7))
        return body[:at] + bytes([body[at] ^ bit]) + body[at + 1 :]
    if how == "insert":
        return body[:at] + draw(st.binary(min_size=1, max_size=4)) + body[at:]
    if how == "delete":
        return body[:at] + body[at + 1 :]
    if how == "cut":
        return body[:at]
    if how == "append":
        return body + draw(st.sampled_from([b" ", b"\n", b"\r\n", b"\x00", b"{}", b"\t"]))
    if how == "reformat":  # the same JSON, written another way
        style = draw(st.integers(0, 11).filter(lambda s: to_json(valid, s) != body))
        return to_json(valid, style)
    field = draw(st.sampled_from(["id", "businessId", "type"]))
    value = draw(st.text("ABCxyz019", min_size=1, max_size=8).filter(lambda v: v != valid[field]))
    return to_json({**valid, field: value}, 0)
