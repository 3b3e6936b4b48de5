"""Which Databricks failures are worth retrying, and how long to wait between attempts.

Every failure retried here is one where the statement did not take effect, so running the same
statement again is exact (no audit count is added twice):

- `conflict`: a Delta write conflict (`DELTA_CONCURRENT_*`, `DELTA_METADATA_CHANGED`,
  `DELTA_PROTOCOL_CHANGED`): the commit was refused; the MERGE's newer-wins guard would make a
  rerun safe anyway.
- `throttled`: HTTP 429/503 that outlasted the connector's own retries (it retries those for
  `ExecuteStatement`, the request was refused before running).
- `token`: the workspace refused an OAuth token (expired or revoked before the SDK noticed):
  renew the credentials, reconnect, run the statement again.

HTTP refusals count only when they answered the request submitting the statement: one met while
polling a submitted statement may come after the statement ran.

Anything else (SQL errors, a connection lost mid-statement, a refused personal access token) is
not retried: it ends the run with one clear error.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from databricks.sql.exc import RequestError, ServerOperationError

CONFLICT_MARKERS = (
    "DELTA_CONCURRENT_",
    "DELTA_METADATA_CHANGED",
    "DELTA_PROTOCOL_CHANGED",
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "MetadataChangedException",
    "ProtocolChangedException",
)
THROTTLE_MARKERS = ("429", "503", "Retry request would exceed", "TEMPORARILY_UNAVAILABLE")


def http_code(exc: BaseException) -> int | None:
    context = getattr(exc, "context", None) or {}
    code = context.get("http-code")
    return code if isinstance(code, int) else None


def classify(exc: BaseException, oauth: bool) -> str | None:
    """`conflict`, `throttled`, `token`, or None (not transient)."""
    text = str(exc)
    if isinstance(exc, ServerOperationError):
        return "conflict" if any(m in text for m in CONFLICT_MARKERS) else None
    if isinstance(exc, RequestError):
        context = getattr(exc, "context", None) or {}
        if context.get("method") not in (None, "ExecuteStatement", "OpenSession"):
            return None  # refused while polling a submitted statement: it may have run
        code = http_code(exc)
        if code in (401, 403) or "Invalid access token" in text:
            return "token" if oauth else None
        if code in (429, 503) or any(m in text for m in THROTTLE_MARKERS):
            return "throttled"
    return None


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, bounded by a number of attempts."""

    attempts: int = 6
    base_seconds: float = 0.5
    max_seconds: float = 20.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): half fixed, half
        random, so parallel writers that collided do not collide again in step."""
        ceiling = min(self.max_seconds, self.base_seconds * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def sleep(self, attempt: int) -> None:
        time.sleep(self.delay(attempt))
