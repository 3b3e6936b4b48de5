"""The tap's streams, each declared as data on its class: its query files, Business connection,
OAuth scope, key, replication key, id pass, and the webhook entities it answers to.

How they read is wave_stream.py's. `STREAM_TYPES` is every stream class defined here, in the
order they are defined (the order of a run); the tables other parts need are derived from them:
`stream_scopes()` (`tap-wave --test`), `stream_by_entity()` (the webhook relay's targeting table,
written by `python -m tap_wave.relay_table`), and the test harness's totals (testing.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_wave import events, reconcile, schemas
from tap_wave.event_store import StoredEvent
from tap_wave.shaping import conform, shape
from tap_wave.wave_stream import EventSourcedStream, Record, WaveStream


class BusinessesStream(WaveStream):
    """Every business of the run (the token's, or those listed in `business_ids`)."""

    name = "businesses"
    scope = "business:read"
    primary_keys = ("business_id",)
    replication_key = None
    schema = schemas.BUSINESSES

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return None

    @override
    def get_records(self, context: Context | None) -> Iterator[Record]:
        if self.wave.events_mode:  # no event names a business
            return
        self.stats = self.wave.discovery_stats
        for node in self.wave.businesses():
            record = shape(node)
            record["business_id"] = record.pop("id")
            self.stats.records += 1
            yield conform(record, self.schema)


class CustomersStream(WaveStream):
    name = "customers"
    query_name = "customers"
    connection = "customers"
    scope = "customer:read"
    schema = schemas.CUSTOMERS
    id_pass = "customer_ids"
    entity_query = "customer"
    event_entities = ("customer",)


class VendorsStream(WaveStream):
    name = "vendors"
    query_name = "vendors"
    connection = "vendors"
    scope = "vendor:read"
    schema = schemas.VENDORS


class ProductsStream(WaveStream):
    name = "products"
    query_name = "products"
    connection = "products"
    scope = "product:read"
    schema = schemas.PRODUCTS
    entity_query = "product"
    event_entities = ("product",)


class AccountsStream(WaveStream):
    name = "accounts"
    query_name = "accounts"
    connection = "accounts"
    scope = "account:read"
    schema = schemas.ACCOUNTS
    replication_key = None  # Wave's Account has no modifiedAt


class SalesTaxesStream(WaveStream):
    name = "sales_taxes"
    query_name = "sales_taxes"
    connection = "salesTaxes"
    scope = "sales_tax:read"
    schema = schemas.SALES_TAXES


class InvoicesStream(WaveStream):
    name = "invoices"
    query_name = "invoices"
    connection = "invoices"
    scope = "invoice:read"
    schema = schemas.INVOICES
    id_pass = "invoice_ids"
    deletion_status = "DELETED"
    fingerprint = reconcile.invoice_fingerprint  # Wave derives OVERDUE silently
    entity_query = "invoice"
    event_entities = ("invoice", "payment")


class EstimatesStream(WaveStream):
    name = "estimates"
    query_name = "estimates"
    connection = "estimates"
    scope = "estimate:read"
    schema = schemas.ESTIMATES
    id_pass = "estimate_ids"
    deletion_status = "DELETED"
    entity_query = "estimate"
    event_entities = ("estimate",)


class TransactionsStream(EventSourcedStream):
    """Money transactions from `transaction.created` events (Wave cannot read them back)."""

    name = "transactions"
    schema = schemas.TRANSACTIONS
    event_types = (events.TRANSACTION_CREATED,)

    @override
    def event_record(self, event: StoredEvent) -> Record | None:
        if event.type not in self.event_types:
            return None
        return events.transaction_record(event, self.schema)


class WebhookEventsStream(EventSourcedStream):
    """Every authentic webhook, as the relay received it."""

    name = "webhook_events"
    schema = schemas.WEBHOOK_EVENTS

    @override
    def event_record(self, event: StoredEvent) -> Record:
        return events.webhook_event_record(event)


STREAM_TYPES: tuple[type[WaveStream], ...] = tuple(
    value
    for value in list(globals().values())
    if isinstance(value, type) and issubclass(value, WaveStream) and "name" in vars(value)
)
"""Every stream class above, in the order of definition: a new class is a new stream."""


def read_from_wave() -> tuple[type[WaveStream], ...]:
    """The streams read from Wave with their own list query (`tap-wave --test` reads each)."""
    return tuple(stream for stream in STREAM_TYPES if stream.query_name)


def scope_of(stream: type[WaveStream]) -> str:
    """The OAuth scope reading `stream` needs; every stream read from Wave declares one."""
    if not stream.scope:
        msg = f"{stream.__name__} ({stream.name}) reads Wave but declares no OAuth scope"
        raise TypeError(msg)
    return stream.scope


def stream_scopes() -> dict[str, str]:
    """Stream name -> the OAuth scope reading it needs, for every stream with a list query."""
    return {stream.name: scope_of(stream) for stream in read_from_wave()}


def stream_by_entity() -> dict[str, str]:
    """Webhook entity (event type prefix) -> the stream that re-reads or records that entity."""
    table: dict[str, str] = {}
    for stream in STREAM_TYPES:
        for entity in stream.event_entities:
            if table.setdefault(entity, stream.name) != stream.name:
                msg = f"webhook entity {entity!r} is claimed by {table[entity]} and {stream.name}"
                raise TypeError(msg)
    return dict(sorted(table.items()))


def stream_by_event_type() -> dict[str, str]:
    """Whole event type -> the event-sourced stream made from it (`transaction.created`)."""
    return {event_type: s.name for s in STREAM_TYPES for event_type in s.event_types}
