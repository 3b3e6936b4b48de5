"""Targeting in process: which streams and businesses a run for some events covers, and how the
run is started (argv and environment), by calling ``webhook_relay.targeting`` directly.

test_acting.py and test_coalescing.py check the same through a real relay and a recording run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from webhook_relay.store import PendingEvent
from webhook_relay.targeting import (
    EVENTS_STREAM,
    KNOWN_EVENT_TYPES,
    RunCommand,
    RunTarget,
    stream_for_event_type,
    streams_for_event_types,
    target_for,
)

RECEIVED = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def event(seq: int, business: str, event_type: str) -> PendingEvent:
    return PendingEvent(seq, business, event_type, RECEIVED, id=f"evt_{seq}")


@pytest.mark.parametrize(
    ("event_type", "stream"),
    [
        ("invoice.created", "invoices"),
        ("invoice.paid", "invoices"),
        ("invoice.deleted", "invoices"),
        ("payment.created", "invoices"),  # a payment changes its invoice
        ("customer.updated", "customers"),
        ("product.archived", "products"),
        ("estimate.approved", "estimates"),
        ("transaction.created", "transactions"),
        ("invoice.voided", "invoices"),  # a type Wave may add later still refreshes its entity
    ],
)
def test_event_type_to_stream(event_type, stream):
    assert stream_for_event_type(event_type) == stream


@pytest.mark.parametrize(
    "event_type", ["bill.created", "", "webhook_events", ".", "invoices.created"]
)
def test_types_naming_no_entity_the_tap_reads_touch_no_stream(event_type):
    assert stream_for_event_type(event_type) is None


def test_every_event_type_of_the_contract_touches_a_stream():
    assert {
        t: stream_for_event_type(t) for t in KNOWN_EVENT_TYPES if not stream_for_event_type(t)
    } == {}


def test_streams_are_sorted_unique_and_always_record_the_events():
    assert streams_for_event_types([]) == (EVENTS_STREAM,)
    assert streams_for_event_types(["bill.created"]) == ("webhook_events",)
    types = ["payment.created", "invoice.paid", "transaction.created", "invoice.sent", "x.y"]
    assert streams_for_event_types(types) == ("invoices", "transactions", "webhook_events")


def test_target_covers_the_events_businesses_and_streams():
    events = [
        event(7, "biz-b", "customer.created"),
        event(3, "biz-a", "transaction.created"),
        event(9, "biz-b", "customer.updated"),
        event(4, "biz-c", "bill.created"),
    ]
    assert target_for(events) == RunTarget(
        business_ids=("biz-a", "biz-b", "biz-c"),
        streams=("customers", "transactions", "webhook_events"),
        max_seq=9,
        event_count=4,
    )


def test_a_run_needs_an_event():
    with pytest.raises(ValueError, match="at least one event"):
        target_for([])


def test_default_command_is_a_forced_meltano_run_with_the_relays_state_id():
    command = RunCommand(environment="prod", state_id_suffix="webhooks", meltano_bin="/v/meltano")
    assert command.runs_meltano
    assert command.argv("r-1") == [
        "/v/meltano", "--environment", "prod", "run", "--state-id-suffix", "webhooks",
        "--run-id", "r-1", "--force", "tap-wave", "target-databricks-upsert",
    ]  # fmt: skip


def test_a_command_template_takes_quoted_words_and_every_placeholder():
    command = RunCommand(
        template="'{meltano_bin}' --cd {project} go {environment}:{state_id_suffix}:{run_id}",
        meltano_bin="/opt/my meltano",
        project="/srv/p",
    )
    assert not command.runs_meltano
    assert command.argv("r-2") == ["/opt/my meltano", "--cd", "/srv/p", "go", "dev:relay:r-2"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"state_id_suffix": "a:b"}, "contains ':'"),
        ({"template": "meltano run {nope}"}, "placeholders allowed: {meltano_bin}"),
        ({"template": "meltano run {0}"}, "is not usable"),
        ({"template": "   "}, "empty command"),
        ({"template": "meltano 'unclosed"}, "is not usable"),
    ],
)
def test_unusable_commands_are_refused_with_what_is_wrong(settings, message):
    with pytest.raises(ValueError, match=message):
        RunCommand(**settings)


def test_run_environment_narrows_the_tap_to_the_target():
    command = RunCommand(events_db="/data/events.db", environment="prod", bytecode_cache="/c")
    target = target_for([event(5, "biz-b", "invoice.paid"), event(2, "biz-a", "product.updated")])
    base = {"PATH": "/bin", "PYTHONDONTWRITEBYTECODE": "1", "TAP_WAVE__CATALOG": "/old.json"}
    env = command.environ(target, "run-1", base)
    assert json.loads(env["TAP_WAVE_BUSINESS_IDS"]) == ["biz-a", "biz-b"]
    assert json.loads(env["TAP_WAVE__SELECT_FILTER"]) == ["invoices", "products", "webhook_events"]
    assert env["TAP_WAVE_EVENTS_DB"] == "/data/events.db"
    assert env["TAP_WAVE_SYNC_MODE"] == "events"
    assert env["WEBHOOK_RELAY_RUN_ID"] == "run-1"
    assert env["WEBHOOK_RELAY_MAX_SEQ"] == "5"
    assert env["MELTANO_ENVIRONMENT"] == "prod"
    assert env["PYTHONPYCACHEPREFIX"] == "/c"
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PATH"] == "/bin"
    assert env["TAP_WAVE__CATALOG"] == "/old.json"  # the operator's own, when the relay has none
    assert base == {
        "PATH": "/bin",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TAP_WAVE__CATALOG": "/old.json",
    }
    assert (
        command.environ(target, "run-1", base, "/cache.json")["TAP_WAVE__CATALOG"] == "/cache.json"
    )


def test_without_a_bytecode_cache_the_environment_is_left_as_it_is():
    env = RunCommand().common_environ({"PYTHONDONTWRITEBYTECODE": "1"})
    assert env == {"PYTHONDONTWRITEBYTECODE": "1", "MELTANO_ENVIRONMENT": "dev"}
