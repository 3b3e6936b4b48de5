"""Unity Catalog and Delta commands outside sqlglot's grammar, recognised by their text:
``CREATE CATALOG``, ``CREATE/DROP VOLUME``, ``DESCRIBE DETAIL``, ``SHOW TBLPROPERTIES``,
``SHOW CATALOGS/SCHEMAS/TABLES``, and ``DESCRIBE TABLE`` (answered in Databricks' shape).
Each handler returns the result set as an Arrow table.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from . import errors
from .metastore import databricks_type
from .translate import Namespace, TableName

if TYPE_CHECKING:
    from .warehouse import Warehouse

_NAME = r"(?P<name>[`\w.]+)"
_IF_NOT_EXISTS = r"(?P<ine>IF\s+NOT\s+EXISTS\s+)?"
_IF_EXISTS = r"(?P<ie>IF\s+EXISTS\s+)?"
EMPTY = pa.table({})


def _table(wh: Warehouse, text: str, ns: Namespace) -> TableName:
    name = wh.translator.resolve(exp.to_table(text, dialect="databricks"), ns)
    if not wh.metastore.columns(name.catalog, name.schema, name.name):
        raise errors.table_not_found(str(name))
    return name


def create_catalog(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    name = m["name"].strip("`").lower()
    if wh.metastore.catalog_exists(name) and not m["ine"]:
        raise errors.DatabricksSQLError(
            "CATALOG_ALREADY_EXISTS", f"Cannot create catalog `{name}` because it already exists.",
            "42P04")
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
            "42000")
    wh.metastore.create_volume(catalog, schema, volume)
    wh.volumes_root.joinpath(catalog, schema, volume).mkdir(parents=True, exist_ok=True)
    return EMPTY


def drop_volume(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    catalog, schema, volume = _volume_parts(wh, m["name"], ns)
    if not wh.metastore.volume_exists(catalog, schema, volume):
        if m["ie"]:
            return EMPTY
        raise errors.DatabricksSQLError(
            "UC_VOLUME_NOT_FOUND", f"Volume `{catalog}`.`{schema}`.`{volume}` does not exist.",
            "42704")
    wh.metastore.drop_volume(catalog, schema, volume)
    shutil.rmtree(wh.volumes_root.joinpath(catalog, schema, volume), ignore_errors=True)
    return EMPTY


def describe_detail(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    name = _table(wh, m["name"], ns)
    settings = wh.metastore.table_settings(name.catalog, name.schema, name.name) or {}
    props = settings.get("properties", {})
    return pa.table({
        "format": [settings.get("provider", "delta")],
        "id": [f"{name.catalog}.{name.schema}.{name.name}"],
        "name": [f"{name.catalog}.{name.schema}.{name.name}"],
        "description": pa.array([settings.get("comment")], pa.string()),
        "location": [f"sandbox:/{name.catalog}/{name.schema}/{name.name}"],
        "createdAt": pa.array([settings.get("created_at")], pa.timestamp("us", "Etc/UTC")),
        "partitionColumns": pa.array([settings.get("partition_columns", [])], pa.list_(pa.string())),
        "clusteringColumns": pa.array([settings.get("clustering_columns", [])],
                                      pa.list_(pa.string())),
        "numFiles": pa.array([None], pa.int64()),
        "sizeInBytes": pa.array([None], pa.int64()),
        "properties": pa.array([list(props.items())], pa.map_(pa.string(), pa.string())),
        "minReaderVersion": pa.array([int(props.get("delta.minReaderVersion", 1))], pa.int32()),
        "minWriterVersion": pa.array([int(props.get("delta.minWriterVersion", 2))], pa.int32()),
    })


def show_tblproperties(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    name = _table(wh, m["name"], ns)
    props = (wh.metastore.table_settings(name.catalog, name.schema, name.name) or {}).get(
        "properties", {})
    if m["key"]:
        key = m["key"].strip("'\"` ")
        props = {key: props.get(key, f"Table {name} does not have property: {key}")}
    return pa.table({"key": pa.array(list(props), pa.string()),
                     "value": pa.array(list(props.values()), pa.string())})


def show_catalogs(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    return pa.table({"catalog": pa.array(wh.metastore.catalogs(), pa.string())})


def show_schemas(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    catalog = (m["name"] or ns.catalog).strip("`").lower()
    if not wh.metastore.catalog_exists(catalog):
        raise errors.catalog_not_found(catalog)
    return pa.table({"databaseName": pa.array(wh.metastore.schemas(catalog), pa.string())})


def show_tables(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    target = exp.to_table(m["name"], dialect="databricks") if m["name"] else None
    catalog = ((target.db if target and target.db else ns.catalog) if target else ns.catalog).lower()
    schema = (target.name if target else ns.schema).lower()
    names = [t["name"] for t in wh.metastore.tables()
             if t["catalog"] == catalog and t["schema"] == schema]
    return pa.table({"database": pa.array([schema] * len(names), pa.string()),
                     "tableName": pa.array(names, pa.string()),
                     "isTemporary": pa.array([False] * len(names), pa.bool_())})


def describe_table(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    name = _table(wh, m["name"], ns)
    columns = wh.metastore.columns(name.catalog, name.schema, name.name)
    settings = wh.metastore.table_settings(name.catalog, name.schema, name.name) or {}
    types = {c.lower(): databricks_type(t) for c, t, _ in columns}
    rows = [(c, databricks_type(t), None) for c, t, _ in columns]
    for title, cols in (("# Partition Information", settings.get("partition_columns")),
                        ("# Clustering Information", settings.get("clustering_columns"))):
        if cols:
            rows += [(title, "", ""), ("# col_name", "data_type", "comment")]
            rows += [(c, types.get(c.lower(), ""), None) for c in cols]
    if m["extended"]:
        props = settings.get("properties", {})
        rows += [("", "", ""), ("# Detailed Table Information", "", ""),
                 ("Catalog", name.catalog, ""), ("Database", name.schema, ""),
                 ("Table", name.name, ""), ("Type", "MANAGED", ""),
                 ("Provider", settings.get("provider", "delta"), ""),
                 ("Table Properties", "[" + ",".join(f"{k}={v}" for k, v in props.items()) + "]",
                  "")]
    return pa.table({"col_name": pa.array([r[0] for r in rows], pa.string()),
                     "data_type": pa.array([r[1] for r in rows], pa.string()),
                     "comment": pa.array([r[2] for r in rows], pa.string())})


Handler = Callable[["Warehouse", re.Match, Namespace], pa.Table]
DATABRICKS_ONLY = frozenset({"CREATE CATALOG", "CREATE VOLUME", "DROP VOLUME", "DESCRIBE DETAIL"})
"""Commands Spark's grammar does not have: the analyzer does not see them (the others here are
Spark SQL too, and are analysed before they are answered)."""
COMMANDS: list[tuple[str, re.Pattern, Handler]] = [
    (kind, re.compile(rf"^\s*{pattern}\s*;?\s*$", re.IGNORECASE | re.DOTALL), handler)
    for kind, pattern, handler in [
        ("CREATE CATALOG", rf"CREATE\s+CATALOG\s+{_IF_NOT_EXISTS}{_NAME}", create_catalog),
        ("CREATE VOLUME", rf"CREATE\s+(?:MANAGED\s+)?VOLUME\s+{_IF_NOT_EXISTS}{_NAME}", create_volume),
        ("DROP VOLUME", rf"DROP\s+VOLUME\s+{_IF_EXISTS}{_NAME}", drop_volume),
        ("DESCRIBE DETAIL", rf"DESC(?:RIBE)?\s+DETAIL\s+{_NAME}", describe_detail),
        ("DESCRIBE TABLE",
         rf"DESC(?:RIBE)?\s+(?:TABLE\s+)?(?P<extended>EXTENDED\s+)?{_NAME}", describe_table),
        ("SHOW TBLPROPERTIES",
         rf"SHOW\s+TBLPROPERTIES\s+{_NAME}\s*(?:\((?P<key>[^)]*)\))?", show_tblproperties),
        ("SHOW CATALOGS", r"SHOW\s+CATALOGS(?P<name>)", show_catalogs),
        ("SHOW SCHEMAS", rf"SHOW\s+(?:SCHEMAS|DATABASES)(?:\s+(?:IN|FROM)\s+{_NAME})?", show_schemas),
        ("SHOW TABLES", rf"SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+{_NAME})?", show_tables),
    ]
]


def match_command(statement: str) -> tuple[str, re.Match, Handler] | None:
    for kind, pattern, handler in COMMANDS:
        m = pattern.match(statement)
        if m:
            return kind, m, handler
    return None
