"""The log of statements the warehouse executed, for tests that count or inspect them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime


class StatementLog:
    """Append-only list of executed statements (cleared by ``reset``)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._seq = 0

    def record(self, *, session_id: str, statement: str, kind: str, parameters: list[dict],
               status: str, error: str | None, rows: int | None, duration_ms: float) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append({
                "seq": self._seq,
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "session_id": session_id,
                "statement": statement,
                "kind": kind,
                "parameters": parameters,
                "status": status,
                "error": error,
                "rows": rows,
                "duration_ms": round(duration_ms, 3),
            })

    def entries(self, since: int = 0) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > since]

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._entries)
            self._entries.clear()
            return cleared
