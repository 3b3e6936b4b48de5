"""The relay's durable event store: every statement its receiving, acting and operators run.

The file, its tables and the states they name are schema.py's; the read-only views of the status
page and the CLI are views.py's. A relay run's tap reads the events whose ``run_id`` is the run's
id (webhook-relay/README.md, "Store schema"); the ``runs`` table records each run the worker
started, so that a restart can tell which runs were cut short. Every write is one IMMEDIATE
transaction, committed (synchronous=FULL) before the caller answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webhook_relay.schema import (
    EventState,
    RunKind,
    RunState,
    connect,
    optional_time,
    parse_timestamp,
    utc_timestamp,
)

if TYPE_CHECKING:
    from webhook_relay.narrowing import Placement

Row = tuple[Any, ...]
"""A row as sqlite3 returns it (its columns' types are the schema's, schema.py)."""
Statement = tuple[str, tuple[object, ...]]
"""SQL and its parameters, for ``EventStore._transaction``."""

PENDING, DONE, QUARANTINED = EventState.PENDING, EventState.DONE, EventState.QUARANTINED


@dataclass(frozen=True)
class IncomingEvent:
    """An authentic event, ready to be stored (``body`` is the raw request body as UTF-8)."""

    id: str
    business_id: str
    type: str
    entity_id: str | None
    created_at: str | None
    body: str


@dataclass(frozen=True)
class PendingEvent:
    """What the worker needs to know of a pending event to plan a run."""

    seq: int
    business_id: str
    type: str
    received_at: datetime
    id: str = ""
    entity_id: str | None = None
    batch: str | None = None
    batch_at: datetime | None = None
    batch_failures: int = 0
    failures: int = 0
    solo_failures: int = 0
    retry_at: datetime | None = None


_PENDING_COLUMNS = (
    "seq, business_id, type, received_at, id, entity_id, batch, batch_at,"
    " batch_failures, failures, solo_failures, retry_at"
)


def _pending_event(row: Row) -> PendingEvent:
    seq, business, kind, received, event_id, entity, batch, batch_at, bf, failures, solo, retry = (
        row
    )
    return PendingEvent(
        seq,
        business,
        kind,
        parse_timestamp(received),
        event_id,
        entity,
        batch,
        optional_time(batch_at),
        bf,
        failures,
        solo,
        optional_time(retry),
    )


@dataclass(frozen=True)
class RunRecord:
    """A targeted run as the ``runs`` table keeps it."""

    run_id: str
    business_ids: tuple[str, ...]
    streams: tuple[str, ...]
    max_seq: int
    event_count: int
    attempt: int
    kind: RunKind = RunKind.COALESCED
    seqs: tuple[int, ...] = ()


class EventStore:
    """Thread-safe access to the relay's SQLite file (one connection, one lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = connect(self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self, statements: Iterable[Statement]) -> list[list[Row]]:
        """Run statements in one IMMEDIATE transaction; return each statement's rows."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                results = [self._db.execute(sql, params).fetchall() for sql, params in statements]
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return results

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[Row]:
        with self._lock:
            rows: list[Row] = self._db.execute(sql, params).fetchall()
            return rows

    def count(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """The one number ``sql`` selects (a ``count(*)``, say)."""
        ((value,),) = self.query(sql, params)
        return int(value)

    # -- receiving -------------------------------------------------------------------------

    def insert_event(self, event: IncomingEvent) -> bool:
        """Store the event durably; True if new, False if its id was already stored."""
        (rows,) = self._transaction(
            [
                (
                    "INSERT INTO events (id, business_id, type, entity_id, created_at, received_at, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq",
                    (
                        event.id,
                        event.business_id,
                        event.type,
                        event.entity_id,
                        event.created_at,
                        utc_timestamp(),
                        event.body,
                    ),
                )
            ]
        )
        return bool(rows)

    # -- acting ------------------------------------------------------------------------------

    def pending_count(self) -> int:
        return self.count(f"SELECT count(*) FROM events WHERE state = '{PENDING}'")

    def quarantined_count(self) -> int:
        return self.count(f"SELECT count(*) FROM events WHERE state = '{QUARANTINED}'")

    def pending_events(self) -> list[PendingEvent]:
        """Every pending event in arrival order."""
        rows = self.query(
            f"SELECT {_PENDING_COLUMNS} FROM events WHERE state = '{PENDING}' ORDER BY seq"
        )
        return [_pending_event(row) for row in rows]

    def probe_event(self, avoid_businesses: Sequence[str]) -> PendingEvent | None:
        """The most recently loaded event, of a business not in ``avoid_businesses`` if any."""
        rows = self.query(
            f"SELECT {_PENDING_COLUMNS} FROM events WHERE state = '{DONE}'"
            " ORDER BY business_id IN (SELECT value FROM json_each(?)), done_at DESC, seq DESC"
            " LIMIT 1",
            (json.dumps(list(avoid_businesses)),),
        )
        return _pending_event(rows[0]) if rows else None

    def last_success(self) -> datetime | None:
        """When the most recent successful run finished."""
        (value,) = self.query(
            "SELECT max(finished_at) FROM runs WHERE status = ?", (RunState.SUCCEEDED,)
        )[0]
        return optional_time(value)

    def start_run(self, run: RunRecord) -> None:
        """Record a run as started; its events get its id and count an attempt."""
        self._transaction(
            [
                (
                    "INSERT INTO runs (run_id, started_at, status, business_ids, streams, max_seq,"
                    " event_count, attempt, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run.run_id,
                        utc_timestamp(),
                        RunState.RUNNING,
                        json.dumps(list(run.business_ids)),
                        json.dumps(list(run.streams)),
                        run.max_seq,
                        run.event_count,
                        run.attempt,
                        run.kind,
                    ),
                ),
                (
                    # A probe (narrowing.py) runs an event that is done: the tap reads it by run id.
                    f"UPDATE events SET attempts = attempts + (state = '{PENDING}'), run_id = ?"
                    f" WHERE state IN ('{PENDING}', '{DONE}')"
                    " AND seq IN (SELECT value FROM json_each(?))",
                    (run.run_id, json.dumps(list(run.seqs))),
                ),
            ]
        )

    def finish_run(
        self,
        run: RunRecord,
        exit_code: int | None,
        error: str | None = None,
        placements: Sequence[Placement] = (),
        log_tail: str = "",
    ) -> list[datetime]:
        """Record how a run ended, in one transaction with what becomes of its events.

        Success: the run's events (still pending) are done; returns their ``received_at``.
        Failure: each counts a failure and goes where ``placements`` say (narrowing.py).
        """
        now = utc_timestamp()
        succeeded = exit_code == 0
        status = RunState.SUCCEEDED if succeeded else RunState.FAILED
        statements: list[Statement] = [
            (
                "UPDATE runs SET finished_at = ?, status = ?, exit_code = ?, error = ? WHERE run_id = ?",
                (now, status, exit_code, error, run.run_id),
            )
        ]
        if succeeded:
            statements.append(
                (
                    f"UPDATE events SET state = '{DONE}', done_at = ?, batch = NULL, retry_at = NULL"
                    f" WHERE state = '{PENDING}' AND run_id = ? RETURNING received_at",
                    (now, run.run_id),
                )
            )
        else:
            statements.append(
                (
                    "UPDATE events SET failures = failures + 1, last_error = ?,"
                    " first_failed_at = coalesce(first_failed_at, ?)"
                    f" WHERE state = '{PENDING}' AND run_id = ?",
                    (error, now, run.run_id),
                )
            )
            statements.extend(_placement_statements(placements, now, run.run_id, error, log_tail))
        results = self._transaction(statements)
        return [parse_timestamp(row[0]) for row in results[1]] if succeeded else []

    def place(self, placements: Sequence[Placement]) -> None:
        """Move events into new batches without a run (a batch split before running it)."""
        self._transaction(_placement_statements(placements, utc_timestamp(), None, None, ""))

    def quarantine_invalid(self, reasons: dict[int, str]) -> None:
        """Quarantine pending events no run can be started for (e.g. stored by an older relay
        before the door checked them), each with its reason."""
        now = utc_timestamp()
        self._transaction(
            (
                f"UPDATE events SET state = '{QUARANTINED}', quarantined_at = ?,"
                " quarantine_reason = ?, batch = NULL, retry_at = NULL"
                f" WHERE seq = ? AND state = '{PENDING}'",
                (now, reason, seq),
            )
            for seq, reason in reasons.items()
        )

    def interrupt_unfinished_runs(self) -> int:
        """Mark runs left ``running`` by a previous relay process as interrupted."""
        (rows,) = self._transaction(
            [
                (
                    "UPDATE runs SET status = ?, finished_at = ? WHERE status = ? RETURNING run_id",
                    (RunState.INTERRUPTED, utc_timestamp(), RunState.RUNNING),
                )
            ]
        )
        return len(rows)

    # -- operators ---------------------------------------------------------------------------

    def requeue(self, event_ids: Sequence[str]) -> dict[str, str]:
        """Put quarantined events back to pending as fresh events; returns id -> outcome
        (``requeued``, or the state that prevented it, or ``unknown``)."""
        outcomes: dict[str, str] = {}
        statements: list[Statement] = []
        found: dict[str, str] = dict(
            self.query(
                "SELECT id, state FROM events WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(event_ids)),),
            )
        )
        for event_id in event_ids:
            state = found.get(event_id)
            if state != QUARANTINED:
                outcomes[event_id] = state or "unknown"
                continue
            outcomes[event_id] = "requeued"
            statements.append(
                (
                    f"UPDATE events SET state = '{PENDING}', batch = NULL, batch_at = NULL,"
                    " batch_failures = 0, failures = 0, solo_failures = 0, retry_at = NULL,"
                    " first_failed_at = NULL, quarantined_at = NULL, quarantine_reason = NULL"
                    " WHERE id = ? AND state = ?",
                    (event_id, QUARANTINED),
                )
            )
        if statements:
            self._transaction(statements)
        return outcomes


def _placement_statements(
    placements: Iterable[Placement],
    now: str,
    run_id: str | None,
    error: str | None,
    log_tail: str,
) -> list[Statement]:
    statements: list[Statement] = []
    for placement in placements:
        seqs = json.dumps(list(placement.seqs))
        statements.append(
            (
                "UPDATE events SET batch = ?, batch_at = ?, batch_failures = ?, retry_at = ?,"
                f" solo_failures = solo_failures + ? WHERE state = '{PENDING}'"
                " AND seq IN (SELECT value FROM json_each(?))",
                (
                    placement.batch,
                    utc_timestamp(placement.batch_at),
                    placement.batch_failures,
                    utc_timestamp(placement.retry_at),
                    int(placement.solo_failure),
                    seqs,
                ),
            )
        )
        if placement.quarantine:
            statements.append(
                (
                    f"UPDATE events SET state = '{QUARANTINED}', quarantined_at = ?,"
                    " quarantine_reason = 'failed alone ' || solo_failures || ' times; last run '"
                    " || ? || ': ' || coalesce(?, 'failed'), quarantine_log = ?, batch = NULL,"
                    f" retry_at = NULL WHERE state = '{PENDING}'"
                    " AND seq IN (SELECT value FROM json_each(?))",
                    (now, run_id or "-", error, log_tail, seqs),
                )
            )
    return statements
