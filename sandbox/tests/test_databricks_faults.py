"""Injected faults as the connector meets them: HTTP 503/429 retried by the connector itself,
Delta write conflicts surfaced as ServerOperationError with nothing written, and OAuth token
expiry refused with 403 until a fresh token is fetched."""

from __future__ import annotations

import time

import pytest
from databricks.sql.exc import RequestError, ServerOperationError
from databricks_sandbox.testing import start_databricks_sandbox


@pytest.fixture(scope="module")
def sandbox():
    with start_databricks_sandbox() as running:
        yield running


@pytest.fixture
def cur(sandbox):
    with sandbox.connect() as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS main.default.events (id BIGINT) USING DELTA")
        cursor.execute("DELETE FROM main.default.events")
        yield cursor
    sandbox.set_faults(http_503=0, http_429=0, concurrent_append=0, metadata_changed=0)


def _count(cur) -> int:
    cur.execute("SELECT count(*) FROM main.default.events")
    return cur.fetchone()[0]


@pytest.mark.parametrize("fault", ["http_503", "http_429"])
def test_connector_retries_throttling_and_the_statement_runs_once(sandbox, cur, fault):
    # The connector sleeps max(Retry-After, _retry_delay_max) before each retry; 5 s is the
    # smallest _retry_delay_max it accepts (its default is 60 s).
    with sandbox.connect(_retry_delay_max=5) as conn, conn.cursor() as cursor:
        since = sandbox.statements()[-1]["seq"]
        assert sandbox.set_faults(**{fault: 1})[fault] == 1
        cursor.execute("INSERT INTO main.default.events VALUES (1)")
        assert sandbox.faults()[fault] == 0
    inserts = [e for e in sandbox.statements(since) if e["kind"] == "INSERT"]
    assert len(inserts) == 1
    assert _count(cur) == 1


def test_throttling_beyond_the_retry_budget_fails_the_request(sandbox):
    # A retry budget of 1 s cannot fit the connector's 5 s minimum back-off: it gives up at once.
    with (
        sandbox.connect(_retry_stop_after_attempts_duration=1, _retry_delay_max=5) as conn,
        conn.cursor() as cursor,
    ):
        sandbox.set_faults(http_429=1)
        with pytest.raises(RequestError):
            cursor.execute("SELECT 1")
        cursor.execute("SELECT 1")  # the next request is served again


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [
        ("concurrent_append", "DELTA_CONCURRENT_APPEND"),
        ("metadata_changed", "DELTA_METADATA_CHANGED"),
    ],
)
def test_write_conflicts_fail_without_writing(sandbox, cur, fault, error_class):
    sandbox.set_faults(**{fault: 1})
    cur.execute("SELECT 1")  # reads are not writes: unaffected
    with pytest.raises(ServerOperationError, match=error_class):
        cur.execute("INSERT INTO main.default.events VALUES (1)")
    assert _count(cur) == 0
    cur.execute("INSERT INTO main.default.events VALUES (1)")  # the retry goes through
    assert _count(cur) == 1


def test_conflict_on_merge(sandbox, cur):
    sandbox.set_faults(concurrent_append=1)
    merge = (
        "MERGE INTO main.default.events AS t USING (SELECT 5 AS id) AS s ON t.id = s.id "
        "WHEN NOT MATCHED THEN INSERT *"
    )
    with pytest.raises(ServerOperationError, match="DELTA_CONCURRENT_APPEND"):
        cur.execute(merge)
    cur.execute(merge)
    assert _count(cur) == 1


def test_conflict_fault_from_the_command_line():
    with (
        start_databricks_sandbox(fault_concurrent_append=1) as running,
        running.connect() as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("CREATE TABLE t (a INT)")
        with pytest.raises(ServerOperationError, match="DELTA_CONCURRENT_APPEND"):
            cursor.execute("INSERT INTO t VALUES (1)")
        cursor.execute("INSERT INTO t VALUES (1)")


def test_expired_tokens_are_refused_until_a_new_one_is_fetched(sandbox):
    with sandbox.connect_oauth() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1")
        sandbox.expire_tokens()
        with pytest.raises(RequestError, match="Invalid access token"):
            cursor.execute("SELECT 1")
    with sandbox.connect_oauth() as conn, conn.cursor() as cursor:  # fresh credentials
        cursor.execute("SELECT 2")
        assert cursor.fetchone()[0] == 2
    with sandbox.connect() as conn, conn.cursor() as cursor:  # the PAT is not an OAuth token
        cursor.execute("SELECT 3")


def test_short_lived_tokens_are_refreshed_by_the_sdk():
    with (
        start_databricks_sandbox(token_ttl=2) as running,
        running.connect_oauth() as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("SELECT 1")
        issued = running.auth_state()["tokens_issued"]
        time.sleep(2.5)
        cursor.execute("SELECT 2")
        assert cursor.fetchone()[0] == 2
        assert running.auth_state()["tokens_issued"] > issued
