"""The interface every warehouse adapter implements (DuckDB, Databricks).

The sink only ever talks to a `Warehouse`: it asks for the columns a table has, runs DDL from
`sql.py`, stages Arrow tables and runs one batch's statements together. An adapter translates
nothing but the dialect and the staging mechanism; all statements come from `sql.py`. `probe`
and `principal` serve the connection check (`--test`) through those same statements.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, NamedTuple

import pyarrow as pa

from target_databricks_upsert import column_types, sql
from target_databricks_upsert.errors import TargetError
from target_databricks_upsert.table_spec import PROBE_TABLE
from target_databricks_upsert.tables import stream_tables

PROBE_SCHEMA = {
    "type": "object",
    "properties": {"business_id": {"type": "string"}, "id": {"type": "string"}},
}
"""The connection check's table, declared like a stream's table (key, layout, audit columns)."""


class Column(NamedTuple):
    """A column of an existing table: its Databricks type and whether it may hold NULL (the
    target creates exactly the key columns NOT NULL, so they tell a table's key)."""

    type: str
    nullable: bool


class ProbeFailed(TargetError):
    """A step of `Warehouse.probe` failed; `step` says which, the cause is the engine's error."""

    def __init__(self, step: str, target: str, cause: BaseException) -> None:
        self.step, self.target, self.cause = step, target, cause
        super().__init__(f"cannot {step} {target}: {cause}")


class Warehouse(abc.ABC):
    """A connection to the place tables are written to. Safe to use from several threads."""

    dialect: sql.Dialect = sql.DATABRICKS
    """How `sql.py` renders the statements this warehouse runs."""
    appends_new_keys: bool = False
    # connected, and the schema's metadata read, while the tap starts (a round trip of seconds
    # taken off the run's critical path; not worth a thread where it costs milliseconds)
    opens_ahead: bool = False
    """Whether a batch none of whose keys is in its tables yet is appended instead of MERGEd
    (worth a count query where INSERT is much cheaper than MERGE)."""

    @classmethod
    @abc.abstractmethod
    def from_config(cls, config: Mapping[str, Any]) -> Warehouse:
        """The adapter for the target's settings, not yet connected."""

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the connection (idempotent)."""

    def existing_tables(self, describe_sql: str) -> dict[str, dict[str, Column]]:
        """Run `sql.describe_tables` and return {table: {column: Column}} (one query)."""
        tables: dict[str, dict[str, Column]] = {}
        for table, name, kind, nullable in self.query(describe_sql):
            tables.setdefault(table, {})[name] = Column(
                self.type_name(kind), str(nullable).upper() != "NO"
            )
        return tables

    def type_name(self, engine_type: str) -> str:
        """A column type as the engine's information_schema gives it, in `table_spec.py`'s
        Databricks spelling (`DECIMAL(38,6)`)."""
        return column_types.from_databricks(engine_type)

    @abc.abstractmethod
    def execute_ddl(self, statements: list[str]) -> None:
        """Run CREATE/ALTER statements, each on its own (DDL is not transactional everywhere)."""

    @abc.abstractmethod
    def stage(self, name: str, rows: pa.Table) -> str:
        """Make `rows` readable by the next `execute_steps`; return the SQL relation
        (a table name, or e.g. `read_files(...)` on Databricks) to use in FROM."""

    @abc.abstractmethod
    def unstage(self, name: str) -> None:
        """Drop what `stage` created."""

    def unstage_all(self, names: list[str]) -> None:
        """Drop what `stage` created for each name (an adapter may do it concurrently)."""
        for name in names:
            self.unstage(name)

    @abc.abstractmethod
    def execute_steps(self, steps: list[list[str]]) -> None:
        """Run steps in order, all or nothing where the engine allows it; the statements of one
        step touch different tables and may run concurrently. Raise on error."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def query(self, sql_text: str) -> list[tuple[Any, ...]]:
        """Run a read-only statement and return its rows (used for inspection and tests)."""
        raise NotImplementedError

    def principal(self) -> str | None:
        """Who the warehouse says this connection runs as; None where there is no such thing."""
        rows = self.query(sql.current_principal())
        return str(rows[0][0]) if rows and rows[0] else None

    def probe(self, load: sql.Load) -> None:
        """Prove a run can write here without writing data: create the schema if missing (as a
        run does), then create and drop the table `_connection_test`, declared like a stream's.
        Raises ProbeFailed naming the step that failed."""
        table = stream_tables(PROBE_TABLE, PROBE_SCHEMA, ["business_id", "id"])
        schema = ".".join(sql.quote(part) for part in load.namespace)
        steps = (
            ("create the schema", schema, sql.create_schema(load)),
            ("create a table in", schema, sql.create_table(load, table)),
            ("drop the table", sql.qualified(load, PROBE_TABLE), sql.drop_table(load, PROBE_TABLE)),
        )
        for step, target, statement in steps:
            try:
                self.execute_ddl([statement])
            except Exception as exc:
                raise ProbeFailed(step, target, exc) from exc
