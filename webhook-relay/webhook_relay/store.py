"""The relay's durable event store: one SQLite file in WAL mode with synchronous=FULL.

Every statement the relay runs against it lives here. The ``events`` table is the contract with
tap-wave (see /work/shared interfaces: the tap reads ``seq > bookmark AND business_id IN (...)``);
the ``runs`` table records each targeted run the worker started, so that a restart can tell which
runs were cut short. A committed insert is on disk before the HTTP answer leaves the relay.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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
CREATE INDEX IF NOT EXISTS events_pending ON events (state, seq);
CREATE INDEX IF NOT EXISTS events_business_seq ON events (business_id, seq);
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

# runs.status values
RUN_RUNNING = "running"
RUN_SUCCEEDED = "succeeded"
RUN_FAILED = "failed"
RUN_INTERRUPTED = "interrupted"


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``, the store's one time format."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    """Read back a timestamp written by ``utc_timestamp``."""
    return datetime.fromisoformat(text)


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


@dataclass(frozen=True)
class RunRecord:
    """A targeted run as the ``runs`` table keeps it."""

    run_id: str
    business_ids: tuple[str, ...]
    streams: tuple[str, ...]
    max_seq: int
    event_count: int
    attempt: int


class EventStore:
    """Thread-safe access to the relay's SQLite file (one connection, one lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
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

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- receiving -------------------------------------------------------------------------

    def insert_event(self, event: IncomingEvent) -> bool:
        """Store the event durably; True if new, False if its id was already stored."""
        (rows,) = self._transaction(
            [
                (
                    "INSERT INTO events (id, business_id, type, entity_id, created_at,"
                    " received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (id) DO NOTHING RETURNING seq",
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
        return self._query("SELECT count(*) FROM events WHERE state = 'pending'")[0][0]

    def pending_window(self) -> tuple[datetime, datetime] | None:
        """Arrival times of the oldest and newest pending events, or None when none is pending."""
        oldest, newest = self._query(
            "SELECT min(received_at), max(received_at) FROM events WHERE state = 'pending'"
        )[0]
        if oldest is None:
            return None
        return parse_timestamp(oldest), parse_timestamp(newest)

    def pending_events(self) -> list[PendingEvent]:
        """Every pending event in arrival order."""
        rows = self._query(
            "SELECT seq, business_id, type, received_at FROM events"
            " WHERE state = 'pending' ORDER BY seq"
        )
        return [PendingEvent(seq, b, t, parse_timestamp(r)) for seq, b, t, r in rows]

    def start_run(self, run: RunRecord) -> None:
        """Record a run as started and count an attempt on each event it covers."""
        self._transaction(
            [
                (
                    "INSERT INTO runs (run_id, started_at, status, business_ids, streams, max_seq,"
                    " event_count, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run.run_id,
                        utc_timestamp(),
                        RUN_RUNNING,
                        json.dumps(list(run.business_ids)),
                        json.dumps(list(run.streams)),
                        run.max_seq,
                        run.event_count,
                        run.attempt,
                    ),
                ),
                (
                    "UPDATE events SET attempts = attempts + 1 WHERE state = 'pending'"
                    " AND seq <= ? AND business_id IN (SELECT value FROM json_each(?))",
                    (run.max_seq, json.dumps(list(run.business_ids))),
                ),
            ]
        )

    def finish_run(self, run: RunRecord, exit_code: int | None) -> list[datetime]:
        """Record how a run ended; on success mark its events done.

        Only events that were pending when the run started (``seq <= max_seq``) and belong to
        its businesses are marked done. Returns their ``received_at`` times (for latency).
        """
        succeeded = exit_code == 0
        statements = [
            (
                "UPDATE runs SET finished_at = ?, status = ?, exit_code = ? WHERE run_id = ?",
                (
                    utc_timestamp(),
                    RUN_SUCCEEDED if succeeded else RUN_FAILED,
                    exit_code,
                    run.run_id,
                ),
            )
        ]
        if succeeded:
            statements.append(
                (
                    "UPDATE events SET state = 'done', done_at = ? WHERE state = 'pending'"
                    " AND seq <= ? AND business_id IN (SELECT value FROM json_each(?))"
                    " RETURNING received_at",
                    (utc_timestamp(), run.max_seq, json.dumps(list(run.business_ids))),
                )
            )
        results = self._transaction(statements)
        return [parse_timestamp(row[0]) for row in results[1]] if succeeded else []

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
