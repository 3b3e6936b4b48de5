"""The log of statements the warehouse executed, for tests and benches that count or inspect
them: what ran; how it ended (for a write, Databricks' counts in ``counts``:
``num_affected_rows``, and for a MERGE ``num_updated_rows``, ``num_inserted_rows``,
``num_deleted_rows``); when (``started_at``/``finished_at``, so that a bench can tell which
statements overlapped); and the modelled latency it waited (``latency_kind``, ``latency_ms``:
latency.py, included in ``duration_ms``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime


class StatementLog:
    """Append-only list of executed statements (cleared by ``reset``)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._seq = 0

    def record(
        self,
        *,
        session_id: str,
        statement: str,
        kind: str,
        parameters: list[dict],
        status: str,
        error: str | None,
        rows: int | None,
        duration_ms: float,
        latency_kind: str = "query",
        latency_ms: float = 0.0,
        started_at: float | None = None,
        counts: dict | None = None,
    ) -> None:
        finished = datetime.now(UTC)
        started = datetime.fromtimestamp(started_at, UTC) if started_at is not None else finished
        with self._lock:
            self._seq += 1
            self._entries.append(
                {
                    "seq": self._seq,
                    "timestamp": finished.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "started_at": _iso(started),
                    "finished_at": _iso(finished),
                    "session_id": session_id,
                    "statement": statement,
                    "kind": kind,
                    "parameters": parameters,
                    "status": status,
                    "error": error,
                    "rows": rows,
                    "counts": counts,
                    "duration_ms": round(duration_ms, 3),
                    "latency_kind": latency_kind,
                    "latency_ms": round(latency_ms, 3),
                }
            )

    def entries(self, since: int = 0) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > since]

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._entries)
            self._entries.clear()
            return cleared


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
