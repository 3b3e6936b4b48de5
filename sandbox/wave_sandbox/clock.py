"""The sandbox clock: real time shifted by a start instant and by explicit advances.

It starts at real now, or at ``--now``, then runs forward with real time; ``POST /sandbox/clock``
moves it ahead. Token expiry, derived invoice status (OVERDUE) and the ``modifiedAt`` written by
mutations all read this clock, never the machine's.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta


def iso_datetime(moment: datetime) -> str:
    """Wave's DateTime format: ``yyyy-MM-ddThh:mm:ss.sssZ`` in UTC."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(text: str) -> datetime:
    """Parse an ISO-8601 date-time (``Z`` or offset; naive means UTC) into an aware UTC datetime."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class SandboxClock:
    """Monotonic sandbox time: ``start + real elapsed + advanced``."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._started_monotonic = time.monotonic()
        self._advanced = timedelta()
        self._lock = threading.Lock()

    @property
    def start(self) -> datetime:
        return self._start

    def now(self) -> datetime:
        with self._lock:
            elapsed = timedelta(seconds=time.monotonic() - self._started_monotonic)
            return self._start + elapsed + self._advanced

    def now_iso(self) -> str:
        return iso_datetime(self.now())

    def today(self) -> date:
        return self.now().date()

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError(f"the sandbox clock only moves forward; got advance_seconds={seconds}")
        with self._lock:
            self._advanced += timedelta(seconds=seconds)
        return self.now()
