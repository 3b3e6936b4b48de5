"""The relay's durable event store: one SQLite file in WAL mode with synchronous=FULL.

Every statement the relay's receiving and acting run against it lives here (the read-only views
of the status page and the CLI are in views.py). The ``events`` table is the contract with
tap-wave (webhook-relay/README.md, "Store schema"): a relay run's tap reads the events whose
``run_id`` is the run's id; the ``runs`` table records each run the worker started, so that a
restart can tell which runs were cut short. A committed insert is on disk before the HTTP answer
leaves the relay. The file (and its WAL) is created 0600: it holds business data.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webhook_relay.narrowing import Placement

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE,
  business_id  TEXT NOT NULL,
  type         TEXT NOT NULL,
  entity_id    TEXT,
  created_at   TEXT,
  received_at  TEXT NOT NULL,
  body         TEXT NOT NULL,
  state        TEXT NOT NULL DEFAULT 'pending',
  attempts     INTEGER NOT NULL DEFAULT 0,
  done_at      TEXT
);
CREATE TABLE IF NOT EXISTS runs (
  run_id        TEXT PRIMARY KEY,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  status        TEXT NOT NULL,
  business_ids  TEXT NOT NULL,
  streams       TEXT NOT NULL,
  max_seq       INTEGER NOT NULL,
  event_count   INTEGER NOT NULL,
  attempt       INTEGER NOT NULL,
  exit_code     INTEGER
);
"""
# Columns added since the first release (ALTER TABLE on stores written before them).
_ADDED_COLUMNS = {
    "events": (
        ("run_id", "TEXT"),  # the run covering (or that last covered) the event
        ("batch", "TEXT"),  # NULL: fresh; else the narrowed batch it runs in (narrowing.py)
        ("batch_at", "TEXT"),
        ("batch_failures", "INTEGER NOT NULL DEFAULT 0"),
        ("failures", "INTEGER NOT NULL DEFAULT 0"),  # failed runs that covered it
        ("solo_failures", "INTEGER NOT NULL DEFAULT 0"),  # ... alone, with evidence
        ("retry_at", "TEXT"),
        ("first_failed_at", "TEXT"),
        ("last_error", "TEXT"),
        ("quarantined_at", "TEXT"),
        ("quarantine_reason", "TEXT"),
        ("quarantine_log", "TEXT"),
    ),
    "runs": (("kind", "TEXT"), ("error", "TEXT")),
}
_INDEXES = """
CREATE INDEX IF NOT EXISTS events_pending ON events (state, seq);
CREATE INDEX IF NOT EXISTS events_business_seq ON events (business_id, seq);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
"""

# events.state values
PENDING, DONE, QUARANTINED = "pending", "done", "quarantined"
# runs.status values
RUN_RUNNING = "running"
RUN_SUCCEEDED = "succeeded"
RUN_FAILED = "failed"
RUN_INTERRUPTED = "interrupted"

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``, the store's one time format."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    """Read back a timestamp written by ``utc_timestamp``."""
    return datetime.fromisoformat(text)


def _optional_time(text: str | None) -> datetime | None:
    return parse_timestamp(text) if text else None


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


def _pending_event(row: tuple) -> PendingEvent:
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
        _optional_time(batch_at),
        bf,
        failures,
        solo,
        _optional_time(retry),
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
    kind: str = "coalesced"
    seqs: tuple[int, ...] = ()


