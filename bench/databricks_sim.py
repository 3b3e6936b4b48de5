"""What the Databricks benches share: the simulator with its latency model, the target's settings
for it, and reading a run back from the simulator's statement log and tables.

The simulator (sandbox/databricks_sandbox) runs every statement through Spark's analyzer and
DuckDB; with `--latency serverless` each statement also waits the documented latency of its kind
(a warm serverless SQL warehouse, sandbox/README.md) outside the statement lock. Benches set the
runs up with the model off (set-up is not measured) and turn it on for what they measure.

`Statements` summarises a run's slice of the log: how many statements of each kind, the latency
the model charged, the wall time from the first to the last, and the **critical path**: the
longest chain of statements that ran one after another (each started after the previous one
finished). A client that submits everything one at a time has all its statements on the critical
path; statements submitted concurrently (different tables) overlap and count once.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from databricks_sandbox.latency import PROFILES
from databricks_sandbox.testing import DatabricksSandbox, start_databricks_sandbox
from target_databricks_upsert.testing import simulator_destination

LATENCY = "serverless"
AUDIT_TABLE = "_load_audit"
WRITES = ("MERGE", "INSERT", "UPDATE", "DELETE")


@contextlib.contextmanager
def latency_simulator() -> Iterator[DatabricksSandbox]:
    """The simulator, latency model off until `measured()` turns it on."""
    with start_databricks_sandbox(startup_timeout=120) as sandbox:
        yield sandbox


@contextlib.contextmanager
def measured(sandbox: DatabricksSandbox) -> Iterator[None]:
    """The latency model on for the block (statements in it wait their modelled latency)."""
    sandbox.set_latency(profile=LATENCY)
    try:
        yield
    finally:
        sandbox.set_latency(profile="off")


def target_settings(sandbox: DatabricksSandbox, path) -> dict[str, str]:
    """The target's config for a fresh schema of the simulator (personal access token)."""
    destination = simulator_destination(sandbox, path)
    return {**destination.config(), "schema": destination.target_config["schema"]}


def as_env(settings: dict[str, str]) -> dict[str, str]:
    """The same settings as Meltano environment variables of the target."""
    return {
        f"TARGET_DATABRICKS_UPSERT_{name.upper()}": str(value) for name, value in settings.items()
    }


def last_seq(sandbox: DatabricksSandbox) -> int:
    log = sandbox.statements()
    return log[-1]["seq"] if log else 0


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class Statements:
    """One run's statements, from the simulator's log."""

    entries: list[dict]

    @property
    def count(self) -> int:
        return len(self.entries)

    def kinds(self) -> Counter:
        return Counter(e["kind"] for e in self.entries)

    def detail(self) -> str:
        """'21 SELECT (information_schema), 16 MERGE (8 into _load_audit), ...'."""
        parts = []
        metadata = sum(e["latency_kind"] == "metadata" for e in self.entries)
        for kind, n in self.kinds().most_common():
            note = ""
            if kind == "SELECT" and metadata:
                note = f" ({metadata} metadata)"
            elif kind == "MERGE":
                note = f" ({sum(AUDIT_TABLE in e['statement'] for e in self.entries)} audit)"
            parts.append(f"{n} {kind}{note}")
        return ", ".join(parts) + f"; {self.sessions} session(s)"

    @property
    def sessions(self) -> int:
        """Sessions (connections) the statements came from; each paid the model's `session`
        latency once when it opened."""
        return len({e["session_id"] for e in self.entries})

    @property
    def modelled_seconds(self) -> float:
        """The latency the model charged, summed: statements and session openings (the wall
        time of the warehouse's part if everything ran one at a time)."""
        return (
            sum(e["latency_ms"] for e in self.entries) / 1000
            + self.sessions * PROFILES[LATENCY]["session"]
        )

    @property
    def span_seconds(self) -> float:
        """From the first statement's arrival to the last one's answer."""
        if not self.entries:
            return 0.0
        return max(_at(e["finished_at"]) for e in self.entries) - min(
            _at(e["started_at"]) for e in self.entries
        )

    @property
    def critical_path(self) -> int:
        """The most statements that ran strictly one after another (interval scheduling)."""
        chain, free_at = 0, float("-inf")
        for start, end in sorted(
            ((_at(e["started_at"]), _at(e["finished_at"])) for e in self.entries),
            key=lambda span: span[1],
        ):
            if start >= free_at:
                chain, free_at = chain + 1, end
        return chain

    def rows_updated(self) -> int:
        """Rows the MERGE/UPDATE statements reported updating (Databricks' num_updated_rows),
        `_load_audit` left out."""
        return sum(
            (e.get("counts") or {}).get("num_updated_rows", 0)
            for e in self.entries
            if e["kind"] in WRITES and AUDIT_TABLE not in e["statement"]
        )

    def errors(self) -> list[str]:
        return [e["error"] for e in self.entries if e["status"] != "ok"]


def statements_since(
    sandbox: DatabricksSandbox, since: int, until: int | None = None
) -> Statements:
    entries = sandbox.statements(since)
    return Statements([e for e in entries if until is None or e["seq"] <= until])


def data_tables(sandbox: DatabricksSandbox, catalog: str, schema: str) -> list[str]:
    with sandbox.connect() as conn, conn.cursor() as cursor:
        cursor.execute(f"SHOW TABLES IN {catalog}.{schema}")
        return sorted(row[1] for row in cursor.fetchall() if row[1] != AUDIT_TABLE)


def updated_marks(sandbox: DatabricksSandbox, catalog: str, schema: str) -> dict[str, object]:
    """Per data table, the latest `_updated_at` (None when empty). Read with the model off."""
    marks = {}
    with sandbox.connect() as conn, conn.cursor() as cursor:
        for table in data_tables(sandbox, catalog, schema):
            cursor.execute(f"SELECT max(_updated_at) FROM {catalog}.{schema}.{table}")
            marks[table] = cursor.fetchone()[0]
    return marks


def rows_moved_since(
    sandbox: DatabricksSandbox, catalog: str, schema: str, marks: dict[str, object]
) -> dict[str, int]:
    """Per data table, rows whose `_updated_at` moved past the mark taken before the run (a new
    table counts all its rows); only tables with some."""
    moved = {}
    with sandbox.connect() as conn, conn.cursor() as cursor:
        for table in data_tables(sandbox, catalog, schema):
            mark = marks.get(table)
            where = "" if mark is None else "WHERE _updated_at > :mark"
            cursor.execute(
                f"SELECT count(*) FROM {catalog}.{schema}.{table} {where}",
                {} if mark is None else {"mark": mark},
            )
            count = cursor.fetchone()[0]
            if count:
                moved[table] = count
    return moved
