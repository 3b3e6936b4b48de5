"""How a stream reads: the base classes every stream of streams.py declares itself on.

Per-business streams are partitioned by `business_id` (one bookmark per business). Streams Wave
can filter by `modifiedAt` read the window [bookmark or start_date, sync start) and, once a
business is done, bookmark the window's end; the others (`accounts`, `businesses`) are read in
full. Streams with an id pass (customers, estimates, invoices) then emit deletions, and
invoices whose status or payments changed silently, per reconcile.py.

In `sync_mode: events` (a relay run) every stream with webhook entities emits only the entities
the relay's new events name, re-read by id or recorded as deleted (events.py says what each event
asks); `EventSourcedStream`s (`webhook_events`, `transactions`) come from the event store only.
Every write to a partition's state goes through partition_state.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from singer_sdk import Stream, Tap
from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_wave import events, queries, reconcile
from tap_wave.client import RequestStats, WindowShifted
from tap_wave.connection import WaveConnection
from tap_wave.errors import NotFound
from tap_wave.event_store import StoredEvent
from tap_wave.partition_state import KnownIds, PartitionState
from tap_wave.shaping import conform, shape

logger = logging.getLogger("tap-wave")
WINDOW_ATTEMPTS = 3

Record = dict[str, Any]
Fingerprint = Callable[[Mapping[str, Any]], str]
DocumentKind = Literal["query_name", "id_pass", "entity_query"]


def wave_datetime(moment: datetime) -> str:
    """Wave's DateTime form: UTC, milliseconds, `Z`."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


