"""tap-wave reading the webhook relay's store: the real relay stores the sandbox's signed webhooks,
the real tap reads them (events mode: only what they name; full mode: the event-only streams)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest
from tap_wave.testing import access_config, operation_requests
from webhook_relay.testing import RelayProcess, start_webhook_relay

from testkit.wave_changes import BusinessChanges

SECRET = "tap-events-secret"
SMALL = {
    "businesses": 2,
    "seed": 11,
    "customers": 6,
    "vendors": 2,
    "products": 5,
    "invoices": 8,
    "estimates": 3,
}


@dataclass
class Books:
    """A sandbox whose webhooks a real relay stores (it never starts a run here)."""

    sandbox: object
    relay: RelayProcess
    a: BusinessChanges
    b: BusinessChanges

    def wait_for_events(self, count: int, timeout: float = 15.0) -> list[dict]:
        """Every webhook the sandbox emitted, once stored (`count` of them, as a check)."""
        deadline = time.monotonic() + timeout
        emitted = self.sandbox.stats()["webhooks"]["emitted"]
        assert emitted == count, f"the sandbox emitted {emitted} webhooks, expected {count}"
        while len(events := self.relay.events()) < count:
            assert time.monotonic() < deadline, f"{len(events)} of {count} webhooks stored"
            time.sleep(0.05)
        return events

    def config(self, **settings) -> dict:
        return access_config(self.sandbox, events_db=str(self.relay.db), **settings)


@pytest.fixture
def books(tmp_path, wave_sandbox_factory) -> Books:
    with start_webhook_relay(
        tmp_path / "relay" / "events.db", tmp_path, SECRET, debounce=3600, max_wait=3600
    ) as relay:
        sandbox = wave_sandbox_factory(
            **SMALL, webhook_url=relay.webhook_url, webhook_secret=SECRET
        )
        business_a, business_b = sandbox.business_ids()
        yield Books(
            sandbox,
            relay,
            BusinessChanges(sandbox, business_a),
            BusinessChanges(sandbox, business_b),
        )


def by_id(records: list[dict]) -> dict[str, dict]:
    return {record["id"]: record for record in records}


def partition(state: dict, stream: str, business_id: str) -> dict:
    return next(
        p
        for p in state["bookmarks"][stream]["partitions"]
        if p["context"]["business_id"] == business_id
    )


def test_events_mode_rereads_only_the_entities_the_events_name(books, tap):
    invoice = books.a.create_invoice(unit_price="40.00", quantity="3")
    books.a.patch_invoice(invoice, memo="updated by webhook test")
    books.a.pay_invoice(invoice, "50.00")
    customer = books.a.create_customer("Webhook Customer Ltd")
    product = books.a.references["product"]
    books.a.archive_product(product)
    books.b.create_invoice()  # another business: not in this run
    events = books.wait_for_events(6)
    before = books.sandbox.stats()

    run = tap.run(books.config(sync_mode="events", business_ids=[books.a.business_id]))

    assert run.returncode == 0, run.stderr[-3000:]
    assert operation_requests(before, books.sandbox.stats()) == {
        "Invoice": 1,
        "Customer": 1,
        "Product": 1,
    }
    assert set(run.records) == {"invoices", "customers", "products", "webhook_events"}
    (reread,) = run.records["invoices"]
    assert (reread["id"], reread["memo"], reread["subtotal"], reread["amount_paid"]) == (
        invoice,
        "updated by webhook test",
        "120.00",
        "50.00",
    )
    assert [p["amount"] for p in reread["payments"]] == ["50.00"]
    assert [line["quantity"] for line in reread["items"]] == ["3"]
    assert [c["id"] for c in run.records["customers"]] == [customer]
    (archived,) = run.records["products"]
    assert (archived["id"], archived["is_archived"]) == (product, True)
    stored = [e for e in events if e["business_id"] == books.a.business_id]
    assert [
        (r["id"], r["type"], r["body"], r["relay_seq"]) for r in run.records["webhook_events"]
    ] == [(e["id"], e["type"], e["body"], e["seq"]) for e in stored]
    assert all(r["business_id"] == books.a.business_id for rs in run.records.values() for r in rs)


def test_deletion_events_become_deletion_records_without_rereads(books, tap):
    kept = books.a.create_invoice(unit_price="10.00", quantity="1")
    payment = books.a.pay_invoice(kept, "4.00")
    books.a.delete_payment(payment)
    doomed = books.a.create_invoice()
    books.a.patch_invoice(doomed, memo="soon deleted")
    books.a.delete_invoice(doomed)
    customer = books.a.create_customer("Gone Tomorrow Ltd")
    books.a.delete_customer(customer)
    events = books.wait_for_events(8)
    before = books.sandbox.stats()

    run = tap.run(books.config(sync_mode="events"))

    assert run.returncode == 0, run.stderr[-3000:]
    assert operation_requests(before, books.sandbox.stats()) == {"Invoice": 1}
    invoices = by_id(run.records["invoices"])
    assert set(invoices) == {kept, doomed}
    assert invoices[kept]["payments"] == [] and invoices[kept]["amount_paid"] == "0.00"
    assert "_sdc_deleted_at" not in invoices[kept]
    deleted_event = next(e for e in events if e["type"] == "invoice.deleted")
    assert invoices[doomed]["status"] == "DELETED"
    assert invoices[doomed]["_sdc_deleted_at"] == deleted_event["created_at"]
    (gone,) = run.records["customers"]
    assert gone["id"] == customer and gone["_sdc_deleted_at"]
    assert len(run.records["webhook_events"]) == len(events)


def test_transaction_created_is_the_transactions_only_source(books, tap):
    transaction = books.a.create_transaction(
        amount="120.50", tax="13.86", external_id="pos-2026-11-28-0042"
    )
    (event,) = books.wait_for_events(1)
    before = books.sandbox.stats()

    run = tap.run(books.config(sync_mode="events"))

    assert run.returncode == 0, run.stderr[-3000:]
    assert operation_requests(before, books.sandbox.stats()) == {}
    refs = books.a.references
    assert run.records["transactions"] == [
        {
            "business_id": books.a.business_id,
            "id": transaction,
            "external_id": "pos-2026-11-28-0042",
            "date": "2026-11-28",
            "description": "Card sale",
            "notes": None,
            "anchor_account_id": refs["cash"],
            "anchor_amount": "120.50",
            "anchor_direction": "DEPOSIT",
            "line_items": [
                {
                    "account_id": refs["income"],
                    "amount": "120.50",
                    "balance": "INCREASE",
                    "customer_id": None,
                    "description": "Sale",
                    "taxes": [{"sales_tax_id": refs["sales_tax"], "amount": "13.86"}],
                }
            ],
            "created_at": json.loads(event["body"])["data"]["object"]["createdAt"],
            "received_at": event["received_at"],
            "_sdc_extracted_at": event["received_at"],
        }
    ]
    schema = run.schemas["transactions"]["properties"]
    assert schema["anchor_amount"]["format"] == "x-singer.decimal"
    taxes = schema["line_items"]["items"]["properties"]["taxes"]["items"]["properties"]
    assert taxes["amount"]["format"] == "x-singer.decimal"


def test_events_runs_resume_after_their_bookmark_and_leave_modified_at_alone(books, tap):
    full = tap.run(books.config())
    assert full.returncode == 0, full.stderr[-3000:]
    daily_bookmark = partition(full.state, "invoices", books.a.business_id)
    first = books.a.create_invoice()
    second = books.a.create_invoice()
    events = books.wait_for_events(2)
    config = books.config(sync_mode="events")

    bounded = tap.run(config, full.state, env={"WEBHOOK_RELAY_MAX_SEQ": str(events[0]["seq"])})
    assert bounded.returncode == 0, bounded.stderr[-3000:]
    assert bounded.ids("invoices") == {first}
    after = partition(bounded.state, "invoices", books.a.business_id)
    assert after["replication_key_value"] == daily_bookmark["replication_key_value"]
    assert after["events_seq"] == events[0]["seq"]

    rest = tap.run(config, bounded.state)
    assert rest.ids("invoices") == {second}
    assert rest.ids("webhook_events") == {events[1]["id"]}

    before = books.sandbox.stats()
    idle = tap.run(config, rest.state)
    assert idle.returncode == 0 and not idle.records
    assert operation_requests(before, books.sandbox.stats()) == {}


def test_full_mode_reads_the_event_only_streams_and_everything_else_from_wave(books, tap):
    books.a.create_transaction()
    invoice = books.a.create_invoice()
    books.wait_for_events(2)

    run = tap.run(books.config(sync_mode="full", business_ids=[books.a.business_id]))

    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.records["transactions"]) == 1
    assert [e["type"] for e in run.records["webhook_events"]] == [
        "transaction.created",
        "invoice.created",
    ]
    assert invoice in run.ids("invoices") and len(run.records["invoices"]) > 1
    assert run.records["accounts"] and run.records["businesses"]
