"""tap-wave against event stores written with the relay's own store module: events the sandbox
does not send (estimates, unknown types, odd bodies), entities gone since, and settings errors."""

from __future__ import annotations

import json
import uuid

import pytest
from tap_wave.testing import access_config, operation_requests
from webhook_relay.store import EventStore, IncomingEvent


def estimate_ids(sandbox, business_id: str) -> list[str]:
    answer = sandbox.graphql(
        "query($b: ID!) { business(id: $b) { estimates(pageSize: 3) { edges { node { id } } } } }",
        {"b": business_id},
    )
    return [edge["node"]["id"] for edge in answer["data"]["business"]["estimates"]["edges"]]


class StoreWriter:
    """Writes events the way the relay does (webhook_relay.store), for the tap to read."""

    def __init__(self, path) -> None:
        self.path = path
        self.store = EventStore(path)

    def add(
        self,
        business_id: str,
        event_type: str,
        entity_id: str | None,
        obj: dict | None = None,
        created_at: str = "2026-11-28T12:00:00.000Z",
    ) -> dict:
        body = {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": event_type,
            "createdAt": created_at,
            "businessId": business_id,
            "data": {"id": entity_id},
        }
        if obj is not None:
            body["data"]["object"] = obj
        self.store.insert_event(
            IncomingEvent(
                id=body["id"],
                business_id=business_id,
                type=event_type,
                entity_id=entity_id,
                created_at=created_at,
                body=json.dumps(body),
            )
        )
        return body


@pytest.fixture
def store(tmp_path):
    writer = StoreWriter(tmp_path / "events.db")
    yield writer
    writer.store.close()


def test_estimate_events_and_entities_gone_since(wave_sandbox, tap, store):
    business = wave_sandbox.business_ids()[0]
    updated, deleted = estimate_ids(wave_sandbox, business)[:2]
    store.add(business, "estimate.updated", updated)
    store.add(business, "estimate.sent", updated)
    store.add(business, "estimate.approved", deleted)
    store.add(business, "estimate.deleted", deleted, created_at="2026-11-28T12:30:00.000Z")
    store.add(business, "estimate.updated", f"{updated}-gone")  # deleted in Wave meanwhile
    before = wave_sandbox.stats()

    run = tap.run(access_config(wave_sandbox, events_db=str(store.path), sync_mode="events"))

    assert run.returncode == 0, run.stderr[-3000:]
    assert operation_requests(before, wave_sandbox.stats()) == {"Estimate": 2}
    records = {r["id"]: r for r in run.records["estimates"]}
    assert set(records) == {updated, deleted}
    assert records[updated]["status"] != "DELETED" and records[updated]["items"]
    assert records[deleted] == {
        "business_id": business,
        "id": deleted,
        "status": "DELETED",
        "_sdc_deleted_at": "2026-11-28T12:30:00.000Z",
        "modified_at": None,
    }
    assert "gone from Wave" in run.stderr


def test_odd_events_are_kept_as_received_and_touch_nothing_else(wave_sandbox, tap, store):
    business = wave_sandbox.business_ids()[0]
    unknown = store.add(business, "widget.created", "w-1", {"id": "w-1"})
    orphan = store.add(business, "payment.updated", "p-1", {"id": "p-1"})  # no invoiceId
    bare = store.add(business, "transaction.created", "t-1")  # no object: nothing to record
    odd_time = store.add(business, "customer.deleted", "c-1", created_at="yesterday-ish")
    before = wave_sandbox.stats()

    run = tap.run(access_config(wave_sandbox, events_db=str(store.path), sync_mode="events"))

    assert run.returncode == 0, run.stderr[-3000:]
    assert operation_requests(before, wave_sandbox.stats()) == {}
    kept = {r["id"]: r for r in run.records["webhook_events"]}
    assert [json.loads(kept[e["id"]]["body"]) for e in (unknown, orphan, bare, odd_time)] == [
        unknown,
        orphan,
        bare,
        odd_time,
    ]
    assert kept[odd_time["id"]]["created_at"] is None  # not a timestamp; the body keeps it
    (customer,) = run.records["customers"]
    assert customer["_sdc_deleted_at"] == kept[odd_time["id"]]["received_at"]
    assert "transactions" not in run.records and "invoices" not in run.records
    assert "names no invoice" in run.stderr and "carries no data.object" in run.stderr


def test_a_business_the_token_cannot_see_ends_the_events_run(wave_sandbox, tap, store):
    store.add("QnVzaW5lc3M6bm90LXRoaXMtb25l", "invoice.updated", "inv-1")

    run = tap.run(access_config(wave_sandbox, events_db=str(store.path), sync_mode="events"))

    assert run.returncode == 1
    (error,) = run.errors()
    assert "NOT_FOUND" in error and "business id" in error


def test_events_mode_needs_a_readable_events_db(tap, tmp_path):
    config = {"access_token": "unused", "api_url": "http://127.0.0.1:9/graphql/public"}

    without = tap.run({**config, "sync_mode": "events"})
    missing = tap.run({**config, "sync_mode": "events", "events_db": str(tmp_path / "none.db")})

    assert without.returncode == missing.returncode == 1
    assert "events_db is not set" in without.errors()[0]
    assert "none.db: cannot read the relay's event store" in missing.errors()[0]


def test_full_mode_without_a_store_yet_still_syncs_from_wave(wave_sandbox, tap, tmp_path):
    business = wave_sandbox.business_ids()[0]
    config = access_config(
        wave_sandbox,
        business_ids=[business],
        reconcile_deletes=False,
        events_db=str(tmp_path / "not-yet.db"),
    )

    run = tap.run(config)

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records["invoices"] and "webhook_events" not in run.records
    assert "webhook_events and transactions are not read this run" in run.stderr


def test_an_events_run_over_an_empty_store_asks_wave_nothing(tap, store):
    config = {
        "access_token": "unused",
        "api_url": "http://127.0.0.1:9/graphql/public",
        "sync_mode": "events",
        "events_db": f"file:{store.path}?mode=ro",
    }

    run = tap.run(config)

    assert run.returncode == 0, run.stderr[-3000:]
    assert not run.records and set(run.state["bookmarks"]) >= {"invoices", "webhook_events"}
