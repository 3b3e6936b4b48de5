"""Credentials and reachability on Databricks (the simulator, through the real connector and
databricks-sdk): encrypted and rotated secrets, and one clear line for wrong credentials and for
an unreachable host."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from databricks_sandbox.testing import free_port, start_databricks_sandbox
from target_databricks_upsert.testing import (
    INVOICE_SCHEMA,
    DatabricksDestination,
    invoice,
    lines_of,
    record_message,
    rows,
    run_cli,
    run_in_process,
    schema_message,
    simulator_destination,
)
from target_databricks_upsert.warehouse.databricks_auth import DatabricksAuthError
from target_databricks_upsert.warehouse.secrets import KEY_VARIABLE, SecretError, encrypt

MESSAGES = [
    schema_message("invoices", INVOICE_SCHEMA),
    record_message("invoices", invoice("B1", "I1")),
]


def error_line(stderr: str, text: str) -> str:
    """The error the run ended with: the last line of stderr, which must carry `text`."""
    line = stderr.strip().splitlines()[-1]
    assert text in line, stderr[-3000:]
    return line


def test_a_wrong_client_secret_is_one_clear_line(simulated_databricks):
    warehouse = simulated_databricks(oauth=True)
    result = run_cli(warehouse, MESSAGES, {"client_secret": "not-the-secret"}, check=False)
    assert result.returncode != 0
    line = error_line(
        result.stderr, "refused the OAuth token request of service principal sandbox-sp"
    )
    assert "invalid_client" in line and "check client_id and client_secret" in line
    assert "not-the-secret" not in result.stderr + result.stdout


def test_a_wrong_access_token_is_one_clear_line(simulated_databricks):
    warehouse = simulated_databricks()
    result = run_cli(warehouse, MESSAGES, {"access_token": "dapi-wrong-token"}, check=False)
    assert result.returncode != 0
    line = error_line(result.stderr, "refused the personal access token")
    assert "Invalid access token" in line and "check the access_token" in line
    assert "dapi-wrong-token" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{free_port}", "192.0.2.1:443"], ids=["connection-refused", "no-answer"]
)
def test_an_unreachable_host_fails_within_the_connect_timeout(tmp_path, host):
    address = host.format(free_port=free_port())
    warehouse = DatabricksDestination(
        {
            "server_hostname": f"http://{address}",
            "http_path": "/sql/1.0/warehouses/x",
            "catalog": "main",
            "schema": "wave",
            "access_token": "dapi-x",
            "connect_timeout_seconds": 2,
        },
        {},
        tmp_path / "t.config.json",
    )
    result = run_cli(warehouse, MESSAGES, check=False, timeout=60)
    assert result.returncode != 0
    line = error_line(result.stderr, f"cannot reach the Databricks workspace at {address}")
    assert "check the server_hostname setting" in line


def test_an_encrypted_secret_is_used_and_its_plaintext_stays_in_memory(
    simulated_databricks, monkeypatch, tmp_path
):
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())
    warehouse = simulated_databricks(oauth=True)
    plaintext = warehouse.target_config["client_secret"]
    result = run_cli(warehouse, MESSAGES, {"client_secret": encrypt(plaintext)})
    assert [r["id"] for r in rows(warehouse, "invoices")] == ["I1"]
    assert plaintext not in result.stderr + result.stdout
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(plaintext.encode() not in p.read_bytes() for p in written)


def test_an_encrypted_secret_without_its_key_is_a_clear_error(simulated_databricks, monkeypatch):
    warehouse = simulated_databricks(oauth=True)
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())
    sealed = encrypt("sandbox-sp-secret")
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())
    with pytest.raises(SecretError, match="client_secret cannot be decrypted with the key"):
        run_in_process(warehouse, lines_of(MESSAGES), {"client_secret": sealed})
    monkeypatch.delenv(KEY_VARIABLE)
    with pytest.raises(SecretError, match=f"encrypted .* but {KEY_VARIABLE} is not set"):
        run_in_process(warehouse, lines_of(MESSAGES), {"client_secret": sealed})


def test_a_rotated_secret_put_in_config_is_used_by_the_next_run(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())
    data_dir, config_path = tmp_path / "workspace", tmp_path / "t.config.json"
    batch = [schema_message("invoices", INVOICE_SCHEMA)]
    with start_databricks_sandbox(data_dir=data_dir, client_secret="secret-2024") as workspace:
        warehouse = simulator_destination(workspace, config_path, oauth=True)
        run_in_process(
            warehouse,
            lines_of([*batch, record_message("invoices", invoice("B1", "I1"))]),
            {"client_secret": encrypt("secret-2024")},
        )
    schema = warehouse.target_config["schema"]
    # The secret is rotated at the workspace (same data, new secret, new port).
    with start_databricks_sandbox(data_dir=data_dir, client_secret="secret-2025") as workspace:
        info = workspace.connection()
        warehouse = DatabricksDestination(
            {**info["target_config"], "schema": schema}, info["connect_kwargs"], config_path
        )
        second = lines_of([*batch, record_message("invoices", invoice("B1", "I2"))])
        with pytest.raises(DatabricksAuthError, match="invalid_client"):
            run_in_process(warehouse, second, {"client_secret": encrypt("secret-2024")})
        run_in_process(warehouse, second, {"client_secret": encrypt("secret-2025")})
        assert [r["id"] for r in rows(warehouse, "invoices")] == ["I1", "I2"]
