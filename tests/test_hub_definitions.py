"""hub/ passes what Meltano Hub's CI checks on a pull request, and Hub's weekly refresh would
leave it as it is.

Hub's CI, per pull request: each definition validates against Hub's JSON schemas for its plugin
type (allowed keys, required keys, setting kinds, capabilities, quality and maintenance status);
each file's `name` is its folder's name; `_data/maintainers.yml` holds exactly the definitions'
variants; changed YAML passes yamllint with Hub's rules (keys sorted, sequences not indented, no
document start, no flow mappings); `meltano add --from-ref` + `meltano install` work (that one is
tests/test_hub_install.py). Hub's schemas and scripts are not copied into this repository: the
rules below are ours, written from them. hub/README.md says how to run Hub's own against hub/.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from yamllint import config as yamllint_config
from yamllint import linter

from hub import refresh

HUB = refresh.HUB
MELTANO = HUB / "_data" / "meltano"
DEFINITIONS = sorted(MELTANO.glob("*/*/*.yml"))

COMMON_KEYS = {
    "name",
    "pip_url",
    "variant",
    "namespace",
    "label",
    "description",
    "executable",
    "settings",
    "docs",
    "repo",
    "logo_url",
    "hidden",
    "python",
    "settings_group_validation",
    "commands",
    "capabilities",
    "requires",
    "maintenance_status",
    "quality",
    "domain_url",
    "keywords",
    "definition",
    "next_steps",
    "settings_preamble",
    "usage",
    "prereq",
    "supported_python_versions",
    "log_parser",
}
ALLOWED_KEYS = {
    "extractors": COMMON_KEYS | {"metadata", "schema", "select"},
    "loaders": COMMON_KEYS | {"dialect", "target_schema"},
}
CAPABILITIES = {
    "extractors": {
        "properties",
        "catalog",
        "discover",
        "state",
        "about",
        "stream-maps",
        "schema-flattening",
        "activate-version",
        "batch",
        "test",
        "log-based",
        "structured-logging",
    },
    "loaders": {
        "about",
        "stream-maps",
        "activate-version",
        "batch",
        "soft-delete",
        "hard-delete",
        "datatype-failsafe",
        "schema-flattening",
        "target-schema",
        "validate-records",
        "structured-logging",
    },
}
SETTING_KEYS = {
    "name",
    "aliases",
    "label",
    "value",
    "placeholder",
    "kind",
    "description",
    "tooltip",
    "documentation",
    "env",
    "value_processor",
    "value_post_processor",
    "oauth",
    "options",
    "docs",
    "hidden",
    "sensitive",
}
KINDS = {
    "oauth",
    "hidden",
    "password",
    "date_iso8601",
    "file",
    "email",
    "integer",
    "options",
    "object",
    "array",
    "boolean",
    "string",
    "decimal",
}
HUB_YAMLLINT = """
extends: default
rules:
  braces: {forbid: non-empty}
  document-start: {present: false}
  indentation: {indent-sequences: false, spaces: 2}
  key-ordering: enable
  line-length: disable
  trailing-spaces: disable
  truthy: disable
