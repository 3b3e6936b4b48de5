"""Injected trouble for client tests: rate limiting (429 + Retry-After) and random faults.

``--rate-limit N/SECONDS`` allows N GraphQL requests per fixed window of SECONDS (real time).
``--fault-rate P`` answers a fraction P of requests with 500, 502, 503 or a stalled connection
(held ``stall_seconds`` then answered 504), drawn from ``random.Random(seed)`` so a run with the
same seed and request order fails the same requests. ``--graphql-error-rate P`` answers HTTP 200
with an ``INTERNAL_SERVER_ERROR`` GraphQL error (data null), as Wave occasionally does.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass

FAULT_KINDS = (500, 502, 503, "stall")


@dataclass(frozen=True)
class RateLimit:
    requests: int
    seconds: float

    @classmethod
    def parse(cls, text: str | None) -> RateLimit | None:
        if text in (None, "", "none", "off"):
            return None
        try:
            count, _, seconds = str(text).partition("/")
            limit = cls(int(count), float(seconds or 1))
        except ValueError:
            raise ValueError(
                f"rate limit must look like N/SECONDS (e.g. 60/60); got {text!r}"
            ) from None
        if limit.requests < 1 or limit.seconds <= 0:
            raise ValueError(f"rate limit needs N >= 1 and SECONDS > 0; got {text!r}")
        return limit

    def __str__(self) -> str:
        return f"{self.requests}/{self.seconds:g}"


@dataclass(frozen=True)
class Decision:
    """What to do with one request: proceed, throttle (retry_after) or fail (kind)."""

    throttle_seconds: int | None = None
    fault: int | str | None = None
    graphql_error: bool = False


class FaultInjector:
    def __init__(
        self,
        seed: int,
        rate_limit: RateLimit | None = None,
        fault_rate: float = 0.0,
        stall_seconds: float = 5.0,
        graphql_error_rate: float = 0.0,
    ) -> None:
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()
        self.rate_limit, self.fault_rate = rate_limit, fault_rate
        self.stall_seconds, self.graphql_error_rate = stall_seconds, graphql_error_rate
        self._window_start = 0.0
        self._window_count = 0

    def configure(self, changes: dict) -> dict:
        """Apply ``POST /sandbox/faults`` changes; unknown keys are an error."""
        known = {"rate_limit", "fault_rate", "stall_seconds", "graphql_error_rate"}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
        with self._lock:
            if "rate_limit" in changes:
                self.rate_limit = RateLimit.parse(changes["rate_limit"])
                self._window_start, self._window_count = 0.0, 0
            for key in ("fault_rate", "graphql_error_rate"):
                if key in changes:
                    value = float(changes[key] or 0)
                    if not 0 <= value <= 1:
                        raise ValueError(f"{key} must be between 0 and 1; got {value}")
                    setattr(self, key, value)
            if "stall_seconds" in changes:
                self.stall_seconds = max(0.0, float(changes["stall_seconds"]))
        return self.settings()

    def settings(self) -> dict:
        return {
            "rate_limit": str(self.rate_limit) if self.rate_limit else None,
            "fault_rate": self.fault_rate,
            "stall_seconds": self.stall_seconds,
            "graphql_error_rate": self.graphql_error_rate,
        }

    def decide(self) -> Decision:
        with self._lock:
            limit = self.rate_limit
            if limit is not None:
                now = time.monotonic()
                if now - self._window_start >= limit.seconds:
                    self._window_start, self._window_count = now, 0
                if self._window_count >= limit.requests:
                    wait = self._window_start + limit.seconds - now
                    return Decision(throttle_seconds=max(1, math.ceil(wait)))
                self._window_count += 1
            # Always draw, so the fault sequence depends only on seed and request order.
            draw, kind, error_draw = (
                self._rng.random(),
                self._rng.choice(FAULT_KINDS),
                self._rng.random(),
            )
            if draw < self.fault_rate:
                return Decision(fault=kind)
            if error_draw < self.graphql_error_rate:
                return Decision(graphql_error=True)
            return Decision()
