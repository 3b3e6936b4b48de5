"""tap-wave's Meltano Hub definition works the way Hub's CI and its users use it: in a fresh
`meltano init` project, `meltano add --from-ref <definition> tap-wave`, `meltano install`, then
the tap answers `--about` with the definition's settings and, configured through those settings,
passes `--test` against the Wave sandbox.

The definition's own pip_url installs from the public git repository, which this machine cannot
reach; the test installs the local package instead (not editable: a built wheel, as from an index).
Meltano 4.4 reads `--from-ref` as a local path or an http(s) URL (a `file://` URL is not read).
"""

from __future__ import annotations

import json

import pytest
import yaml

from bench.meltano_project import REPO, meltano

pytestmark = pytest.mark.slow

DEFINITION = REPO / "tap-wave" / "hub" / "tap-wave--wave-databricks.yml"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A new Meltano project with tap-wave added from the Hub definition and installed."""
    root = tmp_path_factory.mktemp("hub")
    meltano(root, "init", "scratch", "--no-usage-stats")
    project = root / "scratch"
    meltano(project, "add", "--no-install", "--from-ref", str(DEFINITION), "tap-wave")
    manifest = yaml.safe_load((project / "meltano.yml").read_text())
    extractor = manifest["plugins"]["extractors"][0]
    assert extractor["pip_url"] == yaml.safe_load(DEFINITION.read_text())["pip_url"]
    extractor["pip_url"] = str(REPO / "tap-wave")
    manifest["venv"] = {"backend": "uv"}
    (project / "meltano.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    meltano(project, "install")
    return project


def test_added_plugin_carries_the_definition(scratch):
    definition = yaml.safe_load(DEFINITION.read_text())
    extractor = yaml.safe_load((scratch / "meltano.yml").read_text())["plugins"]["extractors"][0]
    assert (extractor["name"], extractor["variant"], extractor["namespace"]) == (
        "tap-wave", definition["variant"], definition["namespace"])
    assert extractor["capabilities"] == definition["capabilities"]
    assert [s["name"] for s in extractor["settings"]] == [s["name"] for s in definition["settings"]]


def test_installed_tap_lists_the_definitions_settings(scratch):
    about = json.loads(meltano(scratch, "invoke", "tap-wave", "--about", "--format=json").stdout)
    definition = yaml.safe_load(DEFINITION.read_text())
    assert list(about["settings"]["properties"]) == [s["name"] for s in definition["settings"]]
    assert about["capabilities"] == definition["capabilities"]


def test_configured_through_the_definitions_settings_it_passes_the_check(scratch, wave_sandbox):
    for name, value in (("access_token", wave_sandbox.access_token),
                        ("api_url", wave_sandbox.graphql_url),
                        ("requests_per_minute", "6000")):
        meltano(scratch, "config", "set", "tap-wave", name, value)
    line = meltano(scratch, "invoke", "tap-wave", "--test").stdout.strip().splitlines()[-1]
    assert line.startswith("tap-wave: OK - access token valid, 3 businesses visible (")
    assert line.endswith("), every stream readable")
