"""Every statement sql.py generates parses as Databricks SQL, and runs on DuckDB once transpiled."""

from __future__ import annotations

import sqlglot
from sqlglot.errors import ErrorLevel
from target_databricks_upsert import sql
from target_databricks_upsert.tables import stream_tables
from target_databricks_upsert.testing import INVOICE_SCHEMA
from target_databricks_upsert.warehouse import DEFAULT_DUCKDB_MEMORY_LIMIT
from target_databricks_upsert.warehouse.duckdb import DuckDBWarehouse, to_duckdb

LOAD = sql.Load(namespace=("main", "wave"), load_id="load-'1'", started_at="2024-05-01T00:00:00+00:00",
                target_version="0.1.0", tap_version=None)


def every_statement(load: sql.Load) -> list[str]:
    root = stream_tables("invoices", INVOICE_SCHEMA, ["business_id", "id"])
    keyless = stream_tables("events", {"properties": {"business_id": {"type": "string"}}}, [])
    tables = [root, *root.descendants()]
    sources = {t.name: f"`stage_{t.name}`" for t in tables}
    statements = [sql.create_schema(load), sql.create_load_audit(load)]
    statements += [sql.create_table(load, t) for t in [*tables, keyless]]
    statements += [sql.add_columns(load, "invoices", [("memo", "STRING"), ("paid", "DECIMAL(38,6)")])]
    statements += [sql.describe_columns(load, "invoices")]
    statements += sql.batch_statements(load, root, sources)
    statements += [sql.rows_of_batch_keys(load, root, sources["invoices"])]
    statements += sql.batch_statements(load, root, sources, all_new=True)
    statements += sql.batch_statements(load, keyless, {"events": "`stage_events`"})
    for table in tables:
        statements += sql.retire_old_versions(load, table, 7, 123, ["B1", "B'2"])
        statements += sql.retire_old_versions(load, table, 7, 123, None, hard_delete=True)
    return statements


def test_every_generated_statement_parses_as_databricks_sql():
    statements = every_statement(LOAD)
    assert len(statements) > 30
    for statement in statements:
        parsed = sqlglot.parse(statement, read="databricks", error_level=ErrorLevel.RAISE)
        assert len(parsed) == 1 and parsed[0] is not None, statement


def test_databricks_tables_are_delta_clustered_by_business_with_change_feed():
    root = stream_tables("invoices", INVOICE_SCHEMA, ["business_id", "id"])
    create = sql.create_table(LOAD, root)
    assert create.startswith("CREATE TABLE IF NOT EXISTS `main`.`wave`.`invoices` (")
    assert "USING DELTA CLUSTER BY (`business_id`)" in create
    assert "'delta.enableChangeDataFeed' = 'true'" in create
    partitioned = sql.Load(**{**LOAD.__dict__, "table_layout": "partition"})
    assert "PARTITIONED BY (`business_id`)" in sql.create_table(partitioned, root)


def test_transpiled_statements_run_on_duckdb(tmp_path):
    load = sql.Load(namespace=("wave",), load_id="l1", started_at="2024-05-01T00:00:00+00:00",
                    target_version="0.1.0")
    warehouse = DuckDBWarehouse(str(tmp_path / "w.duckdb"), DEFAULT_DUCKDB_MEMORY_LIMIT)
    warehouse.connect()
    statements = every_statement(load)
    ddl = [s for s in statements if s.startswith(("CREATE", "ALTER"))]
    warehouse.execute_ddl(ddl)
    root = stream_tables("invoices", INVOICE_SCHEMA, ["business_id", "id"])
    for table in [root, *root.descendants()]:
        columns = ", ".join(
            f"CAST(NULL AS {t}) AS `{c}`" for c, t in table.all_columns if c not in sql_volatile()
        )
        warehouse.execute_ddl([f"CREATE TABLE `wave`.`stage_{table.name}` AS SELECT {columns} LIMIT 0"])
    warehouse.execute_ddl(["CREATE TABLE `wave`.`stage_events` AS SELECT 'B1' AS business_id, "
                           "CAST(NULL AS TIMESTAMP) AS _extracted_at, 1 AS _sequence, false AS "
                           "_is_deleted, CAST(NULL AS TIMESTAMP) AS _deleted_at, "
                           "CAST(NULL AS BIGINT) AS _table_version"])
    rest = [s.replace("`stage_", "`wave`.`stage_") for s in statements if s not in ddl]
    warehouse.execute_transaction(rest)
    assert len(to_duckdb("ALTER TABLE `a`.`b` ADD COLUMNS (`x` STRING, `y` BIGINT)")) == 2
    warehouse.close()


def sql_volatile() -> set[str]:
    return {"_loaded_at", "_updated_at", "_load_id"}
