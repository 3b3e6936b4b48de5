"""Reading the webhook relay's event store: a SQLite file the relay writes, opened read-only here.

The table is fixed by the project's interfaces (webhook-relay/README.md, "Store schema"):
`events(seq, id, business_id, type, entity_id, created_at, received_at, body, state, run_id, ...)`,
`seq` being the arrival order. The tap never writes to it. A relay run (`WEBHOOK_RELAY_RUN_ID` set,
and the store marks its events with that id) reads exactly the run's events: the relay may run an
older event after newer ones (a batch narrowed after a failed run, an event re-queued from
quarantine), which a bookmark would skip. Any other run reads `seq > bookmark AND business_id = ?`
up to the run's bound, leaving out the events the relay quarantined (they failed every run they
were in; the relay runs them again once an operator re-queues them).
"""

from __future__ import annotations

import contextlib
import decimal
import functools
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tap_wave.errors import ConfigurationError

logger = logging.getLogger("tap-wave.events")

MAX_SEQ_ENV = "WEBHOOK_RELAY_MAX_SEQ"
"""Set by the relay for each run: the newest event (`seq`) the run answers for."""
RUN_ID_ENV = "WEBHOOK_RELAY_RUN_ID"
"""Set by the relay for each run: the store's `events.run_id` of the events the run answers for."""
QUARANTINED = "quarantined"


@dataclass(frozen=True)
class StoredEvent:
    """One authentic webhook as the relay stored it; `body` is the raw request body."""

    seq: int
    id: str
    business_id: str
    type: str
    entity_id: str | None
    created_at: str | None
    received_at: str
    body: str

    @functools.cached_property
    def payload(self) -> dict[str, Any]:
        """The parsed body (numbers as Decimal); {} if it is not a JSON object."""
        try:
            parsed = json.loads(self.body, parse_float=decimal.Decimal)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def entity(self) -> str:
        """`invoice` for `invoice.updated`."""
        return self.type.partition(".")[0]

    @property
    def action(self) -> str:
        """`updated` for `invoice.updated`."""
        return self.type.partition(".")[2]

    @property
    def object(self) -> dict[str, Any]:
        """The event's `data.object` ({} when absent)."""
        data = self.payload.get("data")
        found = data.get("object") if isinstance(data, dict) else None
        return found if isinstance(found, dict) else {}


def read_only_uri(location: str) -> str:
    """A SQLite URI opening `location` (a path or a `file:` URI) read-only."""
    if location.startswith("file:"):
        if "mode=" in location:
            return location
        return location + ("&" if "?" in location else "?") + "mode=ro"
    return f"file:{quote(str(Path(location).expanduser().resolve()))}?mode=ro"


class EventStore:
    """Read-only access to the relay's store for one run, bounded by the run's newest event."""

    def __init__(
        self, location: str, max_seq: int | None = None, run_id: str | None = None
    ) -> None:
        self.location = location
        uri = read_only_uri(location)
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 10000")
            newest = self._db.execute("SELECT max(seq) FROM events").fetchone()[0] or 0
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
        except sqlite3.Error as exc:
            msg = (
                f"events_db {location}: cannot read the relay's event store ({exc}); point "
                "events_db at the file given to `webhook-relay serve --db`"
            )
            raise ConfigurationError(msg) from exc
        self.max_seq = newest if max_seq is None else min(max_seq, newest)
        """Events after this one are left for the next run (they arrived after it started)."""
        self.run_id = run_id if run_id and "run_id" in columns else None
        """A relay run: read exactly the events marked with its id."""
        self._skip = "AND state != 'quarantined'" if "state" in columns else ""

    @classmethod
    def from_settings(cls, location: str) -> EventStore:
        """The store as the relay's run sees it (`WEBHOOK_RELAY_RUN_ID`, `..._MAX_SEQ`)."""
        bound = os.environ.get(MAX_SEQ_ENV, "").strip()
        if bound and not bound.isdigit():
            msg = f"{MAX_SEQ_ENV}={bound!r}: expected the number of the run's newest event"
            raise ConfigurationError(msg)
        run_id = os.environ.get(RUN_ID_ENV, "").strip() or None
        return cls(location, int(bound) if bound else None, run_id)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    def business_ids(self) -> list[str]:
        """Businesses with events of the run (or up to the bound), by their first event."""
        params: tuple[str | int, ...]
        if self.run_id:
            where, params = "run_id = ?", (self.run_id,)
        else:
            where, params = f"seq <= ? {self._skip}", (self.max_seq,)
        rows = self._db.execute(
            f"SELECT business_id FROM events WHERE {where} GROUP BY business_id ORDER BY min(seq)",
            params,
        ).fetchall()
        return [business_id for (business_id,) in rows]

    def events(self, business_id: str, after_seq: int) -> Iterator[StoredEvent]:
        """The business's events of the run, else those with `after_seq < seq <= max_seq`
        that are not quarantined; in arrival order."""
        params: tuple[str | int, ...]
        if self.run_id:
            where, params = "run_id = ?", (business_id, self.run_id)
        else:
            where, params = (
                f"seq > ? AND seq <= ? {self._skip}",
                (business_id, after_seq, self.max_seq),
            )
        cursor = self._db.execute(
            "SELECT seq, id, business_id, type, entity_id, created_at, received_at, body"
            f" FROM events WHERE business_id = ? AND {where} ORDER BY seq",
            params,
        )
        for row in cursor:
            yield StoredEvent(*row)
