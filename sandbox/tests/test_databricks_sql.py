"""Databricks SQL on the simulator through the real connector: Delta DDL recorded and
queryable, exact type round-trips, native parameters, schema evolution, metadata views, and
refusals carrying Databricks error classes."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal

import pytest
from databricks.sql.exc import ServerOperationError

COLUMNS = (
    "id STRING NOT NULL, amount DECIMAL(38,6), updated_at TIMESTAMP, day DATE, "
    "n BIGINT, active BOOLEAN"
)


@pytest.fixture
def schema(cur):
    name = f"s_{uuid.uuid4().hex[:10]}"
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS main.{name}")
    return f"main.{name}"


def test_delta_table_settings_are_recorded(databricks_sandbox, cur, schema):
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {schema}.invoices ({COLUMNS}) USING DELTA "
        "CLUSTER BY (id) TBLPROPERTIES ('delta.enableChangeDataFeed' = true) "
        "COMMENT 'Wave invoices'"
    )
    cur.execute(f"DESCRIBE DETAIL {schema}.invoices")
    detail = cur.fetchone()
    assert detail.format == "delta"
    assert list(detail.clusteringColumns) == ["id"] and list(detail.partitionColumns) == []
    assert dict(detail.properties)["delta.enableChangeDataFeed"] == "true"
    assert detail.description == "Wave invoices"
    cur.execute(f"SHOW TBLPROPERTIES {schema}.invoices")
    assert dict((r.key, r.value) for r in cur.fetchall())["delta.enableChangeDataFeed"] == "true"
    listed = {t["full_name"]: t for t in databricks_sandbox.tables()}
    assert listed[f"{schema}.invoices"]["clustering_columns"] == ["id"]
    assert listed[f"{schema}.invoices"]["columns"][1] == {
        "name": "amount",
        "type": "decimal(38,6)",
        "nullable": True,
    }


def test_partitioned_table_and_conflicting_layouts(cur, schema):
    cur.execute(
        f"CREATE TABLE {schema}.p (business_id STRING, v INT) USING DELTA "
        "PARTITIONED BY (business_id)"
    )
    cur.execute(f"DESCRIBE DETAIL {schema}.p")
    assert list(cur.fetchone().partitionColumns) == ["business_id"]
    with pytest.raises(ServerOperationError, match="DELTA_CLUSTER_BY_WITH_PARTITIONED_BY"):
        cur.execute(
            f"CREATE TABLE {schema}.q (a STRING) USING DELTA CLUSTER BY (a) PARTITIONED BY (a)"
        )
    with pytest.raises(ServerOperationError, match="DELTA_COLUMN_NOT_FOUND_IN_SCHEMA"):
        cur.execute(f"CREATE TABLE {schema}.r (a STRING) USING DELTA CLUSTER BY (nope)")


def test_types_round_trip_exactly_with_native_parameters(cur, schema):
    cur.execute(f"CREATE TABLE {schema}.t ({COLUMNS}) USING DELTA")
    rows = [
        (
            "a",
            Decimal("12345678901234567890.123456"),
            dt.datetime(2024, 3, 10, 2, 30, 0, 1, tzinfo=dt.UTC),
            dt.date(1999, 12, 31),
            -9223372036854775808,
            True,
        ),
        (
            "b",
            Decimal("-0.000001"),
            dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
            dt.date(2038, 1, 19),
            9223372036854775807,
            False,
        ),
    ]
    for row in rows:
        cur.execute(
            f"INSERT INTO {schema}.t VALUES (:id, :amount, :ts, :day, :n, :active)",
            dict(zip(["id", "amount", "ts", "day", "n", "active"], row, strict=True)),
        )
        assert cur.rowcount == 1
    cur.execute(f"SELECT * FROM {schema}.t WHERE id IN (?, ?) ORDER BY id", ["a", "b"])
    assert [tuple(r) for r in cur.fetchall()] == rows


def test_many_rows_are_fetched_in_several_batches(cur):
    cur.arraysize = 1000
    cur.execute("SELECT id, CAST(id AS STRING) s FROM range(25000) AS r(id) ORDER BY id")
    rows = cur.fetchall()
    assert len(rows) == 25000 and rows[-1].id == 24999 and rows[123].s == "123"


def test_add_columns_and_information_schema(cur, schema):
    cur.execute(f"CREATE TABLE {schema}.evolving (id STRING) USING DELTA")
    cur.execute(
        f"ALTER TABLE {schema}.evolving ADD COLUMNS (total DECIMAL(38,6), seen_at TIMESTAMP)"
    )
    catalog, sch = schema.split(".")
    cur.execute(
        f"SELECT column_name, data_type, full_data_type FROM {catalog}.information_schema.columns "
        f"WHERE table_schema = '{sch}' AND table_name = 'evolving' ORDER BY ordinal_position"
    )
    assert [tuple(r) for r in cur.fetchall()] == [
        ("id", "STRING", "string"),
        ("total", "DECIMAL", "decimal(38,6)"),
        ("seen_at", "TIMESTAMP", "timestamp"),
    ]
    cur.execute(f"DESCRIBE TABLE {schema}.evolving")
    assert [(r.col_name, r.data_type) for r in cur.fetchall()] == [
        ("id", "string"),
        ("total", "decimal(38,6)"),
        ("seen_at", "timestamp"),
    ]
    with pytest.raises(ServerOperationError, match="FIELD_ALREADY_EXISTS"):
        cur.execute(f"ALTER TABLE {schema}.evolving ADD COLUMNS (total STRING)")


def test_use_schema_resolves_unqualified_names(cur, schema):
    cur.execute(f"USE SCHEMA {schema.split('.')[1]}")
    cur.execute("CREATE TABLE plain (v INT)")
    cur.execute("INSERT INTO plain VALUES (7)")
    cur.execute(f"SELECT v FROM {schema}.plain")
    assert cur.fetchone().v == 7


@pytest.mark.parametrize(
    ("statement", "error_class"),
    [
        ("SELEC 1", "PARSE_SYNTAX_ERROR"),
        ("SELECT * FROM main.default.no_such_table", "TABLE_OR_VIEW_NOT_FOUND"),
        ("SELECT * FROM nowhere.default.t", "TABLE_OR_VIEW_NOT_FOUND"),
        ("CREATE SCHEMA nowhere.s", "NO_SUCH_CATALOG_EXCEPTION"),
        ("CREATE TABLE main.no_such_schema.t (a INT)", "SCHEMA_NOT_FOUND"),
        ("SELECT CAST('abc' AS INT)", "CAST_INVALID_INPUT"),
        ("SELECT :missing", "UNBOUND_SQL_PARAMETER"),
    ],
)
def test_refusals_carry_databricks_error_classes(cur, statement, error_class):
    with pytest.raises(ServerOperationError, match=error_class):
        cur.execute(statement)


def test_insert_with_wrong_arity_and_type_is_refused(cur, schema):
    cur.execute(f"CREATE TABLE {schema}.strict (a BIGINT, b DATE)")
    with pytest.raises(ServerOperationError, match="INSERT_COLUMN_ARITY_MISMATCH"):
        cur.execute(f"INSERT INTO {schema}.strict VALUES (1)")
    with pytest.raises(
        ServerOperationError, match=r"INCOMPATIBLE_DATA_FOR_TABLE\.CANNOT_SAFELY_CAST"
    ):
        cur.execute(f"INSERT INTO {schema}.strict VALUES (1, 'not a date')")
    # Spark evaluates literal rows while planning, and says which expression failed
    with pytest.raises(ServerOperationError, match="FAILED_SQL_EXPRESSION_EVALUATION"):
        cur.execute(f"INSERT INTO {schema}.strict VALUES (1, CAST('not a date' AS DATE))")
    cur.execute(f"SELECT count(*) FROM {schema}.strict")
    assert cur.fetchone()[0] == 0


def test_drop_table_and_schema(cur, schema):
    cur.execute(f"CREATE TABLE {schema}.gone (a INT)")
    with pytest.raises(ServerOperationError, match="SCHEMA_NOT_EMPTY"):
        cur.execute(f"DROP SCHEMA {schema}")
    cur.execute(f"DROP TABLE {schema}.gone")
    cur.execute(f"DROP TABLE IF EXISTS {schema}.gone")
    with pytest.raises(ServerOperationError, match="TABLE_OR_VIEW_NOT_FOUND"):
        cur.execute(f"SELECT * FROM {schema}.gone")
    cur.execute(f"DROP SCHEMA {schema} CASCADE")
    with pytest.raises(ServerOperationError, match="SCHEMA_NOT_FOUND"):
        cur.execute(f"USE SCHEMA {schema.split('.')[1]}")


def test_async_execution(cur):
    cur.execute_async("SELECT 42 AS answer")
    while cur.is_query_pending():
        time.sleep(0.05)
    cur.get_async_execution_result()
    assert cur.fetchone().answer == 42


def test_connector_metadata_calls(cur, schema):
    cur.execute(f"CREATE TABLE {schema}.meta (id STRING, amount DECIMAL(38,6))")
    catalog, sch = schema.split(".")
    assert catalog in [r.TABLE_CAT for r in cur.catalogs().fetchall()]
    assert sch in [r.TABLE_SCHEM for r in cur.schemas(catalog_name=catalog).fetchall()]
    assert [r.TABLE_NAME for r in cur.tables(catalog_name=catalog, schema_name=sch).fetchall()] == [
        "meta"
    ]
    columns = cur.columns(catalog_name=catalog, schema_name=sch, table_name="meta").fetchall()
    assert [(c.COLUMN_NAME, c.TYPE_NAME) for c in columns] == [
        ("id", "STRING"),
        ("amount", "DECIMAL(38,6)"),
    ]
