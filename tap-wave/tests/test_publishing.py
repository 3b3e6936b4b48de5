"""What Meltano Hub and readers see matches the tap: README's --about output, the Hub
definition (sorted keys, settings and capabilities as `tap-wave --about` reports them)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from tap_wave.testing import TAP

PACKAGE = Path(__file__).resolve().parents[1]
HUB_FILE = PACKAGE / "hub" / "tap-wave--wave-databricks.yml"
HUB_KEYS = {"name", "pip_url", "variant", "namespace", "label", "description", "executable",
            "settings", "docs", "repo", "logo_url", "hidden", "python",
            "settings_group_validation", "commands", "capabilities", "metadata", "schema",
            "select", "maintenance_status", "quality", "domain_url", "keywords", "requires",
            "definition", "next_steps", "settings_preamble", "usage", "prereq",
            "supported_python_versions", "log_parser"}
KINDS = {"oauth", "hidden", "password", "date_iso8601", "file", "email", "integer", "options",
         "object", "array", "boolean", "string", "decimal"}


def about(fmt: str) -> str:
    return subprocess.run([TAP, "--about", f"--format={fmt}"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def about_json() -> dict:
    return json.loads(about("json"))


@pytest.fixture(scope="module")
def hub() -> dict:
    return yaml.safe_load(HUB_FILE.read_text())


def _assert_keys_sorted(node, where="") -> None:
    if isinstance(node, dict):
        assert list(node) == sorted(node), f"keys not sorted at {where or 'top level'}"
        for key, value in node.items():
            _assert_keys_sorted(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _assert_keys_sorted(item, f"{where}[{index}]")


def test_readme_carries_the_current_about_output():
    readme = (PACKAGE / "README.md").read_text()
    pasted = readme.split("<!-- about:start -->\n")[1].split("\n<!-- about:end -->")[0]
    assert pasted == about("markdown").strip()


def test_hub_definition_keys_are_sorted_and_allowed(hub):
    _assert_keys_sorted(hub)
    assert set(hub) <= HUB_KEYS
    assert {"name", "namespace", "variant", "quality"} <= set(hub)
    assert hub["name"] == "tap-wave"
    assert HUB_FILE.name == f"{hub['name']}--{hub['variant']}.yml"
    assert not HUB_FILE.read_text().startswith("---")


def test_hub_settings_match_about(hub, about_json):
    properties = about_json["settings"]["properties"]
    assert [s["name"] for s in hub["settings"]] == list(properties)
    for setting in hub["settings"]:
        prop = properties[setting["name"]]
        assert setting["kind"] in KINDS
        assert setting.get("sensitive", False) == prop.get("secret", False), setting["name"]
        assert setting.get("value") == prop.get("default"), setting["name"]
        assert setting["description"] == prop.get("description", ""), setting["name"]
    for group in hub["settings_group_validation"]:
        assert set(group) <= set(properties)
    assert hub["capabilities"] == about_json["capabilities"]
    assert hub["supported_python_versions"] == about_json["supported_python_versions"]