"""


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def definitions() -> dict[str, dict]:
    return {path.parent.name: load(path) for path in DEFINITIONS}


def test_the_folder_is_laid_out_as_hubs_repository():
    assert [p.relative_to(HUB).as_posix() for p in DEFINITIONS] == [
        "_data/meltano/extractors/tap-wave/wave-databricks.yml",
        "_data/meltano/loaders/target-databricks-upsert/wave-databricks.yml",
    ]
    for path in DEFINITIONS:
        definition = load(path)
        assert definition["name"] == path.parent.name
        assert definition["variant"] == path.stem


def test_each_definition_passes_hubs_schema_for_its_type():
    for path in DEFINITIONS:
        plugin_type, definition = path.parts[-3], load(path)
        where = path.relative_to(HUB)
        assert set(definition) <= ALLOWED_KEYS[plugin_type], where
        assert {"name", "namespace", "variant", "quality"} <= set(definition), where
        assert definition["quality"] in {"gold", "silver", "bronze", "unknown"}
        assert definition["maintenance_status"] in {
            "active",
            "beta",
            "development",
            "inactive",
            "unknown",
        }
        assert set(definition["capabilities"]) <= CAPABILITIES[plugin_type], where
        assert all(isinstance(k, str) for k in definition["keywords"])
        assert urlparse(definition["domain_url"]).scheme == "https"
        assert all(re.fullmatch(r"3\.\d+", v) for v in definition["supported_python_versions"])
        for key in (
            "name",
            "namespace",
            "variant",
            "pip_url",
            "executable",
            "repo",
            "label",
            "description",
            "logo_url",
            "docs",
            "log_parser",
        ):
            assert isinstance(definition[key], str) and definition[key], (where, key)
        names = set()
        for setting in definition["settings"]:
            assert set(setting) <= SETTING_KEYS, (where, setting["name"])
            assert setting["kind"] in KINDS, (where, setting["name"])
            assert isinstance(setting.get("sensitive", False), bool)
            for option in setting.get("options", []):
                assert set(option) == {"label", "value"}
                assert all(isinstance(v, str) for v in option.values())
            names.add(setting["name"])
        for group in definition["settings_group_validation"]:
            assert group and set(group) <= names, (where, group)


def test_maintainers_and_default_variants_match_the_definitions(definitions):
    maintainers = load(HUB / "_data" / "maintainers.yml")
    assert set(maintainers) == {d["variant"].lower() for d in definitions.values()}
    for key, maintainer in maintainers.items():
        assert maintainer["name"] == key and maintainer["label"]
        assert urlparse(maintainer["url"]).scheme == "https"
    defaults = load(HUB / "_data" / "default_variants.yml")
    for path in DEFINITIONS:
        assert defaults[path.parts[-3]][path.parent.name] == path.stem


def test_yaml_passes_yamllint_with_hubs_rules():
    rules = yamllint_config.YamlLintConfig(HUB_YAMLLINT)
    for path in sorted((HUB / "_data").rglob("*.yml")):
        problems = list(linter.run(path.read_text(), rules, str(path)))
        assert problems == [], f"{path.relative_to(HUB)}: {problems}"


def test_every_definition_has_a_logo_of_its_own(definitions):
    for definition in definitions.values():
        logo = HUB / "static" / definition["logo_url"].lstrip("/")
        assert logo.is_file(), definition["logo_url"]
        root = ET.parse(logo).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("viewBox") == "0 0 200 200"
    logos = sorted(p.relative_to(HUB / "static") for p in (HUB / "static").rglob("*.*"))
    assert len(logos) == len(definitions)


def test_hubs_refresh_from_about_would_change_nothing():
    """Each file is what `python -m hub.refresh` writes from the installed plugins' --about:
    what Hub's weekly refresh writes (checked against hub-utils itself when this was made)."""
    for path, text in refresh.files().items():
        assert path.read_text() == text, (
            f"{path.relative_to(HUB.parent)} is not what --about gives: run "
            "`.venv/bin/python -m hub.refresh` and review the change"
        )


def test_settings_are_what_meltano_users_need(definitions):
    tap = {s["name"]: s for s in definitions["tap-wave"]["settings"]}
    assert tap["requests_per_minute"]["kind"] == "integer"
    assert ["client_id", "client_secret", "refresh_token", "token_key", "token_store_path"] in (
        definitions["tap-wave"]["settings_group_validation"]
    )
    loader = definitions["target-databricks-upsert"]
    assert (loader["dialect"], loader["target_schema"]) == (
        "databricks",
        "$TARGET_DATABRICKS_UPSERT_SCHEMA",
    )
    assert loader["settings_group_validation"] == [
        ["duckdb_path", "warehouse"],
        ["catalog", "client_id", "client_secret", "http_path", "server_hostname", "warehouse"],
        ["access_token", "catalog", "http_path", "server_hostname", "warehouse"],
    ]
    for definition in definitions.values():
        for setting in definition["settings"]:
            assert setting["label"].strip() and setting["description"].strip(), setting["name"]
            assert setting["kind"] != "decimal", setting["name"]  # Meltano 4.4: not JSON-able


@pytest.mark.parametrize(
    ("text", "stable"),
    [
        ("Records per request (Wave allows 200).", True),
        ("`full` (default): read all. `events`: read only what events name.", True),
        ("full: read all. events: read only what events name.", False),
        ("Volume (in catalog.schema, created if missing).", False),
        ("See https://sdk.meltano.com/en/latest/stream_maps.html for more.", True),
        ("Two  spaces.", False),
    ],
)
def test_the_refresh_model_knows_which_descriptions_hub_rewrites(text, stable):
    assert refresh.hub_stable(text) is stable
