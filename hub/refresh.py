"""Meltano Hub's files for tap-wave and target-databricks-upsert, written from `--about`.

Meltano Hub refreshes every SDK plugin's definition each week: its `hub-utils` installs the plugin,
reads `<executable> --about --format json` and rewrites the settings, capabilities and Python
versions of `_data/meltano/<type>/<name>/<variant>.yml`. This module writes the definitions the
way that refresh writes them, so that the first refresh after the Hub pull request changes nothing:

- every setting `--about` lists, objects with properties spelled as dotted leaves
  (`batch_config.encoding.format`), `stream_maps` kept whole, sorted by name, keys sorted;
- `kind` as the refresh guesses it: a string named like a secret (`id`, `token`, `key`,
  `secret`, `password` anywhere in its name) is a `password` and `sensitive`, `start_date` a
  `date_iso8601`, an enum `options` (labels made from the values), a number an `integer`;
- `label` the property's title, else made from its name; `value` its default;
- `description` as `--about` gives it, which must therefore be text the refresh leaves alone
  (`hub_stable`), or a longer, multi-line text of our own (the refresh keeps those: Hub's
  mechanism for hand-written descriptions), listed in DESCRIPTIONS;
- capabilities and settings groups sorted, top-level keys sorted, YAML as ruamel writes it.

    .venv/bin/python -m hub.refresh          # rewrite the files from the installed plugins
    .venv/bin/python -m hub.refresh --check  # exit 1, naming the files, if one would change
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

HUB = Path(__file__).resolve().parent
DATA = HUB / "_data"
REPO_URL = "https://github.com/wave-databricks/wave-databricks"
VARIANT = "wave-databricks"

# What the refresh turns into a `password` (and `sensitive`), wherever it stands in a name.
SECRET_WORDS = ("password", "id", "token", "key", "secret")
# Substrings the refresh rewrites inside each title-cased word of a label made from a name.
LABEL_FIXES = (
    ("Aws", "AWS"),
    ("Url", "URL"),
    ("Id", "ID"),
    ("Db", "Database"),
    ("Api", "API"),
    ("Oauth", "OAuth"),
    ("Ssh", "SSH"),
    ("Ssl", "SSL"),
    ("Gzip", "GZIP"),
    ("Jsonl", "JSONL"),
    ("Sqlalchemy", "SQLAlchemy"),
)
CAPABILITIES = {
    "extractors": {
        "about",
        "activate-version",
        "batch",
        "catalog",
        "discover",
        "log-based",
        "properties",
        "schema-flattening",
        "state",
        "stream-maps",
        "structured-logging",
        "test",
    },
    "loaders": {
        "about",
        "activate-version",
        "batch",
        "datatype-failsafe",
        "hard-delete",
        "schema-flattening",
        "soft-delete",
        "stream-maps",
        "structured-logging",
        "test",
        "validate-records",
    },
}

# Hand-written descriptions for settings whose `--about` text the refresh would garble (it reads
# `catalog.schema` as the end of a sentence). Each is longer than that text and spans lines.
DESCRIPTIONS = {
    ("target-databricks-upsert", "partition_column"): (
        "Column that scopes rows to a tenant (`business_id` for tap-wave's streams):\n"
        "`_load_audit.business_id` and the ACTIVATE_VERSION fence use it when a stream has it\n"
        "('' to scope nothing).\n"
    ),
    ("target-databricks-upsert", "staging_volume"): (
        "Databricks: the Unity Catalog volume (in `catalog.schema`, created if missing)\n"
        "holding staged Parquet files while they are merged; batches over inline_rows_max rows\n"
        "go through it.\n"
    ),
}

PLUGINS: dict[str, dict[str, Any]] = {
    "tap-wave": {
        "type": "extractors",
        "definition": {
            "description": "Accounting and invoicing for small businesses (Wave Accounting / "
            "waveapps)",
            "docs": f"{REPO_URL}/tree/main/tap-wave#readme",
            "domain_url": "https://www.waveapps.com",
            "executable": "tap-wave",
            "keywords": ["accounting", "api", "graphql", "meltano_sdk"],
            "label": "Wave",
            "logo_url": "/assets/logos/extractors/wave.svg",
            "maintenance_status": "active",
            "namespace": "tap_wave",
            "pip_url": "tap-wave",
            "quality": "silver",
            "repo": REPO_URL,
            "settings_group_validation": [
                ["access_token"],
                ["client_id", "client_secret", "refresh_token", "token_key", "token_store_path"],
            ],
        },
    },
    "target-databricks-upsert": {
        "type": "loaders",
        "definition": {
            "description": "Databricks Delta tables (or an embedded DuckDB file) kept by "
            "idempotent MERGEs, with audit columns and soft deletes",
            "dialect": "databricks",
            "docs": f"{REPO_URL}/tree/main/target-databricks-upsert#readme",
            "domain_url": "https://www.databricks.com",
            "executable": "target-databricks-upsert",
            "keywords": ["database", "databricks", "delta", "duckdb", "meltano_sdk"],
            "label": "Databricks Upsert",
            "logo_url": "/assets/logos/loaders/databricks-upsert.svg",
            "maintenance_status": "active",
            "namespace": "target_databricks_upsert",
            "pip_url": "target-databricks-upsert",
            "quality": "silver",
            "repo": REPO_URL,
            "settings_group_validation": [
                ["duckdb_path", "warehouse"],
                [
                    "catalog",
                    "client_id",
                    "client_secret",
                    "http_path",
                    "server_hostname",
                    "warehouse",
                ],
                ["access_token", "catalog", "http_path", "server_hostname", "warehouse"],
            ],
            "target_schema": "$TARGET_DATABRICKS_UPSERT_SCHEMA",
        },
    },
}
MAINTAINERS = {
    VARIANT: {
        "label": "Wave Databricks",
        "name": VARIANT,
        "url": "https://github.com/wave-databricks",
    }
}


def about(executable: str) -> dict[str, Any]:
    """`<executable> --about --format json` of the plugin installed beside this Python."""
    command = Path(sys.executable).parent / executable
    done = subprocess.run(
        [str(command), "--about", "--format", "json"], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def _types(prop: dict[str, Any]) -> list[str]:
    kinds = prop.get("type") or []
    return [kinds] if isinstance(kinds, str) else list(kinds)


def leaf_settings(schema: dict[str, Any], prefix: str = "") -> list[tuple[str, dict]]:
    """The settings the refresh lists: objects with properties become their dotted leaves."""
    if schema.get("oneOf"):
        msg = f"{prefix or 'settings'}: oneOf is not supported here; check hub-utils' reading"
        raise ValueError(msg)
    leaves: list[tuple[str, dict]] = []
    for key, prop in schema.get("properties", {}).items():
        name = f"{prefix}{key}"
        if "object" in _types(prop) and prop.get("properties") and name != "stream_maps":
            leaves += leaf_settings(prop, f"{name}.")
        else:
            leaves.append((name, prop))
    return leaves


def label_from(text: str) -> str:
    """A label made from a name or an option value, as the refresh makes it."""
    words = []
    for word in text.replace("_", " ").replace("-", " ").replace(".", " ").split(" "):
        word = word.title()
        for wrong, right in LABEL_FIXES:
            word = word.replace(wrong, right)
        words.append(word)
    return " ".join(words)


def kind_of(name: str, prop: dict[str, Any]) -> str:
    kinds = [k for k in _types(prop) if k != "null"]
    kind = kinds[0] if kinds else ("array" if name == "faker_config.locale" else "string")
    if kind == "number":
        return "integer"
    if kind != "string":
        return kind
    if name.lower() in ("start_date", "end_date"):
        return "date_iso8601"
    if any(word in name.lower() for word in SECRET_WORDS):
        return "password"
    return "options" if prop.get("enum") else "string"


def hub_stable(text: str) -> bool:
    """Whether the refresh leaves a description as it is.

    It re-spaces words, reads a `.` inside a word as a sentence end (except in URLs, code,
    numbers and e.g./i.e.), capitalizes each sentence's first word and writes `Dbt` as `dbt`.
    """
    if text != " ".join(text.split()) or "Dbt" in text:
        return False
    for word in text.split():
        inner = word.rstrip(".")
        if "." in inner and not (
            re.search(r"http|ssh|ssl|e\.g\.|i\.e\.|[\"`]|\(\)|\.com", word)
            or re.fullmatch(r"\S*\d\.\d\S*", word)
        ):
            return False
    previous = ""
    for sentence in text.split(". "):
        first = sentence.split()[0] if sentence.split() else ""
        if first and not (
            first[0].isupper()
            or first[0] == "'"
            or first == first.capitalize()
            or previous.endswith(("e.g", "i.e"))
            or first.startswith(("tap-", "target-", "http"))
        ):
            return False
        previous = sentence
    return True


def setting(plugin: str, name: str, prop: dict[str, Any]) -> dict[str, Any]:
    kind = kind_of(name, prop)
    description = prop.get("description") or ""
    if (plugin, name) in DESCRIPTIONS:
        description = LiteralScalarString(DESCRIPTIONS[plugin, name])
    elif not hub_stable(description):
        msg = (
            f"{plugin} setting {name}: the Hub refresh would rewrite its description "
            f"{description!r}; reword it in the plugin, or add a multi-line one to DESCRIPTIONS"
        )
        raise ValueError(msg)
    out: dict[str, Any] = {
        "description": description,
        "kind": kind,
        "name": name,
        "label": prop.get("title") or label_from(name),
    }
    if name == "stream_maps":
        out["label"] = prop.get("title") or "Stream Maps"
        return dict(sorted(out.items()))
    if kind == "options":
        out["options"] = [{"label": label_from(v), "value": v} for v in prop["enum"]]
    if prop.get("default") is not None and kind != "date_iso8601":
        out["value"] = prop["default"]
    if kind == "password":
        out["sensitive"] = True
    return dict(sorted(out.items()))


def definition(plugin: str, about_json: dict[str, Any]) -> dict[str, Any]:
    """The Hub definition of `plugin` as the refresh writes it from `about_json`."""
    spec = PLUGINS[plugin]
    allowed = CAPABILITIES["extractors"] | CAPABILITIES["loaders"]
    out = {
        **spec["definition"],
        "name": plugin,
        "variant": VARIANT,
        "capabilities": sorted(c for c in about_json["capabilities"] if c in allowed),
        "settings": sorted(
            (setting(plugin, name, prop) for name, prop in leaf_settings(about_json["settings"])),
            key=lambda s: s["name"],
        ),
        "settings_group_validation": [
            sorted(group) for group in spec["definition"]["settings_group_validation"]
        ],
        "supported_python_versions": [
            v for v in about_json["supported_python_versions"] if re.fullmatch(r"3\.\d+", v)
        ],
    }
    if "structured-logging" in out["capabilities"]:
        out["log_parser"] = "singer-sdk"
    return dict(sorted(out.items()))


def dump(content: Any) -> str:
    stream = io.StringIO()
    YAML().dump(content, stream)
    return stream.getvalue()


def definition_path(plugin: str) -> Path:
    return DATA / "meltano" / PLUGINS[plugin]["type"] / plugin / f"{VARIANT}.yml"


def files(abouts: dict[str, dict[str, Any]] | None = None) -> dict[Path, str]:
    """Every file of hub/_data, as it should read, from the plugins' `--about`."""
    abouts = abouts or {plugin: about(plugin) for plugin in PLUGINS}
    out = {definition_path(p): dump(definition(p, abouts[p])) for p in PLUGINS}
    defaults: dict[str, dict[str, str]] = {}
    for plugin, spec in PLUGINS.items():
        defaults.setdefault(spec["type"], {})[plugin] = VARIANT
    out[DATA / "default_variants.yml"] = dump(defaults)
    out[DATA / "maintainers.yml"] = dump(MAINTAINERS)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hub.refresh", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a file is not what --about gives",
    )
    args = parser.parse_args(argv)
    stale = []
    for path, text in files().items():
        if not path.exists() or path.read_text() != text:
            stale.append(path.relative_to(HUB.parent))
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    verb = "out of date" if args.check else "rewritten"
    for path in stale:
        print(f"{path}: {verb}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
