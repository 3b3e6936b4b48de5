"""The privilege model: ``serve --deny PRINCIPAL=CATALOG`` (or ``deny`` in POST /sandbox/faults)
makes a principal read-only in a catalog. Its creating and modifying statements fail through the
real connector with Databricks' INSUFFICIENT_PERMISSIONS error; its reads still work; other
principals are unaffected; ``current_user()`` names the calling principal."""

from __future__ import annotations

import uuid

import httpx
import pytest
from databricks.sql.exc import ServerOperationError


def _denied(cursor, statement: str, privilege_text: str) -> None:
    with pytest.raises(ServerOperationError) as caught:
        cursor.execute(statement)
    assert (
        f"[INSUFFICIENT_PERMISSIONS] Insufficient privileges: {privilege_text}. "
        "SQLSTATE: 42501" in str(caught.value)
    )


def _whoami(cursor) -> str:
    cursor.execute("SELECT current_user()")
    return cursor.fetchone()[0]


@pytest.fixture
def read_only_sp(databricks_sandbox_factory, tmp_path):
    """A sandbox started with --deny sandbox-sp=main and a PAT of its own user, a schema with a
    table and a volume file made by that (unrestricted) user; yields (sandbox, schema)."""
    sandbox = databricks_sandbox_factory(
        pat_user="sandbox-user@example.com", deny=["sandbox-sp=main"]
    )
    schema = f"p_{uuid.uuid4().hex[:8]}"
    local = tmp_path / "seed.csv"
    local.write_text("id\n1\n")
    with sandbox.connect(staging_allowed_local_path=str(tmp_path)) as conn, conn.cursor() as cur:
        assert _whoami(cur) == "sandbox-user@example.com"
        cur.execute(f"CREATE SCHEMA main.{schema}")
        cur.execute(f"CREATE TABLE main.{schema}.t (id STRING, n INT)")
        cur.execute(f"INSERT INTO main.{schema}.t VALUES ('a', 1)")
        cur.execute(f"CREATE VOLUME main.{schema}.v")
        cur.execute(f"PUT '{local}' INTO '/Volumes/main/{schema}/v/seed.csv'")
    return sandbox, schema


def test_denied_principal_cannot_create_or_modify(read_only_sp, tmp_path):
    sandbox, schema = read_only_sp
    local = tmp_path / "f.csv"
    local.write_text("id\n2\n")
    table = f"main.{schema}.t"
    with (
        sandbox.connect_oauth(staging_allowed_local_path=str(tmp_path)) as conn,
        conn.cursor() as cur,
    ):
        assert _whoami(cur) == "sandbox-sp"
        _denied(
            cur,
            "CREATE SCHEMA IF NOT EXISTS main.other",
            "User does not have CREATE SCHEMA on Catalog 'main'",
        )
        _denied(
            cur,
            f"CREATE TABLE main.{schema}.u (id STRING)",
            f"User does not have CREATE TABLE on Schema 'main.{schema}'",
        )
        _denied(
            cur,
            f"INSERT INTO {table} VALUES ('b', 2)",
            f"User does not have MODIFY on Table '{table}'",
        )
        _denied(
            cur,
            f"MERGE INTO {table} AS t USING (SELECT 'a' AS id, 5 AS n) AS s "
            "ON t.id = s.id WHEN MATCHED THEN UPDATE SET n = s.n",
            f"User does not have MODIFY on Table '{table}'",
        )
        _denied(
            cur,
            f"ALTER TABLE {table} ADD COLUMNS (extra STRING)",
            f"User is not an owner of Table '{table}'",
        )
        _denied(cur, f"DROP TABLE {table}", f"User is not an owner of Table '{table}'")
        _denied(
            cur,
            f"CREATE VOLUME main.{schema}.w",
            f"User does not have CREATE VOLUME on Schema 'main.{schema}'",
        )
        _denied(
            cur,
            f"PUT '{local}' INTO '/Volumes/main/{schema}/v/f.csv'",
            f"User does not have WRITE VOLUME on Volume 'main.{schema}.v'",
        )
        # reads still work: the table, the catalog's listings and the volume file
        cur.execute(f"SELECT id, n FROM {table}")
        assert [tuple(row) for row in cur.fetchall()] == [("a", 1)]
        cur.execute(f"SHOW TABLES IN main.{schema}")
        assert "t" in [row[1] for row in cur.fetchall()]
        cur.execute(f"GET '/Volumes/main/{schema}/v/seed.csv' TO '{tmp_path / 'back.csv'}'")
        assert (tmp_path / "back.csv").read_text() == "id\n1\n"
    log = [s for s in sandbox.statements() if s["status"] == "error"]
    assert {s["kind"] for s in log} >= {"CREATE SCHEMA", "INSERT", "MERGE", "DROP TABLE"}
    assert sandbox.faults()["deny"] == ["sandbox-sp=main"]  # the rule from the command line
    with sandbox.connect() as conn, conn.cursor() as cur:  # nothing changed, the PAT user may
        cur.execute(f"SELECT id, n FROM {table}")
        assert [tuple(row) for row in cur.fetchall()] == [("a", 1)]
        cur.execute(f"INSERT INTO {table} VALUES ('b', 2)")
        cur.execute("CREATE SCHEMA main.by_the_user")


def test_deny_rules_set_at_runtime_apply_to_that_principal_only(databricks_sandbox_factory):
    sandbox = databricks_sandbox_factory(pat_user="analyst@example.com")
    assert sandbox.connection()["pat_user"] == "analyst@example.com"
    rules = ["analyst@example.com=main", "sandbox-sp=finance"]
    assert sandbox.set_faults(deny=rules)["deny"] == rules
    with sandbox.connect() as conn, conn.cursor() as cur:
        _denied(cur, "CREATE SCHEMA main.s1", "User does not have CREATE SCHEMA on Catalog 'main'")
        cur.execute("SELECT 1")
        assert cur.fetchone()[0] == 1
    with sandbox.connect_oauth() as conn, conn.cursor() as cur:  # denied elsewhere only
        cur.execute("CREATE SCHEMA main.s1")
    assert sandbox.set_faults(deny=[])["deny"] == []
    with sandbox.connect() as conn, conn.cursor() as cur:
        assert _whoami(cur) == "analyst@example.com"
        cur.execute("CREATE TABLE main.s1.t (id STRING)")


def test_malformed_deny_rule_is_refused(databricks_sandbox):
    with pytest.raises(httpx.HTTPStatusError) as caught:
        databricks_sandbox.set_faults(deny=["no-catalog-here"])
    assert caught.value.response.status_code == 400
    assert "must be PRINCIPAL=CATALOG" in caught.value.response.json()["error"]
    assert databricks_sandbox.faults()["deny"] == []
