"""meltano.yml declares every setting each plugin's `--about` lists, so that Meltano passes each
one on: a setting Meltano does not know is dropped from the environment silently.

Names are spelled as Meltano Hub spells them (objects with properties as dotted leaves such as
`batch_config.encoding.format`, `stream_maps` whole); kinds are ones Meltano 4.4 handles from an
environment variable (not `decimal`: a Decimal value makes Meltano fail writing the plugin's
config, "Object of type Decimal is not JSON serializable"); every setting has a label and a
description. Then, through the real `meltano` CLI, a value for every setting given as an
environment variable reaches the config Meltano writes for the plugin.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hub.refresh import leaf_settings
from testkit.meltano_project import REPO, make_project, meltano

PLUGINS = {"tap-wave": "extractors", "target-databricks-upsert": "loaders"}
KINDS = {
    "string",
    "integer",
    "boolean",
    "date_iso8601",
    "email",
    "password",
    "options",
    "file",
    "array",
    "object",
    "hidden",
}
COMPATIBLE = {
    "string": {"string", "password", "options", "date_iso8601", "file", "email", "hidden"},
    "integer": {"integer"},
    "number": {"integer"},
    "boolean": {"boolean"},
    "array": {"array"},
    "object": {"object"},
}


def about(plugin: str) -> dict:
    done = subprocess.run(
        [str(Path(sys.executable).parent / plugin), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def declared(plugin: str) -> dict[str, dict]:
    manifest = yaml.safe_load((REPO / "meltano.yml").read_text())
    [entry] = [p for p in manifest["plugins"][PLUGINS[plugin]] if p["name"] == plugin]
    names = [s["name"] for s in entry["settings"]]
    assert len(names) == len(set(names)), f"{plugin}: a setting is declared twice"
    return {s["name"]: s for s in entry["settings"]}


def json_type(name: str, prop: dict) -> str:
    kinds = prop.get("type") or []
    kinds = [k for k in ([kinds] if isinstance(kinds, str) else kinds) if k != "null"]
    if not kinds:  # faker_config.seed and .locale take several shapes
        return "array" if name == "faker_config.locale" else "string"
    return kinds[0]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_meltano_yml_declares_every_setting_about_lists(plugin):
    settings = declared(plugin)
    leaves = dict(leaf_settings(about(plugin)["settings"]))
    assert sorted(settings) == sorted(leaves)
    for name, prop in leaves.items():
        setting = settings[name]
        assert setting["kind"] in KINDS, name
        assert setting["kind"] in COMPATIBLE[json_type(name, prop)], name
        assert setting.get("label", "").strip() and setting.get("description", "").strip(), name
        assert setting.get("sensitive", False) == bool(prop.get("secret")), name
        if prop.get("enum"):
            assert [o["value"] for o in setting["options"]] == prop["enum"], name


def test_capabilities_are_the_plugins_own():
    """`batch` where it is real: the tap's (singer-sdk's BATCH messages), not the target's."""
    manifest = yaml.safe_load((REPO / "meltano.yml").read_text())
    for plugin, plugin_type in PLUGINS.items():
        [entry] = [p for p in manifest["plugins"][plugin_type] if p["name"] == plugin]
        assert sorted(entry["capabilities"]) == sorted(about(plugin)["capabilities"]), plugin


def sample(setting: dict, prop: dict, name: str) -> tuple[str, object]:
    """(environment variable value, the value Meltano should pass) for one setting."""
    kind = setting["kind"]
    if kind == "boolean":
        return "true", True
    if kind == "integer":
        return "7", 7
    if kind == "array":
        return '["x1", "x2"]', ["x1", "x2"]
    if kind == "object":
        return '{"some": "thing"}', {"some": "thing"}
    if kind == "options":
        return prop["enum"][-1], prop["enum"][-1]
    if kind == "date_iso8601":
        return "2024-01-02T00:00:00+00:00", "2024-01-02T00:00:00+00:00"
    return f"value-of-{name}", f"value-of-{name}"


def env_name(plugin: str, setting: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", f"{plugin}_{setting}").upper()


@pytest.mark.slow
def test_every_setting_reaches_the_plugin_through_meltano(tmp_path):
    project = make_project(tmp_path / "project")
    for plugin in PLUGINS:
        settings = declared(plugin)
        leaves = dict(leaf_settings(about(plugin)["settings"]))
        env, expected = {}, {}
        for name, setting in settings.items():
            raw, value = sample(setting, leaves[name], name)
            env[env_name(plugin, name)] = raw
            expected[name] = value
        dumped = json.loads(meltano(project, "invoke", "--dump=config", plugin, env=env).stdout)
        for name, value in expected.items():
            node = dumped
            for part in name.split("."):
                node = node[part]
            assert node == value, f"{env_name(plugin, name)} did not reach {plugin}'s {name}"
    assert env_name("target-databricks-upsert", "hard_delete") == (
        "TARGET_DATABRICKS_UPSERT_HARD_DELETE"
    )
