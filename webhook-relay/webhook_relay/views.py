"""Read-only views of the store for the status page, /healthz and the CLI.

None of them returns an event body or a run log (except ``event_detail``, for the operator's
CLI): the status page is built from these and shows no more than they give.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from webhook_relay.schema import EventState, RunKind, RunState, optional_time, parse_timestamp
from webhook_relay.store import EventStore

RECENT_RUNS = 50
_FAILED_RUNS_SCANNED = 500


@dataclass(frozen=True)
class BusinessStatus:
    business_id: str
    last_received_at: datetime | None
    pending: int
    failing: int
    quarantined: int
    oldest_pending_at: datetime | None
    last_loaded_at: datetime | None
    last_loaded_run: str | None
    lag_seconds: float | None
    """Of the last run that loaded this business's events: the longest wait among them, from
    arrival at the relay to the end of that run."""
    last_error: str | None
    last_error_at: datetime | None
    last_error_run: str | None


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    event_count: int
    business_count: int
    exit_code: int | None
    error: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class QuarantinedEvent:
    id: str
    business_id: str
    type: str
    received_at: datetime
    quarantined_at: datetime | None
    failures: int
    reason: str | None
    run_id: str | None


def business_statuses(store: EventStore) -> list[BusinessStatus]:
    """One line per business that has events, the ones needing attention first."""
    pending, quarantined, done = EventState.PENDING, EventState.QUARANTINED, EventState.DONE
    counts = store.query(
        f"SELECT business_id, max(received_at), sum(state = '{pending}'),"
        f" sum(state = '{pending}' AND failures > 0), sum(state = '{quarantined}'),"
        f" min(CASE WHEN state = '{pending}' THEN received_at END)"
        " FROM events GROUP BY business_id"
    )
    loads = {
        business: (run_id, done_at, lag)
        for business, run_id, done_at, lag in store.query(
            "WITH last AS (SELECT business_id, max(done_at) AS done_at FROM events"
            f" WHERE state = '{done}' GROUP BY business_id)"
            " SELECT e.business_id, max(e.run_id), last.done_at,"
            " max((julianday(e.done_at) - julianday(e.received_at)) * 86400.0)"
            " FROM events e JOIN last ON e.business_id = last.business_id"
            f" AND e.done_at = last.done_at WHERE e.state = '{done}' GROUP BY e.business_id"
        )
    }
    errors: dict[str, tuple[str, str, str]] = {}
    for business, error, finished_at, run_id in store.query(
        "SELECT j.value, r.error, r.finished_at, r.run_id FROM"
        f" (SELECT * FROM runs WHERE status = '{RunState.FAILED}' ORDER BY started_at DESC LIMIT ?) r,"
        " json_each(r.business_ids) j ORDER BY r.started_at DESC",
        (_FAILED_RUNS_SCANNED,),
    ):
        errors.setdefault(business, (error, finished_at, run_id))
    statuses = []
    for business, received, pending, failing, quarantined, oldest in counts:
        run_id, done_at, lag = loads.get(business, (None, None, None))
        error, error_at, error_run = errors.get(business, (None, None, None))
        statuses.append(
            BusinessStatus(
                business_id=business,
                last_received_at=optional_time(received),
                pending=pending,
                failing=failing,
                quarantined=quarantined,
                oldest_pending_at=optional_time(oldest),
                last_loaded_at=optional_time(done_at),
                last_loaded_run=run_id,
                lag_seconds=lag,
                last_error=error,
                last_error_at=optional_time(error_at),
                last_error_run=error_run,
            )
        )
    statuses.sort(key=lambda s: (-s.quarantined, -s.failing, -s.pending, s.business_id))
    return statuses


def recent_runs(store: EventStore, limit: int = RECENT_RUNS) -> list[RunStatus]:
    rows = store.query(
        f"SELECT run_id, coalesce(kind, '{RunKind.COALESCED}'), status, started_at, finished_at,"
        " event_count, json_array_length(business_ids), exit_code, error"
        " FROM runs ORDER BY started_at DESC LIMIT ?",
        (limit,),
    )
    return [
        RunStatus(
            run_id,
            kind,
            status,
            parse_timestamp(started),
            optional_time(finished),
            events,
            businesses,
            exit_code,
            error,
        )
        for run_id, kind, status, started, finished, events, businesses, exit_code, error in rows
    ]


def quarantined_events(store: EventStore) -> list[QuarantinedEvent]:
    rows = store.query(
        "SELECT id, business_id, type, received_at, quarantined_at, failures, quarantine_reason,"
        f" run_id FROM events WHERE state = '{EventState.QUARANTINED}' ORDER BY seq"
    )
    return [
        QuarantinedEvent(
            event_id,
            business,
            kind,
            parse_timestamp(received),
            optional_time(at),
            failures,
            reason,
            run_id,
        )
        for event_id, business, kind, received, at, failures, reason, run_id in rows
    ]


def run_exists(store: EventStore, run_id: str) -> bool:
    return bool(store.query("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)))


def health(store: EventStore) -> dict[str, object]:
    """``/healthz``: ``ok``, or ``degraded`` while events are quarantined."""
    ((pending, quarantined, failing),) = store.query(  # each count reads the state index only
        f"SELECT (SELECT count(*) FROM events WHERE state = '{EventState.PENDING}'),"
        f" (SELECT count(*) FROM events WHERE state = '{EventState.QUARANTINED}'),"
        f" (SELECT count(*) FROM events WHERE state = '{EventState.PENDING}' AND failures > 0)"
    )
    return {
        "status": "degraded" if quarantined else "ok",
        "pending": pending,
        "failing": failing,
        "quarantined": quarantined,
    }


def event_detail(store: EventStore, event_id: str) -> dict[str, object] | None:
    """Everything the store keeps about one event except its body (for the CLI)."""
    columns = (
        "seq",
        "id",
        "business_id",
        "type",
        "entity_id",
        "received_at",
        "state",
        "attempts",
        "failures",
        "done_at",
        "run_id",
        "last_error",
        "quarantined_at",
        "quarantine_reason",
        "quarantine_log",
    )
    rows = store.query(f"SELECT {', '.join(columns)} FROM events WHERE id = ?", (event_id,))
    return dict(zip(columns, rows[0], strict=True)) if rows else None


def to_json(value: object) -> str:
    """JSON for the CLI: datetimes as ISO text."""
    return json.dumps(
        value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v), indent=2
    )
