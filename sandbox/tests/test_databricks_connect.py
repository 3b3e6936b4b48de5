"""Connecting to the simulated warehouse with the real databricks-sql-connector: PAT, OAuth M2M
through databricks-sdk, refusals, the advertised connection settings, the statement log and
persistence of the data directory across restarts."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import databricks.sql
import httpx
import pytest
from databricks.sql.exc import RequestError
from databricks_sandbox.testing import start_databricks_sandbox


def test_connection_kwargs_connect_with_pat_and_fetch_typed_rows(databricks_sandbox):
    info = databricks_sandbox.connection()
    kwargs = info["connect_kwargs"]
    assert kwargs["access_token"] == "sandbox-pat"
    assert kwargs["http_path"] == "/sql/1.0/warehouses/sandbox"
    with databricks.sql.connect(**kwargs) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT CAST(12345678901234567890.123456 AS DECIMAL(38,6)) AS amount, "
            "TIMESTAMP'2024-02-29 23:59:58.123456' AS ts, DATE'2024-02-29' AS d, "
            "CAST(9007199254740993 AS BIGINT) AS n, true AS flag, 'naïve ☃' AS s, "
            "CAST(NULL AS STRING) AS missing"
        )
        row = cur.fetchone()
        types = [(d[0], d[1], d[4], d[5]) for d in cur.description]
    assert row.amount == Decimal("12345678901234567890.123456")
    assert row.ts == dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=dt.UTC)
    assert row.d == dt.date(2024, 2, 29)
    assert row.n == 9007199254740993
    assert row.flag is True
    assert row.s == "naïve ☃"
    assert row.missing is None
    assert types == [
        ("amount", "decimal", 38, 6),
        ("ts", "timestamp", None, None),
        ("d", "date", None, None),
        ("n", "bigint", None, None),
        ("flag", "boolean", None, None),
        ("s", "string", None, None),
        ("missing", "string", None, None),
    ]


def test_target_config_names_the_service_principal(databricks_sandbox):
    target = databricks_sandbox.connection()["target_config"]
    assert target["server_hostname"] == databricks_sandbox.base_url
    assert target["http_path"] == "/sql/1.0/warehouses/sandbox"
    assert (target["catalog"], target["schema"]) == ("main", "default")
    assert (target["client_id"], target["client_secret"]) == ("sandbox-sp", "sandbox-sp-secret")


def test_oauth_m2m_through_databricks_sdk(databricks_sandbox):
    with databricks_sandbox.connect_oauth() as conn, conn.cursor() as cur:
        cur.execute("SELECT current_catalog(), current_schema()")
        assert tuple(cur.fetchone()) == ("main", "default")


def test_token_endpoint_speaks_client_credentials(databricks_sandbox):
    base = databricks_sandbox.base_url
    discovery = httpx.get(base + "/oidc/.well-known/oauth-authorization-server").json()
    assert discovery["token_endpoint"] == base + "/oidc/v1/token"
    grant = {"grant_type": "client_credentials", "scope": "all-apis"}
    ok = httpx.post(
        discovery["token_endpoint"], data=grant, auth=("sandbox-sp", "sandbox-sp-secret")
    )
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "Bearer" and ok.json()["expires_in"] == 3600
    wrong = httpx.post(discovery["token_endpoint"], data=grant, auth=("sandbox-sp", "nope"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    narrow = httpx.post(
        discovery["token_endpoint"],
        data={**grant, "scope": "sql"},
        auth=("sandbox-sp", "sandbox-sp-secret"),
    )
    assert narrow.json()["error"] == "invalid_scope"


def test_wrong_pat_is_refused_with_invalid_access_token(databricks_sandbox):
    with pytest.raises(RequestError, match="Invalid access token"):
        databricks_sandbox.connect(access_token="dapi-not-a-real-token")


def test_wrong_client_secret_fails_to_get_a_token(databricks_sandbox):
    provider = databricks_sandbox.oauth_credentials_provider(client_secret="wrong-secret")
    kwargs = {
        k: v
        for k, v in databricks_sandbox.connection()["connect_kwargs"].items()
        if k != "access_token"
    }
    with pytest.raises(Exception, match=r"invalid_client|Client authentication failed"):
        databricks.sql.connect(**kwargs, credentials_provider=provider)


def test_unknown_initial_catalog_is_refused(databricks_sandbox):
    with pytest.raises(databricks.sql.exc.DatabaseError, match="NO_SUCH_CATALOG_EXCEPTION"):
        databricks_sandbox.connect(catalog="nowhere")


def test_statement_log_records_each_statement_with_timestamps(databricks_sandbox):
    marker = f"log_{uuid.uuid4().hex[:8]}"
    since = max([e["seq"] for e in databricks_sandbox.statements()], default=0)
    with databricks_sandbox.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT '{marker}' AS m")
        with pytest.raises(databricks.sql.exc.ServerOperationError):
            cur.execute(f"SELECT {marker}_missing_column")
    mine = [e for e in databricks_sandbox.statements(since) if marker in e["statement"]]
    assert [(e["kind"], e["status"]) for e in mine] == [("SELECT", "ok"), ("SELECT", "error")]
    assert mine[0]["timestamp"].endswith("Z") and mine[0]["rows"] == 1
    assert "UNRESOLVED_COLUMN" in mine[1]["error"]


def test_statement_log_reset(databricks_sandbox_factory):
    sandbox = databricks_sandbox_factory()
    with sandbox.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
    assert len(sandbox.statements()) == 1
    assert sandbox.reset_statements() == 1
    assert sandbox.statements() == []


def test_data_dir_survives_a_restart(tmp_path):
    with (
        start_databricks_sandbox(data_dir=tmp_path) as sandbox,
        sandbox.connect() as conn,
        conn.cursor() as cur,
    ):
        cur.execute(
            "CREATE TABLE main.default.kept (id BIGINT) USING DELTA "
            "TBLPROPERTIES ('delta.enableChangeDataFeed' = true)"
        )
        cur.execute("INSERT INTO main.default.kept VALUES (1), (2)")
    assert (tmp_path / "warehouse.duckdb").exists()
    with (
        start_databricks_sandbox(data_dir=tmp_path) as sandbox,
        sandbox.connect() as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT sum(id) FROM main.default.kept")
        assert cur.fetchone()[0] == 3
        cur.execute("SHOW TBLPROPERTIES main.default.kept ('delta.enableChangeDataFeed')")
        assert cur.fetchone().value == "true"
