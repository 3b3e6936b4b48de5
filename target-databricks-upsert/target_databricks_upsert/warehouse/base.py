"""The interface every warehouse adapter implements (DuckDB now, Databricks next).

The sink only ever talks to a `Warehouse`: it asks for the columns a table has, runs DDL from
`sql.py`, stages Arrow tables and runs one batch's statements together. An adapter translates
nothing but the dialect and the staging mechanism; all statements come from `sql.py`.
"""

from __future__ import annotations

import abc

import pyarrow as pa


class Warehouse(abc.ABC):
    """A connection to the place tables are written to. Safe to use from several threads."""

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the connection (idempotent)."""

    @abc.abstractmethod
    def existing_columns(self, describe_sql: str) -> dict[str, str]:
        """Run `sql.describe_columns` and return {column: Databricks type}; {} if no table."""

    @abc.abstractmethod
    def execute_ddl(self, statements: list[str]) -> None:
        """Run CREATE/ALTER statements, each on its own (DDL is not transactional everywhere)."""

    @abc.abstractmethod
    def stage(self, name: str, rows: pa.Table) -> str:
        """Make `rows` readable by the next `execute_transaction`; return the SQL relation
        (a table name, or e.g. `read_files(...)` on Databricks) to use in FROM."""

    @abc.abstractmethod
    def unstage(self, name: str) -> None:
        """Drop what `stage` created."""

    @abc.abstractmethod
    def execute_transaction(self, statements: list[str]) -> None:
        """Run statements in order, all or nothing where the engine allows it. Raise on error."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def query(self, sql_text: str) -> list[tuple]:
        """Run a read-only statement and return its rows (used for inspection and tests)."""
        raise NotImplementedError
