"""Faults injected on demand: HTTP 503/429 on the warehouse endpoint, Delta write conflicts, and
OAuth token expiry. Counters count down as requests and writes consume them.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

FAULT_FIELDS = ("http_503", "http_429", "concurrent_append", "metadata_changed")


@dataclass
class FaultCounters:
    http_503: int = 0  # next N warehouse (Thrift) requests answer 503 Service Unavailable
    http_429: int = 0  # next N warehouse requests answer 429 Too Many Requests
    concurrent_append: int = 0  # next N writes fail with DELTA_CONCURRENT_APPEND
    metadata_changed: int = 0  # next N writes fail with DELTA_METADATA_CHANGED


class Faults:
    """Thread-safe fault counters."""

    def __init__(self, **initial: int):
        self._lock = threading.Lock()
        self._counters = FaultCounters(**initial)

    def set(self, **changes: int) -> dict:
        unknown = set(changes) - set(FAULT_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown fault(s) {sorted(unknown)}; known faults: {list(FAULT_FIELDS)}"
            )
        with self._lock:
            for name, value in changes.items():
                if not isinstance(value, int) or value < 0:
                    raise ValueError(f"fault {name} must be a non-negative integer, got {value!r}")
                setattr(self._counters, name, value)
            return asdict(self._counters)

    def snapshot(self) -> dict:
        with self._lock:
            return asdict(self._counters)

    def take_http_status(self) -> int | None:
        """The HTTP status the next warehouse request must fail with, if any (consumes one)."""
        with self._lock:
            for name, status in (("http_503", 503), ("http_429", 429)):
                if getattr(self._counters, name) > 0:
                    setattr(self._counters, name, getattr(self._counters, name) - 1)
                    return status
        return None

    def take_write_conflict(self) -> str | None:
        """``concurrent_append`` / ``metadata_changed`` if the next write must fail (consumes one)."""
        with self._lock:
            for name in ("concurrent_append", "metadata_changed"):
                if getattr(self._counters, name) > 0:
                    setattr(self._counters, name, getattr(self._counters, name) - 1)
                    return name
        return None
