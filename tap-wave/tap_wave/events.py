"""What the webhook relay's stored events become: event-sourced records and targeted re-reads.

Each stream that reads the store keeps, per business, the `seq` of the last event it handled
(`events_seq`, partition_state.py) and reads the business's later events up to the run's bound
(event_store.py; the reading is wave_stream.py's). The events then become:

- `webhook_events`: every authentic event as received (the raw body kept as JSON text);
- `transactions`: the object of each `transaction.created`, shaped like every other record (Wave
  cannot read transactions back: the event is their only source);
- in `sync_mode: events` (the relay's runs), for each entity stream only what the events name:
  `<entity>.deleted` -> a deletion record (`_sdc_deleted_at`; status DELETED for invoices and
  estimates); any other type -> the entity re-read by id, once however many events name it
  (`payment.*` -> its invoice, `data.object.invoiceId`). An entity Wave no longer has is skipped:
  its deletion event (or the daily reconciliation) records it. Modified-at bookmarks are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tap_wave.event_store import StoredEvent
from tap_wave.shaping import conform, shape

logger = logging.getLogger("tap-wave.events")

TRANSACTION_CREATED = "transaction.created"
DELETED = "deleted"


def wave_timestamp(event: StoredEvent) -> str | None:
    """The event's `createdAt` if it is a timestamp (the raw body keeps it either way)."""
    if event.created_at:
        try:
            datetime.fromisoformat(event.created_at)
        except ValueError:
            logger.warning("event %s: createdAt %r is not a timestamp", event.id, event.created_at)
        else:
            return event.created_at
    return None


def event_time(event: StoredEvent) -> str:
    """When the event happened: its `createdAt`, else when the relay received it."""
    return wave_timestamp(event) or event.received_at


def webhook_event_record(event: StoredEvent) -> dict[str, Any]:
    """A `webhook_events` record: the event as received, its body as the raw JSON text."""
    return {
        "business_id": event.business_id,
        "id": event.id,
        "type": event.type,
        "entity_id": event.entity_id,
        "created_at": wave_timestamp(event),
        "received_at": event.received_at,
        "relay_seq": event.seq,
        "body": event.body,
        "_sdc_extracted_at": event.received_at,
    }


def transaction_record(event: StoredEvent, schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """A `transactions` record from a `transaction.created` event, or None if it carries none."""
    obj = event.object
    if not obj:
        logger.warning(
            "event %s (transaction.created, business %s) carries no data.object; "
            "no transaction recorded (the event itself is kept in webhook_events)",
            event.id,
            event.business_id,
        )
        return None
    record = shape(obj)
    record["id"] = record.get("id") or event.entity_id
    if not record["id"]:
        logger.warning("event %s: transaction without an id; kept only in webhook_events", event.id)
        return None
    record["business_id"] = event.business_id
    record["received_at"] = record["_sdc_extracted_at"] = event.received_at
    return conform(record, schema)


@dataclass
class EntityChanges:
    """What a batch of events asks of one entity stream."""

    reread: list[str] = field(default_factory=list)
    """Ids to read again from Wave, once each, in order of first mention."""
    deleted: dict[str, str] = field(default_factory=dict)
    """Id -> when it was deleted, for entities whose deletion event arrived."""


def entity_changes(events: Iterable[StoredEvent], entities: tuple[str, ...]) -> EntityChanges:
    """The re-reads and deletions that `events` ask of the stream of `entities[0]`.

    Events of the other `entities` name their parent through `data.object.<entity>Id`
    (`payment.*` -> `invoiceId`). A deleted entity is not re-read: Wave no longer has it.
    """
    primary = entities[0]
    changes = EntityChanges()
    mentioned: dict[str, None] = {}
    for event in events:
        if event.entity not in entities:
            continue
        if event.entity == primary:
            entity_id = event.entity_id
            if entity_id and event.action == DELETED:
                changes.deleted[entity_id] = event_time(event)
                continue
        else:
            entity_id = event.object.get(f"{primary}Id")
        if not entity_id or not isinstance(entity_id, str):
            logger.warning(
                "event %s (%s) names no %s; the next daily run picks up the change",
                event.id,
                event.type,
                primary,
            )
            continue
        mentioned[entity_id] = None
    changes.reread = [i for i in mentioned if i not in changes.deleted]
    return changes
