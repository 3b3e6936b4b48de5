"""Which tap-wave stream re-reads (or records) the entity each webhook names: generated
from tap-wave's stream classes (their `event_entities`), do not edit. After changing a
stream, run `python -m tap_wave.relay_table webhook-relay/webhook_relay/tap_streams.py`
(tests/test_tap_relay_contract.py fails while this file is out of date).
"""

STREAM_BY_ENTITY: dict[str, str] = {
    "customer": "customers",
    "estimate": "estimates",
    "invoice": "invoices",
    "payment": "invoices",
    "product": "products",
}
"""Entity prefix of an event type (`invoice` of `invoice.paid`) -> the tap stream."""
