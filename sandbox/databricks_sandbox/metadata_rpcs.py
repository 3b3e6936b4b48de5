"""Result sets for the connector's metadata calls (``cursor.catalogs()``, ``.schemas()``,
``.tables()``, ``.columns()``: the GetCatalogs/GetSchemas/GetTables/GetColumns RPCs), in the
JDBC column layout the Databricks Thrift server uses. Name filters are SQL LIKE patterns.
"""

from __future__ import annotations

import re

import pyarrow as pa

from .metastore import Metastore


def _like(pattern: str | None):
    if not pattern or pattern in ("%", "*"):
        return lambda value: True
    regex = re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern),
        re.IGNORECASE,
    )
    return lambda value: bool(regex.fullmatch(value))


def catalogs(metastore: Metastore) -> pa.Table:
    return pa.table({"TABLE_CAT": pa.array(metastore.catalogs(), pa.string())})


def schemas(metastore: Metastore, catalog: str | None, schema: str | None) -> pa.Table:
    keep_catalog, keep_schema = _like(catalog), _like(schema)
    rows = [
        (c, s)
        for c in metastore.catalogs()
        if keep_catalog(c)
        for s in metastore.schemas(c)
        if keep_schema(s)
    ]
    return pa.table(
        {
            "TABLE_SCHEM": pa.array([s for _, s in rows], pa.string()),
            "TABLE_CATALOG": pa.array([c for c, _ in rows], pa.string()),
        }
    )


def _tables(metastore: Metastore, catalog, schema, table) -> list[dict]:
    keep = (_like(catalog), _like(schema), _like(table))
    return [
        t
        for t in metastore.tables()
        if keep[0](t["catalog"]) and keep[1](t["schema"]) and keep[2](t["name"])
    ]


def tables(metastore: Metastore, catalog, schema, table) -> pa.Table:
    found = _tables(metastore, catalog, schema, table)
    return pa.table(
        {
            "TABLE_CAT": pa.array([t["catalog"] for t in found], pa.string()),
            "TABLE_SCHEM": pa.array([t["schema"] for t in found], pa.string()),
            "TABLE_NAME": pa.array([t["name"] for t in found], pa.string()),
            "TABLE_TYPE": pa.array(["TABLE"] * len(found), pa.string()),
            "REMARKS": pa.array([t.get("comment") for t in found], pa.string()),
        }
    )


def columns(metastore: Metastore, catalog, schema, table, column) -> pa.Table:
    keep_column = _like(column)
    rows = [
        (t, i, c)
        for t in _tables(metastore, catalog, schema, table)
        for i, c in enumerate(t["columns"])
        if keep_column(c["name"])
    ]
    return pa.table(
        {
            "TABLE_CAT": pa.array([t["catalog"] for t, _, _ in rows], pa.string()),
            "TABLE_SCHEM": pa.array([t["schema"] for t, _, _ in rows], pa.string()),
            "TABLE_NAME": pa.array([t["name"] for t, _, _ in rows], pa.string()),
            "COLUMN_NAME": pa.array([c["name"] for _, _, c in rows], pa.string()),
            "TYPE_NAME": pa.array([c["type"].upper() for _, _, c in rows], pa.string()),
            "NULLABLE": pa.array([int(c["nullable"]) for _, _, c in rows], pa.int32()),
            "ORDINAL_POSITION": pa.array([i + 1 for _, i, _ in rows], pa.int32()),
            "IS_NULLABLE": pa.array(
                ["YES" if c["nullable"] else "NO" for _, _, c in rows], pa.string()
            ),
        }
    )
