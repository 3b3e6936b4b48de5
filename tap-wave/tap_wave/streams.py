"""The tap's streams, each declared as data: its query file, key, replication key, id pass.

Per-business streams are partitioned by `business_id` (one bookmark per business). Streams Wave
can filter by `modifiedAt` read the window [bookmark or start_date, sync start) and, once a
business is done, bookmark the window's end; the others (`accounts`, `businesses`) are read in
full. Streams with an id pass (customers, estimates, invoices) then emit deletions, and
invoices whose status or payments changed silently, per reconcile.py.

`webhook_events` and `transactions` come from the webhook relay's event store (`events_db`). In
`sync_mode: events` (a relay run) every other stream emits only the entities the events name,
re-read by id or recorded as deleted, per events.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream
from typing_extensions import override

from tap_wave import events, queries, reconcile, schemas
from tap_wave.client import RequestStats, WindowShifted
from tap_wave.errors import NotFound
from tap_wave.event_store import StoredEvent
from tap_wave.shaping import conform, shape

if TYPE_CHECKING:
    from tap_wave.connection import WaveConnection

logger = logging.getLogger("tap-wave")
WINDOW_ATTEMPTS = 3


def wave_datetime(moment: datetime) -> str:
    """Wave's DateTime form: UTC, milliseconds, `Z`."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


