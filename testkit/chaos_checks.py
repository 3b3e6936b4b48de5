"""What the chaos runs check once the pipeline has drained: the warehouse against the sandbox.

- `duplicated_rows`: rows sharing a key, in every table of the schema, the key read from the
  warehouse contract (docs/warehouse.md): `business_id`, then `id` for an entity; for a child
  table its parent's id column (`invoice_id`, ...), the parents' line numbers and `line_number`.
- `compare_books`: the sandbox's invoices (with their lines and payments) against the
  warehouse's live ones, with testkit/pipeline.py's readers; and the customers the changes
  created (live, or deleted since) and transactions they created (Wave cannot list those).
- `compare_events`: every webhook the sandbox emitted is stored by the relay once, done, and in
  `webhook_events` once with the body as stored; nothing stored that was not emitted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

from testkit.pipeline import sandbox_invoices, warehouse_invoices, warehouse_rows

if TYPE_CHECKING:
    from wave_sandbox.testing import WaveSandbox

SCHEMA = "wave"


class ChangesMade(Protocol):
    """What the chaos runs changed that Wave cannot list back (bench/chaos_books.BookChanges)."""

    customers: dict[tuple[str, str], tuple[str, bool]]
    """(business_id, id) -> (name, deleted) of every customer created."""
    created_transactions: dict[tuple[str, str], str]
    """(business_id, id) -> amount of every transaction created."""


@dataclass
class Findings:
    """What a check found wrong: each entry names the row or event."""

    lost: list[str] = field(default_factory=list)
    """In the sandbox (or emitted by it), missing from the store or the warehouse."""
    duplicated: list[str] = field(default_factory=list)
    """A key (or event id) held more than once."""
    wrong: list[str] = field(default_factory=list)
    """In both, but different; or in the warehouse and not in the sandbox."""

    def __iadd__(self, other: Findings) -> Findings:
        self.lost += other.lost
        self.duplicated += other.duplicated
        self.wrong += other.wrong
        return self


def rows(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    """A query's rows; none when the warehouse or the table was never written (all lost)."""
    if not warehouse.exists():
        return []
    try:
        return warehouse_rows(warehouse, sql)
    except duckdb.CatalogException:
        return []


def table_key(table: str, columns: list[str]) -> list[str]:
    """The contract's key of `table` (see the module docstring)."""
    if table == "_load_audit":
        return ["load_id", "table_name", "business_id"]
    if "line_number" not in columns:
        return ["business_id", *(["id"] if "id" in columns and table != "businesses" else [])]
    parents = [c for c in columns if c.endswith("_id") and table.startswith(c[:-2])]
    lines = [c for c in columns if c.endswith("line_number")]
    return ["business_id", *parents, *lines]


def duplicated_rows(warehouse: Path) -> list[str]:
    """'table (key) = values xN' for every key held by more than one row, in any table."""
    found: list[str] = []
    if not warehouse.exists():
        return found
    with duckdb.connect(str(warehouse), read_only=True) as db:
        columns: dict[str, list[str]] = {}
        for table, column in db.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
            [SCHEMA],
        ).fetchall():
            columns.setdefault(table, []).append(column)
        for table, names in columns.items():
            key = table_key(table, names)
            listed = ", ".join(f'"{c}"' for c in key)
            for row in db.execute(
                f'SELECT {listed}, count(*) FROM {SCHEMA}."{table}" '
                f"GROUP BY {listed} HAVING count(*) > 1"
            ).fetchall():
                found.append(f"{table} ({', '.join(key)}) = {row[:-1]} x{row[-1]}")
    return found


