"""tap-wave reading the relay's store as the relay leaves it after narrowing and quarantine.

A relay run (WEBHOOK_RELAY_RUN_ID) reads exactly the events the store marked with its id, also an
older one behind the stream's bookmark (re-queued from quarantine, or a batch narrowed after
newer events loaded), and never moves the bookmark back. Any other run (the daily job reads the
store too) leaves quarantined events out: a bad event the relay set aside must not fail it.
The store is written with the relay's own store module; the tap is the real command.
"""

from __future__ import annotations

import json
import uuid

import pytest
from tap_wave.testing import TapRunner, access_config
from webhook_relay.store import EventStore, IncomingEvent, RunRecord


def transaction_event(business_id: str, amount: str) -> IncomingEvent:
    txn = f"txn-{uuid.uuid4().hex[:10]}"
    body = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "transaction.created",
        "createdAt": "2026-11-28T12:00:00.000Z",
        "businessId": business_id,
        "data": {
            "id": txn,
            "object": {
                "id": txn,
                "externalId": "pos-1",
                "date": "2026-11-28",
                "description": "Sale",
                "anchor": {"accountId": "acct-1", "amount": amount, "direction": "DEPOSIT"},
                "lineItems": [],
                "createdAt": "2026-11-28T11:59:58.000Z",
            },
        },
    }
    return IncomingEvent(
        id=body["id"],
        business_id=business_id,
        type="transaction.created",
        entity_id=txn,
        created_at=body["createdAt"],
        body=json.dumps(body),
    )


@pytest.fixture
def store(tmp_path):
    store = EventStore(tmp_path / "relay" / "events.db")
    yield store
    store.close()


def seq_of(store: EventStore, event_id: str) -> int:
    return store.query("SELECT seq FROM events WHERE id = ?", (event_id,))[0][0]


def test_a_run_outside_the_relay_leaves_quarantined_events_out(wave_sandbox, tmp_path, store):
    business = wave_sandbox.business_ids()[0]
    good, bad = transaction_event(business, "120.50"), transaction_event(business, "120,50")
    for event in (good, bad):
        store.insert_event(event)
    store.quarantine_invalid({seq_of(store, bad.id): "failed alone 3 times"})

    run = TapRunner(tmp_path).run(
        access_config(wave_sandbox, events_db=str(store.path), sync_mode="events")
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert [r["id"] for r in run.records["webhook_events"]] == [good.id]
    assert [r["id"] for r in run.records["transactions"]] == [good.entity_id]


def test_a_relay_run_reads_its_events_even_behind_the_bookmark(wave_sandbox, tmp_path, store):
    business = wave_sandbox.business_ids()[0]
    events = [transaction_event(business, f"{n}.00") for n in (1, 2, 3)]
    for event in events:
        store.insert_event(event)
    newest = seq_of(store, events[2].id)
    run_id = str(uuid.uuid4())  # the relay re-runs the oldest event (say, re-queued)
    store.start_run(
        RunRecord(
            run_id=run_id,
            business_ids=(business,),
            streams=(),
            max_seq=newest,
            event_count=1,
            attempt=1,
            seqs=(seq_of(store, events[0].id),),
        )
    )
    bookmark = {
        "bookmarks": {
            stream: {"partitions": [{"context": {"business_id": business}, "events_seq": newest}]}
            for stream in ("webhook_events", "transactions")
        }
    }

    run = TapRunner(tmp_path).run(
        access_config(wave_sandbox, events_db=str(store.path), sync_mode="events"),
        state=bookmark,
        env={"WEBHOOK_RELAY_RUN_ID": run_id, "WEBHOOK_RELAY_MAX_SEQ": str(newest)},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert [r["id"] for r in run.records["webhook_events"]] == [events[0].id]
    assert [r["id"] for r in run.records["transactions"]] == [events[0].entity_id]
    partitions = run.state["bookmarks"]["webhook_events"]["partitions"]
    assert [p["events_seq"] for p in partitions] == [newest]  # never moved back
