"""The SHOW / DESCRIBE family, answered in Databricks' shape: ``SHOW CATALOGS``, ``SHOW SCHEMAS``,
``SHOW TABLES``, ``SHOW VIEWS``, ``SHOW TABLE EXTENDED`` (with the ``information`` text dbt reads),
``SHOW TBLPROPERTIES`` and ``DESCRIBE [TABLE] [EXTENDED]``. They are Spark SQL too, so Spark's
analyzer checks them (names, syntax) before they are answered here. ``LIKE`` patterns are
Databricks': ``*`` for any characters, ``|`` between alternatives, case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from . import errors
from .metastore import databricks_type
from .translate import Namespace, TableName

if TYPE_CHECKING:
    from .warehouse import Warehouse

NAME = r"(?P<name>[`\w.]+)"
IF_NOT_EXISTS = r"(?P<ine>IF\s+NOT\s+EXISTS\s+)?"
IF_EXISTS = r"(?P<ie>IF\s+EXISTS\s+)?"
_IN = rf"(?:\s+(?:IN|FROM)\s+{NAME})?"
_LIKE = r"(?:\s+(?:LIKE\s+)?'(?P<like>[^']*)')?"
EMPTY = pa.table({})


def table_name(wh: Warehouse, text: str, ns: Namespace) -> TableName:
    """A table or view that must exist (TABLE_OR_VIEW_NOT_FOUND otherwise)."""
    name = wh.translator.resolve(exp.to_table(text, dialect="databricks"), ns)
    if not wh.metastore.columns(name.catalog, name.schema, name.name):
        raise errors.table_not_found(str(name))
    return name


def _like(pattern: str | None) -> Callable[[str], bool]:
    if not pattern:
        return lambda value: True
    alternatives = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.split("|")]
    regex = re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)
    return lambda value: bool(regex.fullmatch(value))


def _schema_of(wh: Warehouse, m: re.Match, ns: Namespace) -> tuple[str, str]:
    if not m["name"]:
        return ns.catalog, ns.schema
    target = exp.to_table(m["name"], dialect="databricks")
    catalog = (target.db or ns.catalog).lower()
    schema = target.name.lower()
    if not wh.metastore.schema_exists(catalog, schema):
        raise errors.schema_not_found(f"`{catalog}`.`{schema}`")
    return catalog, schema


def _relations(wh: Warehouse, m: re.Match, ns: Namespace, views_only: bool = False):
    catalog, schema = _schema_of(wh, m, ns)
    keep = _like(m["like"])
    return schema, [
        r
        for r in wh.metastore.relations(catalog)
        if r["schema"] == schema and keep(r["name"]) and (r["view"] or not views_only)
    ]


def show_catalogs(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    keep = _like(m["like"])
    return pa.table(
        {"catalog": pa.array([c for c in wh.metastore.catalogs() if keep(c)], pa.string())}
    )


def show_schemas(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    catalog = (m["name"] or ns.catalog).strip("`").lower()
    if not wh.metastore.catalog_exists(catalog):
        raise errors.catalog_not_found(catalog)
    keep = _like(m["like"])
    return pa.table(
        {
            "databaseName": pa.array(
                [s for s in wh.metastore.schemas(catalog) if keep(s)], pa.string()
            )
        }
    )


def show_tables(wh: Warehouse, m: re.Match, ns: Namespace, views_only: bool = False) -> pa.Table:
    schema, found = _relations(wh, m, ns, views_only)
    return pa.table(
        {
            "database" if not views_only else "namespace": pa.array(
                [schema] * len(found), pa.string()
            ),
            ("tableName" if not views_only else "viewName"): pa.array(
                [r["name"] for r in found], pa.string()
            ),
            "isTemporary": pa.array([False] * len(found), pa.bool_()),
        }
    )


def show_views(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    return show_tables(wh, m, ns, views_only=True)


def show_table_extended(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    """Each matching relation with the ``information`` text Databricks prints (dbt reads its
    ``Type:``, ``Provider:`` and ``Schema:`` lines)."""
    schema, found = _relations(wh, m, ns)
    catalog = _schema_of(wh, m, ns)[0]
    columns: dict[str, list] = {}
    for _, sch, table, column, dtype, nullable, _ in wh.metastore.all_columns(catalog):
        if sch == schema:
            columns.setdefault(table, []).append((column, dtype, nullable))
    texts = []
    for r in found:
        lines = [
            f"Catalog: {catalog}",
            f"Database: {schema}",
            f"Table: {r['name']}",
            f"Created Time: {r['created_at'] or 'UNKNOWN'}",
            "Last Access: UNKNOWN",
            "Created By: Spark",
            f"Type: {'VIEW' if r['view'] else 'MANAGED'}",
        ]
        if not r["view"]:
            lines.append(f"Provider: {r['provider'] or 'delta'}")
        lines.append("Schema: root")
        lines += [
            f" |-- {c}: {t} (nullable = {'true' if n else 'false'})"
            for c, t, n in columns.get(r["name"], [])
        ]
        texts.append("\n".join(lines) + "\n")
    return pa.table(
        {
            "namespace": pa.array([schema] * len(found), pa.string()),
            "tableName": pa.array([r["name"] for r in found], pa.string()),
            "isTemporary": pa.array([False] * len(found), pa.bool_()),
            "information": pa.array(texts, pa.string()),
        }
    )


def show_tblproperties(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    name = table_name(wh, m["name"], ns)
    props = (wh.metastore.table_settings(name.catalog, name.schema, name.name) or {}).get(
        "properties", {}
    )
    if m["key"]:
        key = m["key"].strip("'\"` ")
        props = {key: props.get(key, f"Table {name} does not have property: {key}")}
    return pa.table(
        {
            "key": pa.array(list(props), pa.string()),
            "value": pa.array(list(props.values()), pa.string()),
        }
    )


def describe_table(wh: Warehouse, m: re.Match, ns: Namespace) -> pa.Table:
    name = table_name(wh, m["name"], ns)
    columns = wh.metastore.columns(name.catalog, name.schema, name.name)
    settings = wh.metastore.table_settings(name.catalog, name.schema, name.name) or {}
    is_view = any(
        r["view"] and r["name"] == name.name and r["schema"] == name.schema
        for r in wh.metastore.relations(name.catalog)
    )
    types = {c.lower(): databricks_type(t) for c, t, _ in columns}
    rows = [(c, databricks_type(t), None) for c, t, _ in columns]
    for title, cols in (
        ("# Partition Information", settings.get("partition_columns")),
        ("# Clustering Information", settings.get("clustering_columns")),
    ):
        if cols:
            rows += [(title, "", ""), ("# col_name", "data_type", "comment")]
            rows += [(c, types.get(c.lower(), ""), None) for c in cols]
    if m["extended"]:
        props = settings.get("properties", {})
        rows += [
            ("", "", ""),
            ("# Detailed Table Information", "", ""),
            ("Catalog", name.catalog, ""),
            ("Database", name.schema, ""),
            ("Table", name.name, ""),
            ("Type", "VIEW" if is_view else "MANAGED", ""),
        ]
        if not is_view:
            rows += [
                ("Provider", settings.get("provider", "delta"), ""),
                (
                    "Table Properties",
                    "[" + ",".join(f"{k}={v}" for k, v in props.items()) + "]",
                    "",
                ),
            ]
    return pa.table(
        {
            "col_name": pa.array([r[0] for r in rows], pa.string()),
            "data_type": pa.array([r[1] for r in rows], pa.string()),
            "comment": pa.array([r[2] for r in rows], pa.string()),
        }
    )


COMMANDS = [
    (
        "DESCRIBE TABLE",
        rf"DESC(?:RIBE)?\s+(?:TABLE\s+)?(?P<extended>EXTENDED\s+)?{NAME}",
        describe_table,
    ),
    (
        "SHOW TBLPROPERTIES",
        rf"SHOW\s+TBLPROPERTIES\s+{NAME}\s*(?:\((?P<key>[^)]*)\))?",
        show_tblproperties,
    ),
    ("SHOW CATALOGS", rf"SHOW\s+CATALOGS(?P<name>){_LIKE}", show_catalogs),
    ("SHOW SCHEMAS", rf"SHOW\s+(?:SCHEMAS|DATABASES){_IN}{_LIKE}", show_schemas),
    (
        "SHOW TABLE EXTENDED",
        rf"SHOW\s+TABLE\s+EXTENDED{_IN}\s+LIKE\s+'(?P<like>[^']*)'",
        show_table_extended,
    ),
    ("SHOW TABLES", rf"SHOW\s+TABLES{_IN}{_LIKE}", show_tables),
    ("SHOW VIEWS", rf"SHOW\s+VIEWS{_IN}{_LIKE}", show_views),
]
"""(kind, pattern, handler) for `catalog_commands.COMMANDS`."""
