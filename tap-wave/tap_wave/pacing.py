"""How fast the tap talks to Wave: a request limiter and the retry back-off schedule.

Wave publishes no rate limit; its schema declares 60 requests per 60 seconds. The limiter spaces
request starts evenly (`requests_per_minute`) and lets one request run at a time. Retries wait
`Retry-After` when Wave sends it, otherwise an exponential delay with full jitter, capped.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class RequestLimiter:
    """At most `requests_per_minute` request starts per minute, one request at a time."""

    def __init__(
        self,
        requests_per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_minute <= 0:
            msg = f"requests_per_minute must be positive, got {requests_per_minute}"
            raise ValueError(msg)
        self.interval = 60.0 / requests_per_minute
        self._clock = clock
        self._sleep = sleep
        self._next_start = float("-inf")
        self._lock = threading.Lock()

    def __enter__(self) -> RequestLimiter:
        self._lock.acquire()
        wait = self._next_start - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._next_start = self._clock() + self.interval
        return self

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: `max_retries` more tries after the first, waits capped at `max_wait`."""

    max_retries: int = 6
    base_delay: float = 1.0
    max_wait: float = 60.0

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry `retry_number` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait)
        ceiling = min(self.base_delay * 2 ** (retry_number - 1), self.max_wait)
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds form); None if absent or a date."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None