class WaveStream(Stream):
    """A stream read page by page from one connection under `business(id:)`."""

    query_name: ClassVar[str]
    """File in tap_wave/queries/ holding the stream's document."""
    connection: ClassVar[str]
    """Field of Business holding the connection (`customers`, `salesTaxes`, ...)."""
    primary_keys: ClassVar[tuple[str, ...]] = ("business_id", "id")
    replication_key: ClassVar[str | None] = "modified_at"
    is_sorted = False  # re-read and deleted records follow the window's records
    id_pass: ClassVar[str | None] = None
    """File of the id-only query used to reconcile deletes (None: no reconciliation)."""
    deletion_status: ClassVar[str | None] = None
    fingerprint: ClassVar[Callable[[Mapping[str, Any]], str]] = staticmethod(
        reconcile.no_fingerprint
    )
    entity_query: ClassVar[str | None] = None
    """File (and Business field) reading one entity by id, for re-reads."""
    event_entities: ClassVar[tuple[str, ...]] = ()
    """Event type prefixes naming this stream's entities (the stream's own first)."""

    def __init__(self, tap: Any) -> None:
        super().__init__(tap)
        self.stats = RequestStats()

    @property
    def wave(self) -> WaveConnection:
        return self._tap.wave

    @property
    def partitions(self) -> list[dict[str, str]]:
        return [{"business_id": business_id} for business_id in self.wave.business_ids]

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        """ACTIVATE_VERSION (when asked for) only where this run's version is the whole table.

        A target retires every row of the stream missing from the new version, whatever its
        business: a run scoped to some businesses, or an events-mode run, must not send it.
        """
        return bool(self.config.get("emit_activate_version_messages")) and (
            self.wave.reads_every_business
        )

    def sync(self, context: Any = None) -> None:
        super().sync(context)
        logger.info(
            "stream %s: %d records, %d requests, %d retries",
            self.name,
            self.stats.records,
            self.stats.requests,
            self.stats.retries,
        )

    def get_records(self, context: Any) -> Iterator[dict[str, Any]]:
        if not context:  # the run has no business (none visible, or no events)
            return
        if self.wave.events_mode:
            if self.event_entities:
                yield from events.entity_records(self, context)
            return
        business_id = context["business_id"]
        variables: dict[str, Any] = {"businessId": business_id}
        if self.replication_key:
            start = self.get_starting_timestamp(context)
            if start is not None:
                variables["modifiedAtAfter"] = wave_datetime(start)
            variables["modifiedAtBefore"] = wave_datetime(self.wave.sync_started_at)
        emitted: reconcile.KnownIds = {}
        newest: str | None = None
        for node in self.read_window(business_id, variables, emitted):
            record = self.to_record(node, business_id)
            newest = max(newest or "", record.get("modified_at") or "") or None
            yield record
        if self.id_pass and (self.wave.reconcile_deletes or self.tracks_silent_changes):
            yield from self.reconcile_business(context, emitted)
        if self.replication_key:
            self.bookmark(context, newest)

    def read_window(
        self, business_id: str, variables: dict[str, Any], emitted: reconcile.KnownIds
    ) -> Iterator[dict[str, Any]]:
        """Every node of the window once, read again if records left it while paging."""
        operation = f"{self.name} of business {business_id}"
        for attempt in range(1, WINDOW_ATTEMPTS + 1):
            try:
                for node in self.wave.client.paginate(
                    queries.document(self.query_name),
                    variables,
                    connection=("business", self.connection),
                    page_size=self.wave.page_size,
                    operation=operation,
                    stats=self.stats,
                ):
                    if node["id"] not in emitted:
                        emitted[node["id"]] = self.fingerprint(node)
                        yield node
                return
            except WindowShifted as shift:
                logger.warning(
                    "%s (pass %d of %d); reading the window again", shift, attempt, WINDOW_ATTEMPTS
                )
        logger.warning("%s: records kept changing while paging; the next run reads them", operation)

    def to_record(self, node: Mapping[str, Any], business_id: str) -> dict[str, Any]:
        record = shape(node)
        record["business_id"] = business_id
        self.stats.records += 1
        return conform(record, self.schema)

    def bookmark(self, context: Any, newest: str | None) -> None:
        """Resume after the newest modification in the window (modifiedAtAfter is exclusive).

        Records re-read or deleted after the window never move the bookmark.
        """
        state = self.get_context_state(context)
        state.pop("progress_markers", None)
        if newest:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = newest

    def reconcile_business(self, context: Any, emitted: reconcile.KnownIds) -> Iterator[dict]:
        business_id = context["business_id"]
        state = self.get_context_state(context)
        previous = reconcile.decode_known(state.get("known_ids"))
        if previous is None and self.get_starting_timestamp(context) is None:
            state["known_ids"] = reconcile.encode_known(emitted)  # a full read lists everything
            return
        listed = (
            (node["id"], self.fingerprint(node))
            for node in self.wave.client.paginate(
                queries.document(self.id_pass),
                {"businessId": business_id},
                connection=("business", self.connection),
                page_size=self.wave.page_size,
                operation=f"{self.name} id pass of business {business_id}",
                stats=self.stats,
            )
        )
        outcome = reconcile.reconcile(
            previous=previous,
            emitted_now=emitted,
            listed=listed,
            track_changes=self.tracks_silent_changes,
        )
        if self.wave.reconcile_deletes:
            deleted_at = datetime.now(UTC).isoformat()
            for entity_id in outcome.deleted:
                yield self.deletion_record(business_id, entity_id, deleted_at)
        else:
            outcome.known.update({i: previous[i] for i in outcome.deleted if previous})
        for record in self.reread(business_id, outcome.changed):
            outcome.known[record["id"]] = self.fingerprint(record)
            yield record
        state["known_ids"] = reconcile.encode_known(outcome.known)
        if outcome.deleted or outcome.changed:
            logger.info(
                "stream %s, business %s: %d deleted, %d changed silently",
                self.name,
                business_id,
                len(outcome.deleted),
                len(outcome.changed),
            )

    @property
    def tracks_silent_changes(self) -> bool:
        """Whether entities whose fingerprint moved are re-read (invoices: OVERDUE, payments)."""
        return self.fingerprint is not reconcile.no_fingerprint and self.wave.reread_open_invoices

    def deletion_record(self, business_id: str, entity_id: str, deleted_at: str) -> dict:
        record = {
            "business_id": business_id,
            "id": entity_id,
            "_sdc_deleted_at": deleted_at,
            "modified_at": None,
        }
        if self.deletion_status:
            record["status"] = self.deletion_status
        self.stats.records += 1
        return record

    def reread(self, business_id: str, entity_ids: Iterable[str]) -> Iterator[dict]:
        """Read single entities again (only invoices need it)."""
        return iter(())

    def read_one(self, business_id: str, entity_id: str) -> dict | None:
        """The entity read again by id, shaped; None if Wave no longer has it."""
        try:
            data = self.wave.client.execute(
                queries.document(self.entity_query),
                {"businessId": business_id, "id": entity_id},
                operation=f"{self.entity_query} {entity_id} of business {business_id}",
                stats=self.stats,
            )
        except NotFound as missing:
            if missing.paths and all(len(path) > 1 for path in missing.paths):
                logger.info(
                    "%s %s of business %s is gone from Wave; not re-read",
                    self.entity_query,
                    entity_id,
                    business_id,
                )
                return None
            raise  # the business itself (or the request) is wrong
        node = (data.get("business") or {}).get(self.entity_query)
        return None if node is None else self.to_record(node, business_id)


