"""Unity Catalog volumes through the connector's real staging protocol: PUT a Parquet file,
MERGE from ``read_files``, GET it back, REMOVE it; and the refusals around them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import databricks.sql
import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from databricks.sql.exc import ServerOperationError


@pytest.fixture
def staging(databricks_sandbox, tmp_path):
    schema = f"v_{uuid.uuid4().hex[:10]}"
    with (
        databricks_sandbox.connect(staging_allowed_local_path=str(tmp_path)) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(f"CREATE SCHEMA main.{schema}")
        cur.execute(f"CREATE VOLUME IF NOT EXISTS main.{schema}.staging")
        yield cur, f"main.{schema}", f"/Volumes/main/{schema}/staging"


def _parquet(path, rows):
    table = pa.table(
        {
            "id": pa.array([r[0] for r in rows], pa.string()),
            "amount": pa.array([r[1] for r in rows], pa.decimal128(38, 6)),
            "updated_at": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
        }
    )
    pq.write_table(table, path)
    return path


ROWS = [
    ("i1", Decimal("10.500000"), dt.datetime(2024, 5, 1, 12, 0, 0, 250, tzinfo=dt.UTC)),
    ("i2", Decimal("-3.000001"), dt.datetime(2024, 5, 2, tzinfo=dt.UTC)),
]


def test_put_merge_from_read_files_get_and_remove(databricks_sandbox, staging, tmp_path):
    cur, schema, volume = staging
    local = _parquet(tmp_path / "batch.parquet", ROWS)
    cur.execute(f"PUT '{local}' INTO '{volume}/batch-1.parquet' OVERWRITE")
    stored = (
        databricks_sandbox.data_dir
        / "volumes"
        / volume.removeprefix("/Volumes/")
        / "batch-1.parquet"
    )
    assert stored.read_bytes() == local.read_bytes()

    cur.execute(
        f"CREATE TABLE {schema}.invoices (id STRING, amount DECIMAL(38,6), "
        "updated_at TIMESTAMP) USING DELTA"
    )
    cur.execute(f"""MERGE INTO {schema}.invoices AS t
        USING (SELECT * FROM read_files('{volume}/batch-1.parquet', format => 'parquet')) AS s
        ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *""")
    assert cur.fetchone().num_inserted_rows == 2
    cur.execute(f"SELECT * FROM {schema}.invoices ORDER BY id")
    assert [tuple(r) for r in cur.fetchall()] == ROWS

    copy = tmp_path / "copy.parquet"
    cur.execute(f"GET '{volume}/batch-1.parquet' TO '{copy}'")
    assert copy.read_bytes() == local.read_bytes()

    cur.execute(f"REMOVE '{volume}/batch-1.parquet'")
    assert not stored.exists()
    with pytest.raises(ServerOperationError, match="PATH_NOT_FOUND"):
        cur.execute(f"SELECT * FROM read_files('{volume}/batch-1.parquet', format => 'parquet')")


def test_read_files_reads_a_directory_of_parquet_files(staging, tmp_path):
    cur, _, volume = staging
    for i, row in enumerate(ROWS):
        cur.execute(
            f"PUT '{_parquet(tmp_path / f'p{i}.parquet', [row])}' "
            f"INTO '{volume}/dir/part-{i}.parquet'"
        )
    cur.execute(
        f"SELECT count(*) AS n, sum(amount) AS total FROM "
        f"read_files('{volume}/dir', format => 'parquet')"
    )
    row = cur.fetchone()
    assert (row.n, row.total) == (2, Decimal("7.499999"))


def test_put_without_overwrite_onto_an_existing_file_is_refused(staging, tmp_path):
    cur, _, volume = staging
    local = _parquet(tmp_path / "x.parquet", ROWS)
    cur.execute(f"PUT '{local}' INTO '{volume}/x.parquet'")
    with pytest.raises(ServerOperationError, match="FILE_ALREADY_EXISTS"):
        cur.execute(f"PUT '{local}' INTO '{volume}/x.parquet'")


def test_put_into_a_missing_volume_is_refused(staging, tmp_path):
    cur, schema, _ = staging
    local = _parquet(tmp_path / "x.parquet", ROWS)
    with pytest.raises(ServerOperationError, match="UC_VOLUME_NOT_FOUND"):
        cur.execute(f"PUT '{local}' INTO '/Volumes/{schema.replace('.', '/')}/nope/x.parquet'")


def test_connector_requires_staging_allowed_local_path(databricks_sandbox, staging, tmp_path):
    _, _, volume = staging
    local = _parquet(tmp_path / "x.parquet", ROWS)
    with (
        databricks_sandbox.connect() as conn,
        conn.cursor() as cur,
        pytest.raises(databricks.sql.exc.ProgrammingError, match="staging_allowed_local_path"),
    ):
        cur.execute(f"PUT '{local}' INTO '{volume}/x.parquet'")


def test_presigned_urls_are_signed(databricks_sandbox, staging):
    _, _, volume = staging
    url = f"{databricks_sandbox.base_url}/sandbox-files{volume}/evil.parquet"
    forged = httpx.put(url + "?expires=9999999999&signature=00", content=b"x")
    assert forged.status_code == 403
    assert not (
        databricks_sandbox.data_dir / "volumes" / volume.removeprefix("/Volumes/") / "evil.parquet"
    ).exists()