def _create_private(path: Path) -> None:
    """Create the store's directory (0700) and file (0600) if missing; tighten an existing
    file (and its WAL and shared-memory files, which SQLite creates with the file's mode)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE))
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if companion.stat().st_mode & 0o077:
                companion.chmod(FILE_MODE)


class EventStore:
    """Thread-safe access to the relay's SQLite file (one connection, one lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _create_private(self.path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 10000")
        mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(
                f"event store {self.path}: could not switch to WAL mode (got {mode})"
            )
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.executescript(_SCHEMA)
        self._add_missing_columns()
        self._db.executescript(_INDEXES)

    def _add_missing_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns:
                if name not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self, statements: Iterable[tuple[str, tuple]]) -> list[list[tuple]]:
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

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

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
        return self.query("SELECT count(*) FROM events WHERE state = 'pending'")[0][0]

    def quarantined_count(self) -> int:
        return self.query("SELECT count(*) FROM events WHERE state = 'quarantined'")[0][0]

    def pending_events(self) -> list[PendingEvent]:
        """Every pending event in arrival order."""
        rows = self.query(
            f"SELECT {_PENDING_COLUMNS} FROM events WHERE state = 'pending' ORDER BY seq"
        )
        return [_pending_event(row) for row in rows]

    def probe_event(self, avoid_businesses: Sequence[str]) -> PendingEvent | None:
        """The most recently loaded event, of a business not in ``avoid_businesses`` if any."""
        rows = self.query(
            f"SELECT {_PENDING_COLUMNS} FROM events WHERE state = 'done'"
            " ORDER BY business_id IN (SELECT value FROM json_each(?)), done_at DESC, seq DESC"
            " LIMIT 1",
            (json.dumps(list(avoid_businesses)),),
        )
        return _pending_event(rows[0]) if rows else None

    def last_success(self) -> datetime | None:
        """When the most recent successful run finished."""
        (value,) = self.query(
            "SELECT max(finished_at) FROM runs WHERE status = ?", (RUN_SUCCEEDED,)
        )[0]
        return _optional_time(value)

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
                        RUN_RUNNING,
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
                    "UPDATE events SET attempts = attempts + (state = 'pending'), run_id = ?"
                    " WHERE state IN ('pending', 'done') AND seq IN (SELECT value FROM json_each(?))",
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
        statements = [
            (
                "UPDATE runs SET finished_at = ?, status = ?, exit_code = ?, error = ? WHERE run_id = ?",
                (now, RUN_SUCCEEDED if succeeded else RUN_FAILED, exit_code, error, run.run_id),
            )
        ]
        if succeeded:
            statements.append(
                (
                    "UPDATE events SET state = 'done', done_at = ?, batch = NULL, retry_at = NULL"
                    " WHERE state = 'pending' AND run_id = ? RETURNING received_at",
                    (now, run.run_id),
                )
            )
        else:
            statements.append(
                (
                    "UPDATE events SET failures = failures + 1, last_error = ?,"
                    " first_failed_at = coalesce(first_failed_at, ?)"
                    " WHERE state = 'pending' AND run_id = ?",
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
                "UPDATE events SET state = 'quarantined', quarantined_at = ?,"
                " quarantine_reason = ?, batch = NULL, retry_at = NULL"
                " WHERE seq = ? AND state = 'pending'",
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
                    (RUN_INTERRUPTED, utc_timestamp(), RUN_RUNNING),
                )
            ]
        )
        return len(rows)

    # -- operators ---------------------------------------------------------------------------

    def requeue(self, event_ids: Sequence[str]) -> dict[str, str]:
        """Put quarantined events back to pending as fresh events; returns id -> outcome
        (``requeued``, or the state that prevented it, or ``unknown``)."""
        outcomes: dict[str, str] = {}
        statements = []
        found = dict(
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
                    "UPDATE events SET state = 'pending', batch = NULL, batch_at = NULL,"
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
) -> list[tuple[str, tuple]]:
    statements = []
    for placement in placements:
        seqs = json.dumps(list(placement.seqs))
        statements.append(
            (
                "UPDATE events SET batch = ?, batch_at = ?, batch_failures = ?, retry_at = ?,"
                " solo_failures = solo_failures + ? WHERE state = 'pending'"
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
                    "UPDATE events SET state = 'quarantined', quarantined_at = ?,"
                    " quarantine_reason = 'failed alone ' || solo_failures || ' times; last run '"
                    " || ? || ': ' || coalesce(?, 'failed'), quarantine_log = ?, batch = NULL,"
                    " retry_at = NULL WHERE state = 'pending'"
                    " AND seq IN (SELECT value FROM json_each(?))",
                    (now, run_id or "-", error, log_tail, seqs),
                )
            )
    return statements
