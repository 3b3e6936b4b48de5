"""The latency model, as a client sees it through the real connector: each statement takes at
least the modelled seconds of its kind (and the log says which kind and how long), statements
submitted concurrently overlap their latencies, and the model changes at runtime."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import httpx
import pytest
from databricks.sql.exc import ServerOperationError
from databricks_sandbox.testing import start_databricks_sandbox

SECONDS = {"metadata": 0.2, "ddl": 0.15, "dml": 0.25, "staging": 0.1, "query": 0.12, "session": 0.0}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    spec = tmp_path_factory.mktemp("latency") / "latency.txt"
    spec.write_text("# a slow warehouse\nmetadata=0.2, ddl=0.15\ndml=0.25\nstaging=9\n")
    # Spark's analyzer plays no part in the timing: left out for a quick start.
    with start_databricks_sandbox(
        analyzer="none", latency_file=spec, latency="staging=0.1,query=0.12"
    ) as running:
        yield running


def _timed(cursor, statement: str) -> float:
    started = time.perf_counter()
    cursor.execute(statement)
    cursor.fetchall()
    return time.perf_counter() - started


def test_each_statement_takes_at_least_the_latency_of_its_kind(sandbox, tmp_path):
    assert sandbox.latency() == SECONDS  # the file's items, then --latency's
    local = tmp_path / "staged.csv"
    local.write_text("a\n1\n")
    statements = [
        ("ddl", "CREATE SCHEMA main.lat"),
        ("ddl", "CREATE TABLE main.lat.t (id BIGINT, v STRING) USING DELTA"),
        ("dml", "INSERT INTO main.lat.t VALUES (1, 'a')"),
        (
            "dml",
            "MERGE INTO main.lat.t AS t USING (SELECT 1 AS id, 'b' AS v) AS s ON t.id = s.id "
            "WHEN MATCHED THEN UPDATE SET v = s.v",
        ),
        (
            "metadata",
            "SELECT column_name FROM main.information_schema.columns WHERE table_schema = 'lat'",
        ),
        ("metadata", "SHOW TABLES IN main.lat"),
        ("query", "SELECT count(*) FROM main.lat.t"),
        ("staging", "CREATE VOLUME main.lat.v"),
        ("staging", f"PUT '{local}' INTO '/Volumes/main/lat/v/staged.csv'"),
        ("staging", "REMOVE '/Volumes/main/lat/v/staged.csv'"),
    ]
    since = sandbox.statements()[-1]["seq"] if sandbox.statements() else 0
    with sandbox.connect(staging_allowed_local_path=str(tmp_path)) as conn, conn.cursor() as cursor:
        for kind, statement in statements:
            assert _timed(cursor, statement) >= SECONDS[kind], statement
        started = time.perf_counter()
        with pytest.raises(ServerOperationError, match="TABLE_OR_VIEW_NOT_FOUND"):
            cursor.execute("SELECT * FROM main.lat.missing")  # a refusal waits too
        assert time.perf_counter() - started >= SECONDS["query"]
        started = time.perf_counter()
        cursor.columns(catalog_name="main", schema_name="lat")  # a Thrift metadata call
        cursor.fetchall()
        assert time.perf_counter() - started >= SECONDS["metadata"]
    logged = sandbox.statements(since)
    assert [e["latency_kind"] for e in logged] == [k for k, _ in statements] + ["query"]
    for entry in logged:
        assert entry["latency_ms"] == pytest.approx(SECONDS[entry["latency_kind"]] * 1000)
        assert entry["duration_ms"] >= entry["latency_ms"]
        assert (
            _at(entry["finished_at"]) - _at(entry["started_at"]) >= SECONDS[entry["latency_kind"]]
        )
    merge = next(e for e in logged if e["kind"] == "MERGE")
    assert merge["counts"] == {
        "num_affected_rows": 1,
        "num_updated_rows": 1,
        "num_deleted_rows": 0,
        "num_inserted_rows": 0,
    }


def test_concurrent_statements_overlap_their_latencies(sandbox):
    with sandbox.connect() as conn, conn.cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS main.par")
        for n in range(4):
            cursor.execute(f"CREATE TABLE main.par.t{n} (id BIGINT) USING DELTA")
    assert sandbox.set_latency(dml=1.0)["dml"] == 1.0
    since = sandbox.statements()[-1]["seq"]
    connections = [sandbox.connect() for _ in range(4)]
    barrier = threading.Barrier(4)

    def insert(n: int) -> None:
        with connections[n].cursor() as cursor:
            barrier.wait()
            cursor.execute(f"INSERT INTO main.par.t{n} VALUES ({n})")

    try:
        threads = [threading.Thread(target=insert, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for connection in connections:
            connection.close()
        sandbox.set_latency(dml=SECONDS["dml"])
    inserts = [e for e in sandbox.statements(since) if e["kind"] == "INSERT"]
    assert len(inserts) == 4 and all(e["status"] == "ok" for e in inserts)
    # Every insert was waiting on its latency while the others were: all four in flight at once.
    assert max(_at(e["started_at"]) for e in inserts) < min(_at(e["finished_at"]) for e in inserts)


def test_the_model_changes_at_runtime(sandbox):
    assert sandbox.set_latency(profile="off", query=0.1) == {
        **dict.fromkeys(SECONDS, 0.0),
        "query": 0.1,
    }
    try:
        with sandbox.connect() as conn, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert sandbox.statements()[-1]["latency_ms"] == 100
        serverless = sandbox.set_latency(profile="serverless")
        assert serverless["dml"] >= 1 and serverless["metadata"] > serverless["query"] > 0
        refused = httpx.post(sandbox.base_url + "/sandbox/latency", json={"dml": -1})
        assert refused.status_code == 400 and "dml" in refused.json()["error"]
        assert sandbox.latency() == serverless  # nothing changed by a refused request
    finally:
        sandbox.set_latency(profile="off", **SECONDS)


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()
