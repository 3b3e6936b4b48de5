"""`target-databricks-upsert --test` against the Databricks SQL warehouse simulator (the real
connector) and DuckDB: one line on stdout, exit 0 when the target can create its tables, else exit
1 and the line says what is wrong. Nothing is loaded and the probe table is dropped again."""

from __future__ import annotations

import json
import socket
import subprocess
import uuid
from pathlib import Path

import duckdb
import pytest
from target_databricks_upsert.testing import CLI


def check(config: dict, directory: Path) -> tuple[int, str]:
    """Run `target-databricks-upsert --test`; (exit code, stdout)."""
    path = directory / f"config-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        [CLI, "--config", str(path), "--test"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return done.returncode, done.stdout


@pytest.fixture
def simulator(databricks_sandbox):
    """(settings with the simulator's personal access token and a fresh schema, the sandbox)."""
    info = databricks_sandbox.connection()
    config = {
        key: value
        for key, value in info["target_config"].items()
        if key not in ("client_id", "client_secret")
    }
    config |= {
        "warehouse": "databricks",
        "access_token": info["pat"],
        "schema": f"check_{uuid.uuid4().hex[:10]}",
    }
    return config, databricks_sandbox


def principal_of(sandbox) -> str:
    with sandbox.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_user()")
        return cursor.fetchone()[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_duckdb_ok_leaves_the_schema_and_no_probe_table(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    assert check({"duckdb_path": str(path), "schema": "wave"}, tmp_path) == (
        0,
        (
            f"target-databricks-upsert: OK - the DuckDB file {path} is writable, schema wave: "
            "can create tables\n"
        ),
    )
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
        schemas = {
            row[0]
            for row in connection.execute(
                "SELECT schema_name FROM information_schema.schemata"
            ).fetchall()
        }
    assert tables == []
    assert "wave" in schemas


def test_unwritable_duckdb_path(tmp_path):
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    path = not_a_directory / "warehouse.duckdb"
    assert check({"duckdb_path": str(path)}, tmp_path) == (
        1,
        (
            f"target-databricks-upsert: FAILED - cannot open the DuckDB file {path}: IO Error: "
            f'Cannot open file "{path}": Not a directory\n'
        ),
    )


def test_databricks_ok_creates_schema_and_drops_the_probe_table(simulator, tmp_path):
    config, sandbox = simulator
    since = sandbox.statements()[-1]["seq"] if sandbox.statements() else 0
    assert check(config, tmp_path) == (
        0,
        (
            f"target-databricks-upsert: OK - connected to {config['server_hostname']}"
            f"{config['http_path']} as {principal_of(sandbox)} (personal access token), catalog "
            f"main, schema {config['schema']}: can create tables\n"
        ),
    )
    ran = [
        (s["kind"], s["status"])
        for s in sandbox.statements(since=since)
        if config["schema"] in s["statement"]
    ]
    assert ran == [("CREATE SCHEMA", "ok"), ("CREATE TABLE", "ok"), ("DROP TABLE", "ok")]
    assert not [t for t in sandbox.tables() if config["schema"] in json.dumps(t)]


def test_databricks_ok_with_a_service_principal(databricks_sandbox, tmp_path):
    config = {
        **databricks_sandbox.connection()["target_config"],
        "warehouse": "databricks",
        "schema": f"check_{uuid.uuid4().hex[:10]}",
    }
    code, out = check(config, tmp_path)
    assert (code, out) == (
        0,
        (
            f"target-databricks-upsert: OK - connected to {config['server_hostname']}"
            f"{config['http_path']} as {principal_of(databricks_sandbox)} (OAuth M2M), catalog main, "
            f"schema {config['schema']}: can create tables\n"
        ),
    )


def test_wrong_personal_access_token(simulator, tmp_path):
    config, _ = simulator
    code, out = check({**config, "access_token": "dapi-wrong"}, tmp_path)
    assert code == 1
    assert out.startswith(
        f"target-databricks-upsert: FAILED - {config['server_hostname']} "
        "refused the personal access token ("
    )
    assert "Invalid access token" in out
    assert out.endswith("): check the access_token / client_id + client_secret settings\n")


def test_wrong_client_secret(databricks_sandbox, tmp_path):
    config = {
        **databricks_sandbox.connection()["target_config"],
        "warehouse": "databricks",
        "client_secret": "wrong",
    }
    assert check(config, tmp_path) == (
        1,
        (
            f"target-databricks-upsert: FAILED - {config['server_hostname']} refused the OAuth token "
            f"request of service principal {config['client_id']} (invalid_client: Client "
            "authentication failed): check client_id and client_secret (after rotating the secret, "
            "put the new one in config)\n"
        ),
    )


def test_wrong_http_path(simulator, tmp_path):
    config, _ = simulator
    code, out = check({**config, "http_path": "/sql/1.0/warehouses/0123abcd"}, tmp_path)
    assert code == 1
    assert out.startswith(
        f"target-databricks-upsert: FAILED - cannot open a session on "
        f"{config['server_hostname']}/sql/1.0/warehouses/0123abcd ("
    )
    assert "Warehouse 0123abcd does not exist" in out
    assert out.endswith("): check server_hostname and http_path\n")


def test_unknown_catalog(simulator, tmp_path):
    config, sandbox = simulator
    assert check({**config, "catalog": "finance"}, tmp_path) == (
        1,
        (
            f"target-databricks-upsert: FAILED - catalog finance does not exist (or "
            f"{principal_of(sandbox)} cannot see it) on {config['server_hostname']}"
            f"{config['http_path']}: set catalog to an existing catalog, or create it "
            "([NO_SUCH_CATALOG_EXCEPTION] Catalog 'finance' was not found. Create it first.)\n"
        ),
    )


def test_unreachable_host(simulator, tmp_path):
    config, _ = simulator
    port = closed_port()
    assert check({**config, "server_hostname": f"http://127.0.0.1:{port}"}, tmp_path) == (
        1,
        (
            f"target-databricks-upsert: FAILED - cannot reach the Databricks workspace at "
            f"127.0.0.1:{port} (Connection refused, within 15s): check the server_hostname setting "
            "and that this machine can reach the workspace\n"
        ),
    )


def test_missing_settings(tmp_path):
    assert check(
        {"warehouse": "databricks", "server_hostname": "adb-1.azuredatabricks.net"}, tmp_path
    ) == (
        1,
        (
            "target-databricks-upsert: FAILED - warehouse databricks needs the setting catalog "
            "(e.g. main)\n"
        ),
    )


def test_no_privilege_on_the_catalog(databricks_sandbox_factory, tmp_path):
    user = "loader@example.com"
    sandbox = databricks_sandbox_factory(pat_user=user, deny=[f"{user}=main"])
    info = sandbox.connection()
    config = {
        **{
            k: v
            for k, v in info["target_config"].items()
            if k not in ("client_id", "client_secret")
        },
        "warehouse": "databricks",
        "access_token": info["pat"],
        "schema": "wave",
    }
    assert check(config, tmp_path) == (
        1,
        (
            f"target-databricks-upsert: FAILED - no privilege to create the schema `main`.`wave` as "
            f"{user}: grant USE CATALOG on main and CREATE SCHEMA (or USE SCHEMA and CREATE TABLE on "
            "main.wave) ([INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have "
            "CREATE SCHEMA on Catalog 'main'.)\n"
        ),
    )
    assert not [t for t in sandbox.tables() if t["schema"] == "wave"]