def compare_books(sandbox: WaveSandbox, warehouse: Path, changes: ChangesMade) -> Findings:
    """The sandbox's books against the warehouse (see the module docstring)."""
    findings = Findings()
    books = sandbox_invoices(sandbox)
    try:
        loaded = warehouse_invoices(warehouse) if warehouse.exists() else {}
    except duckdb.CatalogException:  # no invoice ever loaded
        loaded = {}
    findings.lost += [f"invoice {key}" for key in sorted(books.keys() - loaded.keys())]
    findings.wrong += [
        f"invoice {key} live in the warehouse, not in Wave"
        for key in sorted(loaded.keys() - books.keys())
    ]
    findings.wrong += [
        f"invoice {key}: Wave {books[key]}, warehouse {loaded[key]}"
        for key in sorted(books.keys() & loaded.keys())
        if books[key] != loaded[key]
    ]
    customers = dict(
        ((b, i), (name, deleted))
        for b, i, name, deleted in rows(
            warehouse, f"SELECT business_id, id, name, _is_deleted FROM {SCHEMA}.customers"
        )
    )
    for key, expected in sorted(changes.customers.items()):
        deleted = expected[1]
        if key not in customers:
            if not deleted:  # one created and deleted between two runs may never be seen
                findings.lost.append(f"customer {key}")
        elif customers[key] not in (expected, (None, True) if deleted else expected):
            # (None, True): deleted in Wave before any run could read it, so only the
            # deletion is known
            findings.wrong.append(
                f"customer {key}: (name, deleted) {customers[key]} in the "
                f"warehouse, {expected} in Wave"
            )
    if changes.created_transactions:
        transactions = dict(
            ((b, i), amount)
            for b, i, amount in rows(
                warehouse,
                f"SELECT business_id, id, anchor_amount FROM {SCHEMA}.transactions "
                "WHERE NOT _is_deleted",
            )
        )
        for key, amount in sorted(changes.created_transactions.items()):
            if key not in transactions:
                findings.lost.append(f"transaction {key}")
            elif transactions[key] != Decimal(amount):
                findings.wrong.append(f"transaction {key}: {transactions[key]}, Wave {amount}")
    return findings


def compare_events(
    emitted: list[dict[str, Any]], stored: list[dict[str, Any]], warehouse: Path
) -> Findings:
    """The sandbox's emitted webhooks against the relay's store and `webhook_events`."""
    findings = Findings()
    stored_ids = Counter(event["id"] for event in stored)
    by_id = {event["id"]: event for event in stored}
    loaded: dict[str, list[str]] = {}
    for event_id, body in rows(warehouse, f"SELECT id, body FROM {SCHEMA}.webhook_events"):
        loaded.setdefault(event_id, []).append(body)
    findings.duplicated += [
        f"event {i} stored {n} times" for i, n in sorted(stored_ids.items()) if n > 1
    ]
    findings.duplicated += [
        f"event {i} in webhook_events {len(b)} times"
        for i, b in sorted(loaded.items())
        if len(b) > 1
    ]
    for event in emitted:
        event_id = event["id"]
        if event_id not in by_id:
            findings.lost.append(
                f"event {event_id} ({event['type']}) never stored; "
                f"{event['attempts']} attempts, delivered={event['delivered']}"
            )
        elif by_id[event_id]["state"] != "done":
            findings.lost.append(f"event {event_id} stored but {by_id[event_id]['state']}")
        elif event_id not in loaded:
            findings.lost.append(f"event {event_id} done but not in webhook_events")
        elif by_id[event_id]["body"] not in loaded[event_id]:
            findings.wrong.append(f"event {event_id}: webhook_events body differs from stored")
    findings.wrong += [
        f"event {i} stored, never emitted"
        for i in sorted(by_id.keys() - {e["id"] for e in emitted})
    ]
    return findings


@dataclass
class Tally:
    """The kills of one kind and what the checks after them found."""

    kind: str
    kills: int = 0
    how: Counter[str] = field(default_factory=Counter)
    """How each kill landed (e.g. 'whole run' / 'meltano alone', 'during a run')."""
    not_killed: int = 0
    """Runs that ended before their kill moment (not counted as kills)."""
    findings: Findings = field(default_factory=Findings)
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.findings.lost or self.findings.duplicated or self.findings.wrong)

    def summary(self) -> str:
        how = ", ".join(f"{n} {what}" for what, n in sorted(self.how.items()))
        extra = f"; {self.not_killed} ended before their kill moment" if self.not_killed else ""
        return (
            f"{self.kind}: {self.kills} kills ({how}{extra}); "
            f"{len(self.findings.lost)} lost, {len(self.findings.duplicated)} duplicated, "
            f"{len(self.findings.wrong)} wrong" + "".join(f"; {n}" for n in self.notes)
        )

    def details(self) -> str:
        found = self.findings
        lines = [
            *(f"  lost: {x}" for x in found.lost),
            *(f"  duplicated: {x}" for x in found.duplicated),
            *(f"  wrong: {x}" for x in found.wrong),
        ]
        return "\n".join(lines[:200])


def checked(sandbox: WaveSandbox, warehouse: Path, changes: ChangesMade) -> Findings:
    """The books compared and every table checked for duplicated keys."""
    findings = compare_books(sandbox, warehouse, changes)
    findings.duplicated += duplicated_rows(warehouse)
    return findings
