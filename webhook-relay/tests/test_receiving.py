"""POST /webhooks/wave answers per the contract's table; only authentic events are stored."""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import socket
import time
import uuid

import httpx
import pytest

ONE_MIB = 1024 * 1024


@pytest.fixture(scope="module")
def relay(module_relay_factory, webhook_secrets):
    """One relay for the module, holding a current and a previous secret (a rotation)."""
    previous = {"WAVE_WEBHOOK_SECRET_PREVIOUS": webhook_secrets["previous"]}
    return module_relay_factory("--debounce", "0.2", "--max-wait", "1", env=previous)


@pytest.fixture(scope="module")
def secret(webhook_secrets):
    return webhook_secrets["current"]


def stored_ids(relay) -> list[str]:
    return [e["id"] for e in relay.events()]


def event_row(relay, event_id: str) -> dict:
    (row,) = [e for e in relay.events() if e["id"] == event_id]
    return row


def marker() -> str:
    """A unique string put in a body, to prove later that it was not stored or logged."""
    return f"MARKER-{uuid.uuid4().hex}"


def test_valid_event_is_stored_before_the_2xx(relay, new_event):
    body = new_event(business_id="biz-valid", event_type="invoice.paid", entity_id="inv-42")
    answer = relay.post(body)
    assert answer.status_code in (200, 202)
    (row,) = [e for e in relay.events() if e["business_id"] == "biz-valid"]
    assert row["body"] == body.decode()
    assert (row["type"], row["entity_id"]) == ("invoice.paid", "inv-42")
    assert row["created_at"] == "2026-11-28T12:00:00.000Z"
    assert row["received_at"].endswith("Z") and len(row["received_at"]) == 24


def unauthentic_cases(signer, secret, body):
    now = int(time.time())
    good = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    tampered = body.replace(b'"businessId"', b'"businessId" ')
    return {
        "unsigned": (body, None, "missing_signature"),
        "malformed: no t": (body, f"v1={good}", "malformed_signature"),
        "malformed: no v1": (body, f"t={now}", "malformed_signature"),
        "malformed: garbage": (body, "sha256=abc", "malformed_signature"),
        "malformed: t not a number": (body, f"t=soon,v1={good}", "malformed_signature"),
        "wrong secret": (body, signer(body, secret="not-the-secret"), "signature_mismatch"),
        "tampered body": (tampered, signer(body), "signature_mismatch"),
        "signature of another timestamp": (body, f"t={now - 1},v1={good}", "signature_mismatch"),
        # 30 s past the tolerance: headroom for a slow, shared test machine
        "expired": (body, signer(body, timestamp=now - 330), "timestamp_expired"),
        "future": (body, signer(body, timestamp=now + 330), "timestamp_in_future"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unsigned",
        "malformed: no t",
        "malformed: no v1",
        "malformed: garbage",
        "malformed: t not a number",
        "wrong secret",
        "tampered body",
        "signature of another timestamp",
        "expired",
        "future",
    ],
)
def test_unauthentic_request_gets_401_and_leaves_no_trace(relay, signer, secret, new_event, case):
    secret_marker = marker()
    body = new_event(business_id=secret_marker, entity_id=secret_marker)
    sent_body, signature, reason = unauthentic_cases(signer, secret, body)[case]
    answer = relay.post(sent_body, signature=signature)
    assert answer.status_code == 401
    assert answer.json() == {"error": reason}
    assert secret_marker not in json.dumps(relay.events())
    log = relay.log()
    assert f"reason={reason}" in log
    assert secret_marker not in log


def test_previous_secret_is_accepted_during_rotation(relay, signer, webhook_secrets, new_event):
    body = new_event(business_id="biz-rotation")
    answer = relay.post(body, signature=signer(body, secret=webhook_secrets["previous"]))
    assert answer.status_code in (200, 202)
    assert "biz-rotation" in {e["business_id"] for e in relay.events()}


