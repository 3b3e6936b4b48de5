"""Every statement sql.py and batch_sql.py generate parses as Databricks SQL; its DuckDB rendering (the dialect
switch) means what sqlglot's transpile of the Databricks statement means, and runs on DuckDB."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ErrorLevel
from target_databricks_upsert import batch_sql, sql
from target_databricks_upsert.settings import DEFAULT_DUCKDB_MEMORY_LIMIT
from target_databricks_upsert.tables import stream_tables
from target_databricks_upsert.testing import INVOICE_SCHEMA
from target_databricks_upsert.warehouse.duckdb import DuckDBWarehouse

LOAD = sql.Load(
    namespace=("main", "wave"),
    load_id="load-'1'\\",
    started_at="2024-05-01T00:00:00+00:00",
    target_version="0.1.0",
    tap_version=None,
)
DUCK_LOAD = dataclasses.replace(LOAD, namespace=("wave",), dialect=sql.DUCKDB)


class DuckDBAsItReads(DuckDB):
    """DuckDB as the engine (>= 2.0) reads SQL: backticks quote identifiers too; sqlglot's DuckDB
    dialect only knows double quotes."""

    class Tokenizer(DuckDB.Tokenizer):
        IDENTIFIERS = ['"', "`"]


TRICKY = ["plain", "it's", "back\\slash", "\\'", "''", "tab\tnew\nline", "ünï €", "end\\"]


def every_statement(load: sql.Load, stage_schema: str = "") -> list[str]:
    root = stream_tables("invoices", INVOICE_SCHEMA, ["business_id", "id"])
    keyless = stream_tables("events", {"properties": {"business_id": {"type": "string"}}}, [])
    tables = [root, *root.descendants()]
    sources = {t.name: f"{stage_schema}`stage_{t.name}`" for t in [*tables, keyless]}
    statements = [sql.create_schema(load), sql.create_load_audit(load)]
    statements += [sql.create_table(load, t) for t in [*tables, keyless]]
    statements += sql.add_columns(load, "invoices", [("memo", "STRING"), ("paid", "DECIMAL(38,6)")])
    statements += [sql.describe_tables(load)]
    statements += _flat(batch_sql.batch_steps(load, root, sources))
    statements += [batch_sql.batch_counts(load, root, sources)]
    counted = [("invoices", "B'2", 0, 0, 0), ("invoice_items", "B\\3", 1, 0, 0)]
    statements += _flat(batch_sql.counted_steps(load, root, sources, counted))
    statements += [batch_sql.rows_of_batch_keys(load, root, sources["invoices"])]
    statements += _flat(batch_sql.batch_steps(load, root, sources, all_new=True))
    statements += _flat(batch_sql.batch_steps(load, keyless, {"events": sources["events"]}))
    for table in tables:
        statements += _flat(
            batch_sql.retire_old_versions(load, table, 7, 123, ["B1", "B'2", "B\\3"])
        )
        statements += _flat(
            batch_sql.retire_old_versions(load, table, 7, 123, None, hard_delete=True)
        )
    return statements


def _flat(steps: list[list[str]]) -> list[str]:
    return [statement for step in steps for statement in step]


def test_every_generated_statement_parses_as_databricks_sql():
    statements = every_statement(LOAD)
    assert len(statements) > 30
    for statement in statements:
        parsed = sqlglot.parse(statement, read="databricks", error_level=ErrorLevel.RAISE)
        assert len(parsed) == 1 and parsed[0] is not None, statement


def _as_duckdb(tree: exp.Expression) -> list[str]:
    """sqlglot's DuckDB reading of a parsed statement, without Delta's table options (a temporary
    table stays temporary) and with
    `ADD COLUMNS (a, b)` as one ALTER per column (DuckDB has no multi-column ADD)."""
    for properties in list(tree.find_all(exp.Properties)):
        kept = [p for p in properties.expressions if isinstance(p, exp.TemporaryProperty)]
        if kept:
            properties.set("expressions", kept)
        else:
            properties.pop()
    trees = [tree]
    if isinstance(tree, exp.Alter):
        trees = []
        for action in tree.args["actions"]:
            for column in action.expressions if isinstance(action, exp.Schema) else [action]:
                single = tree.copy()
                single.set("actions", [column.copy()])
                trees.append(single)
    return [t.sql(dialect="duckdb") for t in trees]


def test_the_duckdb_rendering_means_what_sqlglot_transpiles_the_databricks_statement_to():
    """The dialect switch is a hand-kept translation: sqlglot checks it statement by statement
    (same tree once both are read; identifiers, literals with quotes and backslashes, types)."""
    # (both batch paths rendered in both dialects, so the statements correspond one to one)
    databricks = every_statement(
        dataclasses.replace(
            LOAD,
            namespace=("wave",),
            dialect=sql.DATABRICKS,
        )
    )
    duck = every_statement(DUCK_LOAD)
    expected = [
        s
        for statement in databricks
        for s in _as_duckdb(sqlglot.parse_one(statement, read="databricks"))
    ]
    rendered = [sqlglot.parse_one(s, read=DuckDBAsItReads).sql(dialect="duckdb") for s in duck]
    assert len(rendered) == len(expected) > 30
    for ours, transpiled in zip(rendered, expected, strict=True):
        assert ours == transpiled


@pytest.mark.parametrize("text", TRICKY)
def test_string_literals_read_back_exactly_in_both_dialects(text):
    assert duckdb.sql(f"SELECT {sql.DUCKDB.literal(text)}").fetchall() == [(text,)]
    parsed = sqlglot.parse_one(f"SELECT {sql.DATABRICKS.literal(text)}", read="databricks")
    assert parsed.expressions[0].this == text


def test_databricks_tables_are_delta_clustered_by_business_with_change_feed():
    root = stream_tables("invoices", INVOICE_SCHEMA, ["business_id", "id"])
    create = sql.create_table(LOAD, root)
    assert create.startswith("CREATE TABLE IF NOT EXISTS `main`.`wave`.`invoices` (")
    assert "USING DELTA CLUSTER BY (`business_id`)" in create
    assert "'delta.enableChangeDataFeed' = 'true'" in create
    partitioned = dataclasses.replace(LOAD, table_layout="partition")
    assert "PARTITIONED BY (`business_id`)" in sql.create_table(partitioned, root)
    assert "`_loaded_at` TIMESTAMP," in create
    assert "`_loaded_at` TIMESTAMPTZ," in sql.create_table(DUCK_LOAD, root)


def test_duckdb_statements_run_on_duckdb_and_keep_tricky_strings(tmp_path):
    warehouse = DuckDBWarehouse(str(tmp_path / "w.duckdb"), DEFAULT_DUCKDB_MEMORY_LIMIT)
    warehouse.connect()
    statements = every_statement(DUCK_LOAD, stage_schema="`wave`.")
    ddl = [s for s in statements if s.startswith(("CREATE SCHEMA", "CREATE TABLE", "ALTER"))]
    warehouse.execute_ddl(ddl)
    root = stream_tables("invoices", INVOICE_SCHEMA, ["business_id", "id"])
    keyless = stream_tables("events", {"properties": {"business_id": {"type": "string"}}}, [])
    for table in [root, *root.descendants(), keyless]:
        values = {c: "'1'" for c in table.key} | {
            "business_id": sql.DUCKDB.literal("B'2"),
            "_sequence": "1",
            "_is_deleted": "FALSE",
        }
        columns = ", ".join(
            f"CAST({values.get(c, 'NULL')} AS {sql.DUCKDB.column_type(t)}) AS `{c}`"
            for c, t in table.all_columns
            if c not in {"_loaded_at", "_updated_at", "_load_id"}
        )
        warehouse.execute_ddl([f"CREATE TABLE `wave`.`stage_{table.name}` AS SELECT {columns}"])
    warehouse.execute_transaction([s for s in statements if s not in ddl])
    loads = warehouse.query("SELECT DISTINCT load_id FROM `wave`.`_load_audit`")
    assert loads == [(DUCK_LOAD.load_id,)]
    counts = warehouse.query(
        "SELECT business_id, rows_inserted, rows_deleted FROM "
        "`wave`.`_load_audit` WHERE table_name = 'invoices'"
    )
    assert counts == [("B'2", 2, 2)]  # merged, appended again, both retired inside the fence
    types = dict(
        warehouse.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'invoices' AND column_name IN ('paid', '_loaded_at')"
        )
    )
    assert types == {"paid": "DECIMAL(38,6)", "_loaded_at": "TIMESTAMP WITH TIME ZONE"}
    warehouse.close()


def test_the_target_never_imports_sqlglot():
    """sqlglot is a test dependency only: imported, it is ~20 MB of the target's memory budget."""
    code = (
        "import sys, target_databricks_upsert.target, target_databricks_upsert.warehouse.duckdb\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlglot'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
