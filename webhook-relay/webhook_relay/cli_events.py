"""``webhook-relay events``: what the store holds, and re-queuing quarantined events.

    webhook-relay events --db PATH                    counts by state
    webhook-relay events --db PATH --quarantined      the quarantined events and why
    webhook-relay events --db PATH --pending          the pending events (failing ones marked)
    webhook-relay events --db PATH show ID            one event: state, reason, its run's log
    webhook-relay events --db PATH retry ID [ID ...]  re-queue quarantined events

``--db`` defaults to ``$WEBHOOK_RELAY_DB`` (set by the Meltano project's ``webhook-relay``
utility). Safe while the relay runs: it picks re-queued events up within seconds. Bodies are never
printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from webhook_relay import views
from webhook_relay.schema import EventState
from webhook_relay.store import EventStore

DB_ENV = "WEBHOOK_RELAY_DB"


class EventsCommandError(Exception):
    """A problem with the command's arguments; the message says what to do."""


def add_events_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = commands.add_parser(
        "events",
        help="list stored events (--quarantined, --pending), show one, re-queue quarantined ones",
    )
    events.add_argument(
        "--db",
        type=Path,
        default=os.environ.get(DB_ENV) or None,
        help=f"the relay's event store (default ${DB_ENV})",
    )
    which = events.add_mutually_exclusive_group()
    which.add_argument("--quarantined", action="store_true", help="list quarantined events")
    which.add_argument("--pending", action="store_true", help="list pending events")
    events.add_argument("--json", action="store_true", help="print JSON")
    actions = events.add_subparsers(dest="action")
    retry = actions.add_parser("retry", help="re-queue quarantined events (by event id)")
    retry.add_argument("ids", nargs="+", metavar="ID")
    show = actions.add_parser("show", help="one event: state, failures, reason, run log")
    show.add_argument("id", metavar="ID")


def _open(db: Path | None) -> EventStore:
    if db is None:
        raise EventsCommandError(f"give the relay's event store with --db (or set ${DB_ENV})")
    if not db.is_file():
        raise EventsCommandError(f"--db {db}: no event store there (the file given to serve --db)")
    return EventStore(db)


def run_events_command(args: argparse.Namespace) -> int:
    try:
        store = _open(args.db)
    except EventsCommandError as problem:
        print(f"webhook-relay events: {problem}", file=sys.stderr)
        return 2
    try:
        if args.action == "retry":
            return _retry(store, args.ids)
        if args.action == "show":
            return _show(store, args.id, args.json)
        if args.quarantined:
            return _list_quarantined(store, args.json)
        if args.pending:
            return _list_pending(store, args.json)
        return _counts(store, args.json)
    finally:
        store.close()


def _retry(store: EventStore, event_ids: list[str]) -> int:
    outcomes = store.requeue(event_ids)
    failed = 0
    for event_id, outcome in outcomes.items():
        if outcome == "requeued":
            print(f"{event_id}: re-queued (pending; the relay runs it within seconds)")
        else:
            failed += 1
            why = "no such event" if outcome == "unknown" else f"not quarantined (it is {outcome})"
            print(f"{event_id}: {why}", file=sys.stderr)
    return 1 if failed else 0


def _show(store: EventStore, event_id: str, as_json: bool) -> int:
    detail = views.event_detail(store, event_id)
    if detail is None:
        print(f"{event_id}: no such event", file=sys.stderr)
        return 1
    if as_json:
        print(views.to_json(detail))
        return 0
    log_text = detail.pop("quarantine_log") or ""
    for name, value in detail.items():
        print(f"{name:18} {'' if value is None else value}")
    if log_text:
        print("\n--- log of the run that quarantined it (tail) ---")
        print(log_text)
    return 0


def _list_quarantined(store: EventStore, as_json: bool) -> int:
    events = views.quarantined_events(store)
    if as_json:
        print(views.to_json([vars(e) for e in events]))
        return 0
    if not events:
        print("no quarantined events")
        return 0
    for e in events:
        print(
            f"{e.id}\t{e.business_id}\t{e.type}\treceived {e.received_at.isoformat()}"
            f"\tfailed runs {e.failures}\trun {e.run_id or '-'}\n    {e.reason or ''}"
        )
    print(f"{len(events)} quarantined; re-queue with: webhook-relay events retry ID [ID ...]")
    return 0


def _list_pending(store: EventStore, as_json: bool) -> int:
    rows = store.query(
        "SELECT id, business_id, type, received_at, failures, last_error FROM events"
        f" WHERE state = '{EventState.PENDING}' ORDER BY seq"
    )
    columns = ("id", "business_id", "type", "received_at", "failures", "last_error")
    events = [dict(zip(columns, row, strict=True)) for row in rows]
    if as_json:
        print(views.to_json(events))
        return 0
    for e in events:
        failing = f"\tfailing ({e['failures']}): {e['last_error']}" if e["failures"] else ""
        print(f"{e['id']}\t{e['business_id']}\t{e['type']}\treceived {e['received_at']}{failing}")
    print(f"{len(events)} pending")
    return 0


def _counts(store: EventStore, as_json: bool) -> int:
    health = views.health(store)
    done = store.count(f"SELECT count(*) FROM events WHERE state = '{EventState.DONE}'")
    counts = {"done": done, **{k: v for k, v in health.items() if k != "status"}}
    if as_json:
        print(views.to_json({"status": health["status"], **counts}))
    else:
        print(f"{health['status']}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0
