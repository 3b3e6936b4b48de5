"""Unity Catalog's ``information_schema``: the views a client may query, with Databricks' columns.

``<catalog>.information_schema.<view>`` describes one catalog; ``system.information_schema.<view>``
(the built-in ``system`` catalog) describes every catalog, as on Databricks. Each view is declared
once here, with its columns and types (the columns Databricks documents); Spark's analyzer sees
exactly these, and each query gets them as an Arrow table (views the simulator has nothing for,
such as tags, masks and constraints, are empty). Rows are built with a few bulk queries.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from .metastore import Metastore

SYSTEM_CATALOG = "system"
SCHEMA = "information_schema"

_S, _I, _L, _T = "string", "int", "bigint", "timestamp"
VIEWS: dict[str, list[tuple[str, str]]] = {
    "catalogs": [
        ("catalog_name", _S),
        ("catalog_owner", _S),
        ("comment", _S),
        ("created", _T),
        ("created_by", _S),
        ("last_altered", _T),
        ("last_altered_by", _S),
    ],
    "schemata": [
        ("catalog_name", _S),
        ("schema_name", _S),
        ("schema_owner", _S),
        ("comment", _S),
        ("created", _T),
        ("created_by", _S),
        ("last_altered", _T),
        ("last_altered_by", _S),
    ],
    "tables": [
        ("table_catalog", _S),
        ("table_schema", _S),
        ("table_name", _S),
        ("table_type", _S),
        ("is_insertable_into", _S),
        ("commit_action", _S),
        ("table_owner", _S),
        ("comment", _S),
        ("created", _T),
        ("created_by", _S),
        ("last_altered", _T),
        ("last_altered_by", _S),
        ("data_source_format", _S),
        ("storage_sub_directory", _S),
        ("storage_path", _S),
    ],
    "views": [
        ("table_catalog", _S),
        ("table_schema", _S),
        ("table_name", _S),
        ("view_definition", _S),
        ("check_option", _S),
        ("is_updatable", _S),
        ("is_insertable_into", _S),
        ("sql_path", _S),
    ],
    "columns": [
        ("table_catalog", _S),
        ("table_schema", _S),
        ("table_name", _S),
        ("column_name", _S),
        ("ordinal_position", _I),
        ("column_default", _S),
        ("is_nullable", _S),
        ("full_data_type", _S),
        ("data_type", _S),
        ("character_maximum_length", _L),
        ("character_octet_length", _L),
        ("numeric_precision", _I),
        ("numeric_precision_radix", _I),
        ("numeric_scale", _I),
        ("datetime_precision", _I),
        ("interval_type", _S),
        ("interval_precision", _I),
        ("maximum_cardinality", _L),
        ("is_identity", _S),
        ("identity_generation", _S),
        ("identity_start", _S),
        ("identity_increment", _S),
        ("identity_maximum", _S),
        ("identity_minimum", _S),
        ("identity_cycle", _S),
        ("is_generated", _S),
        ("generation_expression", _S),
        ("is_system_time_period_start", _S),
        ("is_system_time_period_end", _S),
        ("system_time_period_timestamp_generation", _S),
        ("is_updatable", _S),
        ("partition_ordinal_position", _I),
        ("comment", _S),
    ],
    "table_tags": [
        ("catalog_name", _S),
        ("schema_name", _S),
        ("table_name", _S),
        ("tag_name", _S),
        ("tag_value", _S),
    ],
    "column_tags": [
        ("catalog_name", _S),
        ("schema_name", _S),
        ("table_name", _S),
        ("column_name", _S),
        ("tag_name", _S),
        ("tag_value", _S),
    ],
    "column_masks": [
        ("table_catalog", _S),
        ("table_schema", _S),
        ("table_name", _S),
        ("column_name", _S),
        ("mask_catalog", _S),
        ("mask_schema", _S),
        ("mask_name", _S),
        ("using_columns", _S),
    ],
    "table_constraints": [
        ("constraint_catalog", _S),
        ("constraint_schema", _S),
        ("constraint_name", _S),
        ("table_catalog", _S),
        ("table_schema", _S),
        ("table_name", _S),
        ("constraint_type", _S),
        ("is_deferrable", _S),
        ("initially_deferred", _S),
        ("enforced", _S),
        ("comment", _S),
    ],
    "key_column_usage": [
        ("constraint_catalog", _S),
        ("constraint_schema", _S),
        ("constraint_name", _S),
        ("table_catalog", _S),
        ("table_schema", _S),
        ("table_name", _S),
        ("column_name", _S),
        ("ordinal_position", _I),
        ("position_in_unique_constraint", _I),
    ],
    "referential_constraints": [
        ("constraint_catalog", _S),
        ("constraint_schema", _S),
        ("constraint_name", _S),
        ("unique_constraint_catalog", _S),
        ("unique_constraint_schema", _S),
        ("unique_constraint_name", _S),
        ("match_option", _S),
        ("update_rule", _S),
        ("delete_rule", _S),
        ("comment", _S),
    ],
}
_ARROW = {_S: pa.string(), _I: pa.int32(), _L: pa.int64(), _T: pa.timestamp("us", "UTC")}


def rows(metastore: Metastore, catalog: str, view: str) -> pa.Table | None:
    """The rows of ``<catalog>.information_schema.<view>`` (None: no such view)."""
    if view not in VIEWS:
        return None
    scope = None if catalog == SYSTEM_CATALOG else catalog
    build = _BUILDERS.get(view)
    found = build(metastore, scope) if build else []
    return pa.table(
        {name: pa.array([r.get(name) for r in found], _ARROW[kind]) for name, kind in VIEWS[view]}
    )


def _catalogs(metastore: Metastore, scope: str | None) -> list[dict]:
    return [{"catalog_name": c} for c in metastore.catalogs() if scope in (None, c)]


def _schemata(metastore: Metastore, scope: str | None) -> list[dict]:
    return [
        {"catalog_name": c, "schema_name": s}
        for c in metastore.catalogs()
        if scope in (None, c)
        for s in [*metastore.schemas(c), SCHEMA]
    ]


def _tables(metastore: Metastore, scope: str | None) -> list[dict]:
    return [
        {
            "table_catalog": r["catalog"],
            "table_schema": r["schema"],
            "table_name": r["name"],
            "table_type": "VIEW" if r["view"] else "MANAGED",
            "is_insertable_into": "NO" if r["view"] else "YES",
            "comment": r["comment"],
            "created": r["created_at"],
            "last_altered": r["created_at"],
            "data_source_format": None if r["view"] else (r["provider"] or "delta").upper(),
        }
        for r in metastore.relations(scope)
    ]


def _views(metastore: Metastore, scope: str | None) -> list[dict]:
    return [
        {
            "table_catalog": r["catalog"],
            "table_schema": r["schema"],
            "table_name": r["name"],
            "view_definition": r["definition"],
            "is_updatable": "NO",
            "is_insertable_into": "NO",
        }
        for r in metastore.relations(scope)
        if r["view"]
    ]


def _columns(metastore: Metastore, scope: str | None) -> list[dict]:
    out = []
    for catalog, schema, table, column, dtype, nullable, position in metastore.all_columns(scope):
        out.append(
            {
                "table_catalog": catalog,
                "table_schema": schema,
                "table_name": table,
                "column_name": column,
                "ordinal_position": position,
                "is_nullable": "YES" if nullable else "NO",
                "full_data_type": dtype,
                "data_type": re.split(r"[(<]", dtype)[0].upper(),
                "numeric_precision": _precision(dtype),
                "numeric_scale": _scale(dtype),
                "is_identity": "NO",
                "is_generated": "NEVER",
                "is_updatable": "YES",
            }
        )
    return out


_BUILDERS = {
    "catalogs": _catalogs,
    "schemata": _schemata,
    "tables": _tables,
    "views": _views,
    "columns": _columns,
}


def _precision(dtype: str) -> int | None:
    m = re.match(r"decimal\((\d+),(\d+)\)", dtype)
    return int(m.group(1)) if m else {"bigint": 64, "int": 32, "smallint": 16}.get(dtype)


def _scale(dtype: str) -> int | None:
    m = re.match(r"decimal\((\d+),(\d+)\)", dtype)
    return int(m.group(2)) if m else (0 if dtype in ("bigint", "int", "smallint") else None)
