"""singer-sdk's standard tap tests, run against the sandbox (a few records per stream) and a relay
event store holding one `transaction.created` (the source of `transactions`, `webhook_events`)."""

from __future__ import annotations

import json

import pytest
from singer_sdk.testing import SuiteConfig, TapTestRunner, get_tap_test_class
from tap_wave.tap import TapWave
from tap_wave.testing import access_config
from webhook_relay.store import EventStore, IncomingEvent

SUITE = SuiteConfig(max_records_limit=10)
# Streams are known without a connection; the runner below points the sync at the sandbox.
_Standard = get_tap_test_class(
    TapWave, config={"access_token": "discovery-only"}, suite_config=SUITE
)


def store_with_a_transaction(path, business_id: str) -> str:
    transaction = {
        "id": "txn-1",
        "externalId": "pos-1",
        "date": "2026-11-28",
        "description": "Card sale",
        "notes": None,
        "anchor": {"accountId": "acc-1", "amount": "10.00", "direction": "DEPOSIT"},
        "lineItems": [
            {
                "accountId": "acc-2",
                "amount": "10.00",
                "balance": "INCREASE",
                "customerId": None,
                "description": "Sale",
                "taxes": [],
            }
        ],
        "createdAt": "2026-11-28T11:59:58.000Z",
    }
    body = {
        "id": "evt-1",
        "type": "transaction.created",
        "createdAt": "2026-11-28T12:00:00.000Z",
        "businessId": business_id,
        "data": {"id": "txn-1", "object": transaction},
    }
    store = EventStore(path)
    store.insert_event(
        IncomingEvent(
            id="evt-1",
            business_id=business_id,
            type=body["type"],
            entity_id="txn-1",
            created_at=body["createdAt"],
            body=json.dumps(body),
        )
    )
    store.close()
    return str(path)


class TestTapWaveStandard(_Standard):
    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls, wave_sandbox, tmp_path_factory) -> TapTestRunner:
        business = wave_sandbox.business_ids()[0]
        events_db = store_with_a_transaction(
            tmp_path_factory.mktemp("relay") / "events.db", business
        )
        runner = TapTestRunner(
            TapWave,
            config=access_config(wave_sandbox, business_ids=[business], events_db=events_db),
            suite_config=SUITE,
        )
        runner.sync_all()
        return runner
