"""MERGE follows Delta on the simulator: by-name ``UPDATE SET *`` / ``INSERT *``, a newer-wins
guard, Databricks' result row, and the multiple-source-rows refusal that leaves the target
untouched."""

from __future__ import annotations

import uuid

import pytest
from databricks.sql.exc import ServerOperationError


@pytest.fixture
def table(cur):
    schema = f"main.m_{uuid.uuid4().hex[:10]}"
    cur.execute(f"CREATE SCHEMA {schema}")
    cur.execute(
        f"CREATE TABLE {schema}.customers (business_id STRING, id STRING, name STRING, "
        "updated_at TIMESTAMP) USING DELTA CLUSTER BY (business_id)"
    )
    cur.execute(
        f"INSERT INTO {schema}.customers VALUES "
        "('b1', 'c1', 'old', TIMESTAMP'2024-01-01 00:00:00'), "
        "('b1', 'c2', 'keep', TIMESTAMP'2024-06-01 00:00:00')"
    )
    return f"{schema}.customers"


def _rows(cur, table):
    cur.execute(f"SELECT business_id, id, name FROM {table} ORDER BY business_id, id")
    return [tuple(r) for r in cur.fetchall()]


UPSERT = """
MERGE INTO {table} AS t
USING (SELECT * FROM VALUES {values} AS v(business_id, id, name, updated_at)) AS s
ON t.business_id = s.business_id AND t.id = s.id
WHEN MATCHED AND s.updated_at > t.updated_at THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *
"""


def test_upsert_with_newer_wins_guard(cur, table):
    values = (
        "('b1', 'c1', 'new', TIMESTAMP'2024-02-01 00:00:00'), "
        "('b1', 'c2', 'stale', TIMESTAMP'2024-01-01 00:00:00'), "
        "('b2', 'c1', 'other tenant', TIMESTAMP'2024-02-01 00:00:00')"
    )
    cur.execute(UPSERT.format(table=table, values=values))
    result = cur.fetchone()
    assert (
        result.num_affected_rows,
        result.num_updated_rows,
        result.num_inserted_rows,
        result.num_deleted_rows,
    ) == (2, 1, 1, 0)
    assert _rows(cur, table) == [
        ("b1", "c1", "new"),
        ("b1", "c2", "keep"),
        ("b2", "c1", "other tenant"),
    ]
    cur.execute(UPSERT.format(table=table, values=values))  # replay: nothing newer, no change
    assert cur.fetchone().num_affected_rows == 0
    assert len(_rows(cur, table)) == 3


def test_multiple_source_rows_for_one_target_row_are_refused(databricks_sandbox, cur, table):
    values = (
        "('b1', 'c1', 'first', TIMESTAMP'2024-03-01 00:00:00'), "
        "('b1', 'c1', 'second', TIMESTAMP'2024-04-01 00:00:00'), "
        "('b1', 'c9', 'new', TIMESTAMP'2024-04-01 00:00:00')"
    )
    with pytest.raises(
        ServerOperationError, match="DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE"
    ):
        cur.execute(UPSERT.format(table=table, values=values))
    assert _rows(cur, table) == [("b1", "c1", "old"), ("b1", "c2", "keep")]
    logged = [e for e in databricks_sandbox.statements() if e["kind"] == "MERGE"][-1]
    assert logged["status"] == "error" and "'second'" in logged["statement"]


def test_duplicates_are_fine_when_no_target_row_matches_twice(cur, table):
    values = (
        "('b3', 'x', 'one', TIMESTAMP'2024-03-01 00:00:00'), "
        "('b3', 'x', 'two', TIMESTAMP'2024-04-01 00:00:00')"
    )
    cur.execute(f"""MERGE INTO {table} AS t
        USING (SELECT * FROM VALUES {values} AS v(business_id, id, name, updated_at)) AS s
        ON t.business_id = s.business_id AND t.id = s.id
        WHEN NOT MATCHED THEN INSERT *""")
    assert cur.fetchone().num_inserted_rows == 2


def test_lone_unconditional_delete_tolerates_multiple_matches(cur, table):
    cur.execute(f"""MERGE INTO {table} AS t
        USING (SELECT * FROM VALUES ('b1', 'c1'), ('b1', 'c1') AS v(business_id, id)) AS s
        ON t.business_id = s.business_id AND t.id = s.id
        WHEN MATCHED THEN DELETE""")
    assert cur.fetchone().num_deleted_rows == 1
    assert _rows(cur, table) == [("b1", "c2", "keep")]


def test_update_set_star_needs_every_target_column_in_the_source(cur, table):
    with pytest.raises(ServerOperationError, match="UNRESOLVED_COLUMN"):
        cur.execute(f"""MERGE INTO {table} AS t
            USING (SELECT 'b1' AS business_id, 'c1' AS id) AS s
            ON t.business_id = s.business_id AND t.id = s.id
            WHEN MATCHED THEN UPDATE SET *""")
    assert _rows(cur, table) == [("b1", "c1", "old"), ("b1", "c2", "keep")]
