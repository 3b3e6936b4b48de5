"""A burst of events becomes a few targeted runs, each covering its events' businesses."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

EVENT_TYPES = [
    "invoice.created", "invoice.paid", "payment.created", "customer.updated",
    "product.archived", "estimate.sent", "transaction.created", "invoice.deleted",
]  # fmt: skip
STREAM_OF = {
    "invoice": "invoices", "payment": "invoices", "customer": "customers",
    "product": "products", "estimate": "estimates", "transaction": "transactions",
}  # fmt: skip


def test_burst_of_500_events_over_10_businesses_makes_few_complete_runs(
    relay_factory, signer, new_event, eventually
):
    relay = relay_factory("--debounce", "2", "--max-wait", "10")
    bodies = [
        new_event(business_id=f"biz-{n % 10}", event_type=EVENT_TYPES[n % len(EVENT_TYPES)],
                  entity_id=f"entity-{n}")
        for n in range(500)
    ]  # fmt: skip
    with httpx.Client(limits=httpx.Limits(max_connections=16)) as client:

        def deliver(body: bytes) -> int:
            headers = {"x-wave-signature": signer(body), "content-type": "application/json"}
            return client.post(f"{relay.url}/webhooks/wave", content=body, headers=headers,
                               timeout=30).status_code  # fmt: skip

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(deliver, bodies))
    assert Counter(statuses) == {202: 500}

    eventually(
        lambda: len(relay.events()) == 500 and all(e["state"] == "done" for e in relay.events()),
        timeout=60,
        what="all 500 events done",
    )
    runs = relay.recorder.starts()
    assert 1 <= len(runs) <= 20
    processed = Counter(e["id"] for run in runs for e in run["events"])
    assert set(processed) == {json.loads(b)["id"] for b in bodies}
    assert set(processed.values()) == {1}, "an event was answered by more than one run"
    for run in runs:
        run_businesses = set(json.loads(run["env"]["TAP_WAVE_BUSINESS_IDS"]))
        run_streams = set(json.loads(run["env"]["TAP_WAVE__SELECT_FILTER"]))
        assert {e["business_id"] for e in run["events"]} <= run_businesses
        assert {STREAM_OF[e["type"].split(".")[0]] for e in run["events"]} <= run_streams
        assert "webhook_events" in run_streams
        assert run["lock_held"]
    assert {e["attempts"] for e in relay.events()} == {1}
    assert relay.metrics()["webhook_relay_event_to_load_seconds_count"] == 500
