"""The SQL warehouse: executes one Databricks SQL statement on DuckDB and returns its result.

It owns the DuckDB file, the metastore, the volume files and the write-fault counters, and
dispatches each statement: staging commands, catalog commands, DDL, MERGE (with Delta's
multiple-match rule), other DML, and queries. Statements run one at a time (one lock), as
independent autocommit transactions.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from . import catalog_commands, ddl, errors, merge, privileges
from .analyzer import make_analyzer
from .faults import Faults
from .latency import LatencyModel, classify
from .metastore import Metastore, public_name
from .privileges import Privileges
from .staging import StagingArea, parse_staging
from .statement_log import StatementLog
from .translate import Namespace, Parameter, Translator, bind_parameters, parse

# DuckDB suggests con.sql() for Arrow output; execute() is kept for DDL/DML uniformity.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")

_USE_CATALOG = re.compile(r"\s*USE\s+CATALOG\b", re.IGNORECASE)
WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable)


@dataclass
class StatementResult:
    table: pa.Table
    kind: str
    modified_rows: int | None = None
    staging: bool = False


class Warehouse:
    """One simulated SQL warehouse over a data directory."""

    def __init__(
        self,
        data_dir: Path,
        *,
        catalogs: list[str],
        public_base_url: str,
        faults: Faults,
        log: StatementLog,
        privileges: Privileges | None = None,
        analyzer: str = "none",
        latency: LatencyModel | None = None,
    ):
        self.data_dir = data_dir
        self.volumes_root = data_dir / "volumes"
        self.volumes_root.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.conn = duckdb.connect(str(data_dir / "warehouse.duckdb"))
        self.conn.execute("SET TimeZone = 'UTC'")
        self.metastore = Metastore(self.conn, self.lock)
        for catalog in catalogs:
            self.metastore.create_catalog(catalog)
        self.translator = Translator(self.metastore, self.volumes_root)
        self.staging = StagingArea(public_base_url)
        self.faults = faults
        self.log = log
        self.privileges = privileges or Privileges()
        self.latency = latency or LatencyModel()
        self.analyzer = make_analyzer(
            analyzer, self.metastore, self.translator.volume_path, catalogs[0]
        )

    def close(self) -> None:
        with self.lock:
            self.analyzer.close()
            self.conn.close()

    # -- DuckDB access --------------------------------------------------------------------
    def run_duckdb(self, sql: str, views: dict[str, pa.Table] | None = None) -> pa.Table:
        """Run DuckDB SQL (views registered for its duration); DuckDB errors translated."""
        with self.lock:
            for name, table in (views or {}).items():
                self.conn.register(name, table)
            try:
                cursor = self.conn.execute(sql)
                return cursor.to_arrow_table() if cursor.description else pa.table({})
            except duckdb.Error as exc:
                raise errors.from_duckdb(exc, public_name) from None
            finally:
                for name in views or {}:
                    self.conn.unregister(name)

    def run_duckdb_transaction(self, statements: list[str]) -> None:
        with self.lock:
            self.conn.execute("BEGIN TRANSACTION")
            try:
                for sql in statements:
                    self.conn.execute(sql)
                self.conn.execute("COMMIT")
            except duckdb.Error as exc:
                self.conn.execute("ROLLBACK")
                raise errors.from_duckdb(exc, public_name) from None

    # -- statements -----------------------------------------------------------------------
    def execute(
        self,
        ns: Namespace,
        statement: str,
        params: list[Parameter],
        session_id: str = "",
        principal: str = "",
    ) -> StatementResult:
        """Execute one statement in a session's namespace as ``principal`` (what
        ``current_user()`` answers, whose privileges are checked); log it; raise
        DatabricksSQLError.

        The modelled latency of the statement's kind (latency.py) is spent first, outside the
        lock, so that statements submitted concurrently overlap their latencies; the statement
        then executes under the lock (one at a time) and its effect is visible when it returns."""
        started, started_at = time.perf_counter(), time.time()
        kind = "UNKNOWN"
        timing = {"latency_kind": classify(statement), "started_at": started_at}
        timing["latency_ms"] = self.latency.wait(timing["latency_kind"]) * 1000
        try:
            self.analyzer.wait_ready()  # outside the lock: the analyzer's start reads the metastore
            with self.lock:
                result = self._dispatch(ns, statement, params, principal)
            kind = result.kind
        except errors.DatabricksSQLError as exc:
            kind = getattr(exc, "statement_kind", kind)
            self._record(session_id, statement, params, kind, started, timing, error=exc.display())
            raise
        rows = result.modified_rows if result.modified_rows is not None else result.table.num_rows
        if kind in ("MERGE", "INSERT", "UPDATE", "DELETE") and result.table.num_rows == 1:
            timing["counts"] = {
                name: values[0]
                for name, values in result.table.to_pydict().items()
                if name.startswith("num_")
            }
        self._record(session_id, statement, params, kind, started, timing, rows=rows)
        return result

    def _record(
        self, session_id, statement, params, kind, started, timing, *, error=None, rows=None
    ):
        self.log.record(
            session_id=session_id,
            statement=statement,
            kind=kind,
            parameters=[{"name": p.name, "type": p.type, "value": p.value} for p in params],
            status="error" if error else "ok",
            error=error,
            rows=rows,
            duration_ms=(time.perf_counter() - started) * 1000,
            **timing,
        )

    def _dispatch(
        self, ns: Namespace, statement: str, params: list[Parameter], principal: str
    ) -> StatementResult:
        staging = parse_staging(catalog_commands.without_leading_comments(statement))
        if staging is not None:  # Databricks-only: not analysed
            self.privileges.require(
                principal, privileges.for_staging(staging.operation, staging.volume_path)
            )
            local = self.translator.volume_path(staging.volume_path)
            return StatementResult(
                self.staging.answer(staging, local), staging.operation, staging=True
            )
        command = catalog_commands.match_command(statement)
        if command is not None:
            kind, match, handler = command
            if kind not in catalog_commands.DATABRICKS_ONLY:
                self.analyzer.check(statement, ns.catalog, ns.schema, params)
            self.privileges.require(
                principal,
                privileges.for_volume_command(kind, match.groupdict().get("name") or "", ns),
            )
            result = StatementResult(handler(self, match, ns), kind)
            if kind == "CREATE CATALOG":
                self.analyzer.catalog_changed(match["name"].strip("`").lower())
            return result
        try:
            tree, unparsed = bind_parameters(parse(statement), params), None
        except errors.DatabricksSQLError as exc:  # Spark's parser has the first word
            tree, unparsed = None, exc
        kind = _kind(tree) if tree is not None else "UNKNOWN"
        try:
            if kind == "CREATE TABLE":
                ddl.check_create_table(self, tree, ns)  # Delta's own checks come first
            if not _USE_CATALOG.match(
                catalog_commands.without_leading_comments(statement)
            ):  # Databricks-only: Spark has no USE CATALOG
                self.analyzer.check(statement, ns.catalog, ns.schema, params)
            if unparsed is not None:
                raise unparsed
            if principal:  # current_user() names the caller, as on Databricks
                tree = tree.transform(
                    lambda node: (
                        exp.Literal.string(principal) if isinstance(node, exp.CurrentUser) else node
                    )
                )
            self.privileges.require(principal, privileges.for_tree(tree, kind, ns))
            changed = ddl.changed_namespace(self, tree, ns, kind)
            result = StatementResult(*self._run_tree(tree, ns, kind))
        except errors.DatabricksSQLError as exc:
            exc.statement_kind = kind
            raise
        if changed is not None:
            catalog, schema = changed
            if schema is None:
                self.analyzer.catalog_changed(catalog)
            else:
                self.analyzer.schema_changed(catalog, schema)
        return result

    def _run_tree(self, tree: exp.Expression, ns: Namespace, kind: str):
        if isinstance(tree, exp.Use):
            ddl.use(self, tree, ns)
        elif isinstance(tree, exp.Set):
            pass  # session configuration: accepted, nothing to change here
        elif isinstance(tree, exp.Create) and kind in ("CREATE SCHEMA", "CREATE DATABASE"):
            ddl.create_schema(self, tree, ns)
        elif isinstance(tree, exp.Create) and kind == "CREATE TABLE":
            ddl.create_table(self, tree, ns)
        elif isinstance(tree, exp.Drop) and kind in ("DROP SCHEMA", "DROP DATABASE"):
            ddl.drop_schema(self, tree, ns)
        elif isinstance(tree, exp.Drop) and kind in ("DROP TABLE", "DROP VIEW"):
            ddl.drop_table(self, tree, ns)
        elif isinstance(tree, exp.Alter):
            ddl.alter_table(self, tree, ns)
        elif isinstance(tree, exp.Merge):
            return self._merge(tree, ns), kind, None
        elif isinstance(tree, WRITES):
            table, modified = self._write(tree, ns)
            return table, kind, modified
        elif isinstance(tree, exp.Query | exp.Create | exp.Drop):
            translation = self.translator.to_duckdb(tree, ns)
            return self.run_duckdb(translation.sql, translation.views), kind, None
        else:
            raise errors.unsupported(f"The statement {kind}")
        return pa.table({}), kind, None

    def _fail_if_conflict(self, tree: exp.Expression, ns: Namespace) -> None:
        conflict = self.faults.take_write_conflict()
        if conflict:
            target = tree.this if isinstance(tree.this, exp.Table) else tree.find(exp.Table)
            name = str(self.translator.resolve(target, ns)) if target is not None else "?"
            raise (
                errors.concurrent_append(name)
                if conflict == "concurrent_append"
                else errors.metadata_changed(name)
            )

    def _write(self, tree: exp.Expression, ns: Namespace) -> tuple[pa.Table, int]:
        translation = self.translator.to_duckdb(tree, ns)
        self._fail_if_conflict(tree, ns)
        counted = self.run_duckdb(translation.sql, translation.views)
        affected = int(counted.column(0)[0].as_py()) if counted.num_columns else 0
        columns = {"num_affected_rows": [affected]}
        if isinstance(tree, exp.Insert):
            columns["num_inserted_rows"] = [affected]
        return pa.table({k: pa.array(v, pa.int64()) for k, v in columns.items()}), affected

    def _merge(self, tree: exp.Merge, ns: Namespace) -> pa.Table:
        target = self.translator.resolve(tree.this, ns)
        columns = [
            c for c, _, _ in self.metastore.columns(target.catalog, target.schema, target.name)
        ]
        if not columns:
            raise errors.table_not_found(str(target))
        merge.expand_stars(tree, columns)
        check = merge.needs_multiple_match_check(tree)
        translation = self.translator.to_duckdb(tree, ns)
        if check:
            duplicated = self.run_duckdb(merge.multiple_match_query(tree), translation.views)
            if duplicated.column(0)[0].as_py():
                raise errors.merge_multiple_matches()
        self._fail_if_conflict(tree, ns)
        actions = self.run_duckdb(f"{translation.sql} RETURNING merge_action", translation.views)
        counts = merge.merge_result_columns(actions.column(0).to_pylist())
        return pa.table({k: pa.array([v], pa.int64()) for k, v in counts.items()})


def _kind(tree: exp.Expression) -> str:
    """A short statement kind for the log: SELECT, INSERT, MERGE, CREATE TABLE, ..."""
    if isinstance(tree, exp.Create | exp.Drop):
        verb = "CREATE" if isinstance(tree, exp.Create) else "DROP"
        return f"{verb} {(tree.args.get('kind') or '').upper()}".strip()
    if isinstance(tree, exp.Query):
        return "SELECT"
    if isinstance(tree, exp.Alter):
        return "ALTER TABLE"
    if isinstance(tree, exp.TruncateTable):
        return "TRUNCATE TABLE"
    return tree.key.upper()
