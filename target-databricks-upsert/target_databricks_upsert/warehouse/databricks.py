"""The Databricks warehouse: `sql.py`'s statements on a Databricks SQL warehouse.

Statements go through the real `databricks-sql-connector` (Thrift backend). A batch's staged rows
become, per table, either literal `VALUES` inside the statements (up to `inline_rows_max` rows)
or a Parquet file PUT to the volume `<catalog>.<schema>.<staging_volume>` under a unique name,
read with `read_files` and REMOVEd afterwards: the number of statements per table and batch never
depends on the batch size, and rows are never written one by one.

Databricks SQL has no multi-statement transactions, so `execute_transaction` runs the batch's
statements in order, each retried on its own when it failed without taking effect (see
`databricks_retry`); a statement that fails for good ends the run with one error and the SDK
emits no STATE for the batch, whose rerun is safe (newer-wins MERGE). Statements touching a table
hold that table's lock, so a schema change never overlaps a write to the same table from another
sink thread. Connections are pooled, one per concurrently writing thread.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import databricks.sql
import pyarrow as pa
import pyarrow.parquet as pq
from databricks.sql.client import Connection
from databricks.sql.exc import Error as ConnectorError

from target_databricks_upsert import column_types, sql
from target_databricks_upsert.compat import override
from target_databricks_upsert.errors import TargetError
from target_databricks_upsert.settings import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_INLINE_ROWS_MAX,
    DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_SCHEMA,
    DEFAULT_STAGING_VOLUME,
    DEFAULT_TOKEN_REFRESH_MARGIN_SECONDS,
)
from target_databricks_upsert.warehouse.base import Warehouse
from target_databricks_upsert.warehouse.databricks_auth import (
    Credentials,
    DatabricksAuthError,
    DatabricksConnectionError,
    Endpoint,
)
from target_databricks_upsert.warehouse.databricks_retry import Backoff, classify, http_code
from target_databricks_upsert.warehouse.secrets import Secrets

LOGGER = logging.getLogger("target_databricks_upsert.databricks")
logging.getLogger("databricks.sql").setLevel(logging.WARNING)  # not a per-request trace

CONCURRENT_STATEMENTS = 8
"""Statements on different tables submitted at once (a batch's MERGEs, staged-file removals)."""

CONNECTOR_RETRIES = {
    # The connector retries HTTP 429/503 itself, sleeping max(Retry-After, _retry_delay_max) with
    # 5 s the smallest accepted maximum; whatever outlasts this budget is retried by our backoff.
    "_retry_delay_min": 1.0,
    "_retry_delay_max": 5.0,
    "_retry_stop_after_attempts_count": 4,
    "_retry_stop_after_attempts_duration": 30.0,
    "_socket_timeout": 300,
}

_WRITTEN_TABLE = re.compile(
    r"^(?:CREATE TABLE IF NOT EXISTS|ALTER TABLE|MERGE INTO|INSERT INTO|UPDATE|DELETE FROM)\s+(\S+)"
)


class DatabricksStatementError(TargetError):
    """A statement failed for a reason retrying cannot fix."""


def column_type(arrow_type: pa.DataType) -> str:
    """The Databricks type a staged Arrow column is cast to (`column_types.staged`)."""
    staged = column_types.staged(arrow_type)
    if staged is None:
        raise TargetError(f"cannot stage an Arrow column of type {arrow_type} to Databricks")
    return staged.databricks


def for_parquet(rows: pa.Table) -> pa.Table:
    """`rows` with every timestamp as UTC microseconds (what Databricks reads as TIMESTAMP)."""
    fields = [
        pa.field(f.name, column_types.TIMESTAMP.arrow) if pa.types.is_timestamp(f.type) else f
        for f in rows.schema
    ]
    return rows.cast(pa.schema(fields))


class _Session:
    """One pooled connection and the credentials generation it was opened with."""

    def __init__(self, connection: Connection, generation: int) -> None:
        self.connection = connection
        self.generation = generation

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()


class DatabricksWarehouse(Warehouse):
    """A Databricks SQL warehouse reached with a service principal or a personal access token."""

    opens_ahead = True

    @classmethod
    @override
    def from_config(cls, config: Mapping[str, Any]) -> DatabricksWarehouse:
        return cls(config)

    def __init__(self, config: Mapping[str, Any]) -> None:
        if not config.get("catalog"):
            raise TargetError("warehouse databricks needs the setting catalog (e.g. main)")
        self.namespace = (config["catalog"], config.get("schema") or DEFAULT_SCHEMA)
        self.secrets = Secrets()
        self.timeout = float(
            config.get("connect_timeout_seconds") or DEFAULT_CONNECT_TIMEOUT_SECONDS
        )
        self.endpoint = Endpoint(config.get("server_hostname", ""), config.get("http_path", ""))
        self.credentials = Credentials(config, self.endpoint, self.secrets, self.timeout)
        self.inline_rows_max = int(config.get("inline_rows_max", DEFAULT_INLINE_ROWS_MAX))
        self.volume = config.get("staging_volume") or DEFAULT_STAGING_VOLUME
        self.backoff = Backoff(attempts=int(config.get("retry_attempts") or DEFAULT_RETRY_ATTEMPTS))
        self.refresh_margin = float(
            config.get("token_refresh_margin_seconds") or DEFAULT_TOKEN_REFRESH_MARGIN_SECONDS
        )
        self._run_id = uuid.uuid4().hex
        self._local_dir: Path | None = None
        self._idle: list[_Session] = []
        self._lock = threading.Lock()
        self._table_locks: dict[str, threading.RLock] = {}
        self._staged_files: dict[str, str] = {}
        self._volume_ready = False
        self._pool: ThreadPoolExecutor | None = None

    # Connections

    @override
    def connect(self) -> None:
        with self._lock:
            if self._local_dir is not None:
                return
            self.endpoint.check_reachable(self.timeout)
            self._local_dir = Path(tempfile.mkdtemp(prefix="target-databricks-staging-"))
        session = self._open()  # proves the credentials before the first record is read
        with self._lock:
            self._idle.append(session)

    def _open(self) -> _Session:
        auth = self.credentials.connect_kwargs()
        generation = self.credentials.generation
        kwargs = {
            **self.endpoint.connect_kwargs(),
            **auth,
            **CONNECTOR_RETRIES,
            "staging_allowed_local_path": str(self._local_dir),
            "user_agent_entry": "target-databricks-upsert",
        }
        try:
            return _Session(databricks.sql.connect(**kwargs), generation)
        except ConnectorError as exc:
            detail = self._detail(exc)
            if http_code(exc) in (401, 403) or "Invalid access token" in str(exc):
                raise DatabricksAuthError(
                    f"{self.endpoint.url} refused {self.credentials.describe()} ({detail}): check "
                    "the access_token / client_id + client_secret settings"
                ) from None
            raise DatabricksConnectionError(
                f"cannot open a session on {self.endpoint.url}{self.endpoint.http_path} "
                f"({detail}): check server_hostname and http_path"
            ) from None

    @contextlib.contextmanager
    def _session(self) -> Iterator[_Session]:
        """A connection for this thread's statement (made with the current credentials)."""
        with self._lock:
            session = self._idle.pop() if self._idle else None
        if session is not None and session.generation != self.credentials.generation:
            session.close()
            session = None
        session = session or self._open()
        try:
            yield session
        finally:
            with self._lock:
                self._idle.append(session)

    def _refresh_if_expiring(self) -> None:
        """Between statements: renew an OAuth token that expires within the margin."""
        if self.credentials.expires_within(self.refresh_margin):
            LOGGER.info(
                "OAuth token expires in %.0f s: renewing it before the next statement",
                self.credentials.seconds_left(),
            )
            self.credentials.renew(self.credentials.generation)

    @override
    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._lock:
            sessions, self._idle = self._idle, []
            local_dir, self._local_dir = self._local_dir, None
        for session in sessions:
            session.close()
        if local_dir is not None:
            shutil.rmtree(local_dir, ignore_errors=True)

    # Statements

    def _table_lock(self, statement: str) -> contextlib.AbstractContextManager[object]:
        match = _WRITTEN_TABLE.match(statement)
        if match is None:
            return contextlib.nullcontext()
        with self._lock:
            return self._table_locks.setdefault(match.group(1), threading.RLock())

    def _execute(self, statement: str, fetch: bool = False) -> list[tuple[Any, ...]]:
        """Run one statement, retrying the failures that left nothing behind."""
        attempt = 0
        with self._table_lock(statement):
            while True:
                attempt += 1
                self._refresh_if_expiring()
                with self._session() as session:
                    try:
                        with session.connection.cursor() as cursor:
                            cursor.execute(statement)
                            return [tuple(r) for r in cursor.fetchall()] if fetch else []
                    except ConnectorError as exc:
                        kind = classify(exc, self.credentials.oauth)
                        if kind is None or attempt >= self.backoff.attempts:
                            raise self._failure(statement, exc, attempt) from None
                        LOGGER.warning(
                            "%s (attempt %d of %d, %s): %s; retrying",
                            _head(statement),
                            attempt,
                            self.backoff.attempts,
                            kind,
                            self._detail(exc),
                        )
                        if kind == "token":
                            self.credentials.renew(session.generation)
                if kind != "token":
                    self.backoff.sleep(attempt)

    def _detail(self, exc: BaseException) -> str:
        text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return self.secrets.scrub(" ".join(text.split()))[:500]

    def _failure(self, statement: str, exc: BaseException, attempts: int) -> TargetError:
        kind = classify(exc, self.credentials.oauth)
        if kind is None and http_code(exc) in (401, 403):
            return DatabricksAuthError(
                f"{self.endpoint.url} refused {self.credentials.describe()} "
                f"({self._detail(exc)}): check the access_token setting"
            )
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return DatabricksStatementError(
            f"Databricks failed {_head(statement)}{tries}: {self._detail(exc)}. The batch was not "
            "fully written and its STATE was not emitted; rerunning the same input is safe."
        )

    @override
    def execute_ddl(self, statements: list[str]) -> None:
        for statement in statements:
            self._execute(statement)

    @override
    def execute_steps(self, steps: list[list[str]]) -> None:
        """Step after step; a step's statements (different tables) submitted at once, each on a
        pooled session, so a batch costs a round trip per step, not per table. A failure fails
        the step once its siblings are done (each statement is retried on its own first)."""
        for step in steps:
            self._run_together([(self._execute, statement) for statement in step])

    def _run_together(self, calls: list[tuple[Callable[[str], object], str]]) -> None:
        if not calls:
            return
        if len(calls) == 1:
            function, argument = calls[0]
            function(argument)
            return
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    CONCURRENT_STATEMENTS, thread_name_prefix="databricks-statement"
                )
            pool = self._pool
        futures = [pool.submit(function, argument) for function, argument in calls]
        failures = [e for f in futures if (e := f.exception()) is not None]
        if failures:
            raise failures[0]

    @override
    def query(self, sql_text: str) -> list[tuple[Any, ...]]:
        return self._execute(sql_text, fetch=True)

    # Staging

    @override
    def stage(self, name: str, rows: pa.Table) -> str:
        columns = [(f.name, column_type(f.type)) for f in rows.schema]
        if rows.num_rows <= self.inline_rows_max:
            values = [c.to_pylist() for c in rows.columns]
            return sql.inline_rows(columns, [list(r) for r in zip(*values, strict=True)])
        if not self._volume_ready:
            self._execute(sql.create_volume(self.namespace, self.volume))
            self._volume_ready = True
        file_name = f"{name}-{uuid.uuid4().hex[:12]}.parquet"
        path = sql.volume_path(self.namespace, self.volume, self._run_id, file_name)
        if self._local_dir is None:
            raise RuntimeError("Databricks warehouse used before connect() or after close()")
        local = self._local_dir / file_name
        try:
            pq.write_table(for_parquet(rows), local, coerce_timestamps="us")
            self._execute(sql.put_file(str(local), path))
        finally:
            local.unlink(missing_ok=True)
        self._staged_files[name] = path
        return sql.parquet_rows(path, columns)

    @override
    def unstage_all(self, names: list[str]) -> None:
        self._run_together([(self.unstage, name) for name in names if name in self._staged_files])

    @override
    def unstage(self, name: str) -> None:
        path = self._staged_files.pop(name, None)
        if path is None:
            return
        try:
            self._execute(sql.remove_file(path))
        except TargetError as exc:  # never hide the batch's own error behind a clean-up failure
            LOGGER.warning(
                "could not remove the staged file %s (%s); it can be deleted by hand", path, exc
            )


def _head(statement: str) -> str:
    """The start of a statement, enough to say what it was (never the staged values)."""
    match = _WRITTEN_TABLE.match(statement)
    return match.group(0) if match else " ".join(statement.split()[:3])
