"""The embedded warehouse: a DuckDB file running `sql.py`'s statements (rendered with its DuckDB
dialect switch, `sql.DUCKDB`, so nothing is translated here).

Staged Arrow tables are registered as views. One connection is shared by all sinks behind a lock,
so batches of different streams (drained in parallel threads) commit one at a time.

Memory: DuckDB keeps what committed MERGEs changed in memory until its next checkpoint, which by
default comes every 16 MB of WAL (five batches of updated invoices, ~35 MB that cannot be
evicted). Checkpointing every `CHECKPOINT_THRESHOLD` bounds that to about one batch, so the whole
engine fits `memory_limit`; one engine thread is enough for one batch at a time and needs less.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from target_databricks_upsert import column_types, sql
from target_databricks_upsert.compat import override
from target_databricks_upsert.errors import TargetError
from target_databricks_upsert.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, DEFAULT_DUCKDB_PATH
from target_databricks_upsert.warehouse.base import Warehouse

CHECKPOINT_THRESHOLD = "4MB"
THREADS = 1


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file (created if missing)."""

    dialect = sql.DUCKDB
    appends_new_keys = True  # INSERT costs a third of MERGE here

    @classmethod
    @override
    def from_config(cls, config: Mapping[str, Any]) -> DuckDBWarehouse:
        return cls(
            config.get("duckdb_path", DEFAULT_DUCKDB_PATH),
            config.get("duckdb_memory_limit", DEFAULT_DUCKDB_MEMORY_LIMIT),
        )

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

    @override
    def connect(self) -> None:
        with self._lock:
            if self._connection is None:
                if self.path != ":memory:":  # a fresh project has no folder for the file yet
                    with contextlib.suppress(OSError):  # if it cannot be, DuckDB's error says why
                        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._connection = duckdb.connect(
                    self.path,
                    config={
                        "memory_limit": self.memory_limit,
                        "checkpoint_threshold": CHECKPOINT_THRESHOLD,
                        "threads": THREADS,
                    },
                )

    @override
    def type_name(self, engine_type: str) -> str:
        return column_types.from_duckdb(engine_type)

    @override
    def execute_ddl(self, statements: list[str]) -> None:
        with self._lock, self._memory_bounded():
            for statement in statements:
                self.connection.execute(statement)

    @override
    def stage(self, name: str, rows: pa.Table) -> str:
        with self._lock:
            self.connection.register(name, rows)
        return f"`{name}`"

    @override
    def unstage(self, name: str) -> None:
        with self._lock:
            self.connection.unregister(name)

    @override
    def execute_steps(self, steps: list[list[str]]) -> None:
        """One transaction, the statements one after another (DuckDB writes one at a time)."""
        self.execute_transaction([statement for step in steps for statement in step])

    def execute_transaction(self, statements: list[str]) -> None:
        with self._lock, self._memory_bounded():
            connection = self.connection
            connection.begin()
            try:
                for statement in statements:
                    connection.execute(statement)
            except BaseException:
                connection.rollback()
                raise
            connection.commit()

    @override
    def query(self, sql_text: str) -> list[tuple[Any, ...]]:
        with self._lock, self._memory_bounded():
            return self.connection.execute(sql_text).fetchall()

    @contextlib.contextmanager
    def _memory_bounded(self) -> Iterator[None]:
        """DuckDB's out-of-memory error, saying which setting bounds it and that nothing is lost."""
        try:
            yield
        except duckdb.OutOfMemoryException as exc:
            raise TargetError(
                f"DuckDB ran out of memory within duckdb_memory_limit={self.memory_limit} "
                f"({exc}). The batch was not committed and the state not advanced past it: "
                "raise duckdb_memory_limit (or lower batch_size_rows) and rerun."
            ) from exc

    @override
    def principal(self) -> None:
        """An embedded file has no user to run as."""
        return None

    @override
    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
