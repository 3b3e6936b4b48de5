"""Commands outside sqlglot's grammar, recognised by their text (after any leading comment):
the Unity Catalog and Delta ones Spark does not have either (``CREATE CATALOG``, ``CREATE/DROP
VOLUME``, ``DESCRIBE DETAIL``), answered here, and the SHOW/DESCRIBE family (`describe.py`).
Each handler returns the result set as an Arrow table.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from . import describe, errors
from .describe import EMPTY, IF_EXISTS, IF_NOT_EXISTS, NAME, table_name
from .translate import Namespace

if TYPE_CHECKING:
    from .warehouse import Warehouse


def create_catalog(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    name = m["name"].strip("`").lower()
    if wh.metastore.catalog_exists(name) and not m["ine"]:
        raise errors.DatabricksSQLError(
            "CATALOG_ALREADY_EXISTS",
            f"Cannot create catalog `{name}` because it already exists.",
            "42P04",
        )
    wh.metastore.create_catalog(name)
    return EMPTY


def _volume_parts(wh: Warehouse, text: str, ns: Namespace) -> tuple[str, str, str]:
    table = exp.to_table(text, dialect="databricks")
    catalog, schema = (table.catalog or ns.catalog).lower(), (table.db or ns.schema).lower()
    if not wh.metastore.catalog_exists(catalog):
        raise errors.catalog_not_found(catalog)
    if not wh.metastore.schema_exists(catalog, schema):
        raise errors.schema_not_found(f"`{catalog}`.`{schema}`")
    return catalog, schema, table.name.lower()


def create_volume(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    catalog, schema, volume = _volume_parts(wh, m["name"], ns)
    if wh.metastore.volume_exists(catalog, schema, volume) and not m["ine"]:
        raise errors.DatabricksSQLError(
            "VOLUME_ALREADY_EXISTS",
            f"Cannot create volume `{catalog}`.`{schema}`.`{volume}` because it already exists.",
            "42000",
        )
    wh.metastore.create_volume(catalog, schema, volume)
    wh.volumes_root.joinpath(catalog, schema, volume).mkdir(parents=True, exist_ok=True)
    return EMPTY


def drop_volume(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    catalog, schema, volume = _volume_parts(wh, m["name"], ns)
    if not wh.metastore.volume_exists(catalog, schema, volume):
        if m["ie"]:
            return EMPTY
        raise errors.DatabricksSQLError(
            "UC_VOLUME_NOT_FOUND",
            f"Volume `{catalog}`.`{schema}`.`{volume}` does not exist.",
            "42704",
        )
    wh.metastore.drop_volume(catalog, schema, volume)
    shutil.rmtree(wh.volumes_root.joinpath(catalog, schema, volume), ignore_errors=True)
    return EMPTY


def describe_detail(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    name = table_name(wh, m["name"], ns)
    settings = wh.metastore.table_settings(name.catalog, name.schema, name.name) or {}
    props = settings.get("properties", {})
    return pa.table(
        {
            "format": [settings.get("provider", "delta")],
            "id": [f"{name.catalog}.{name.schema}.{name.name}"],
            "name": [f"{name.catalog}.{name.schema}.{name.name}"],
            "description": pa.array([settings.get("comment")], pa.string()),
            "location": [f"sandbox:/{name.catalog}/{name.schema}/{name.name}"],
            "createdAt": pa.array([settings.get("created_at")], pa.timestamp("us", "Etc/UTC")),
            "partitionColumns": pa.array(
                [settings.get("partition_columns", [])], pa.list_(pa.string())
            ),
            "clusteringColumns": pa.array(
                [settings.get("clustering_columns", [])], pa.list_(pa.string())
            ),
            "numFiles": pa.array([None], pa.int64()),
            "sizeInBytes": pa.array([None], pa.int64()),
            "properties": pa.array([list(props.items())], pa.map_(pa.string(), pa.string())),
            "minReaderVersion": pa.array([int(props.get("delta.minReaderVersion", 1))], pa.int32()),
            "minWriterVersion": pa.array([int(props.get("delta.minWriterVersion", 2))], pa.int32()),
        }
    )


Handler = Callable[["Warehouse", re.Match, Namespace], pa.Table]
DATABRICKS_ONLY = frozenset({"CREATE CATALOG", "CREATE VOLUME", "DROP VOLUME", "DESCRIBE DETAIL"})
"""Commands Spark's grammar does not have: the analyzer does not see them (the others here are
Spark SQL too, and are analysed before they are answered)."""
COMMANDS: list[tuple[str, re.Pattern, Handler]] = [
    (kind, re.compile(rf"^\s*{pattern}\s*;?\s*$", re.IGNORECASE | re.DOTALL), handler)
    for kind, pattern, handler in [
        ("CREATE CATALOG", rf"CREATE\s+CATALOG\s+{IF_NOT_EXISTS}{NAME}", create_catalog),
        (
            "CREATE VOLUME",
            rf"CREATE\s+(?:MANAGED\s+)?VOLUME\s+{IF_NOT_EXISTS}{NAME}",
            create_volume,
        ),
        ("DROP VOLUME", rf"DROP\s+VOLUME\s+{IF_EXISTS}{NAME}", drop_volume),
        ("DESCRIBE DETAIL", rf"DESC(?:RIBE)?\s+DETAIL\s+{NAME}", describe_detail),
        *describe.COMMANDS,
    ]
]


_LEADING_COMMENTS = re.compile(r"^(?:\s+|/\*.*?\*/|--[^\n]*(?:\n|$))*", re.DOTALL)


def without_leading_comments(statement: str) -> str:
    """The statement from its first keyword on (clients such as dbt prefix a /* ... */ comment)."""
    return statement[_LEADING_COMMENTS.match(statement).end() :]


def match_command(statement: str) -> tuple[str, re.Match, Handler] | None:
    statement = without_leading_comments(statement)
    for kind, pattern, handler in COMMANDS:
        m = pattern.match(statement)
        if m:
            return kind, m, handler
    return None
