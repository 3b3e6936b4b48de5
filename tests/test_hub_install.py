"""The Hub definitions work the way Hub's CI ("Test Meltano add/install") and Hub's users use
them: in a new `meltano init` project, `meltano add --from-ref <definition>` for the extractor and
the loader, `meltano install`, then each plugin answers `--about` with the definition's settings,
and passes `--test` configured through those settings (against the Wave sandbox and DuckDB).

The definitions' `pip_url`s name the PyPI packages, which are not published yet: the test installs
the wheels `make dist` builds instead, as an index would serve them. Meltano 4.4 reads `--from-ref`
as a local path or an http(s) URL.
"""

from __future__ import annotations

import json

import pytest
import yaml

from hub import refresh
from testkit.meltano_project import meltano

pytestmark = pytest.mark.slow

PLUGINS = {"extractors": "tap-wave", "loaders": "target-databricks-upsert"}


def definition(plugin: str) -> dict:
    return yaml.safe_load(refresh.definition_path(plugin).read_text())


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, dist):
    """A new Meltano project with both plugins added from the Hub definitions and installed."""
    root = tmp_path_factory.mktemp("hub")
    meltano(root, "init", "scratch", "--no-usage-stats")
    project = root / "scratch"
    for plugin_type, plugin in PLUGINS.items():
        meltano(
            project,
            "add",
            "--no-install",
            "--from-ref",
            str(refresh.definition_path(plugin)),
            "--plugin-type",
            plugin_type[:-1],
            plugin,
        )
    manifest = yaml.safe_load((project / "meltano.yml").read_text())
    assert {t for t, plugins in manifest["plugins"].items() if plugins} == set(PLUGINS)
    for plugin_type, plugin in PLUGINS.items():
        [added] = manifest["plugins"][plugin_type]
        assert added["pip_url"] == definition(plugin)["pip_url"] == plugin
        added["pip_url"] = str(dist.wheel(plugin))
    manifest["venv"] = {"backend": "uv"}
    (project / "meltano.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    meltano(project, "install")
    return project


@pytest.mark.parametrize(("plugin_type", "plugin"), PLUGINS.items())
def test_added_plugin_carries_the_definition(scratch, plugin_type, plugin):
    hub = definition(plugin)
    [added] = yaml.safe_load((scratch / "meltano.yml").read_text())["plugins"][plugin_type]
    assert (added["name"], added["variant"], added["namespace"]) == (
        plugin,
        hub["variant"],
        hub["namespace"],
    )
    assert added["capabilities"] == hub["capabilities"]
    assert [s["name"] for s in added["settings"]] == [s["name"] for s in hub["settings"]]
    assert added["settings_group_validation"] == hub["settings_group_validation"]


@pytest.mark.parametrize("plugin", PLUGINS.values())
def test_installed_plugin_lists_the_definitions_settings(scratch, plugin):
    about = json.loads(meltano(scratch, "invoke", plugin, "--about", "--format=json").stdout)
    hub = definition(plugin)
    assert sorted(name for name, _ in refresh.leaf_settings(about["settings"])) == [
        s["name"] for s in hub["settings"]
    ]
    assert sorted(about["capabilities"]) == hub["capabilities"]


def test_configured_through_the_definitions_settings_both_pass_their_checks(
    scratch, wave_sandbox, tmp_path
):
    warehouse = tmp_path / "not-yet" / "warehouse.duckdb"
    for plugin, name, value in (
        ("tap-wave", "access_token", wave_sandbox.access_token),
        ("tap-wave", "api_url", wave_sandbox.graphql_url),
        ("target-databricks-upsert", "warehouse", "duckdb"),
        ("target-databricks-upsert", "duckdb_path", str(warehouse)),
    ):
        meltano(scratch, "config", "set", plugin, name, value)
    # an integer setting given as an environment variable (Meltano 4.4 failed on kind decimal)
    env = {"TAP_WAVE_REQUESTS_PER_MINUTE": "6000"}
    line = meltano(scratch, "invoke", "tap-wave", "--test", env=env).stdout.strip().splitlines()[-1]
    assert line.startswith("tap-wave: OK - access token valid, 3 businesses visible (")
    assert line.endswith("), every stream readable")
    line = meltano(scratch, "invoke", "target-databricks-upsert", "--test").stdout.strip()
    assert line.splitlines()[-1] == (
        f"target-databricks-upsert: OK - the DuckDB file "
        f"{warehouse} is writable, schema wave: can create tables"
    )