def test_any_of_several_v1_entries_may_match(relay, signer, new_event):
    body = new_event(business_id="biz-several")
    now = int(time.time())
    right = signer(body, timestamp=now).split("v1=")[1]
    wrong = signer(body, secret="old-secret-gone", timestamp=now).split("v1=")[1]
    header = f"v1={wrong}, t={now}, scheme=ignored, v1={right}"
    assert relay.post(body, signature=header).status_code in (200, 202)
    assert "biz-several" in {e["business_id"] for e in relay.events()}


@pytest.mark.parametrize("skew", [-250, 250], ids=["behind", "ahead"])
def test_within_tolerance_is_accepted(relay, signer, new_event, skew):
    """250 s off either way (of the 300 s tolerance): a new event, stored (202, not the 200 of a
    duplicate), byte for byte."""
    body = new_event(business_id=f"biz-skew-{skew}")
    event_id = json.loads(body)["id"]
    answer = relay.post(body, signature=signer(body, timestamp=int(time.time()) + skew))
    assert answer.status_code == 202
    assert answer.json() == {"status": "stored", "id": event_id}
    assert stored_ids(relay).count(event_id) == 1
    assert event_row(relay, event_id)["body"] == body.decode()


def test_replayed_id_is_acknowledged_stored_once_and_processed_once(relay, new_event, eventually):
    event_id = f"evt_replay_{uuid.uuid4().hex}"
    body = new_event(business_id="biz-replay", event_id=event_id)
    first = relay.post(body)
    second = relay.post(body)
    assert first.status_code == 202 and second.status_code == 200
    assert second.json()["status"] == "duplicate"
    assert stored_ids(relay).count(event_id) == 1
    eventually(lambda: event_row(relay, event_id)["state"] == "done", what="replayed event done")
    assert relay.post(body).status_code == 200  # a late retry after the run: still no new work
    time.sleep(0.6)
    runs_with_it = [
        run for run in relay.recorder.starts() if event_id in {e["id"] for e in run["events"]}
    ]
    assert len(runs_with_it) == 1
    row = event_row(relay, event_id)
    assert (row["state"], row["attempts"]) == ("done", 1)


def test_body_over_one_mib_gets_413_and_is_not_stored(relay, signer, new_event):
    padding = marker()
    body = new_event(business_id="biz-big", notes=padding + "x" * ONE_MIB)
    answer = relay.post(body, signature=signer(body))
    assert answer.status_code == 413
    assert padding not in json.dumps(relay.events())


def test_body_of_exactly_one_mib_is_accepted(relay, signer, new_event):
    skeleton = new_event(business_id="biz-exact", notes="")
    body = new_event(business_id="biz-exact", notes="y" * (ONE_MIB - len(skeleton)))
    assert len(body) == ONE_MIB
    assert relay.post(body).status_code in (200, 202)


def test_oversize_declared_length_is_refused_without_reading_the_body(relay):
    """Headers announce 10 MiB and no body follows: the answer comes anyway."""
    with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as conn:
        conn.sendall(
            b"POST /webhooks/wave HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
            b"x-wave-signature: t=1,v1=00\r\nContent-Length: 10485760\r\n\r\n"
        )
        status_line = conn.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413 ")


def test_oversize_chunked_body_is_refused_once_past_the_limit(relay):
    """A chunked upload is answered as soon as it passes 1 MiB; the rest is never sent."""
    with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as conn:
        conn.sendall(
            b"POST /webhooks/wave HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
            b"x-wave-signature: t=1,v1=00\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"z" * 65536
        for _ in range(ONE_MIB // len(chunk) + 1):
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status_line = conn.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413 ")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_any_method_but_post_gets_405(relay, method, signer, new_event):
    body = new_event(business_id="biz-method")
    answer = httpx.request(method, f"{relay.url}/webhooks/wave", content=body,
                           headers={"x-wave-signature": signer(body)})  # fmt: skip
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert "biz-method" not in {e["business_id"] for e in relay.events()}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"this is not json", "not_json"),
        (b'\xff\xfe{"id": "x"}', "not_json"),
        (b'["a", "list"]', "not_an_object"),
        (b'{"id": "evt_1", "type": "invoice.paid"}', "missing_businessId"),
        (b'{"id": "evt_1", "businessId": "b", "type": 7}', "missing_type"),
        (b'{"type": "invoice.paid", "businessId": "b"}', "missing_id"),
    ],
)
def test_authentic_body_that_is_not_an_event_gets_400(relay, signer, body, reason):
    before = len(relay.events())
    answer = relay.post(body, signature=signer(body))
    assert answer.status_code == 400
    assert answer.json() == {"error": reason}
    assert len(relay.events()) == before