class BusinessesStream(WaveStream):
    """Every business of the run (the token's, or those listed in `business_ids`)."""

    name = "businesses"
    primary_keys = ("business_id",)
    replication_key = None
    schema = schemas.BUSINESSES

    @property
    def partitions(self) -> None:
        return None

    def get_records(self, context: Any) -> Iterator[dict[str, Any]]:
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
    schema = schemas.CUSTOMERS
    id_pass = "customer_ids"
    entity_query = "customer"
    event_entities = ("customer",)


class VendorsStream(WaveStream):
    name = "vendors"
    query_name = "vendors"
    connection = "vendors"
    schema = schemas.VENDORS


class ProductsStream(WaveStream):
    name = "products"
    query_name = "products"
    connection = "products"
    schema = schemas.PRODUCTS
    entity_query = "product"
    event_entities = ("product",)


class AccountsStream(WaveStream):
    name = "accounts"
    query_name = "accounts"
    connection = "accounts"
    schema = schemas.ACCOUNTS
    replication_key = None  # Wave's Account has no modifiedAt


class SalesTaxesStream(WaveStream):
    name = "sales_taxes"
    query_name = "sales_taxes"
    connection = "salesTaxes"
    schema = schemas.SALES_TAXES


class InvoicesStream(WaveStream):
    name = "invoices"
    query_name = "invoices"
    connection = "invoices"
    schema = schemas.INVOICES
    id_pass = "invoice_ids"
    deletion_status = "DELETED"
    fingerprint = staticmethod(reconcile.invoice_fingerprint)
    entity_query = "invoice"
    event_entities = ("invoice", "payment")

    def reread(self, business_id: str, entity_ids: Iterable[str]) -> Iterator[dict]:
        for invoice_id in entity_ids:
            record = self.read_one(business_id, invoice_id)
            if record is not None:  # deleted since the id pass: the next run records it
                yield record


class EstimatesStream(WaveStream):
    name = "estimates"
    query_name = "estimates"
    connection = "estimates"
    schema = schemas.ESTIMATES
    id_pass = "estimate_ids"
    deletion_status = "DELETED"
    entity_query = "estimate"
    event_entities = ("estimate",)


class EventSourcedStream(WaveStream):
    """A stream read from the relay's event store only (nothing to read back from Wave).

    Never a full table: each run sends only new events, so it must not retire earlier rows.
    """

    replication_key = None
    emit_activate_version_messages = False

    def get_records(self, context: Any) -> Iterator[dict[str, Any]]:
        if not context:
            return
        for event in events.stored_events(self, context):
            record = self.event_record(event)
            if record is not None:
                self.stats.records += 1
                yield record
            events.handled(self, context, event)

    def event_record(self, event: StoredEvent) -> dict[str, Any] | None:
        raise NotImplementedError


class WebhookEventsStream(EventSourcedStream):
    """Every authentic webhook, as the relay received it."""

    name = "webhook_events"
    schema = schemas.WEBHOOK_EVENTS

    def event_record(self, event: StoredEvent) -> dict[str, Any]:
        return events.webhook_event_record(event)


class TransactionsStream(EventSourcedStream):
    """Money transactions from `transaction.created` events (Wave cannot read them back)."""

    name = "transactions"
    schema = schemas.TRANSACTIONS

    def event_record(self, event: StoredEvent) -> dict[str, Any] | None:
        if event.type != events.TRANSACTION_CREATED:
            return None
        return events.transaction_record(event, self.schema)


STREAM_TYPES: tuple[type[WaveStream], ...] = (
    BusinessesStream,
    CustomersStream,
    VendorsStream,
    ProductsStream,
    AccountsStream,
    SalesTaxesStream,
    InvoicesStream,
    EstimatesStream,
    TransactionsStream,
    WebhookEventsStream,
)