class WaveStream(Stream):
    """A stream read page by page from one connection under `business(id:)`.

    Its facts are class attributes: whatever else needs them (the `--test` scope check, the
    test harness, the webhook relay's targeting table) derives them from the classes.
    """

    name: str
    query_name: ClassVar[str | None] = None
    """File in tap_wave/queries/ holding the stream's list query (None: not read from Wave)."""
    connection: ClassVar[str] = ""
    """Field of Business holding the connection (`customers`, `salesTaxes`, ...)."""
    scope: ClassVar[str | None] = None
    """The OAuth scope reading the stream needs (Wave's `resource:operation` names)."""
    primary_keys: ClassVar[tuple[str, ...]] = ("business_id", "id")
    replication_key: ClassVar[str | None] = "modified_at"
    is_sorted = False  # re-read and deleted records follow the window's records
    id_pass: ClassVar[str | None] = None
    """File of the id-only query used to reconcile deletes (None: no reconciliation)."""
    deletion_status: ClassVar[str | None] = None
    """`status` of a deletion record (None: the stream has no status)."""
    fingerprint: ClassVar[Fingerprint | None] = None
    """What the id pass compares to find silent changes (None: existence only)."""
    entity_query: ClassVar[str | None] = None
    """File (and Business field) reading one entity by id, for re-reads."""
    event_entities: ClassVar[tuple[str, ...]] = ()
    """Webhook entities (event type prefixes) naming this stream's entities, its own first:
    `payment.*` events name their invoice (`data.object.invoiceId`)."""
    event_types: ClassVar[tuple[str, ...]] = ()
    """Whole webhook event types the stream is made from (event-sourced streams)."""

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        self._wave_tap = tap
        self.stats = RequestStats()

    @property
    def wave(self) -> WaveConnection:
        """The run's connection to Wave, which the tap holds (built on first use)."""
        connection = getattr(self._wave_tap, "wave", None)
        if not isinstance(connection, WaveConnection):
            msg = f"stream {self.name} needs tap-wave's tap (its `wave` connection)"
            raise TypeError(msg)
        return connection

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
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

    @override
    def log_sync_costs(self) -> None:
        """Once the run is over, what each stream it synced cost (singer-sdk's hook for it)."""
        if not self.selected:
            return
        logger.info(
            "stream %s: %d records, %d requests, %d retries",
            self.name,
            self.stats.records,
            self.stats.requests,
            self.stats.retries,
        )

    def partition_state(self, context: Context) -> PartitionState:
        return PartitionState(self.get_context_state(context))

    @override
    def get_records(self, context: Context | None) -> Iterator[Record]:
        if not context:  # the run has no business (none visible, or no events)
            return
        if self.wave.events_mode:
            if self.event_entities:
                yield from self.event_entity_records(context)
            return
        business_id = context["business_id"]
        variables: dict[str, Any] = {"businessId": business_id}
        if self.replication_key:
            start = self.get_starting_timestamp(context)
            if start is not None:
                variables["modifiedAtAfter"] = wave_datetime(start)
            variables["modifiedAtBefore"] = wave_datetime(self.wave.sync_started_at)
        emitted: KnownIds = {}
        newest: str | None = None
        for node in self.read_window(business_id, variables, emitted):
            record = self.to_record(node, business_id)
            newest = max(newest or "", record.get("modified_at") or "") or None
            yield record
        if self.id_pass and (self.wave.reconcile_deletes or self.tracks_silent_changes):
            yield from self.reconcile_business(context, emitted)
        if self.replication_key:
            # Records re-read or deleted after the window never move the bookmark.
            self.partition_state(context).bookmark(self.replication_key, newest)

    def read_window(
        self, business_id: str, variables: dict[str, Any], emitted: KnownIds
    ) -> Iterator[dict[str, Any]]:
        """Every node of the window once, read again if records left it while paging."""
        operation = f"{self.name} of business {business_id}"
        for attempt in range(1, WINDOW_ATTEMPTS + 1):
            try:
                for node in self.wave.client.paginate(
                    queries.document(self.document_name("query_name")),
                    variables,
                    connection=("business", self.connection),
                    page_size=self.wave.page_size,
                    operation=operation,
                    stats=self.stats,
                ):
                    if node["id"] not in emitted:
                        emitted[node["id"]] = self.fingerprint_of(node)
                        yield node
                return
            except WindowShifted as shift:
                logger.warning(
                    "%s (pass %d of %d); reading the window again", shift, attempt, WINDOW_ATTEMPTS
                )
        logger.warning("%s: records kept changing while paging; the next run reads them", operation)

    @classmethod
    def document_name(cls, kind: DocumentKind) -> str:
        """The file of the stream's `kind` of query, which what it is asked to do needs."""
        name = getattr(cls, kind)
        if not isinstance(name, str) or not name:
            msg = f"stream {cls.name} ({cls.__name__}) declares no {kind}"
            raise TypeError(msg)
        return name

    def to_record(self, node: Mapping[str, Any], business_id: str) -> Record:
        record = shape(node)
        record["business_id"] = business_id
        self.stats.records += 1
        return conform(record, self.schema)

    def reconcile_business(self, context: Context, emitted: KnownIds) -> Iterator[Record]:
        business_id = context["business_id"]
        state = self.partition_state(context)
        previous = state.known_ids
        if previous is None and self.get_starting_timestamp(context) is None:
            state.known_ids = emitted  # a full read lists everything
            return
        listed = (
            (node["id"], self.fingerprint_of(node))
            for node in self.wave.client.paginate(
                queries.document(self.document_name("id_pass")),
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
        for entity_id in outcome.changed:  # only invoices change silently
            record = self.read_one(business_id, entity_id)
            if record is not None:  # deleted since the id pass: the next run records it
                outcome.known[record["id"]] = self.fingerprint_of(record)
                yield record
        state.known_ids = outcome.known
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
        return type(self).fingerprint is not None and self.wave.reread_open_invoices

    def fingerprint_of(self, node: Mapping[str, Any]) -> str:
        """The node's fingerprint ("" when only existence is tracked)."""
        fingerprint = type(self).fingerprint
        return "" if fingerprint is None else fingerprint(node)

    def deletion_record(self, business_id: str, entity_id: str, deleted_at: str) -> Record:
        record: Record = {
            "business_id": business_id,
            "id": entity_id,
            "_sdc_deleted_at": deleted_at,
            "modified_at": None,
        }
        if self.deletion_status:
            record["status"] = self.deletion_status
        self.stats.records += 1
        return record

    def read_one(self, business_id: str, entity_id: str) -> Record | None:
        """The entity read again by id, shaped; None if Wave no longer has it."""
        entity_query = self.document_name("entity_query")
        try:
            data = self.wave.client.execute(
                queries.document(entity_query),
                {"businessId": business_id, "id": entity_id},
                operation=f"{entity_query} {entity_id} of business {business_id}",
                stats=self.stats,
            )
        except NotFound as missing:
            if missing.paths and all(len(path) > 1 for path in missing.paths):
                logger.info(
                    "%s %s of business %s is gone from Wave; not re-read",
                    entity_query,
                    entity_id,
                    business_id,
                )
                return None
            raise  # the business itself (or the request) is wrong
        node = (data.get("business") or {}).get(entity_query)
        return None if node is None else self.to_record(node, business_id)

    def stored_events(self, context: Context) -> Iterator[StoredEvent]:
        """The business's events after the stream's bookmark, up to the run's bound, in order."""
        store = self.wave.events
        if store is None:
            return iter(())
        return store.events(context["business_id"], self.partition_state(context).events_seq)

    def event_entity_records(self, context: Context) -> Iterator[Record]:
        """Events mode: the entities the business's new events name, and nothing else."""
        business_id = context["business_id"]
        stored = list(self.stored_events(context))
        changes = events.entity_changes(stored, self.event_entities)
        skipped = 0
        for entity_id in changes.reread:
            record = self.read_one(business_id, entity_id)
            if record is None:
                skipped += 1
                continue
            yield record
        for entity_id, deleted_at in changes.deleted.items():
            yield self.deletion_record(business_id, entity_id, deleted_at)
        state = self.partition_state(context)
        if stored:
            state.event_handled(stored[-1].seq)
        state.drop_progress_markers()  # the modified_at bookmark stays the daily run's
        if changes.reread or changes.deleted:
            logger.info(
                "stream %s, business %s: %d events -> %d re-read (%d gone meanwhile), %d deleted",
                self.name,
                business_id,
                len(stored),
                len(changes.reread),
                skipped,
                len(changes.deleted),
            )


class EventSourcedStream(WaveStream):
    """A stream read from the relay's event store only (nothing to read back from Wave).

    Never a full table: each run sends only new events, so it must not retire earlier rows.
    """

    replication_key = None

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        return False

    @override
    def get_records(self, context: Context | None) -> Iterator[Record]:
        if not context:
            return
        for event in self.stored_events(context):
            record = self.event_record(event)
            if record is not None:
                self.stats.records += 1
                yield record
            # Past the event once the records it gave are yielded: the SDK emits state only
            # after them, so a run cut short resumes at the first event not sent.
            self.partition_state(context).event_handled(event.seq)

    def event_record(self, event: StoredEvent) -> Record | None:
        raise NotImplementedError
