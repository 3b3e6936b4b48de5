"""Fixtures for the target's tests (helpers live in target_databricks_upsert.testing).

`warehouse` / `warehouse_factory` run a test once per warehouse: an embedded DuckDB file, a
schema of the Databricks SQL warehouse simulator (one per session, reached by the real connector
with its personal access token), and a schema of a real workspace (marker `databricks_live`, skipped
unless DATABRICKS_SERVER_HOSTNAME, DATABRICKS_HTTP_PATH and credentials are set).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from target_databricks_upsert.testing import (
    DatabricksDestination,
    live_databricks,
    simulator_destination,
)

WAREHOUSES = [
    "duckdb",
    "databricks",
    pytest.param("databricks_live", marks=pytest.mark.databricks_live),
]


@pytest.fixture(params=WAREHOUSES)
def warehouse_factory(request, tmp_path: Path):
    """`make(name)` -> a new, empty warehouse of the kind under test."""
    made: list[DatabricksDestination] = []

    def make(name: str = "warehouse"):
        config_path = tmp_path / f"{name}.config.json"
        if request.param == "duckdb":
            return tmp_path / f"{name}.duckdb"
        if request.param == "databricks":
            return simulator_destination(request.getfixturevalue("databricks_sandbox"), config_path)
        destination = live_databricks(f"tdu_test_{uuid.uuid4().hex[:12]}", config_path)
        if destination is None:
            pytest.skip(
                "set DATABRICKS_SERVER_HOSTNAME, DATABRICKS_HTTP_PATH and DATABRICKS_TOKEN "
                "(or DATABRICKS_CLIENT_ID/SECRET) to run against a real workspace"
            )
        made.append(destination)
        return destination

    yield make
    for destination in made:
        destination.execute(f"DROP SCHEMA IF EXISTS {destination.name} CASCADE")


@pytest.fixture
def warehouse(warehouse_factory):
    """The warehouse under test: a DuckDB file path or a Databricks destination."""
    return warehouse_factory()


@pytest.fixture
def simulated_databricks(databricks_sandbox, tmp_path: Path):
    """`make(name, oauth=False, sandbox=None)` -> a fresh schema of the session's simulator (or
    of `sandbox`), for the Databricks-only tests."""

    def make(name: str = "warehouse", oauth: bool = False, sandbox=None) -> DatabricksDestination:
        return simulator_destination(
            sandbox or databricks_sandbox, tmp_path / f"{name}.config.json", oauth
        )

    return make
