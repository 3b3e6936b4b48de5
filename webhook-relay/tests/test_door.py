"""Authentic but unusable bodies get 400 and a reason code at the door, never a 5xx (which Wave
would retry forever) and never a stored event that stalls the runs (issue 13)."""

from __future__ import annotations

import json
import time
import uuid

import pytest


@pytest.fixture(scope="module")
def relay(module_relay_factory):
    return module_relay_factory("--debounce", "0.2", "--max-wait", "1")


def raw_event(**fields: str) -> bytes:
    """An event body written as JSON text by hand, so that odd strings go through verbatim."""
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "invoice.updated",
        "businessId": "biz-door",
        "createdAt": "2026-11-28T12:00:00.000Z",
    }
    event.update(fields)
    return (
        "{"
        + ", ".join(
            f'"{k}": {v if v.startswith(("{", "[")) else json.dumps(v)}' for k, v in event.items()
        )
        + "}"
    ).encode()


def stored(relay) -> list[dict]:
    return relay.events()


def assert_refused(relay, body: bytes, reason: str, status: int = 400, signature="sign") -> None:
    before = len(stored(relay))
    answer = relay.post(body, signature=signature)
    assert (answer.status_code, answer.json()) == (status, {"error": reason})
    assert len(stored(relay)) == before


@pytest.mark.parametrize("field", ["businessId", "type", "id"])
def test_lone_surrogate_in_a_required_field_is_refused(relay, field):
    body = raw_event(**{field: "x"}).replace(b'"x"', b'"ab\\ud800cd"')
    json.loads(body)  # valid JSON: a lone surrogate escape, which UTF-8 (and SQLite) cannot hold
    assert_refused(relay, body, f"invalid_{field}")


def test_lone_surrogate_in_optional_fields_is_stored_without_them(relay):
    body = raw_event(data='{"id": "inv\\udc00"}').replace(
        b'"2026-11-28T12:00:00.000Z"', b'"2026\\ud800"'
    )
    answer = relay.post(body)
    assert answer.status_code == 202, answer.text
    (row,) = [e for e in stored(relay) if e["id"] == answer.json()["id"]]
    assert (row["entity_id"], row["created_at"]) == (None, None)
    assert row["body"] == body.decode()  # the raw body keeps both


def test_140_kb_business_id_is_refused(relay):
    assert_refused(relay, raw_event(businessId="Q" * 140_000), "invalid_businessId")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": "evt_1\n2026-11-28 12:00:00 INFO webhook_relay.app: FORGED"}, "invalid_id"),
        ({"type": "invoice.paid\r\nFORGED"}, "invalid_type"),
        ({"businessId": "biz one"}, "invalid_businessId"),
        ({"id": "e" * 201}, "invalid_id"),
        ({"type": "t" * 101}, "invalid_type"),
        ({"businessId": ""}, "missing_businessId"),
    ],
)
def test_malformed_required_fields_are_refused_and_forge_no_log_line(relay, fields, reason):
    assert_refused(relay, raw_event(**fields), reason)
    assert not any(
        line.lstrip().startswith(("FORGED", "2026-11-28 12:00:00 INFO")) or "FORGED" in line
        for line in relay.log().splitlines()
    )


def test_200k_deep_nesting_is_refused(relay):
    deep = "[" * 200_000 + "]" * 200_000
    assert_refused(relay, raw_event(data=deep), "nesting_too_deep")


def test_nesting_just_past_the_limit_is_refused_and_below_it_stored(relay):
    assert_refused(relay, raw_event(data="[" * 32 + "]" * 32), "nesting_too_deep")
    answer = relay.post(raw_event(data="[" * 30 + "]" * 30))
    assert answer.status_code == 202


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_that_json_does_not_have_are_refused(relay, constant):
    assert_refused(
        relay,
        raw_event(data="{}").replace(b"{}", b'{"amount": ' + constant.encode() + b"}"),
        "not_json",
    )


def test_a_400_digit_timestamp_is_a_future_timestamp_not_a_crash(relay, signer):
    body = raw_event()
    huge = int("9" * 400)
    assert_refused(
        relay, body, "timestamp_in_future", status=401, signature=signer(body, timestamp=huge)
    )
    assert "Traceback" not in relay.log()


def test_the_relay_keeps_storing_good_events_after_all_that(relay, eventually):
    answer = relay.post(raw_event(businessId="biz-after"))
    assert answer.status_code == 202
    eventually(
        lambda: [e["state"] for e in stored(relay) if e["business_id"] == "biz-after"] == ["done"],
        what="the good event loaded",
    )
    assert "Traceback" not in relay.log()
    assert "Exception in ASGI application" not in relay.log()


def test_metrics_keep_one_series_for_types_outside_the_contract(relay):
    for n in range(40):
        assert relay.post(raw_event(type=f"made.up.type{n}")).status_code == 202
    time.sleep(0.2)
    samples = relay.metrics()
    by_type = [k for k in samples if k.startswith("webhook_relay_events_received_total{")]
    assert 'webhook_relay_events_received_total{type="other"}' in by_type
    assert not [k for k in by_type if "made.up" in k]
    assert samples['webhook_relay_events_received_total{type="other"}'] >= 40
