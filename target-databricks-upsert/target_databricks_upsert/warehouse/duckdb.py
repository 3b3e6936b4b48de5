"""The embedded warehouse: a DuckDB file running `sql.py`'s Databricks statements.

Statements are transpiled with sqlglot (Databricks -> DuckDB); the only dialect fixes made here are
structural: Delta table properties are dropped and `ADD COLUMNS (a, b)` becomes one `ADD COLUMN`
per column. Staged Arrow tables are registered as views. One connection is shared by all sinks
behind a lock, so batches of different streams (drained in parallel threads) commit one at a time.
"""

from __future__ import annotations

import functools
import re
import threading

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from target_databricks_upsert.warehouse.base import Warehouse

_DUCKDB_TO_DATABRICKS = {
    "VARCHAR": "STRING",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "INTEGER": "INT",
    "DOUBLE": "DOUBLE",
}


@functools.lru_cache(maxsize=512)
def to_duckdb(statement: str) -> tuple[str, ...]:
    """One Databricks statement as the DuckDB statement(s) that do the same."""
    tree = sqlglot.parse_one(statement, read="databricks")
    for properties in list(tree.find_all(exp.Properties)):
        properties.pop()
    if isinstance(tree, exp.Alter) and any(isinstance(a, exp.Schema) for a in tree.args["actions"]):
        split = []
        for action in tree.args["actions"]:
            for column in action.expressions if isinstance(action, exp.Schema) else [action]:
                single = tree.copy()
                single.set("actions", [column.copy()])
                split.append(single)
        trees = split
    else:
        trees = [tree]
    return tuple(
        t.sql(dialect="duckdb", unsupported_level=ErrorLevel.IGNORE) for t in trees
    )


def databricks_type(duckdb_type: str) -> str:
    """A DuckDB column type in the Databricks spelling used by `tables.py`."""
    name = duckdb_type.upper().strip()
    if name.startswith("DECIMAL"):
        return re.sub(r"\s+", "", name)
    return _DUCKDB_TO_DATABRICKS.get(name, name)


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file (created if missing)."""

    def __init__(self, path: str, memory_limit: str) -> None:
        self.path = path
        self.memory_limit = memory_limit
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.RLock()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            raise RuntimeError("DuckDB warehouse used before connect() or after close()")
        return self._connection

    def connect(self) -> None:
        with self._lock:
            if self._connection is None:
                self._connection = duckdb.connect(
                    self.path, config={"memory_limit": self.memory_limit}
                )

    def existing_columns(self, describe_sql: str) -> dict[str, str]:
        return {name: databricks_type(kind) for name, kind in self.query(describe_sql)}

    def execute_ddl(self, statements: list[str]) -> None:
        with self._lock:
            for statement in statements:
                for duck in to_duckdb(statement):
                    self.connection.execute(duck)

    def stage(self, name: str, rows: pa.Table) -> str:
        with self._lock:
            self.connection.register(name, rows)
        return f"`{name}`"

    def unstage(self, name: str) -> None:
        with self._lock:
            self.connection.unregister(name)

    def execute_transaction(self, statements: list[str]) -> None:
        with self._lock:
            connection = self.connection
            connection.begin()
            try:
                for statement in statements:
                    for duck in to_duckdb(statement):
                        connection.execute(duck)
            except BaseException:
                connection.rollback()
                raise
            connection.commit()

    def query(self, sql_text: str) -> list[tuple]:
        with self._lock:
            rows: list[tuple] = []
            for duck in to_duckdb(sql_text):
                rows = self.connection.execute(duck).fetchall()
            return rows

    def principal(self) -> None:
        """An embedded file has no user to run as."""
        return None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
