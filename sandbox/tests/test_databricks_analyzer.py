"""Spark's analyzer in front of the simulator: what Databricks refuses is refused, with Spark's
error class, message and SQLSTATE, before anything is written; DuckDB alone (``--analyzer none``)
would have let the same statements through."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from databricks.sql.exc import ServerOperationError

# The shape `sql.mark_removed_lines` had: the subquery `g` holds the key (with business_id) and
# a second column aliased business_id; DuckDB renames the duplicate, Spark refuses the reference.
AMBIGUOUS = (
    "SELECT g.business_id, COUNT(*) AS n FROM (SELECT c.business_id, c.id, "
    "c.business_id AS business_id FROM {table} AS c) AS g GROUP BY g.business_id"
)


@pytest.fixture
def table(cur):
    name = f"main.a_{uuid.uuid4().hex[:10]}"
    cur.execute(f"CREATE SCHEMA {name}")
    cur.execute(
        f"CREATE TABLE {name}.lines (business_id STRING NOT NULL, id STRING NOT NULL, "
        "amount DECIMAL(38,6), _sequence BIGINT) USING DELTA CLUSTER BY (business_id)"
    )
    cur.execute(f"INSERT INTO {name}.lines VALUES ('b1', 'i1', 1.5, 1)")
    return f"{name}.lines"


def _refused(cur, statement: str, error_class: str, sqlstate: str) -> str:
    with pytest.raises(ServerOperationError) as caught:
        cur.execute(statement)
    message = str(caught.value)
    assert message.startswith(f"[{error_class}]"), message
    assert f"SQLSTATE: {sqlstate}" in message, message
    return message


def test_ambiguous_reference_is_refused_where_duckdb_alone_accepts_it(
    databricks_sandbox_factory, cur, table
):
    message = _refused(cur, AMBIGUOUS.format(table=table), "AMBIGUOUS_REFERENCE", "42704")
    assert "Reference `g`.`business_id` is ambiguous" in message
    lenient = databricks_sandbox_factory(analyzer="none")
    with lenient.connect() as conn, conn.cursor() as plain:
        plain.execute("CREATE TABLE main.default.lines (business_id STRING, id STRING)")
        plain.execute(AMBIGUOUS.format(table="main.default.lines"))
        assert plain.fetchall() == []


def test_unknown_column_and_unknown_merge_target_column(cur, table):
    message = _refused(
        cur, f"SELECT amount, nope FROM {table}", "UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703"
    )
    assert "Did you mean one of the following? [" in message  # Spark's own words
    _refused(
        cur,
        f"MERGE INTO {table} AS t USING (SELECT 'b1' AS business_id, 'i1' AS id) AS s "
        "ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.not_a_column = 1",
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        "42703",
    )


def test_ansi_cast_failure_in_literal_rows_writes_nothing(cur, table):
    merge = (
        f"MERGE INTO {table} AS t USING (SELECT CAST(v.business_id AS STRING) AS "
        "business_id, CAST(v.id AS STRING) AS id, CAST(v.amount AS DECIMAL(38,6)) AS amount "
        "FROM VALUES ('b1', 'i2', '12.50'), ('b1', 'i3', '120,50') AS v(business_id, id, "
        "amount)) AS s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (business_id, id, amount) "
        "VALUES (s.business_id, s.id, s.amount)"
    )
    message = _refused(cur, merge, "CAST_INVALID_INPUT", "22018")
    assert "'120,50'" in message
    cur.execute(f"SELECT id FROM {table} ORDER BY id")
    assert [r.id for r in cur.fetchall()] == ["i1"]  # the good row was not written either


def test_duplicate_column_and_unknown_delta_property_in_create_table(cur, table):
    schema = table.rsplit(".", 1)[0]
    _refused(
        cur,
        f"CREATE TABLE {schema}.twice (a STRING, A STRING) USING DELTA",
        "COLUMN_ALREADY_EXISTS",
        "42711",
    )
    _refused(
        cur,
        f"CREATE TABLE {schema}.props (a STRING) USING DELTA "
        "TBLPROPERTIES ('delta.enableChangeDataFed' = 'true')",
        "DELTA_UNKNOWN_CONFIGURATION",
        "F0000",
    )
    cur.execute(f"SHOW TABLES IN {schema}")
    assert sorted(r.tableName for r in cur.fetchall()) == ["lines"]


def test_information_schema_and_metadata_commands_are_analysed(cur, table):
    catalog, schema, _ = table.split(".")
    _refused(
        cur,
        f"SELECT column_name, no_such_field FROM {catalog}.information_schema.columns",
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        "42703",
    )
    _refused(
        cur, f"DESCRIBE TABLE {catalog}.{schema}.not_there", "TABLE_OR_VIEW_NOT_FOUND", "42P01"
    )
    cur.execute(
        f"SELECT full_data_type FROM {catalog}.information_schema.columns "
        f"WHERE table_schema = '{schema}' AND column_name = 'amount'"
    )
    assert cur.fetchone().full_data_type == "decimal(38,6)"


def test_read_files_is_typed_from_the_volume_file(databricks_sandbox, table, tmp_path):
    schema = table.rsplit(".", 1)[0]
    volume = "/Volumes/" + schema.replace(".", "/") + "/staging"
    local = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"business_id": ["b1"], "id": ["i9"]}), local)
    with (
        databricks_sandbox.connect(staging_allowed_local_path=str(tmp_path)) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(f"CREATE VOLUME {schema}.staging")
        cur.execute(f"PUT '{local}' INTO '{volume}/rows.parquet' OVERWRITE")
        source = f"read_files('{volume}/rows.parquet', format => 'parquet')"
        _refused(
            cur, f"SELECT f.amount FROM {source} AS f", "UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703"
        )
        cur.execute(
            f"MERGE INTO {table} AS t USING (SELECT * FROM {source}) AS s ON t.id = s.id "
            "WHEN NOT MATCHED THEN INSERT (business_id, id) VALUES (s.business_id, s.id)"
        )
        assert cur.fetchone().num_inserted_rows == 1


def test_the_session_catalog_and_schema_resolve_unqualified_names(databricks_sandbox, table):
    catalog, schema, name = table.split(".")
    with databricks_sandbox.connect(catalog=catalog, schema=schema) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) AS n FROM {name}")
        assert cur.fetchone().n == 1
        cur.execute("USE SCHEMA default")
        _refused(cur, f"SELECT count(*) FROM {name}", "TABLE_OR_VIEW_NOT_FOUND", "42P01")


def test_a_machine_without_java_gets_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path)  # no java here
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "databricks_sandbox",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "databricks-sandbox: Spark's analyzer needs Java 17 or newer: no java on "
        "PATH or in JAVA_HOME, or start the simulator with --analyzer none"
    ]
