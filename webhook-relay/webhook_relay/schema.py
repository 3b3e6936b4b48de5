"""The event store's file: its tables, the states they name, its one time format, opening it.

The ``events`` table is the contract with tap-wave (webhook-relay/README.md, "Store schema");
``runs`` records each run the worker started. An event is ``pending``, then ``done`` or
``quarantined`` (``EventState``); a run is ``running``, then ``succeeded``, ``failed`` or
``interrupted`` (``RunState``), of a kind (``RunKind``). Every statement that names a state or a
kind takes it from these enums.
``connect`` opens the file in WAL mode with synchronous=FULL (a committed insert is on disk before
the HTTP answer leaves the relay), creates what is missing and adds the columns that stores written
by an earlier version lack. The file (and its WAL) is 0600 in a 0700 directory: it holds business
data.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class EventState(StrEnum):
    """``events.state``."""

    PENDING = "pending"
    DONE = "done"
    QUARANTINED = "quarantined"


class RunState(StrEnum):
    """``runs.status``."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class RunKind(StrEnum):
    """``runs.kind``: what a run covered (narrowing.py); NULL in stores before kinds, read as
    ``coalesced``."""

    COALESCED = "coalesced"  # the fresh events
    NARROWED = "narrowed"  # a batch of a failed run's events
    SINGLE = "single"  # a batch of one event
    PROBE = "probe"  # an event loaded before, run again to tell an outage from a poison


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE,
  business_id  TEXT NOT NULL,
  type         TEXT NOT NULL,
  entity_id    TEXT,
  created_at   TEXT,
  received_at  TEXT NOT NULL,
  body         TEXT NOT NULL,
  state        TEXT NOT NULL DEFAULT '{EventState.PENDING}',
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


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``, the store's one time format."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    """Read back a timestamp written by ``utc_timestamp``."""
    return datetime.fromisoformat(text)


def optional_time(text: str | None) -> datetime | None:
    """``parse_timestamp`` of a column that may be NULL."""
    return parse_timestamp(text) if text else None


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


def _add_missing_columns(db: sqlite3.Connection) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns:
            if name not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


def connect(path: Path) -> sqlite3.Connection:
    """The store at ``path`` (created private if missing), in autocommit mode, its schema
    current; for one thread at a time (the caller serializes)."""
    _create_private(path)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        (mode,) = db.execute("PRAGMA journal_mode = WAL").fetchone()
        if str(mode).lower() != "wal":
            raise RuntimeError(f"event store {path}: could not switch to WAL mode (got {mode})")
        db.execute("PRAGMA synchronous = FULL")
        db.executescript(_SCHEMA)
        _add_missing_columns(db)
        db.executescript(_INDEXES)
    except BaseException:
        db.close()
        raise
    return db
