"""Checking credentials before the first sync, as a user does it: `meltano invoke tap-wave --test`
and `meltano invoke target-databricks-upsert --test` in (a throwaway copy of) the repo's Meltano
project, `dev` against the local sandboxes and `prod` with every secret from the environment.

Each ends with one line on stdout; meltano exits 0 when the check passes and 1 when it does not.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from wave_sandbox.testing import start_wave_sandbox

from testkit.meltano_project import MELTANO, make_project, point_at

pytestmark = pytest.mark.slow

BOOKS = {
    "businesses": 2,
    "seed": 5,
    "customers": 5,
    "vendors": 2,
    "products": 3,
    "invoices": 5,
    "estimates": 2,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("ping") / "project")


@pytest.fixture
def wave():
    """A private Wave sandbox: OAuth checks spend its refresh token."""
    with start_wave_sandbox(**BOOKS) as sandbox:
        yield sandbox


def invoke(project: Path, plugin: str, environment: str) -> tuple[int, str]:
    """`meltano --environment <env> invoke <plugin> --test`: (exit code, its last stdout line)."""
    done = subprocess.run(
        [str(MELTANO), "--environment", environment, "invoke", plugin, "--test"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env=os.environ.copy(),
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no verdict line; meltano said:\n{done.stderr[-3000:]}"
    return done.returncode, lines[-1]


def set_environment(project: Path, **values: str) -> None:
    """The project's .env: what a user exports (or keeps in a secrets manager) for prod."""
    (project / ".env").write_text("".join(f"{k}='{v}'\n" for k, v in values.items()))


def prod_secrets(wave, databricks, **overrides: str) -> dict[str, str]:
    target = databricks.connection()["target_config"]
    return {
        "TAP_WAVE_API_URL": wave.graphql_url,
        "TAP_WAVE_TOKEN_URL": wave.token_url,
        "TAP_WAVE_CLIENT_ID": wave.client_id,
        "TAP_WAVE_CLIENT_SECRET": wave.client_secret,
        "TAP_WAVE_REFRESH_TOKEN": wave.refresh_token,
        "TAP_WAVE_TOKEN_KEY": Fernet.generate_key().decode(),
        "TARGET_DATABRICKS_UPSERT_SERVER_HOSTNAME": target["server_hostname"],
        "TARGET_DATABRICKS_UPSERT_HTTP_PATH": target["http_path"],
        "TARGET_DATABRICKS_UPSERT_CATALOG": target["catalog"],
        "TARGET_DATABRICKS_UPSERT_CLIENT_ID": target["client_id"],
        "TARGET_DATABRICKS_UPSERT_CLIENT_SECRET": target["client_secret"],
        **overrides,
    }


def names(sandbox) -> str:
    answer = sandbox.graphql("{ businesses(page: 1, pageSize: 50) { edges { node { name } } } }")
    return ", ".join(edge["node"]["name"] for edge in answer["data"]["businesses"]["edges"])


def principal(databricks) -> str:
    with databricks.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_user()")
        return cursor.fetchone()[0]


def test_dev_environment_checks_pass(project, wave, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    point_at(project, wave, warehouse)
    assert invoke(project, "tap-wave", "dev") == (
        0,
        (
            f"tap-wave: OK - access token valid, 2 businesses visible ({names(wave)}), every stream "
            "readable"
        ),
    )
    assert invoke(project, "target-databricks-upsert", "dev") == (
        0,
        (
            f"target-databricks-upsert: OK - the DuckDB file {warehouse} is writable, schema wave: "
            "can create tables"
        ),
    )


def test_prod_checks_pass_and_the_rotated_refresh_token_is_kept(project, wave, databricks_sandbox):
    secrets = prod_secrets(wave, databricks_sandbox)
    set_environment(project, **secrets)
    store = project / ".meltano" / "tap-wave-tokens.enc"
    store.unlink(missing_ok=True)
    ok = (
        f"tap-wave: OK - OAuth refresh works (the rotated refresh token is saved in the token "
        f"store), 2 businesses visible ({names(wave)}), every stream readable"
    )
    assert invoke(project, "tap-wave", "prod") == (0, ok)
    assert store.exists()
    wave.advance_clock(3 * 3600)  # expire the access token: the next check refreshes again,
    assert invoke(project, "tap-wave", "prod") == (0, ok)  # with the token saved by the first
    target = databricks_sandbox.connection()["target_config"]
    assert invoke(project, "target-databricks-upsert", "prod") == (
        0,
        (
            f"target-databricks-upsert: OK - connected to {target['server_hostname']}"
            f"{target['http_path']} as {principal(databricks_sandbox)} (OAuth M2M), catalog "
            f"{target['catalog']}, schema wave: can create tables"
        ),
    )


def test_prod_checks_name_what_is_wrong(project, wave, databricks_sandbox):
    secrets = prod_secrets(
        wave,
        databricks_sandbox,
        TAP_WAVE_REFRESH_TOKEN="revoked-long-ago",
        TARGET_DATABRICKS_UPSERT_HTTP_PATH="/sql/1.0/warehouses/0123abcd",
    )
    set_environment(project, **secrets)
    (project / ".meltano" / "tap-wave-tokens.enc").unlink(missing_ok=True)
    assert invoke(project, "tap-wave", "prod") == (
        1,
        (
            "tap-wave: FAILED - the refresh token was rejected (invalid_grant: revoked, expired or "
            "already used): re-authorize the Wave app and set TAP_WAVE_REFRESH_TOKEN (refresh_token) "
            "to the new refresh token"
        ),
    )
    code, line = invoke(project, "target-databricks-upsert", "prod")
    assert code == 1
    assert line.startswith(
        "target-databricks-upsert: FAILED - cannot open a session on "
        f"{secrets['TARGET_DATABRICKS_UPSERT_SERVER_HOSTNAME']}"
        "/sql/1.0/warehouses/0123abcd ("
    )
    assert line.endswith("): check server_hostname and http_path")

    set_environment(
        project,
        **{
            **secrets,
            "TARGET_DATABRICKS_UPSERT_HTTP_PATH": databricks_sandbox.connection()["target_config"][
                "http_path"
            ],
            "TARGET_DATABRICKS_UPSERT_CATALOG": "finance",
        },
    )
    code, line = invoke(project, "target-databricks-upsert", "prod")
    assert code == 1
    assert line.startswith("target-databricks-upsert: FAILED - catalog finance does not exist")
