"""singer-sdk's standard target test suite on `warehouse: databricks`: against the simulator
(real connector), and against a real workspace when its settings are in the environment."""

from __future__ import annotations

import uuid

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner
from target_databricks_upsert.target import TargetDatabricksUpsert
from target_databricks_upsert.testing import live_databricks, simulator_destination

_StandardTests = get_target_test_class(TargetDatabricksUpsert, config={})
_SCHEMA = f"standard_{uuid.uuid4().hex[:8]}"


def _runner(config: dict) -> TargetTestRunner:
    return TargetTestRunner(
        target_class=TargetDatabricksUpsert, config=config, parse_env_config=True
    )


class TestTargetOnDatabricksSimulator(_StandardTests):
    @pytest.fixture
    def runner(self, databricks_sandbox, tmp_path) -> TargetTestRunner:
        destination = simulator_destination(databricks_sandbox, tmp_path / "standard.config.json")
        return _runner({**destination.config(), "schema": _SCHEMA})


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A schema of the real workspace named by the environment (dropped afterwards)."""
    destination = live_databricks(
        f"tdu_standard_{uuid.uuid4().hex[:8]}",
        tmp_path_factory.mktemp("live") / "standard.config.json",
    )
    if destination is None:
        pytest.skip("set DATABRICKS_SERVER_HOSTNAME, DATABRICKS_HTTP_PATH and credentials")
    yield destination
    destination.execute(f"DROP SCHEMA IF EXISTS {destination.name} CASCADE")


@pytest.mark.databricks_live
class TestTargetOnDatabricksWorkspace(_StandardTests):
    @pytest.fixture
    def runner(self, workspace) -> TargetTestRunner:
        return _runner(workspace.config())