def test_unknown_event_type_is_stored_and_counted(relay, new_event, eventually):
    before = relay.metrics().get("webhook_relay_events_unknown_type_total", 0)
    body = new_event(business_id="biz-future", event_type="bill.created")
    assert relay.post(body).status_code in (200, 202)
    (row,) = [e for e in relay.events() if e["business_id"] == "biz-future"]
    assert row["type"] == "bill.created"
    samples = relay.metrics()
    assert samples["webhook_relay_events_unknown_type_total"] == before + 1
    assert samples['webhook_relay_events_received_total{type="other"}'] >= 1
    assert not any('type="bill.created"' in name for name in samples)  # no series per type
    eventually(lambda: event_row(relay, row["id"])["state"] == "done", what="unknown type run")
    (run,) = [r for r in relay.recorder.starts() if row["id"] in {e["id"] for e in r["events"]}]
    assert json.loads(run["env"]["TAP_WAVE__SELECT_FILTER"]) == ["webhook_events"]


def test_metrics_count_received_rejected_duplicates_and_runs(relay, signer, new_event, eventually):
    before = relay.metrics()
    body = new_event(business_id="biz-metrics", event_type="customer.updated")
    relay.post(body)
    relay.post(body)
    relay.post(body, signature=signer(body, secret="wrong"))
    relay.post(b"nope", signature=signer(b"nope"))
    eventually(lambda: all(e["state"] == "done" for e in relay.events()), what="all done")
    after = relay.metrics()

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew('webhook_relay_events_received_total{type="customer.updated"}') == 1
    assert grew("webhook_relay_events_duplicate_total") == 1
    assert grew('webhook_relay_requests_rejected_total{reason="signature_mismatch"}') == 1
    assert grew('webhook_relay_requests_rejected_total{reason="not_json"}') == 1
    assert after["webhook_relay_queue_depth"] == 0
    assert after["webhook_relay_runs_started_total"] >= 1
    assert after["webhook_relay_runs_succeeded_total"] == after["webhook_relay_runs_started_total"]
    assert after["webhook_relay_runs_failed_total"] == 0
    assert after["webhook_relay_event_to_load_seconds_count"] == len(relay.events())


def test_healthz_reports_pending_events(relay_factory, new_event, eventually):
    """While another runner holds the run lock, the events wait: /healthz counts them, and
    counts them no more once a run has loaded them."""
    relay = relay_factory("--debounce", "0.1", "--max-wait", "1", start=False)
    lock_file = relay.project / ".meltano" / "run.lock"
    lock_file.parent.mkdir(parents=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # the daily job, say
    try:
        relay.start()
        for n in range(3):
            assert relay.post(new_event(business_id=f"biz-health-{n}")).status_code == 202
        answer = httpx.get(f"{relay.url}/healthz")
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "pending": 3, "failing": 0, "quarantined": 0}
        assert relay.pending() == 3
    finally:
        os.close(fd)

    def health() -> dict:
        return httpx.get(f"{relay.url}/healthz").json()

    eventually(lambda: health()["pending"] == 0, what="the events loaded once the lock is free")
    assert health() == {"status": "ok", "pending": 0, "failing": 0, "quarantined": 0}
    assert [e["state"] for e in relay.events()] == ["done"] * 3
